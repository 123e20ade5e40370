"""The GAN under tf.distribute, on two logical CPUs: exact, not approximately right."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gan import GAN, build_models
from keras_gan.training.distribute import check_global_batch, check_tf_config, make_strategy, mirrored_strategy
from keras_gan.common.options import UserError

from conftest import TWO_CPUS, tiny_images

GLOBAL_BATCH = 8


def two_cpu_strategy():
    return mirrored_strategy(TWO_CPUS)


def build(strategy, k, seed=0, ema=False, **gan_kwargs):
    with strategy.scope():
        keras.utils.set_random_seed(seed)
        gan = GAN(*build_models("mlp", num_classes=gan_kwargs.get("num_classes")), k=k, seed=seed,
                  **gan_kwargs)
        # Plain SGD with a large step: Adam's normalisation would hide a 2x
        # gradient error, SGD shows it as a 2x weight change.
        g_optimizer = keras.optimizers.SGD(1.0, use_ema=ema, ema_momentum=0.5)
        gan.compile(d_optimizer=keras.optimizers.SGD(1.0), g_optimizer=g_optimizer,
                    jit_compile=False)
    return gan


def arr(variable):
    return keras.ops.convert_to_numpy(variable)


def weights(gan):
    return [keras.ops.convert_to_numpy(v) for v in gan.generator.variables + gan.discriminator.variables]


STABILISED = {"augmentation": "translation,cutout", "r1_gamma": 0.5, "ema": True}


CONDITIONAL = {**STABILISED, "num_classes": 10}


# k = 2 with no stabilisers is not a case of its own: k = 2 runs in both
# stabilised cases, the unstabilised step at k = 1.
@pytest.mark.parametrize("k,stabilisers", [(1, {}), (2, STABILISED), (2, CONDITIONAL)])
def test_two_replicas_train_exactly_like_one_device(k, stabilisers):
    images = tiny_images(k * GLOBAL_BATCH, seed=k).astype("float32") / 127.5 - 1.0
    step = tf.data.Dataset.from_tensors(images)
    if "num_classes" in stabilisers:  # each image with its label; G's labels drawn per replica
        labels = np.arange(k * GLOBAL_BATCH, dtype=np.int32) % 10
        step = tf.data.Dataset.from_tensors((images, labels))

    single = build(tf.distribute.get_strategy(), k, **stabilisers)
    mirrored_strategy = two_cpu_strategy()
    mirrored = build(mirrored_strategy, k, **stabilisers)
    mirrored.set_weights(single.get_weights())
    initial = weights(single)
    assert mirrored_strategy.num_replicas_in_sync == 2

    single_history = single.fit(step, epochs=1, verbose=0, shuffle=False).history
    mirrored_history = mirrored.fit(step, epochs=1, verbose=0, shuffle=False).history

    moved = max(np.abs(a - b).max() for a, b in zip(weights(single), initial))
    assert moved > 1e-2  # a 2x gradient error would be far outside the tolerance below
    for a, b in zip(weights(single), weights(mirrored)):
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=0)
    # With EMA, the averaged generator too (each replica augments its own
    # slice of the global batch's draws, so the updates agree as well).
    for a, b in zip(single.sampling_generator().weights, mirrored.sampling_generator().weights):
        np.testing.assert_allclose(arr(a), arr(b), atol=1e-5, rtol=0)
    # Logged metrics are the true values, not 1/N of them.
    for name in ("d_loss", "g_loss", "d_real", "d_fake"):
        assert mirrored_history[name][0] == pytest.approx(single_history[name][0], rel=1e-5)
    assert int(keras.ops.convert_to_numpy(mirrored.d_optimizer.iterations)) == k


def test_replicas_draw_different_noise_that_tiles_the_global_batch():
    strategy = two_cpu_strategy()
    gan = build(strategy, k=1, seed=3)
    reference = build(tf.distribute.get_strategy(), k=1, seed=3)

    per_replica = strategy.experimental_local_results(strategy.run(tf.function(lambda: gan.sample_z(4))))
    z0, z1 = (keras.ops.convert_to_numpy(z) for z in per_replica)
    assert z0.shape == z1.shape == (4, 32)
    assert not np.allclose(z0, z1)
    np.testing.assert_allclose(np.concatenate([z0, z1]), keras.ops.convert_to_numpy(reference.sample_z(8)))


def test_generator_batch_norm_is_synchronized():
    generator, _ = build_models("conv")
    norms = [l for l in generator.layers if isinstance(l, keras.layers.BatchNormalization)]
    assert norms and all(l.synchronized for l in norms)  # on TensorFlow
    assert all("synchronized" not in l.get_config() for l in norms)  # not saved: portable


def test_global_batch_must_divide_among_replicas():
    strategy = two_cpu_strategy()
    check_global_batch(8, strategy)
    with pytest.raises(UserError, match="--batch-size 7 is the global batch: it must be divisible by the 2 replicas"):
        check_global_batch(7, strategy)


def test_strategy_names():
    assert make_strategy("default") is tf.distribute.get_strategy()
    gpus = len(tf.config.list_logical_devices("GPU"))
    auto = make_strategy("auto")
    if gpus > 1:
        assert isinstance(auto, tf.distribute.MirroredStrategy) and auto.num_replicas_in_sync == gpus
    else:
        assert auto is tf.distribute.get_strategy()
    with pytest.raises(UserError, match="--strategy 'tpu'"):
        make_strategy("tpu")


@pytest.mark.parametrize(
    "tf_config,message",
    [
        (None, "TF_CONFIG is not set"),
        ("{not json", "TF_CONFIG is not valid"),
        (json.dumps({"cluster": {"worker": ["127.0.0.1:1"]}}), "TF_CONFIG is not valid"),
        (json.dumps({"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "worker", "index": 3}}),
         "task worker:3 is not in the cluster"),
    ],
)
def test_multi_worker_needs_a_valid_tf_config(tf_config, message):
    environ = {} if tf_config is None else {"TF_CONFIG": tf_config}
    with pytest.raises(UserError, match=message):
        check_tf_config(environ)


def test_valid_tf_config_is_accepted():
    config = {"cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}, "task": {"type": "worker", "index": 1}}
    assert check_tf_config({"TF_CONFIG": json.dumps(config)}) == config
