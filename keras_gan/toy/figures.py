"""Matplotlib figures of the experiments (one function per figure, PNG out)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from keras_gan.outputs.images import save_figure_png  # noqa: E402
from keras_gan.toy.densities import LOG_4  # noqa: E402

DATA_STYLE = dict(color="black", ls=":", lw=2, label="$p_{data}$")
G_STYLE = dict(color="green", lw=2, label="$p_g$")
D_STYLE = dict(color="tab:blue", ls="--", lw=2, label="$D(x)$")


def figure_1(panels, x, path):
    titles = ["(a) near convergence,\nD partially accurate", "(b) D trained alone:\nD → D*",
              "(c) after G updates:\nG(z) flows toward data", "(d) equilibrium:\n$p_g = p_{data}$, D = 1/2"]
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.8), sharey=True)
    for ax, panel, title in zip(axes, panels, titles):
        show = (x > -2.0) & (x < 3.5)
        ax.plot(x[show], panel["p_data"][show], **DATA_STYLE)
        ax.plot(x[show], panel["p_g"][show], **G_STYLE)
        ax.plot(x[show], panel["d"][show], **D_STYLE)
        if title.startswith("(b)"):
            ax.plot(x[show], panel["d_star"][show], color="tab:red", lw=0.8, label="$D^*$")
        # The lower line is z; each segment maps a z to x = G(z).
        for z, gz in zip(panel["z"], panel["g_of_z"]):
            ax.plot([z * 0.6 + 0.75, gz], [-0.35, -0.02], color="gray", lw=0.7)
        ax.axhline(-0.35, color="gray", lw=1)
        ax.text(-1.9, -0.31, "z", color="gray")
        ax.text(-1.9, 0.02, "x", color="gray")
        ax.set_title(title, fontsize=10)
        ax.set_ylim(-0.4, 1.05)
        ax.set_xlim(-2.0, 3.5)
    axes[0].legend(loc="upper left", fontsize=8)
    axes[1].legend(loc="upper left", fontsize=8)
    return save_figure_png(fig, path)


def d_star(result, path):
    x, show = result["x"], (result["x"] > -3.5) & (result["x"] < 3.5)
    fig, (curves, errors) = plt.subplots(1, 2, figsize=(11, 3.8))
    curves.plot(x[show], result["p_data"][show], **DATA_STYLE)
    curves.plot(x[show], result["p_g"][show], **G_STYLE)
    colors = plt.cm.Blues(np.linspace(0.35, 1.0, len(result["rows"])))
    for row, color in zip(result["rows"], colors):
        curves.plot(x[show], row["d"][show], color=color, lw=1.2, label=f"D after {row['steps']} steps")
    curves.plot(x[show], result["d_star"][show], color="tab:red", lw=2, ls="--", label="$D^*$")
    curves.set(title="D trained with G frozen", xlabel="x")
    curves.legend(fontsize=7)
    steps = [row["steps"] for row in result["rows"]]
    errors.loglog(steps, [row["max_error"] for row in result["rows"]], marker="o")
    errors.set(title="max |D − D*| where $p_{data}$ or $p_g$ > 0.05", xlabel="D updates")
    return save_figure_png(fig, path)


def value(rows, path):
    steps = [r["step"] for r in rows]
    fig, (v, j) = plt.subplots(1, 2, figsize=(11, 3.8))
    v.plot(steps, [r["criterion"] for r in rows], lw=2, label="C(G) = −log 4 + 2·JSD (exact)")
    v.plot(steps, [r["value"] for r in rows], lw=1, marker=".", label="V(D, G), Monte Carlo")
    v.axhline(-LOG_4, color="gray", ls="--", lw=1, label="−log 4")
    v.set(title="the value of the game during training", xlabel="generator updates")
    v.legend(fontsize=8)
    j.semilogy(steps, [max(r["jsd"], 1e-7) for r in rows], lw=2)
    j.set(title="JSD($p_{data}$ ‖ $p_g$) in nats", xlabel="generator updates")
    return save_figure_png(fig, path)


def gradients(result, path):
    import tensorflow as tf

    from keras_gan.model import losses

    logits = tf.constant(np.linspace(-8, 8, 400), tf.float32)
    fig, (theory, measured) = plt.subplots(1, 2, figsize=(11, 3.8))
    for kind, label in (("minimax", "minimax: log(1 − D(G(z)))"), ("non_saturating", "non-saturating: −log D(G(z))")):
        with tf.GradientTape() as tape:
            tape.watch(logits)
            loss = tf.reduce_sum(losses.generator_loss(logits, kind))
        theory.plot(tf.sigmoid(logits), tape.gradient(loss, logits), lw=2, label=label)
    theory.axhline(0, color="gray", lw=0.8)
    theory.set(title="gradient of G's loss w.r.t. D's logit", xlabel="D(G(z))", ylabel="∂ loss / ∂ logit")
    theory.legend(fontsize=8)
    d = result["d_of_g"]
    for kind, label in (("minimax", "minimax"), ("non_saturating", "non-saturating")):
        measured.loglog(d, np.abs(result[kind]["per_logit"]), ".", ms=2, label=label)
    measured.set(title="at G's samples, after D learned to reject them",
                 xlabel="D(G(z)) per sample", ylabel="|∂ loss / ∂ logit|")
    measured.legend(fontsize=8, markerscale=4)
    return save_figure_png(fig, path)


def mixture(result, path):
    x, show = result["x"], (result["x"] > -4.5) & (result["x"] < 4.5)
    snapshots = result["snapshots"]
    fig, axes = plt.subplots(1, len(snapshots), figsize=(3.3 * len(snapshots), 3.4), sharey=True)
    for ax, snap in zip(np.atleast_1d(axes), snapshots):
        ax.hist(snap["samples"], bins=np.linspace(-4.5, 4.5, 91), density=True, color="green",
                alpha=0.5, label="G's samples")
        ax.plot(x[show], result["p_data"][show], **DATA_STYLE)
        ax.plot(x[show], snap["d"][show], **D_STYLE)
        ax.set_title(f"after {snap['step']} steps", fontsize=10)
        ax.set_ylim(0, 1.2)
    np.atleast_1d(axes)[0].legend(fontsize=7, loc="upper left")
    return save_figure_png(fig, path)
