"""On JAX with several devices (run with XLA_FLAGS=--xla_force_host_platform_device_count=2):
the GAN trained under keras.distribution.DataParallel equals the GAN trained
on one device. Prints "data parallel over N devices: same weights" or fails.
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from keras_gan.common.lean_start import unused_imports_refused  # noqa: E402

with unused_imports_refused():  # as the programs start Keras
    import jax
    import keras

from keras_gan.training import keras_distribution  # noqa: E402
from keras_gan.model.gan import GAN, default_optimizer  # noqa: E402
from keras_gan.model.networks import build_models  # noqa: E402


def train(strategy, images, labels):
    with strategy.scope():
        keras.utils.set_random_seed(0)
        # The conv family: G's BatchNorm must see the global batch, D's Dropout
        # and the noise must be those of the global batch.
        gan = GAN(*build_models("conv", num_classes=10), k=2, r1_gamma=1.0, num_classes=10, seed=0)
        gan.compile(d_optimizer=default_optimizer(1e-3, name="d_optimizer"),
                    g_optimizer=default_optimizer(1e-3, name="g_optimizer", ema=0.9))
        history = gan.fit(images, labels, batch_size=32, epochs=1, shuffle=False, verbose=0).history
    return gan, history


def main():
    devices = jax.local_devices()
    assert len(devices) >= 2, f"needs several devices, has {devices}"
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (96, 28, 28, 1)).astype("float32")
    labels = rng.integers(0, 10, 96).astype("int32")
    one, history_one = train(keras_distribution.OneDevice(), images, labels)
    parallel = keras_distribution.make("mirrored", "jax")
    assert parallel.num_replicas_in_sync == len(devices)
    many, history_many = train(parallel, images, labels)
    kernel = many.generator.trainable_variables[0].value
    assert len(kernel.sharding.device_set) == len(devices), kernel.sharding  # really replicated
    for name in history_one:
        np.testing.assert_allclose(history_many[name], history_one[name], rtol=1e-4, err_msg=name)
    for a, b in zip(one.weights + one.g_optimizer.variables, many.weights + many.g_optimizer.variables):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=1e-4, atol=2e-5, err_msg=a.path)
    assert int(many.g_optimizer.iterations) == 3
    print(f"data parallel over {len(devices)} devices: same weights")


if __name__ == "__main__":
    main()
