"""Algorithm 1 on the current Keras backend (TensorFlow here; JAX and PyTorch
through tests/test_backends.py): the update order and count, each player's
update against the same step written out in NumPy, isolation of the players,
determinism, saving and resuming, and the full recipe."""

import contextlib
import re

import keras
import numpy as np
import pytest
from keras import ops

from keras_gan.model.gan import GAN, default_optimizer
from keras_gan.model.networks import build_models

from multibackend.backend_helpers import (
    KnownNoiseGAN, RecordMaxInput, arr, known_noise, linear_models, scaled, tiny_images, values,
)


def softplus(x):
    return np.logaddexp(0.0, x)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def algorithm_1_in_numpy(weights, real_steps, k, m, lr, kind, smoothing, r1_gamma, latent_dim, r1_interval=1):
    """Algorithm 1 with plain SGD on `linear_models`, gradients written out by hand.
    Lazy R1: the penalty, weighted by r1_interval, on D updates 0, r1_interval, 2 r1_interval, ...

    Returns the final weights and each step's (mean D loss over its k updates, G loss)."""
    W, c, w, b = (np.array(v, np.float64) for v in weights)
    updates, d_updates, losses = 0, 0, []
    for step in real_steps:  # [k*m, P]: row r holds images r*k .. r*k + k - 1
        d_losses = []
        for i in range(k):
            x = step[i::k]
            fake = np.tanh(known_noise(updates, m, latent_dim) @ W + c)
            r, f = x @ w + b, fake @ w + b
            d_losses.append(np.mean((1 - smoothing) * softplus(-r) + smoothing * softplus(r) + softplus(f)))
            dr = ((1 - smoothing) * -sigmoid(-r) + smoothing * sigmoid(r)) / m
            df = sigmoid(f) / m
            penalty_weight = r1_gamma * r1_interval if d_updates % r1_interval == 0 else 0.0
            grad_w = x.T @ dr + fake.T @ df + penalty_weight * w  # R1: (gamma/2) ||grad_x logit||^2 = (gamma/2) ||w||^2
            grad_b = dr.sum(0) + df.sum(0)
            w, b, updates, d_updates = w - lr * grad_w, b - lr * grad_b, updates + 1, d_updates + 1
        z = known_noise(updates, m, latent_dim)
        g = np.tanh(z @ W + c)
        f = g @ w + b
        if kind == "non_saturating":
            g_loss, df = np.mean(softplus(-f)), -sigmoid(-f) / m
        else:
            g_loss, df = np.mean(-softplus(f)), -sigmoid(f) / m
        dh = (df @ w.T) * (1 - g**2)
        W, c, updates = W - lr * (z.T @ dh), c - lr * dh.sum(0), updates + 1
        losses.append((np.mean(d_losses), g_loss))
    return [W, c, w, b], losses


@pytest.mark.parametrize("k,kind,smoothing,r1_gamma,r1_interval", [
    (1, "non_saturating", 0.0, 0.0, 1),
    (2, "minimax", 0.2, 0.5, 1),
    (2, "non_saturating", 0.0, 0.5, 4),  # lazy R1: on D updates 0 and 4 of 6, weighted by 4
])
def test_training_equals_algorithm_1_written_out_in_numpy(k, kind, smoothing, r1_gamma, r1_interval):
    """Three steps of `fit` against the same steps computed by hand: the k D
    updates, each on its own real batch, then G's; the loss kind, label
    smoothing and R1 (every update, or lazy) reach the updates; the logged
    losses are the losses."""
    m, lr, steps = 4, 0.3, 3
    keras.utils.set_random_seed(0)
    generator, discriminator = linear_models()
    gan = KnownNoiseGAN(generator, discriminator, k=k, generator_loss=kind,
                        label_smoothing=smoothing, r1_gamma=r1_gamma, r1_interval=r1_interval)
    gan.compile(d_optimizer=keras.optimizers.SGD(lr), g_optimizer=keras.optimizers.SGD(lr))
    real = np.random.default_rng(1).uniform(-1, 1, (steps * k * m, 2, 2, 1)).astype("float32")
    start = values(generator.trainable_variables + discriminator.trainable_variables)

    history = gan.fit(real, batch_size=k * m, epochs=1, shuffle=False, verbose=0).history

    want, losses = algorithm_1_in_numpy(start, real.reshape(steps, k * m, 4), k, m, lr, kind,
                                        smoothing, r1_gamma, gan.latent_dim, r1_interval)
    got = values(generator.trainable_variables + discriminator.trainable_variables)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)
    assert not np.allclose(got[0], start[0])  # G really moved
    # The epoch's logs are the means over its steps.
    np.testing.assert_allclose(history["d_loss"], [np.mean([d for d, _ in losses])], rtol=1e-5)
    np.testing.assert_allclose(history["g_loss"], [np.mean([g for _, g in losses])], rtol=1e-5)
    assert int(gan.d_optimizer.iterations) == k * steps
    assert int(gan.g_optimizer.iterations) == steps


