"""The GAN model on TensorFlow: updates against Algorithm 1 computed with a tape, isolation of
the players, saving (the update order and more, on every backend: tests/multibackend)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gan import GAN, build_models
from keras_gan.data import make_dataset
from keras_gan.model.gan import default_optimizer

from conftest import tiny_images


def small_models(latent_dim=8, batch_norm=True, frozen_d_layer=False):
    """A tiny generator (with BatchNorm) and discriminator: fast, same interfaces.

    `frozen_d_layer` puts a frozen Dense layer into D, so that D has
    non-trainable weights that no update may touch.
    """
    z = keras.Input((latent_dim,))
    x = keras.layers.Dense(16)(z)
    if batch_norm:
        x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Dense(784, activation="tanh")(x)
    generator = keras.Model(z, keras.layers.Reshape((28, 28, 1))(x), name="small_g")
    image = keras.Input((28, 28, 1))
    y = keras.layers.Flatten()(image)
    if frozen_d_layer:
        frozen = keras.layers.Dense(8)
        y = frozen(y)
        frozen.trainable = False
    y = keras.layers.Dense(1)(y)
    discriminator = keras.Model(image, y, name="small_d")
    return generator, discriminator


def make_gan(k=1, seed=0, models=None, d_optimizer=None, g_optimizer=None, **kwargs):
    keras.utils.set_random_seed(seed)
    generator, discriminator = models or small_models()
    gan = GAN(generator, discriminator, k=k, seed=seed, **kwargs)
    gan.compile(d_optimizer=d_optimizer, g_optimizer=g_optimizer)
    return gan


def replay_noise(gan):
    """A copy of the GAN's noise stream at its current position: draws from it
    are the z the next training step will draw, in the same order."""
    copy = keras.random.SeedGenerator(0)
    copy.state.assign(gan.seed_generator.state.value)
    return lambda n: keras.random.normal((n, gan.latent_dim), seed=copy)


def real_batch(n, seed=0):
    return tf.constant(tiny_images(n, seed).astype("float32") / 127.5 - 1)


def arr(variable):
    return keras.ops.convert_to_numpy(variable)


def values(variables):
    return [arr(v) for v in variables]


def assert_same(before, after):
    assert all(np.array_equal(a, b) for a, b in zip(before, after))


def assert_all_changed(before, after):
    assert all(not np.array_equal(a, b) for a, b in zip(before, after))


@pytest.mark.parametrize("kind,g_loss", [("non_saturating", np.log(2.0)), ("minimax", -np.log(2.0))])
def test_fit_metrics_at_an_undecided_discriminator(kind, g_loss):
    """D(x) = 1/2 everywhere (zero logits, frozen by a zero learning rate):
    -V(D, G) = log 4, and G's loss is -log 1/2 or log 1/2, exactly."""
    gan = make_gan(k=2, generator_loss=kind, d_optimizer=keras.optimizers.SGD(0.0),
                   g_optimizer=keras.optimizers.SGD(0.0))
    gan.discriminator.set_weights([np.zeros_like(w) for w in gan.discriminator.get_weights()])
    ds = make_dataset(tiny_images(64), batch_size=8, k=2, seed=0)  # 4 steps
    history = gan.fit(ds, epochs=2, verbose=0).history
    assert set(history) == {"d_loss", "g_loss", "d_real", "d_fake"}
    np.testing.assert_allclose(history["d_loss"], [np.log(4.0)] * 2, rtol=1e-6)
    np.testing.assert_allclose(history["g_loss"], [g_loss] * 2, rtol=1e-6)
    np.testing.assert_allclose(history["d_real"], [0.5] * 2, rtol=1e-6)
    np.testing.assert_allclose(history["d_fake"], [0.5] * 2, rtol=1e-6)
    assert int(gan.g_optimizer.iterations) == 8
    assert int(gan.d_optimizer.iterations) == 16
    assert gan.optimizer is None  # no unused third optimizer


def softplus(x):
    return tf.math.softplus(x)


@pytest.mark.parametrize("kind,smoothing", [("non_saturating", 0.0), ("minimax", 0.0),
                                            ("non_saturating", 0.3)])
def test_one_step_equals_algorithm_1_computed_by_hand(kind, smoothing):
    """One train_step, against the update written out here from the paper
    (plain SGD, so the update is lr * gradient): the loss kind and the label
    smoothing must reach the updates, and the metrics must be the losses."""
    lr = 0.5
    gan = make_gan(models=small_models(batch_norm=False), generator_loss=kind,
                   label_smoothing=smoothing, d_optimizer=keras.optimizers.SGD(lr),
                   g_optimizer=keras.optimizers.SGD(lr))
    real = real_batch(8)
    draw = replay_noise(gan)
    z_d, z_g = draw(8), draw(8)
    g_vars, d_vars = gan.generator.trainable_variables, gan.discriminator.trainable_variables
    g0, d0 = values(g_vars), values(d_vars)

    logs = gan.train_step(real)
    got_g, got_d = values(g_vars), values(d_vars)

    # By hand, from the starting weights.
    for v, w in zip(g_vars + d_vars, g0 + d0):
        v.assign(w)
    fake = gan.generator(z_d)
    with tf.GradientTape() as tape:
        r, f = gan.discriminator(real)[:, 0], gan.discriminator(fake)[:, 0]
        d_loss = tf.reduce_mean((1 - smoothing) * softplus(-r) + smoothing * softplus(r) + softplus(f))
    d_real, d_fake = float(tf.reduce_mean(tf.sigmoid(r))), float(tf.reduce_mean(tf.sigmoid(f)))
    d_grads = tape.gradient(d_loss, d_vars)
    expected_d = [w - lr * g.numpy() for w, g in zip(d0, d_grads)]
    for v, w in zip(d_vars, expected_d):
        v.assign(w)
    with tf.GradientTape() as tape:
        f = gan.discriminator(gan.generator(z_g))[:, 0]
        g_loss = tf.reduce_mean(softplus(-f) if kind == "non_saturating" else -softplus(f))
    g_grads = tape.gradient(g_loss, g_vars)
    expected_g = [w - lr * g.numpy() for w, g in zip(g0, g_grads)]

    assert float(logs["d_loss"]) == pytest.approx(float(d_loss), rel=1e-5)
    assert float(logs["g_loss"]) == pytest.approx(float(g_loss), rel=1e-5)
    assert float(logs["d_real"]) == pytest.approx(d_real, rel=1e-5)
    assert float(logs["d_fake"]) == pytest.approx(d_fake, rel=1e-5)
    for got, want in zip(got_d + got_g, expected_d + expected_g):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    assert not all(np.allclose(a, b) for a, b in zip(got_g, g0))  # G really moved


