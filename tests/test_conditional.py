"""The class-conditional GAN (--conditional): models, the update, data, export, generate.py."""

import json
import os
import re

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gan import GAN, build_models
from keras_gan.data import make_dataset
from keras_gan.outputs.saved_model import export_generator
from keras_gan.outputs.images import class_rows
from keras_gan.common.options import balanced_labels, parse_labels

from conftest import tiny_images

CLASSES = 10

# (family, G total, G trainable, D total), computed by hand from the unconditional
# tables (docs/gan.md) plus the label's layers:
# G: Embedding 10x10 = 100, and z's first Dense gains 10 inputs:
#    MLP 10 x 128 = 1,280; conv 10 x 1,152 = 11,520.
# D: MLP: Embedding 10x10 = 100, and Dense 512 gains 10 inputs: 5,120;
#    conv: Embedding 10x784 = 7,840, and the first 3x3 conv gains a channel: 3*3*32 = 288.
CONDITIONAL_COUNTS = [
    ("mlp", 574_608 + 100 + 1_280, 572_816 + 100 + 1_280, 566_273 + 100 + 5_120),
    ("conv", 260_737 + 100 + 11_520, 260_353 + 100 + 11_520, 93_825 + 7_840 + 288),
]


def count(variables):
    return sum(int(np.prod(v.shape)) for v in variables)


@pytest.mark.parametrize("family,g_total,g_trainable,d_total", CONDITIONAL_COUNTS)
def test_parameter_counts_match_the_conditional_tables(family, g_total, g_trainable, d_total):
    generator, discriminator = build_models(family, num_classes=CLASSES)
    assert generator.count_params() == g_total
    assert count(generator.trainable_weights) == g_trainable
    assert discriminator.count_params() == d_total == count(discriminator.trainable_weights)
    # The same numbers as the table in models.py's docstring (and docs/gan.md).
    import keras_gan.model.networks

    for number in (g_total, g_trainable, d_total):
        assert f"{number:,}" in keras_gan.model.networks.__doc__


@pytest.mark.parametrize("family", ["mlp", "conv"])
def test_the_label_changes_both_players_outputs(family):
    generator, discriminator = build_models(family, num_classes=CLASSES)
    assert [tuple(i.shape[1:]) for i in generator.inputs] == [(32,), ()]
    assert [tuple(i.shape[1:]) for i in discriminator.inputs] == [(28, 28, 1), ()]
    z = tf.constant(np.repeat(np.random.default_rng(0).normal(size=(1, 32)), CLASSES, 0), tf.float32)
    labels = tf.range(CLASSES, dtype=tf.int32)
    images = generator([z, labels], training=False)
    assert images.shape == (CLASSES, 28, 28, 1)
    # One z, ten labels: ten different images, and D scores one image per label differently.
    assert len({np.asarray(i).tobytes() for i in images}) == CLASSES
    same_image = tf.repeat(images[:1], CLASSES, axis=0)
    logits = np.asarray(discriminator([same_image, labels], training=False))[:, 0]
    assert len(set(logits.tolist())) == CLASSES


def test_models_and_num_classes_must_agree():
    with pytest.raises(ValueError, match=r"num_classes=10 needs a generator that takes \[samples, labels\]"):
        GAN(*build_models("mlp"), num_classes=10)
    with pytest.raises(ValueError, match="num_classes=None needs a generator that takes one input"):
        GAN(*build_models("mlp", num_classes=CLASSES))
    with pytest.raises(ValueError, match="num_classes must be None or an integer >= 2, got 1"):
        GAN(*build_models("mlp", num_classes=CLASSES), num_classes=1)