class RecordCalls(keras.layers.Layer):
    """Identity layer for D's input that remembers, for each of D's last `rows`
    calls, how many updates each optimizer had applied then and the largest
    input value: (d_iterations, g_iterations, max x), in the order of the calls."""

    def __init__(self, rows, **kwargs):
        super().__init__(**kwargs)
        self.rows = rows
        self.optimizers = None  # (d_optimizer, g_optimizer), set once they exist

    def build(self, input_shape):
        self.seen = self.add_weight(shape=(self.rows, 3), initializer="zeros", trainable=False)

    def compute_output_shape(self, input_shape):
        return input_shape

    def call(self, x):
        d_optimizer, g_optimizer = self.optimizers
        row = ops.stack([ops.cast(d_optimizer.iterations, "float32"),
                         ops.cast(g_optimizer.iterations, "float32"), ops.max(x)])
        self.seen.assign(ops.concatenate([self.seen[1:], ops.reshape(row, (1, 3))]))
        return x


def test_k_discriminator_updates_each_on_its_own_batch_then_one_generator_update():
    """The order of the updates, read inside the compiled step: D is called twice in
    each of its k updates (its real batch i and fakes), every call seeing the updates
    applied so far; G's update calls D once more, after all k D updates and before
    the next step. G first, or G between two D updates, changes the counts D sees."""
    k, m = 3, 4
    recorder = RecordCalls(rows=2 * k + 1)  # the last step's D calls
    image = keras.Input((28, 28, 1))
    logit = keras.layers.Dense(1)(keras.layers.Flatten()(recorder(image)))
    generator, _ = build_models("mlp", latent_dim=8)
    gan = GAN(generator, keras.Model(image, logit), k=k, seed=0)
    gan.compile()
    recorder.optimizers = (gan.d_optimizer, gan.g_optimizer)
    # Real batch i is filled with the value 10 + i; fakes are tanh, in (-1, 1).
    real = np.concatenate([np.full((m, 28, 28, 1), 10.0 + i, np.float32) for i in range(k)])
    step = real.reshape(k, m, 28, 28, 1).transpose(1, 0, 2, 3, 4).reshape(-1, 28, 28, 1)
    gan.fit(np.concatenate([step, step]), batch_size=k * m, epochs=1, shuffle=False, verbose=0)

    assert int(gan.d_optimizer.iterations) == 2 * k
    assert int(gan.g_optimizer.iterations) == 2
    seen = arr(recorder.seen)
    # The second step starts after k D updates and 1 G update.
    clocks = [(int(d), int(g)) for d, g, _ in seen]
    assert clocks == [(k, 1), (k, 1), (k + 1, 1), (k + 1, 1), (k + 2, 1), (k + 2, 1), (2 * k, 1)], clocks
    for i in range(k):  # D update i: its own real batch (10 + i) and one batch of fakes
        assert sorted(seen[2 * i: 2 * i + 2, 2].tolist(), reverse=True)[0] == 10.0 + i
        assert min(seen[2 * i: 2 * i + 2, 2]) <= 1.0
    assert seen[-1, 2] <= 1.0  # G's update: D sees fakes only


