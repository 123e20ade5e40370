"""--mixed-precision: low-precision compute, float32 where it matters, loss scaling for float16."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gan import GAN, build_models
from keras_gan.model.gan import default_optimizer, inner_optimizer

from conftest import tiny_images


@pytest.fixture
def policy(request):
    """Keras' global dtype policy set to request.param for one test, then restored."""
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(request.param)
    yield request.param
    keras.mixed_precision.set_global_policy(previous)


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"], indirect=True)
@pytest.mark.parametrize("family,classes", [("mlp", None), ("conv", None), ("conv", 10)])
def test_images_and_logits_stay_float32_while_the_rest_computes_low(policy, family, classes):
    generator, discriminator = build_models(family, num_classes=classes)
    low = policy.split("_")[1]
    hidden = [l for l in generator.layers + discriminator.layers
              if isinstance(l, (keras.layers.Dense, keras.layers.Conv2D)) and l.name != "logit"
              and l.dtype_policy.compute_dtype != "float32"]
    assert hidden and all(l.dtype_policy.compute_dtype == low for l in hidden)
    assert all(w.dtype == "float32" for w in generator.weights + discriminator.weights)
    z = tf.random.normal((4, 32))
    labels = tf.constant([0, 3, 5, 9])
    images = generator(z if classes is None else [z, labels])
    logits = discriminator(images if classes is None else [images, labels])
    assert images.dtype == tf.float32 and logits.dtype == tf.float32


def small_gan(optimizers):
    keras.utils.set_random_seed(0)
    gan = GAN(*build_models("mlp", latent_dim=8), seed=0, r1_gamma=1.0)
    gan.compile(**optimizers)
    return gan


def test_the_loss_scale_is_applied_and_undone_exactly():
    """A LossScaleOptimizer around SGD must give SGD's update: if the loss were
    not scaled before the gradient, its unscaling would shrink the update 32,768x."""
    plain = small_gan({"d_optimizer": keras.optimizers.SGD(0.1), "g_optimizer": keras.optimizers.SGD(0.1)})
    scaled = small_gan({"d_optimizer": keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1)),
                        "g_optimizer": keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1))})
    assert float(scaled.d_optimizer.scale_loss(1.0)) == 2.0 ** 15  # not the identity
    start = [w.numpy() for w in plain.weights]
    real = tf.constant(tiny_images(8).astype("float32") / 127.5 - 1)
    plain.train_step(real)
    scaled.train_step(real)
    moved = max(np.abs(a - w.numpy()).max() for a, w in zip(start, plain.weights))
    assert moved > 1e-3
    for a, b in zip(plain.weights, scaled.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("policy", ["mixed_float16"], indirect=True)
def test_float16_training_with_loss_scaling_and_ema_saves_and_loads(policy, tmp_path):
    from keras_gan.data import make_dataset

    gan = GAN(*build_models("conv", num_classes=10), num_classes=10, seed=0, r1_gamma=1.0)
    gan.compile(d_optimizer=default_optimizer(name="d", loss_scale=True),
                g_optimizer=default_optimizer(name="g", ema=0.5, loss_scale=True))
    assert isinstance(gan.g_optimizer, keras.optimizers.LossScaleOptimizer)
    assert inner_optimizer(gan.g_optimizer).use_ema
    ds = make_dataset(tiny_images(64), 16, labels=np.arange(64) % 10)
    history = gan.fit(ds, epochs=1, verbose=0).history
    assert all(np.isfinite(history[name][0]) for name in ("d_loss", "g_loss"))
    assert int(gan.g_optimizer.iterations) == 4  # no step overflowed and was skipped
    averaged = gan.sampling_generator()
    assert averaged is not gan.generator  # the EMA copy, found through the wrapper
    images = gan.generate(6, seed=1)
    assert images.dtype == np.float32 and np.isfinite(images).all()
    gan.save(str(tmp_path / "gan.keras"))
    loaded = keras.saving.load_model(str(tmp_path / "gan.keras"))
    assert isinstance(loaded.d_optimizer, keras.optimizers.LossScaleOptimizer)
    np.testing.assert_array_equal(loaded.generate(6, seed=1), images)


def test_train_py_mixed_precision_end_to_end(tmp_path, capsys, mnist_dir):
    """On a machine without a GPU: bfloat16 compute (no loss scale needed),
    recorded in summary.json; the export still serves float32 images; and the
    global policy is float32 again afterwards."""
    import train

    argv = ["--mixed-precision", "--model", "conv", "--data-dir", mnist_dir, "--split", "test",
            "--epochs", "1", "--steps-per-epoch", "3", "--batch-size", "8", "--seed", "2",
            "--verbose", "0", "--no-eval", "--logdir", str(tmp_path / "run"),
            "--export-dir", str(tmp_path / "export")]
    assert train.main(argv) == 0
    assert "mixed_bfloat16 compute" in capsys.readouterr().out
    assert keras.mixed_precision.global_policy().name == "float32"
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["precision"] == "mixed_bfloat16" and summary["steps"] == 3
    gan = keras.saving.load_model(str(tmp_path / "run" / "gan.keras"))
    assert gan.discriminator.layers[1].dtype_policy.name == "mixed_bfloat16"  # the first conv
    assert gan.discriminator.get_layer("logit").dtype_policy.name == "float32"
    assert not isinstance(gan.d_optimizer, keras.optimizers.LossScaleOptimizer)
    served = tf.saved_model.load(str(tmp_path / "export" / "1")).signatures["sample"]
    images = served(num_samples=tf.constant(4), seed=tf.constant(1))["images"]
    assert images.dtype == tf.float32
    np.testing.assert_allclose(images.numpy(), gan.generate(4, seed=1), atol=1e-6)