def small_conditional_models(latent_dim=8):
    z, y = keras.Input((latent_dim,)), keras.Input((), dtype="int32")
    x = keras.layers.Concatenate()([z, keras.layers.Embedding(CLASSES, 4)(y)])
    x = keras.layers.Reshape((28, 28, 1))(keras.layers.Dense(784, activation="tanh")(x))
    generator = keras.Model([z, y], x)
    image, label = keras.Input((28, 28, 1)), keras.Input((), dtype="int32")
    h = keras.layers.Concatenate()([keras.layers.Flatten()(image), keras.layers.Embedding(CLASSES, 4)(label)])
    discriminator = keras.Model([image, label], keras.layers.Dense(1)(h))
    return generator, discriminator


def conditional_gan(k=1, seed=0, lr=0.5):
    keras.utils.set_random_seed(seed)
    gan = GAN(*small_conditional_models(), k=k, seed=seed, num_classes=CLASSES)
    gan.compile(d_optimizer=keras.optimizers.SGD(lr), g_optimizer=keras.optimizers.SGD(lr))
    return gan


def test_one_conditional_step_equals_the_update_by_hand():
    """D: reals with their labels against fakes G(z | y) *of the same labels*;
    G: fakes of freshly drawn labels, judged by D under those labels. Plain
    SGD, so a wrong pairing (fakes with other labels, D told the wrong class)
    changes the update."""
    lr = 0.5
    gan = conditional_gan(lr=lr)
    real = tf.constant(tiny_images(8).astype("float32") / 127.5 - 1)
    labels = tf.constant([3, 1, 4, 1, 5, 9, 2, 6], tf.int32)
    # Replay the noise stream: D's z, then G's labels, then G's z.
    copy = keras.random.SeedGenerator(0)
    copy.state.assign(gan.seed_generator.state.value)
    z_d = keras.random.normal((8, gan.latent_dim), seed=copy)
    y_g = keras.random.randint((8,), 0, CLASSES, seed=copy, dtype="int32")
    z_g = keras.random.normal((8, gan.latent_dim), seed=copy)
    assert len(set(np.asarray(y_g).tolist())) > 1
    g_vars, d_vars = gan.generator.trainable_variables, gan.discriminator.trainable_variables
    g0, d0 = [v.numpy() for v in g_vars], [v.numpy() for v in d_vars]

    logs = gan.train_step((real, labels))
    got = [v.numpy() for v in d_vars + g_vars]

    for v, w in zip(g_vars + d_vars, g0 + d0):
        v.assign(w)
    fake = gan.generator([z_d, labels])
    with tf.GradientTape() as tape:
        r = gan.discriminator([real, labels])[:, 0]
        f = gan.discriminator([fake, labels])[:, 0]
        d_loss = tf.reduce_mean(tf.math.softplus(-r) + tf.math.softplus(f))
    expected_d = [w - lr * tf.convert_to_tensor(g).numpy() for w, g in zip(d0, tape.gradient(d_loss, d_vars))]
    for v, w in zip(d_vars, expected_d):
        v.assign(w)
    with tf.GradientTape() as tape:
        f = gan.discriminator([gan.generator([z_g, y_g]), y_g])[:, 0]
        g_loss = tf.reduce_mean(tf.math.softplus(-f))
    expected_g = [w - lr * tf.convert_to_tensor(g).numpy() for w, g in zip(g0, tape.gradient(g_loss, g_vars))]

    assert float(logs["d_loss"]) == pytest.approx(float(d_loss), rel=1e-5)
    assert float(logs["g_loss"]) == pytest.approx(float(g_loss), rel=1e-5)
    for a, b in zip(got, expected_d + expected_g):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_labels_drawn_for_g_are_uniform_over_the_classes():
    gan = conditional_gan()
    labels = np.asarray(gan.sample_labels(20_000))
    counts = np.bincount(labels, minlength=CLASSES)
    assert labels.min() == 0 and labels.max() == CLASSES - 1
    assert np.all(np.abs(counts / 20_000 - 0.1) < 0.01)  # 2,000 each, sd ~42


def test_a_conditional_gan_refuses_images_without_labels():
    with pytest.raises(ValueError, match=r"trains on \(images, labels\) pairs"):
        conditional_gan().train_step(tf.zeros((8, 28, 28, 1)))