def test_metrics_at_an_undecided_discriminator():
    """D(x) = 1/2 everywhere (zero logits, frozen by a zero learning rate):
    -V(D, G) = log 4, and the non-saturating G loss is log 2, exactly."""
    keras.utils.set_random_seed(0)
    gan = GAN(*build_models("mlp", latent_dim=8), k=2, seed=0)
    gan.compile(d_optimizer=keras.optimizers.SGD(0.0), g_optimizer=keras.optimizers.SGD(0.0))
    gan.discriminator.set_weights([np.zeros_like(w) for w in gan.discriminator.get_weights()])
    history = gan.fit(scaled(tiny_images(64)), batch_size=16, epochs=2, verbose=0).history
    assert set(history) == {"d_loss", "g_loss", "d_real", "d_fake"}
    np.testing.assert_allclose(history["d_loss"], [np.log(4.0)] * 2, rtol=1e-6)
    np.testing.assert_allclose(history["g_loss"], [np.log(2.0)] * 2, rtol=1e-6)
    np.testing.assert_allclose(history["d_real"], [0.5] * 2, rtol=1e-6)
    np.testing.assert_allclose(history["d_fake"], [0.5] * 2, rtol=1e-6)
    assert (int(gan.g_optimizer.iterations), int(gan.d_optimizer.iterations)) == (8, 16)


def frozen_layer_models():
    """The MLP G (with BatchNorm) and a D with a frozen layer: D then has
    weights that no update may touch."""
    generator, _ = build_models("mlp", latent_dim=8)
    image = keras.Input((28, 28, 1))
    frozen = keras.layers.Dense(8)
    y = frozen(keras.layers.Flatten()(image))
    frozen.trainable = False
    return generator, keras.Model(image, keras.layers.Dense(1)(y))


@pytest.mark.parametrize("frozen_player", ["discriminator", "generator"])
def test_each_update_moves_its_own_player_only(frozen_player):
    """A zero learning rate for one player: its weights stay exactly as they
    were (BatchNorm statistics aside), the other's all move; D's frozen layer
    never moves; G's BatchNorm statistics do (G runs in training mode)."""
    keras.utils.set_random_seed(0)
    gan = GAN(*frozen_layer_models(), seed=0)
    zero, some = keras.optimizers.SGD(0.0), keras.optimizers.SGD(0.1)
    if frozen_player == "discriminator":
        gan.compile(d_optimizer=zero, g_optimizer=some)
    else:
        gan.compile(d_optimizer=some, g_optimizer=zero)
    frozen = gan.discriminator if frozen_player == "discriminator" else gan.generator
    moving = gan.generator if frozen_player == "discriminator" else gan.discriminator
    bn_stats = [v for v in gan.generator.non_trainable_weights]
    before = [values(x) for x in (frozen.trainable_weights, moving.trainable_weights,
                                  gan.discriminator.non_trainable_weights, bn_stats)]
    gan.fit(scaled(tiny_images(16)), batch_size=8, epochs=1, verbose=0)
    frozen_now, moving_now, d_frozen_now, bn_now = (
        values(x) for x in (frozen.trainable_weights, moving.trainable_weights,
                            gan.discriminator.non_trainable_weights, bn_stats))
    assert all(np.array_equal(a, b) for a, b in zip(before[0], frozen_now))
    assert all(not np.array_equal(a, b) for a, b in zip(before[1], moving_now))
    assert all(np.array_equal(a, b) for a, b in zip(before[2], d_frozen_now))
    assert bn_stats and all(not np.array_equal(a, b) for a, b in zip(before[3], bn_now))


def fit_small(seed, steps=2):
    keras.utils.set_random_seed(0)  # same initial weights for every seed
    gan = GAN(*build_models("mlp", latent_dim=8), k=2, seed=seed)
    gan.compile()
    history = gan.fit(scaled(tiny_images(16 * steps)), batch_size=16, epochs=1, shuffle=False,
                      verbose=0).history
    return gan, history


def test_the_noise_seed_decides_the_run():
    a, history_a = fit_small(seed=5)
    b, history_b = fit_small(seed=5)
    c, history_c = fit_small(seed=6)
    assert history_a == history_b
    assert all(np.array_equal(x, y) for x, y in zip(values(a.weights), values(b.weights)))
    assert history_a["g_loss"] != history_c["g_loss"]


