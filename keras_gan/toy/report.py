"""Run the experiments, draw the figures, write the numbers into docs/theory.md."""

import os

import numpy as np

from keras_gan.common.files import replace_marked_block
from keras_gan.toy import experiments, figures
from keras_gan.toy.densities import LOG_4

BEGIN, END = "<!-- numbers from python -m keras_gan.toy: begin -->", "<!-- numbers: end -->"


def make_all(out_dir, doc=None, scale=1.0):
    """Every figure into `out_dir`; the numbers block of `doc` rewritten. Returns the paths."""
    os.makedirs(out_dir, exist_ok=True)
    path = lambda name: os.path.join(out_dir, name)  # noqa: E731
    steps = lambda n: max(1, int(n * scale))  # noqa: E731

    written = [figures.figure_1(experiments.figure_1(scale), experiments.X, path("figure1.png"))]
    convergence = experiments.d_approaches_d_star(
        checkpoints=tuple(steps(n) for n in (10, 50, 200, 1000, 3000)))
    written.append(figures.d_star(convergence, path("d_star.png")))
    equilibrium = experiments.value_at_equilibrium(steps(1500))
    run = experiments.training_run(steps(3000), every=steps(100))
    written.append(figures.value(run, path("value.png")))
    rejected = experiments.rejected_gradients(steps(1500))
    written.append(figures.gradients(rejected, path("gradients.png")))
    written.append(figures.mixture(experiments.mixture_run(steps(4000), every=steps(1000)),
                                   path("mixture.png")))
    if doc:
        replace_marked_block(doc, BEGIN, END, numbers_table(convergence, equilibrium, run, rejected))
        written.append(doc)
    return written


def numbers_table(convergence, equilibrium, run, rejected):
    last = convergence["rows"][-1]
    mm, ns = rejected["minimax"], rejected["non_saturating"]
    rows = [
        ("D alone against a frozen G (p_data = N(1, 0.5²), p_g = N(−1, 0.8²)), after "
         f"{last['steps']} updates: max |D − D*| where either density > 0.05", f"{last['max_error']:.3f}"),
        ("… V(D, G) by Monte Carlo (100,000 samples each)", f"{last['value']:.4f}"),
        ("… C(G) = −log 4 + 2·JSD(p_data ‖ p_g), numerical integration", f"{convergence['criterion']:.4f}"),
        ("p_g = p_data: V(D, G) after training D / −log 4",
         f"{equilibrium['value']:.4f} / {equilibrium['minus_log_4']:.4f}"),
        ("… max |D(x) − 1/2| within 2σ of the mean", f"{equilibrium['max_d_deviation']:.3f}"),
        (f"the game from p_g = N(−1, 0.8²): JSD at step 0 → step {run[-1]['step']}",
         f"{run[0]['jsd']:.4f} → {run[-1]['jsd']:.2e} nats"),
        (f"… V(D, G) at step {run[-1]['step']} (−log 4 = {-LOG_4:.4f})", f"{run[-1]['value']:.4f}"),
        ("D rejects G's samples: mean D(G(z))", f"{float(np.mean(rejected['d_of_g'])):.1e}"),
        ("… ∂loss/∂logit per sample, minimax (mean; theory: −D(G(z)))", f"{float(np.mean(mm['per_logit'])):.1e}"),
        ("… ∂loss/∂logit per sample, non-saturating (mean; theory: D(G(z)) − 1)",
         f"{float(np.mean(ns['per_logit'])):.4f}"),
        ("… gradient norm on G's weights, minimax / non-saturating",
         f"{mm['weight_grad_norm']:.1e} / {ns['weight_grad_norm']:.2f}"),
    ]
    lines = ["| measured by `python -m keras_gan.toy` | value |", "| --- | --- |"]
    cell = lambda text: text.replace("|", "\\|")  # noqa: E731  (a | inside a cell ends it)
    lines += [f"| {cell(what)} | {cell(value)} |" for what, value in rows]
    return "\n".join(lines)
