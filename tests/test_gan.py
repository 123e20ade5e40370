"""The GAN model: Algorithm 1's update order, isolation of the players, saving."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gan import GAN, build_models
from keras_gan.data import make_dataset
from keras_gan.gan import default_optimizer

from conftest import tiny_images


def small_models(latent_dim=8):
    """A tiny generator (with BatchNorm) and discriminator: fast, same interfaces."""
    z = keras.Input((latent_dim,))
    x = keras.layers.Dense(16)(z)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Dense(784, activation="tanh")(x)
    generator = keras.Model(z, keras.layers.Reshape((28, 28, 1))(x), name="small_g")
    image = keras.Input((28, 28, 1))
    y = keras.layers.Dense(1)(keras.layers.Flatten()(image))
    discriminator = keras.Model(image, y, name="small_d")
    return generator, discriminator


def make_gan(k=1, seed=0, models=None, **kwargs):
    keras.utils.set_random_seed(seed)
    generator, discriminator = models or small_models()
    gan = GAN(generator, discriminator, k=k, seed=seed, **kwargs)
    gan.compile()
    return gan


def arr(variable):
    return keras.ops.convert_to_numpy(variable)


def values(variables):
    return [arr(v) for v in variables]


def assert_same(before, after):
    assert all(np.array_equal(a, b) for a, b in zip(before, after))


def assert_all_changed(before, after):
    assert all(not np.array_equal(a, b) for a, b in zip(before, after))


class RecordMaxInput(keras.layers.Layer):
    """Identity layer that remembers the max of each batch it saw (last 8)."""

    def build(self, input_shape):
        self.seen = self.add_weight(shape=(8,), initializer="zeros", trainable=False)

    def call(self, x):
        self.seen.assign(tf.concat([self.seen[1:], [tf.reduce_max(x)]], 0))
        return x


def test_k_discriminator_updates_per_generator_update_each_on_its_own_batch():
    k, m = 3, 4
    recorder = RecordMaxInput()
    image = keras.Input((28, 28, 1))
    logit = keras.layers.Dense(1)(keras.layers.Flatten()(recorder(image)))
    generator, _ = small_models()
    gan = make_gan(k=k, models=(generator, keras.Model(image, logit)))
    # Real batch i is filled with the value 10 + i; fakes are tanh, in (-1, 1).
    real = np.concatenate([np.full((m, 28, 28, 1), 10.0 + i, np.float32) for i in range(k)])
    # make_dataset's layout: row r of a step holds images r*k .. r*k + k - 1.
    step = real.reshape(k, m, 28, 28, 1).transpose(1, 0, 2, 3, 4).reshape(-1, 28, 28, 1)
    gan.fit(tf.data.Dataset.from_tensors(step).repeat(2), epochs=1, verbose=0)

    assert int(gan.d_optimizer.iterations) == 2 * k
    assert int(gan.g_optimizer.iterations) == 2
    assert int(gan.d_optimizer.iterations) == k * int(gan.g_optimizer.iterations)
    seen = np.asarray(recorder.seen)
    # Last step's D calls: real_1, fake, real_2, fake, real_3, fake; then G's fake.
    real_maxima = [v for v in seen if v > 5.0]
    assert real_maxima == [10.0, 11.0, 12.0]
    assert all(v <= 1.0 for v in seen[-7:] if v not in real_maxima)


def test_fit_reports_the_four_metrics_and_counts_steps():
    gan = make_gan(k=2)
    ds = make_dataset(tiny_images(64), batch_size=8, k=2, seed=0)  # 4 steps
    history = gan.fit(ds, epochs=2, verbose=0)
    assert set(history.history) == {"d_loss", "g_loss", "d_real", "d_fake"}
    for name in ("d_real", "d_fake"):
        assert all(0.0 <= v <= 1.0 for v in history.history[name])
    assert all(v > 0 for v in history.history["d_loss"])
    assert int(gan.g_optimizer.iterations) == 8
    assert int(gan.d_optimizer.iterations) == 16
    assert gan.optimizer is None  # no unused third optimizer


def test_discriminator_update_leaves_generator_weights_unchanged():
    gan = make_gan()
    real = tf.constant(tiny_images(8).astype("float32") / 127.5 - 1)
    g_before = values(gan.generator.trainable_variables)
    d_before = values(gan.discriminator.trainable_variables)
    gan.discriminator_step(real, 8)
    assert_same(g_before, values(gan.generator.trainable_variables))
    assert_all_changed(d_before, values(gan.discriminator.trainable_variables))
    assert int(gan.g_optimizer.iterations) == 0


def test_generator_update_leaves_discriminator_weights_unchanged():
    gan = make_gan()
    g_before = values(gan.generator.trainable_variables)
    d_before = values(gan.discriminator.variables)
    gan.generator_step(8)
    assert_same(d_before, values(gan.discriminator.variables))
    assert_all_changed(g_before, values(gan.generator.trainable_variables))
    assert int(gan.d_optimizer.iterations) == 0


def test_sub_models_run_in_training_mode():
    """BatchNorm's moving statistics only move when called with training=True."""
    gan = make_gan()
    bn = next(l for l in gan.generator.layers if isinstance(l, keras.layers.BatchNormalization))
    before = arr(bn.moving_mean)
    gan.train_step(tf.constant(tiny_images(8).astype("float32") / 127.5 - 1))
    assert not np.array_equal(before, arr(bn.moving_mean))