def test_the_dataset_keeps_each_image_with_its_label():
    """Each image is filled with its label's value: after the shuffle, every
    pair must still agree, and every image appear once per pass."""
    labels = np.arange(60, dtype=np.uint8) % CLASSES
    images = np.repeat(np.arange(60, dtype=np.uint8), 784).reshape(60, 28, 28, 1)
    ds = make_dataset(images, batch_size=6, k=2, seed=3, labels=labels)
    seen = []
    for batch, batch_labels in ds:
        assert batch.shape == (12, 28, 28, 1) and batch_labels.dtype == tf.int32
        index = np.round((batch.numpy()[:, 0, 0, 0] + 1) * 127.5).astype(int)
        np.testing.assert_array_equal(index % CLASSES, batch_labels.numpy())
        seen.extend(index)
    assert sorted(seen) == list(range(60))
    with pytest.raises(ValueError, match="59 labels for 60 images"):
        make_dataset(images, batch_size=6, labels=labels[:59])


def test_fit_trains_a_conditional_gan_from_the_pipeline():
    gan = conditional_gan(k=2, lr=0.01)
    ds = make_dataset(tiny_images(64), batch_size=8, k=2, labels=np.arange(64) % CLASSES)
    history = gan.fit(ds, epochs=1, verbose=0).history
    assert int(gan.g_optimizer.iterations) == 4 and int(gan.d_optimizer.iterations) == 8
    assert all(np.isfinite(history[name][0]) for name in ("d_loss", "g_loss"))


def test_generate_draws_the_classes_asked_for_and_checks_them():
    gan = conditional_gan()
    default = gan.generate(12, seed=1)
    np.testing.assert_array_equal(default, gan.generate(12, seed=1, labels=balanced_labels(12)))
    sevens = gan.generate(12, seed=1, labels=[7] * 12)
    assert not np.array_equal(default, sevens)
    z = gan.latent_vectors(12, seed=1)
    by_hand = (np.asarray(gan([z, tf.fill([12], 7)])) + 1) / 2
    np.testing.assert_allclose(sevens, by_hand, atol=1e-6)
    for labels, message in (([10] * 3, r"labels must be in 0..9, got 10..10"),
                            ([1, 2], r"labels must be 3 integers"),
                            ([0.5] * 3, r"labels must be 3 integers")):
        with pytest.raises(ValueError, match=message):
            gan.generate(3, labels=labels)
    unconditional = GAN(*build_models("mlp"))
    with pytest.raises(ValueError, match="labels given to an unconditional GAN"):
        unconditional.generate(3, labels=[1, 2, 3])


def test_keras_file_round_trip_keeps_the_conditioning(tmp_path):
    gan = conditional_gan()
    gan.fit(make_dataset(tiny_images(16), 8, labels=np.arange(16) % CLASSES), epochs=1, verbose=0)
    gan.save(str(tmp_path / "gan.keras"))
    loaded = keras.saving.load_model(str(tmp_path / "gan.keras"))
    assert loaded.num_classes == CLASSES
    labels = [9, 0, 4]
    np.testing.assert_array_equal(loaded.generate(3, seed=2, labels=labels),
                                  gan.generate(3, seed=2, labels=labels))


def test_label_parsing_and_grid_rows():
    assert parse_labels("7") == [7]
    assert parse_labels("0-3,9") == [0, 1, 2, 3, 9]
    for text, message in (("10", "label 10 is outside 0..9"), ("3-1", "range '3-1' is empty"),
                          ("a", "'a' is not a label"), ("-1", "'-1' is not a label")):
        with pytest.raises(ValueError, match=message):
            parse_labels(text)
    labels, cols = class_rows(100, 10)
    assert cols == 10 and np.array_equal(labels.reshape(10, 10), np.repeat(np.arange(10), 10).reshape(10, 10))
    labels, cols = class_rows(64, 10)
    assert cols == 7 and labels[6] == 0 and labels[7] == 1 and labels[-1] == 9


