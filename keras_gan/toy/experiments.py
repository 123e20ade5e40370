"""The experiments behind docs/theory.md, each returning plain numbers and arrays.

Each builds its own GAN from a fixed seed, so every figure and number can be
regenerated exactly (`python -m keras_gan.toy`).
"""

import numpy as np
import tensorflow as tf

from keras_gan.model import losses
from keras_gan.toy import game
from keras_gan.toy.densities import (
    LOG_4,
    Gaussian,
    Mixture,
    grid,
    jsd,
    optimal_discriminator,
    virtual_training_criterion,
)

DATA = Gaussian(1.0, 0.5)
MIXTURE = Mixture((Gaussian(-2.0, 0.4), Gaussian(2.0, 0.4)))
X = grid()


def curves(gan, data=DATA):
    """What Figure 1 draws: p_data, p_g and D on the grid, and the z -> x map."""
    p_g = game.affine_density(gan)
    z = np.linspace(-2.5, 2.5, 15)
    return {
        "p_data": data.pdf(X), "p_g": p_g.pdf(X), "d": game.d_of(gan, X),
        "d_star": optimal_discriminator(data.pdf(X), p_g.pdf(X)),
        "z": z, "g_of_z": p_g.mean + p_g.std * z,
    }


def figure_1(scale=1.0, seed=0):
    """The paper's Figure 1, (a) to (d), from one affine-G GAN."""
    gan = game.make_gan(game.affine_generator(0.2, 0.75), seed=seed)
    game.train_discriminator(gan, DATA, int(60 * scale) or 1, seed=seed)
    panels = [curves(gan)]  # (a) near convergence, D partially accurate
    game.train_discriminator(gan, DATA, int(1500 * scale) or 1, seed=seed + 1)
    panels.append(curves(gan))  # (b) D trained to convergence with G frozen: D*
    game.train_generator(gan, int(150 * scale) or 1)
    panels.append(curves(gan))  # (c) G moved along D's gradient
    game.train_game(gan, DATA, int(3000 * scale) or 1, seed=seed + 2)
    panels.append(curves(gan))  # (d) p_g = p_data, D = 1/2
    return panels


def d_approaches_d_star(checkpoints=(10, 50, 200, 1000, 3000), seed=0):
    """D trained alone against a frozen G: max |D - D*| where the densities live."""
    gan = game.make_gan(game.affine_generator(-1.0, 0.8), seed=seed)
    p_g = game.affine_density(gan)
    d_star = optimal_discriminator(DATA.pdf(X), p_g.pdf(X))
    bulk = np.maximum(DATA.pdf(X), p_g.pdf(X)) > 0.05
    rows, done = [], 0
    for steps in checkpoints:
        game.train_discriminator(gan, DATA, steps - done, seed=seed + steps)
        done = steps
        d = game.d_of(gan, X)
        rows.append({"steps": steps, "d": d, "max_error": float(np.abs(d - d_star)[bulk].max()),
                     "value": game.value(gan, DATA)})
    return {"x": X, "d_star": d_star, "p_data": DATA.pdf(X), "p_g": p_g.pdf(X), "bulk": bulk,
            "rows": rows,
            "criterion": virtual_training_criterion(DATA.pdf(X), p_g.pdf(X), X)}


def value_at_equilibrium(steps=1500, seed=0):
    """p_g = p_data: the best D is 1/2 everywhere and V = -log 4."""
    gan = game.make_gan(game.affine_generator(DATA.mean, DATA.std), seed=seed)
    game.train_discriminator(gan, DATA, steps, seed=seed)
    inner = np.abs(X - DATA.mean) < 2 * DATA.std
    return {"value": game.value(gan, DATA), "minus_log_4": -LOG_4,
            "max_d_deviation": float(np.abs(game.d_of(gan, X)[inner] - 0.5).max())}


def training_run(steps=3000, every=100, seed=0, generator_loss="non_saturating"):
    """The whole game from an affine G far from the data: JSD, C(G) and V over time."""
    gan = game.make_gan(game.affine_generator(-1.0, 0.8), generator_loss=generator_loss, seed=seed)
    rows = []

    def snapshot(step):
        p_g = game.affine_density(gan)
        rows.append({"step": step, "jsd": jsd(DATA.pdf(X), p_g.pdf(X), X),
                     "criterion": virtual_training_criterion(DATA.pdf(X), p_g.pdf(X), X),
                     "value": game.value(gan, DATA, n=20_000)})

    game.train_game(gan, DATA, steps, seed=seed, every=every, on_snapshot=snapshot)
    return rows


def rejected_gradients(d_steps=1500, seed=0):
    """When D confidently rejects G's samples, what gradient does G get?

    G sits far from the data; D is trained against it. Returns D(G(z)) and
    the derivative of each generator loss with respect to D's logit at G(z),
    per sample, and the norm of the resulting gradient on G's weights.
    """
    gan = game.make_gan(game.affine_generator(-2.0, 0.3), seed=seed)
    game.train_discriminator(gan, DATA, d_steps, seed=seed)
    z = tf.random.stateless_normal((4096, 1), seed=(seed, 1))
    out = {}
    for kind in ("minimax", "non_saturating"):
        with tf.GradientTape(persistent=True) as tape:
            logits = gan.discriminator(gan.generator(z, training=False), training=False)
            loss = tf.reduce_mean(losses.generator_loss(logits, kind))
        per_logit = tape.gradient(loss, logits).numpy()[:, 0] * len(logits)  # d loss_i / d logit_i
        weights = tape.gradient(loss, gan.generator.trainable_variables)
        out[kind] = {"per_logit": per_logit, "weight_grad_norm": float(tf.linalg.global_norm(weights))}
    out["d_of_g"] = tf.sigmoid(logits).numpy()[:, 0]
    return out


def mixture_run(steps=4000, every=1000, seed=0):
    """An MLP generator on a two-mode mixture: histograms of G's samples over time."""
    gan = game.make_gan(game.mlp_generator(), seed=seed)
    snapshots = []

    def snapshot(step):
        snapshots.append({"step": step, "samples": game.generator_samples(gan, 20_000, seed=step),
                          "d": game.d_of(gan, X)})

    game.train_game(gan, MIXTURE, steps, seed=seed, every=every, on_snapshot=snapshot)
    return {"x": X, "p_data": MIXTURE.pdf(X), "snapshots": snapshots}