def test_keras_file_round_trip_resumes_exactly(tmp_path):
    """Weights, both optimizers' state and the noise stream are in the file:
    training the loaded model goes on exactly as the original does."""
    gan, _ = fit_small(seed=3)
    path = str(tmp_path / "gan.keras")
    gan.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, GAN) and loaded.k == 2
    for a, b in zip(gan.weights + gan.d_optimizer.variables + gan.g_optimizer.variables,
                    loaded.weights + loaded.d_optimizer.variables + loaded.g_optimizer.variables):
        np.testing.assert_array_equal(arr(a), arr(b), err_msg=a.path)
    more = scaled(tiny_images(32, seed=9))
    gan.fit(more, batch_size=16, epochs=1, shuffle=False, verbose=0)
    loaded.fit(more, batch_size=16, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(gan.weights, loaded.weights):
        np.testing.assert_allclose(arr(a), arr(b), atol=1e-6, err_msg=a.path)
    assert int(loaded.g_optimizer.iterations) == 4


def test_the_full_recipe_trains_the_mlp():
    """The real MLP with every training option at once: k = 2, R1,
    DiffAugment and an average of G's weights, with the Adam train.py uses.
    (The conditional conv GAN with the same options: the next test. The
    unconditional conv GAN with the full recipe is train.py's default run:
    trained on every backend by tests/test_backends.py's conv runs and, on
    TensorFlow, by the end-to-end runs.)"""
    keras.utils.set_random_seed(0)
    gan = GAN(*build_models("mlp"), k=2, r1_gamma=1.0, augmentation="translation,cutout", seed=0)
    gan.compile(d_optimizer=default_optimizer(1e-3, name="d_optimizer"),
                g_optimizer=default_optimizer(1e-3, name="g_optimizer", ema=0.9))
    history = gan.fit(scaled(tiny_images(32)), batch_size=16, epochs=1, shuffle=False, verbose=0).history
    assert (int(gan.d_optimizer.iterations), int(gan.g_optimizer.iterations)) == (4, 2)
    trained_with_every_option(gan, history, None)


def test_the_full_recipe_trains_the_conditional_conv_gan(recipe_run):
    """The conditional conv GAN (BatchNorm in G, Dropout in D) with k = 2, R1,
    DiffAugment and an average of G's weights: `recipe_run`, whose compiled
    step the fused-steps test below reuses (on JAX one compilation less)."""
    gan, history = recipe_run
    assert (int(gan.d_optimizer.iterations), int(gan.g_optimizer.iterations)) == (4 * RECIPE_STEPS, 2 * RECIPE_STEPS)
    trained_with_every_option(gan, history, 10)


def trained_with_every_option(gan, history, num_classes):
    assert all(np.isfinite(v).all() for v in history.values())
    assert gan.first_nonfinite_step.describe() is None
    samples = gan.generate(10, seed=1)
    assert samples.shape == (10, 28, 28, 1) and 0.0 <= samples.min() and samples.max() <= 1.0
    # The samples come from the averaged weights, not from G's own.
    assert gan.sampling_generator() is not gan.generator
    z = gan.latent_vectors(10, seed=1)
    raw = ops.convert_to_numpy(gan.generator.predict([z, gan.check_labels(None, 10)] if num_classes else z,
                                                     verbose=0))
    assert not np.allclose((raw + 1) / 2, samples, atol=1e-4)


def test_a_non_finite_loss_is_recorded_with_its_step():
    keras.utils.set_random_seed(0)
    gan = GAN(*build_models("mlp", latent_dim=8), seed=0)
    gan.compile()
    images = scaled(tiny_images(32))
    gan.fit(images[:16], batch_size=8, epochs=1, verbose=0)
    assert gan.first_nonfinite_step.describe() is None
    kernel = gan.discriminator.layers[-1].kernel
    kernel.assign(np.full(kernel.shape, np.nan, "float32"))
    gan.fit(images[16:], batch_size=8, epochs=1, verbose=0)
    assert gan.first_nonfinite_step.describe() == "step 3: d_loss, g_loss not finite"  # the 3rd G step


@pytest.mark.parametrize("k", [0, -1, 1.5, True, "auto", "2"])
def test_k_must_be_a_positive_integer(k):
    with pytest.raises(ValueError, match=f"k must be an integer >= 1, got {re.escape(repr(k))}"):
        GAN(*build_models("mlp", latent_dim=8), k=k)


# The data of the fused-steps test: 2 epochs of RECIPE_STEPS steps of m = 4
# images per D update (k = 2), with labels.
RECIPE_M, RECIPE_STEPS = 4, 8


def recipe_data():
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (RECIPE_STEPS * 2 * RECIPE_M, 28, 28, 1)).astype("float32")
    labels = rng.integers(0, 10, RECIPE_STEPS * 2 * RECIPE_M).astype("int32")
    return images, labels


