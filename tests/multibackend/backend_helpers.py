"""Small models and a known noise stream for tests that run on every backend."""

import keras
import numpy as np
from keras import ops

from keras_gan.model.gan import GAN


def linear_models(latent_dim=3, pixels=(2, 2, 1)):
    """G: z -> tanh(W z + c) as an image; D: x -> w . flatten(x) + b.

    Small enough to write Algorithm 1's gradients out in NumPy."""
    z = keras.Input((latent_dim,))
    x = keras.layers.Dense(int(np.prod(pixels)), activation="tanh", name="g_dense")(z)
    generator = keras.Model(z, keras.layers.Reshape(pixels)(x), name="linear_g")
    image = keras.Input(pixels)
    logit = keras.layers.Dense(1, name="d_dense")(keras.layers.Flatten()(image))
    return generator, keras.Model(image, logit, name="linear_d")


def known_noise(updates, n, latent_dim):
    """z as a function of the number of updates made so far: the same on every
    backend (keras.random's streams differ between backends)."""
    index = np.arange(n * latent_dim, dtype=np.float32).reshape(n, latent_dim)
    return np.sin(1.3 * updates + 0.7 * index).astype(np.float32)


class KnownNoiseGAN(GAN):
    """A GAN whose z comes from `known_noise`, not from keras.random."""

    def sample_z(self, n):
        updates = ops.cast(self.d_optimizer.iterations + self.g_optimizer.iterations, "float32")
        index = ops.cast(ops.reshape(ops.arange(n * self.latent_dim), (n, self.latent_dim)), "float32")
        return ops.sin(1.3 * updates + 0.7 * index)


def tiny_images(n, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, 28, 28, 1), dtype=np.uint8)


def scaled(images):
    return (images.astype("float32") / 127.5 - 1.0).astype("float32")


def arr(variable):
    return np.array(ops.convert_to_numpy(variable))


def values(variables):
    return [arr(v) for v in variables]


class RecordMaxInput(keras.layers.Layer):
    """Identity layer that remembers the max of each batch it saw (last 8)."""

    def build(self, input_shape):
        self.seen = self.add_weight(shape=(8,), initializer="zeros", trainable=False)

    def call(self, x):
        self.seen.assign(ops.concatenate([self.seen[1:], ops.reshape(ops.max(x), (1,))]))
        return x
