"""The GAN of `keras_gan.model.gan` on 1-D data: small models and the few loops the
theory needs (D alone against a frozen G, the whole game, the value V).

Data x and noise z are 1-D. The affine generator G(z) = mu + sigma * z maps
z ~ N(0, 1) to p_g = N(mu, sigma^2) -- a density known exactly, which is what
lets the tests compare D with D* and V with C(G) = -log 4 + 2 JSD.
"""

import keras
import numpy as np
import tensorflow as tf

from keras_gan.model import losses
from keras_gan.model.gan import GAN
from keras_gan.toy.densities import Gaussian


def affine_generator(mean, std):
    """G(z) = mean + std * z: p_g = N(mean, std^2)."""
    z = keras.Input((1,), name="z")
    layer = keras.layers.Dense(1, name="affine")
    model = keras.Model(z, layer(z), name="affine_generator")
    layer.set_weights([np.array([[std]], np.float32), np.array([mean], np.float32)])
    return model


def mlp_generator(latent_dim=4, width=32):
    z = keras.Input((latent_dim,), name="z")
    x = keras.layers.Dense(width, activation="tanh")(z)
    x = keras.layers.Dense(width, activation="tanh")(x)
    return keras.Model(z, keras.layers.Dense(1)(x), name="mlp_generator")


def discriminator(width=32):
    """x -> logit: an MLP flexible enough to approach D* on the line."""
    x_in = keras.Input((1,), name="x")
    x = keras.layers.Dense(width, activation="tanh")(x_in)
    x = keras.layers.Dense(width, activation="tanh")(x)
    return keras.Model(x_in, keras.layers.Dense(1, name="logit")(x), name="toy_discriminator")


def make_gan(generator, k=1, generator_loss="non_saturating", learning_rate=2e-3, seed=0):
    keras.utils.set_random_seed(seed)
    gan = GAN(generator, discriminator(), k=k, generator_loss=generator_loss, seed=seed)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(learning_rate, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(learning_rate, beta_1=0.5),
    )
    return gan


def affine_density(gan):
    """p_g of an affine generator, exactly."""
    std, mean = (float(np.ravel(w)[0]) for w in gan.generator.get_weights())
    return Gaussian(mean, abs(std))


def d_of(gan, x):
    """D(x) = sigmoid(logit) on points x (1-D NumPy array)."""
    logits = gan.discriminator(np.asarray(x, np.float32).reshape(-1, 1), training=False)
    return np.asarray(tf.sigmoid(logits))[:, 0]


def generator_samples(gan, n, seed=0):
    z = keras.random.normal((n, gan.latent_dim), seed=seed)
    return np.asarray(gan.generator(z, training=False))[:, 0]


def train_discriminator(gan, data, steps, batch_size=256, seed=0):
    """`steps` updates of D alone (G frozen): Algorithm 1's inner loop, run long."""
    rng = np.random.default_rng(seed)
    step = tf.function(lambda real: gan.discriminator_step(real, batch_size))
    for _ in range(steps):
        step(tf.constant(data.sample(batch_size, rng)))


def train_generator(gan, steps, batch_size=256):
    """`steps` updates of G alone against the current, fixed D."""
    step = tf.function(lambda: gan.generator_step(batch_size))
    for _ in range(steps):
        step()


def train_game(gan, data, steps, batch_size=256, seed=0, every=None, on_snapshot=None):
    """Algorithm 1 through `fit`: `steps` iterations (k D updates, 1 G update each).

    `on_snapshot(step)` is called every `every` steps (and at step 0).
    """
    rng = np.random.default_rng(seed)
    per_step = gan.k * batch_size
    real = data.sample(steps * per_step, rng).reshape(steps, per_step, 1)
    dataset = tf.data.Dataset.from_tensor_slices(real)
    every = every or steps
    callbacks = []
    if on_snapshot:
        on_snapshot(0)
        callbacks.append(keras.callbacks.LambdaCallback(
            on_train_batch_end=lambda batch, logs: (batch + 1) % every == 0 and on_snapshot(batch + 1)
        ))
    gan.fit(dataset, epochs=1, verbose=0, callbacks=callbacks, shuffle=False)


def value(gan, data, n=100_000, seed=1):
    """V(D, G) = E_data[log D(x)] + E_z[log(1 - D(G(z)))], by Monte Carlo."""
    rng = np.random.default_rng(seed)
    real_logits = gan.discriminator(data.sample(n, rng), training=False)
    fake = gan.generator(keras.random.normal((n, gan.latent_dim), seed=seed), training=False)
    fake_logits = gan.discriminator(fake, training=False)
    return -float(np.mean(losses.discriminator_loss(real_logits, fake_logits)))