def test_every_update_draws_fresh_noise():
    """k = 2: three draws of z per step (two D updates, one G update), all different."""
    seen = []
    gan = make_gan(k=2)
    original_call = gan.generator.call

    def recording_call(z, *args, **kwargs):
        seen.append(np.asarray(z))
        return original_call(z, *args, **kwargs)

    gan.generator.call = recording_call
    for seed in range(2):
        gan.train_step(real_batch(16, seed))  # eager: every call is recorded
    assert len(seen) == 6
    assert all(z.shape == (8, 8) for z in seen)
    assert len({z.tobytes() for z in seen}) == 6


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
    gan = make_gan(models=small_models(frozen_d_layer=True))
    assert gan.discriminator.non_trainable_weights  # the check below is not vacuous
    g_before = values(gan.generator.trainable_variables)
    d_before = values(gan.discriminator.weights)
    gan.generator_step(8)
    assert_same(d_before, values(gan.discriminator.weights))
    assert_all_changed(g_before, values(gan.generator.trainable_variables))
    assert int(gan.d_optimizer.iterations) == 0


def test_discriminator_update_leaves_its_frozen_weights_unchanged():
    gan = make_gan(models=small_models(frozen_d_layer=True))
    frozen_before = values(gan.discriminator.non_trainable_weights)
    trainable_before = values(gan.discriminator.trainable_weights)
    gan.discriminator_step(real_batch(8), 8)
    assert_same(frozen_before, values(gan.discriminator.non_trainable_weights))
    assert_all_changed(trainable_before, values(gan.discriminator.trainable_weights))


def test_sub_models_run_in_training_mode():
    """BatchNorm's moving statistics only move when called with training=True."""
    gan = make_gan()
    bn = next(l for l in gan.generator.layers if isinstance(l, keras.layers.BatchNormalization))
    before = arr(bn.moving_mean)
    gan.train_step(tf.constant(tiny_images(8).astype("float32") / 127.5 - 1))
    assert not np.array_equal(before, arr(bn.moving_mean))


@pytest.mark.parametrize("r1_gamma", [0.0, 1.0])
def test_every_discriminator_call_in_a_step_runs_in_training_mode(monkeypatch, r1_gamma):
    """The conv D (build_models' own, with its Dropout) is called 2k + 1 times
    per step: real then fake in each of the k D updates (the real call inside
    R1's input gradient when r1_gamma > 0), then once in G's update. Each call
    must reach the Dropout with training=True, or Dropout is off there."""
    from keras_gan.model import networks

    seen = []
    dropout_call = keras.layers.Dropout.call

    def recording_call(self, inputs, training=False):
        seen.append(bool(training))
        return dropout_call(self, inputs, training=training)

    monkeypatch.setattr(keras.layers.Dropout, "call", recording_call)
    generator, _ = small_models(batch_norm=False)
    discriminator = networks.conv_discriminator()
    assert any(isinstance(l, keras.layers.Dropout) for l in discriminator.layers)
    gan = make_gan(k=2, models=(generator, discriminator), r1_gamma=r1_gamma)
    seen.clear()
    gan.train_step(tf.constant(tiny_images(16).astype("float32") / 127.5 - 1))
    assert seen == [True] * (2 * 2 + 1)


@pytest.mark.parametrize("kind", ["minimax", "non_saturating"])
def test_generator_update_when_discriminator_rejects_fakes(kind):
    """With D(G(z)) ~ 5e-5, a minimax G update barely moves G; a
    non-saturating one does (through `generator_step`, with plain SGD)."""
    gan = make_gan(generator_loss=kind, g_optimizer=keras.optimizers.SGD(1.0))
    logit_layer = gan.discriminator.layers[-1]
    kernel, bias = logit_layer.get_weights()
    logit_layer.set_weights([np.full_like(kernel, 1e-4), np.full_like(bias, -10.0)])
    d_fake = float(tf.reduce_mean(tf.sigmoid(gan.discriminator(gan.generate(16) * 2 - 1))))
    assert d_fake < 1e-4
    before = values(gan.generator.trainable_variables)
    gan.generator_step(16)
    moved = max(np.abs(a - b).max() for a, b in zip(values(gan.generator.trainable_variables), before))
    # dD/dG(z) is ~1e-4 per pixel here; the loss scales it by D(G(z)) ~ 5e-5
    # (minimax) or by 1 - D(G(z)) ~ 1 (non-saturating).
    if kind == "minimax":
        assert moved < 1e-7
    else:
        assert moved > 1e-4


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
