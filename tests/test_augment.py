"""DiffAugment (keras_gan/model/augment.py), R1 and the averaged generator, against
results written out here by hand."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gan.model import augment
from keras_gan.common.options import parse_augmentation

from test_gan import arr, make_gan, real_batch, replay_noise, small_models, values


def images(n, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, 28, 28, 1)).astype("float32")


def test_translation_shifts_each_image_by_its_own_offset_and_fills_zeros():
    x = images(4)
    shifts = np.array([[0, 0], [4, -4], [-3, 1], [2, 0]], dtype="int32")
    got = arr(augment.translate(x, shifts))
    for b, (dy, dx) in enumerate(shifts):
        want = np.zeros_like(x[b])
        src = x[b][max(0, -dy):28 - max(0, dy), max(0, -dx):28 - max(0, dx)]
        want[max(0, dy):max(0, dy) + src.shape[0], max(0, dx):max(0, dx) + src.shape[1]] = src
        np.testing.assert_array_equal(got[b], want)


def test_cutout_zeroes_exactly_the_square_clipped_at_the_border():
    x = images(3)
    corners = np.array([[0, 0], [20, -5], [-7, 10]], dtype="int32")
    got = arr(augment.cutout(x, corners))
    for b, (y0, x0) in enumerate(corners):
        want = x[b].copy()
        want[max(0, y0):max(0, y0 + 14), max(0, x0):max(0, x0 + 14)] = 0
        np.testing.assert_array_equal(got[b], want)


def test_drawn_parameters_cover_the_papers_ranges_and_nothing_else():
    seed = keras.random.SeedGenerator(3)
    shifts, corners = (arr(p) for p in augment.draw_parameters(("translation", "cutout"), 4000, seed, (28, 28)))
    assert shifts.shape == corners.shape == (4000, 2)
    # int(28 / 8 + 0.5) = 4 pixels each way; corners: offset 0..28 minus 14 // 2.
    for column in (0, 1):
        assert set(shifts[:, column]) == set(range(-4, 5))
        assert set(corners[:, column]) == set(range(-7, 22))
    # Two draws differ: the transforms are random per call.
    again = arr(augment.draw_parameters(("translation",), 4000, seed, (28, 28))[0])
    assert not np.array_equal(shifts, again)


def test_gradients_flow_through_the_transforms():
    """Differentiable: d(sum of augmented image)/d(pixel) is 1 where a pixel
    lands in the output, 0 where it was cut or shifted out."""
    x = tf.constant(images(2))
    shifts = np.array([[1, 0], [0, -2]], dtype="int32")
    corners = np.array([[5, 5], [30, 30]], dtype="int32")  # the second hole misses the image
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.reduce_sum(augment.augment(x, ("translation", "cutout"), [shifts, corners]))
    gradient = arr(tape.gradient(total, x))[..., 0]
    assert gradient[0, 27].sum() == 0 and gradient[0, :27].sum() == 27 * 28 - 14 * 14
    assert gradient[1, :, :2].sum() == 0 and gradient[1].sum() == 28 * 26


@pytest.mark.parametrize("text,expected", [
    ("none", ()), ("", ()), ("translation", ("translation",)),
    ("cutout, translation", ("cutout", "translation")),
])
def test_parse_augmentation(text, expected):
    assert parse_augmentation(text) == expected


@pytest.mark.parametrize("text,message", [
    ("colour", "unknown augmentation 'colour'"), ("cutout,cutout", "names a transform twice"),
])
def test_parse_augmentation_refuses(text, message):
    with pytest.raises(ValueError, match=message):
        parse_augmentation(text)


class Recorder(keras.layers.Layer):
    """Identity that keeps the last batch it saw."""

    seen = []

    def call(self, x):
        Recorder.seen.append(x)
        return x


def test_discriminator_sees_augmented_real_and_fake_images_in_both_updates():
    generator, _ = small_models(batch_norm=False)
    image = keras.Input((28, 28, 1))
    logit = keras.layers.Dense(1)(keras.layers.Flatten()(Recorder()(image)))
    gan = make_gan(models=(generator, keras.Model(image, logit)), augmentation="cutout")
    Recorder.seen.clear()
    real = real_batch(8)
    gan.train_step(real)
    d_real, d_fake, g_fake = (arr(x)[..., 0] for x in Recorder.seen)
    assert len(Recorder.seen) == 3
    for batch in (d_real, d_fake, g_fake):  # a 14x14 hole (clipped) in every image
        holes = (batch == 0).reshape(8, -1).sum(axis=1)
        assert (holes >= 7 * 7).all() and (holes <= 14 * 14 + 20).all()
    kept = d_real != 0
    np.testing.assert_array_equal(d_real[kept], arr(real)[..., 0][kept])


def test_r1_penalty_adds_gamma_times_the_weights_for_a_linear_discriminator():
    """D(x) = w.x + b has grad_x D = w, so (gamma / 2) ||w||^2 adds gamma * w
    to D's gradient (and nothing to b's): one SGD step moves w by -lr*gamma*w more."""
    lr, gamma = 0.1, 3.0
    updated = {}
    for r1 in (0.0, gamma):
        gan = make_gan(models=small_models(batch_norm=False), r1_gamma=r1,
                       d_optimizer=keras.optimizers.SGD(lr), g_optimizer=keras.optimizers.SGD(lr))
        w0 = values(gan.discriminator.trainable_variables)
        gan.discriminator_step(real_batch(8), 8)
        updated[r1] = values(gan.discriminator.trainable_variables)
    (w, b) = w0
    np.testing.assert_allclose(updated[gamma][0] - updated[0.0][0], -lr * gamma * w, atol=1e-6)
    np.testing.assert_allclose(updated[gamma][1], updated[0.0][1], atol=1e-7)



def test_r1_penalty_is_taken_at_the_real_batch_for_a_nonlinear_discriminator():
    """D(x) = (w.x)^2 / 2 has grad_x D = (w.x) w, so the penalty
    P = (gamma / 2) mean_i (w.x_i)^2 ||w||^2 has, by hand,
    dP/dw = gamma mean_i [(w.x_i) ||w||^2 x_i + (w.x_i)^2 w]: it depends on
    the images, so one SGD step moves w by -lr dP/dw more than without R1
    only if the penalty is taken at the real batch x (not at the fakes, nor
    at any other images)."""
    lr, gamma = 0.1, 3.0
    real = real_batch(8)
    x = arr(real).reshape(8, -1).astype("float64")

    def models():
        generator, _ = small_models(batch_norm=False)
        image = keras.Input((28, 28, 1))
        projection = keras.layers.Dense(1, use_bias=False, name="w",
                                        kernel_initializer=keras.initializers.RandomNormal(0.0, 0.01))
        logit = keras.layers.Lambda(lambda t: 0.5 * t * t)(projection(keras.layers.Flatten()(image)))
        return generator, keras.Model(image, logit)

    updated = {}
    for r1 in (0.0, gamma):
        gan = make_gan(models=models(), r1_gamma=r1,
                       d_optimizer=keras.optimizers.SGD(lr), g_optimizer=keras.optimizers.SGD(lr))
        (w0,) = values(gan.discriminator.trainable_variables)
        gan.discriminator_step(real, 8)
        updated[r1] = values(gan.discriminator.trainable_variables)[0]
    w = w0[:, 0].astype("float64")
    wx = x @ w
    grad_penalty = gamma * np.mean(wx[:, None] * (w @ w) * x + (wx ** 2)[:, None] * w[None, :], axis=0)
    assert np.abs(grad_penalty).max() > 1e-3  # far above float32 rounding of the update
    np.testing.assert_allclose(updated[gamma][:, 0] - updated[0.0][:, 0], -lr * grad_penalty,
                               rtol=1e-3, atol=1e-7)


def test_sampling_generator_holds_the_moving_average_of_gs_weights():
    """Keras' use_ema: a_1 = w_1, then a_t = m a_{t-1} + (1 - m) w_t after each
    G update; the sampling generator holds the averages and G's BatchNorm
    statistics, while G itself keeps training on its own weights."""
    m = 0.7
    gan = make_gan(g_optimizer=default_ema_optimizer(m))
    averages = None
    for step in range(4):
        gan.train_step(real_batch(8, seed=step))
        now = values(gan.generator.trainable_variables)
        averages = now if averages is None else [m * a + (1 - m) * w for a, w in zip(averages, now)]
    sampler = gan.sampling_generator()
    assert sampler is not gan.generator
    trainable = values(sampler.trainable_variables)
    for got, want, current in zip(trainable, averages, now):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        assert not np.allclose(got, current)
    for got, want in zip(sampler.non_trainable_variables, gan.generator.non_trainable_variables):
        np.testing.assert_array_equal(arr(got), arr(want))
    images = gan.generate(5, seed=1)
    z = gan.latent_vectors(5, seed=1)
    np.testing.assert_allclose(images, (arr(sampler(z)) + 1) / 2, atol=1e-6)


def test_without_ema_the_sampling_generator_is_g():
    gan = make_gan()
    assert gan.sampling_generator() is gan.generator


def test_augmentation_r1_and_ema_survive_a_keras_round_trip(tmp_path):
    gan = make_gan(augmentation="translation,cutout", r1_gamma=0.5, r1_interval=3,
                   g_optimizer=default_ema_optimizer(0.9))
    for step in range(2):
        gan.train_step(real_batch(8, seed=step))
    path = str(tmp_path / "gan.keras")
    gan.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.augmentation == ("translation", "cutout") and loaded.r1_gamma == 0.5
    assert loaded.r1_interval == 3
    for a, b in zip(gan.sampling_generator().weights, loaded.sampling_generator().weights):
        np.testing.assert_array_equal(arr(a), arr(b))
    draw, loaded_draw = replay_noise(gan), replay_noise(loaded)
    np.testing.assert_array_equal(arr(draw(4)), arr(loaded_draw(4)))


@pytest.mark.parametrize("kwargs,message", [
    ({"augmentation": "blur"}, "unknown augmentation 'blur'"),
    ({"r1_gamma": -1.0}, "r1_gamma must be >= 0"),
    ({"r1_interval": 0}, "r1_interval must be an integer >= 1"),
    ({"r1_interval": 2.0}, "r1_interval must be an integer >= 1"),
])
def test_invalid_stabilisers_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_gan(**kwargs)


def default_ema_optimizer(momentum):
    from keras_gan.model.gan import default_optimizer

    return default_optimizer(name="g_optimizer", ema=momentum)