# ------------------------------------------------------------------ export
@pytest.fixture(scope="module")
def conditional_export(tmp_path_factory):
    gan = GAN(*build_models("conv", num_classes=CLASSES), seed=3, num_classes=CLASSES)
    gan.compile()
    path = export_generator(gan.sampling_generator(), str(tmp_path_factory.mktemp("cexport")))
    return gan, path, tf.saved_model.load(path)


def test_export_has_the_conditional_signatures(conditional_export):
    gan, _, loaded = conditional_export
    assert set(loaded.signatures) == {"serving_default", "sample", "sample_class"}
    labels = tf.constant([3, 3, 8, 0], tf.int32)
    out = loaded.signatures["sample_class"](labels=labels, seed=tf.constant(5))
    np.testing.assert_allclose(out["images"].numpy(), gan.generate(4, seed=5, labels=[3, 3, 8, 0]), atol=1e-6)
    np.testing.assert_allclose(out["z"].numpy(), gan.latent_vectors(4, seed=5), atol=0)
    served = loaded.signatures["serving_default"](z=out["z"], labels=labels)
    np.testing.assert_allclose(served["images"].numpy(), out["images"].numpy(), atol=1e-6)
    sample = loaded.signatures["sample"](num_samples=tf.constant(13), seed=tf.constant(5))
    np.testing.assert_array_equal(sample["labels"].numpy(), balanced_labels(13))
    np.testing.assert_allclose(sample["images"].numpy(), gan.generate(13, seed=5), atol=1e-6)


@pytest.mark.parametrize("call,message", [
    (lambda s: s["sample_class"](labels=tf.constant([1, 10]), seed=tf.constant(0)), "labels must be in 0..9"),
    (lambda s: s["sample_class"](labels=tf.constant([-1]), seed=tf.constant(0)), "labels must be in 0..9"),
    (lambda s: s["sample_class"](labels=tf.zeros([0], tf.int32), seed=tf.constant(0)),
     "num_samples must be in 1..10000"),
    (lambda s: s["sample_class"](labels=tf.zeros([10_001], tf.int32), seed=tf.constant(0)),
     "num_samples must be in 1..10000"),
    (lambda s: s["serving_default"](z=tf.zeros([2, 32]), labels=tf.constant([1])),
     "z and labels must have the same length"),
    (lambda s: s["serving_default"](z=tf.zeros([1, 32]), labels=tf.constant([12])), "labels must be in 0..9"),
])
def test_bad_requests_fail_inside_the_graph_with_a_message(conditional_export, call, message):
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        call(conditional_export[2].signatures)


def test_generate_script_draws_rows_of_the_labels_asked_for(conditional_export, tmp_path, capsys):
    import generate
    from PIL import Image

    gan, path, _ = conditional_export
    png, npy = str(tmp_path / "g.png"), str(tmp_path / "g.npy")
    assert generate.main(["--model", path, "--labels", "2,7", "--num-samples", "6", "--seed", "4",
                          "--png", png, "--npy", npy]) == 0
    np.testing.assert_allclose(np.load(npy), gan.generate(6, seed=4, labels=[2, 2, 2, 7, 7, 7]), atol=1e-6)
    with Image.open(png) as image:  # 3 columns x 2 rows (a row per label), 30 px cells, 2x
        assert image.size == (2 * (3 * 30 + 2), 2 * (2 * 30 + 2))
    assert generate.main(["--model", path, "--num-samples", "20", "--png", png, "--npy", npy]) == 0
    np.testing.assert_allclose(np.load(npy), gan.generate(20, seed=0, labels=np.repeat(np.arange(10), 2)),
                               atol=1e-6)
    capsys.readouterr()
    for argv, message in ((["--labels", "4-11"], "--labels 4-11: label 10 is outside 0..9"),
                          (["--labels", "0-9", "--num-samples", "5"],
                           "--num-samples 5: fewer than the 10 --labels")):
        assert generate.main(["--model", path, "--png", png, *argv]) == 2
        assert capsys.readouterr().err.strip() == f"generate.py: error: {message}"