@contextlib.contextmanager
def xla_optimised():
    """On JAX, XLA's optimisations on for the block, as in every real run.
    tests/test_backends.py runs this folder with JAX_DISABLE_MOST_OPTIMIZATIONS
    (LLVM at -O0: the tiny programs of the other tests compile in about half
    the time); the conv recipe's steps, in a jax.lax.scan of 4, ran ~5x
    slower unoptimised and rounded differently from one step per call."""
    if keras.backend.backend() != "jax":
        yield
        return
    import jax

    before = jax.config.read("jax_disable_most_optimizations")
    jax.config.update("jax_disable_most_optimizations", False)
    try:
        yield
    finally:
        jax.config.update("jax_disable_most_optimizations", before)


def fit_recipe(fused_steps):
    with xla_optimised():
        return _fit_recipe(fused_steps)


def _fit_recipe(fused_steps):
    keras.utils.set_random_seed(0)
    gan = GAN(*build_models("conv", num_classes=10), k=2, r1_gamma=1.0, augmentation="translation,cutout",
              num_classes=10, seed=0)
    # SGD: Adam would turn float rounding in a gradient that is ~0 (a bias
    # under BatchNorm) into whole lr-sized steps, in both runs differently.
    gan.compile(d_optimizer=keras.optimizers.SGD(0.05, momentum=0.5),
                g_optimizer=keras.optimizers.SGD(0.05, momentum=0.5, use_ema=True, ema_momentum=0.9),
                fused_steps=fused_steps)
    images, labels = recipe_data()
    history = gan.fit(images, labels, batch_size=fused_steps * 2 * RECIPE_M, epochs=2, shuffle=False,
                      verbose=0).history
    return gan, history


@pytest.fixture(scope="module")
def recipe_run():
    """The conditional conv GAN with the full recipe, one step per call."""
    return fit_recipe(1)


def test_fused_steps_equal_as_many_single_steps_on_jax_and_are_refused_elsewhere(request):
    """S = 4 steps in one jax.lax.scan per call against one step per call:
    the same weights, optimizer states and step counts, and the same logs."""
    if keras.backend.backend() != "jax":
        with pytest.raises(ValueError, match="fused_steps=4 needs the JAX backend"):
            fit_recipe(4)
        return
    single, history_single = request.getfixturevalue("recipe_run")
    fused, history_fused = fit_recipe(4)
    assert int(fused.g_optimizer.iterations) == int(single.g_optimizer.iterations) == 2 * RECIPE_STEPS
    assert int(fused.d_optimizer.iterations) == 4 * RECIPE_STEPS
    for name in history_single:
        np.testing.assert_allclose(history_fused[name], history_single[name], rtol=1e-5, err_msg=name)
    for a, b in zip(single.variables + single.d_optimizer.variables + single.g_optimizer.variables,
                    fused.variables + fused.d_optimizer.variables + fused.g_optimizer.variables):
        np.testing.assert_allclose(arr(b), arr(a), rtol=1e-5, atol=1e-6, err_msg=a.path)


@pytest.mark.parametrize("policy,family", [("mixed_bfloat16", "conv"), ("mixed_float16", "mlp")])
def test_mixed_precision_trains_with_float32_losses(policy, family):
    """train.py's --mixed-precision: bfloat16 (a CPU), or float16 with both
    optimizers in a LossScaleOptimizer (a GPU; its skip-or-apply is a
    conditional, which JAX must apply statelessly). The layers compute in
    the low precision, G's image and D's logit (so the losses) in float32."""
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(policy)
    scale = policy == "mixed_float16"
    try:
        keras.utils.set_random_seed(0)
        gan = GAN(*build_models(family), r1_gamma=1.0, seed=0)
        gan.compile(d_optimizer=default_optimizer(name="d_optimizer", loss_scale=scale),
                    g_optimizer=default_optimizer(name="g_optimizer", ema=0.99, loss_scale=scale))
        history = gan.fit(scaled(tiny_images(32)), batch_size=16, epochs=1, verbose=0).history
    finally:
        keras.mixed_precision.set_global_policy(previous)
    assert gan.generator.layers[1].compute_dtype == policy.split("_")[1]
    assert gan.generator.output.dtype == gan.discriminator.output.dtype == "float32"
    assert all(np.isfinite(v).all() for v in history.values())
    assert int(gan.g_optimizer.iterations) == 2 and int(gan.d_optimizer.iterations) == 2
    if scale:
        assert float(gan.g_optimizer.dynamic_scale) == 2.0 ** 15  # no overflow, no skipped step