@pytest.mark.parametrize("kind", ["minimax", "non_saturating"])
def test_generator_gradient_when_discriminator_rejects_fakes(kind):
    """With D(G(z)) ~ 5e-5, minimax gives G almost no gradient; non-saturating does."""
    gan = make_gan(generator_loss=kind)
    logit_layer = gan.discriminator.layers[-1]
    kernel, bias = logit_layer.get_weights()
    logit_layer.set_weights([np.zeros_like(kernel) + 1e-4, bias - 10.0])
    with tf.GradientTape() as tape:
        fake_logits = gan.discriminator(gan.generator(gan.sample_z(16), training=True))
        from keras_gan import losses

        g_loss = tf.reduce_mean(losses.generator_loss(fake_logits, kind))
    grads = tape.gradient(g_loss, gan.generator.trainable_variables)
    norm = float(tf.linalg.global_norm(grads))
    d_fake = float(tf.reduce_mean(tf.sigmoid(fake_logits)))
    assert d_fake < 1e-4
    if kind == "minimax":
        assert norm < 1e-6
    else:
        assert norm > 1e-3


def test_generate_and_call():
    gan = make_gan()
    images = gan.generate(5, seed=3)
    assert images.shape == (5, 28, 28, 1)
    assert images.min() >= 0.0 and images.max() <= 1.0
    np.testing.assert_array_equal(images, gan.generate(5, seed=3))
    assert not np.array_equal(images, gan.generate(5, seed=4))
    z = gan.latent_vectors(5, seed=3)
    np.testing.assert_allclose(
        (np.asarray(gan(z)) + 1) / 2, images, atol=1e-6
    )
    with pytest.raises(ValueError, match="positive integer"):
        gan.generate(0)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"k": 0}, "k must be an integer >= 1"),
        ({"k": 1.5}, "k must be an integer >= 1"),
        ({"generator_loss": "hinge"}, "generator_loss must be one of"),
        ({"label_smoothing": 1.0}, r"label_smoothing must be in \[0, 1\)"),
    ],
)
def test_invalid_arguments_are_rejected(kwargs, message):
    generator, discriminator = small_models()
    with pytest.raises(ValueError, match=message):
        GAN(generator, discriminator, **kwargs)


def test_one_optimizer_cannot_serve_both_players():
    generator, discriminator = small_models()
    gan = GAN(generator, discriminator)
    shared = default_optimizer()
    with pytest.raises(ValueError, match="two different optimizer instances"):
        gan.compile(d_optimizer=shared, g_optimizer=shared)


def test_keras_round_trip_restores_weights_optimizers_and_noise(tmp_path):
    gan = make_gan(k=2, models=build_models("mlp", latent_dim=16), label_smoothing=0.1)
    ds = make_dataset(tiny_images(64), batch_size=8, k=2, seed=0)
    gan.fit(ds, epochs=1, verbose=0)
    path = str(tmp_path / "gan.keras")
    gan.save(path)
    loaded = keras.saving.load_model(path)

    assert isinstance(loaded, GAN)
    assert (loaded.k, loaded.generator_loss, loaded.label_smoothing) == (2, "non_saturating", 0.1)
    for a, b in zip(gan.weights, loaded.weights):
        np.testing.assert_array_equal(arr(a), arr(b), err_msg=a.path)
    for opt, opt2 in ((gan.d_optimizer, loaded.d_optimizer), (gan.g_optimizer, loaded.g_optimizer)):
        assert len(opt.variables) == len(opt2.variables) > 2
        for a, b in zip(opt.variables, opt2.variables):
            np.testing.assert_array_equal(arr(a), arr(b), err_msg=a.path)
    assert int(loaded.d_optimizer.iterations) == 8

    # Resuming from the file continues exactly as the original would have.
    batch = next(iter(ds))
    gan.train_step(batch)
    loaded.train_step(batch)
    for a, b in zip(gan.weights, loaded.weights):
        np.testing.assert_allclose(arr(a), arr(b), atol=1e-6, err_msg=a.path)


def test_model_checkpoint_saves_weights_that_load_back(tmp_path):
    gan = make_gan()
    path = str(tmp_path / "epoch{epoch}.weights.h5")
    ds = make_dataset(tiny_images(32), batch_size=8, seed=0)
    gan.fit(ds, epochs=2, verbose=0,
            callbacks=[keras.callbacks.ModelCheckpoint(path, save_weights_only=True)])
    fresh = make_gan(seed=1)
    assert not np.array_equal(np.array(fresh.weights[0]), np.array(gan.weights[0]))
    fresh.load_weights(str(tmp_path / "epoch2.weights.h5"))
    for a, b in zip(gan.weights, fresh.weights):
        np.testing.assert_array_equal(arr(a), arr(b))