def test_generate_script_refuses_labels_for_an_unconditional_export(tmp_path, capsys):
    import generate

    gan = GAN(*build_models("mlp"), seed=1)
    gan.compile()
    path = export_generator(gan.generator, str(tmp_path / "export"))
    png = tmp_path / "g.png"
    assert generate.main(["--model", path, "--labels", "3", "--png", str(png)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"generate.py: error: --labels: {path} is an unconditional generator (no "
                   "'sample_class' signature); train with --conditional to draw chosen classes"]
    assert not png.exists()


def test_serving_docs_show_conditional_bodies_the_code_makes_and_the_loaded_export_answers(conditional_export):
    """docs/serving.md's conditional JSON examples are what rest_predict_body
    makes, and fed to the loaded export by TF Serving's REST rules (`feed_rest_body`,
    no server) they give the right images."""
    from keras_gan.outputs.saved_model import rest_predict_body
    from test_export import feed_rest_body

    gan, _, loaded = conditional_export
    text = open(os.path.join(os.path.dirname(__file__), "..", "docs", "serving.md")).read()
    blocks = re.findall(r"<!-- conditional body: (\w+) (\w+) -->\s*```json\n(.*?)```", text, re.S)
    assert {(s, f) for s, f, _ in blocks} == {("serving_default", "row"), ("sample_class", "columnar")}
    z = np.zeros((2, 32), np.float32)
    z[1] = 0.5
    for signature_name, form, block in blocks:
        if signature_name == "serving_default":
            inputs = {"z": z, "labels": [3, 8]}
            expected = (np.asarray(gan([tf.constant(z), tf.constant([3, 8])])) + 1) / 2
        else:
            inputs = {"labels": [7, 7, 7], "seed": 1}
            expected = gan.generate(3, seed=1, labels=[7, 7, 7])
        body = rest_predict_body(signature_name, inputs, columnar=form == "columnar")
        assert json.loads(block) == body
        np.testing.assert_allclose(feed_rest_body(loaded.signatures, body)["images"], expected, atol=1e-5)


def test_grpc_predict_contract_for_sample_class_without_a_server(conditional_export):
    """docs/serving.md's conditional gRPC request: serialized and parsed; the test plays
    the server (fed to the loaded signature, answered in a PredictResponse), no TF Serving."""
    from tensorflow_serving.apis import predict_pb2

    gan, _, loaded = conditional_export
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "generator"
    request.model_spec.signature_name = "sample_class"
    request.inputs["labels"].CopyFrom(tf.make_tensor_proto([7, 7, 7], dtype=tf.int32))
    request.inputs["seed"].CopyFrom(tf.make_tensor_proto(1, dtype=tf.int32))
    received = predict_pb2.PredictRequest.FromString(request.SerializeToString())
    feed = {k: tf.constant(tf.make_ndarray(v)) for k, v in received.inputs.items()}
    outputs = loaded.signatures[received.model_spec.signature_name](**feed)
    response = predict_pb2.PredictResponse()
    response.outputs["images"].CopyFrom(tf.make_tensor_proto(outputs["images"].numpy()))
    images = tf.make_ndarray(predict_pb2.PredictResponse.FromString(response.SerializeToString()).outputs["images"])
    np.testing.assert_allclose(images, gan.generate(3, seed=1, labels=[7, 7, 7]), atol=1e-6)
    text = open(os.path.join(os.path.dirname(__file__), "..", "docs", "serving.md")).read()
    # The same request as the REST body beside it: three sevens from seed 1.
    assert 'request.inputs["labels"].CopyFrom(tf.make_tensor_proto([7, 7, 7], dtype=tf.int32))' in text
    assert 'request.inputs["seed"].CopyFrom(tf.make_tensor_proto(1, dtype=tf.int32))' in text
    assert '{"signature_name": "sample_class", "inputs": {"labels": [7, 7, 7], "seed": 1}}' in text
