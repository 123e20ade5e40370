"""Train and evaluate a grid of settings; write the results table of docs/results.md.

    python -m keras_gan.experiments                          # every configuration, seed 0
    python -m keras_gan.experiments --only conv-k1-ns mlp-k1-ns --seeds 0 1 2
    python -m keras_gan.experiments --render-only            # tables from finished runs only
    python -m keras_gan.experiments --only default --records-only   # train, record, leave the doc
    python -m keras_gan.experiments --render-only --readme README.md  # also the README's picture

Each configuration is one `train.py` run (its own process, `--no-export`)
in `results/runs/<name>-s<seed>/`; a run that finished before is not trained
again (train.py's resume rules), so the command can be stopped and rerun.
Every number in the table is read from the runs' `summary.json` (the
evaluation of docs/evaluation.md); the table, the machine it ran on and the
sample grids are written into docs/results.md between its markers.
"""

import collections
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np

from keras_gan.common.files import replace_marked_block
from keras_gan.common.machine import cpu_description
from keras_gan.common.options import OneLineArgumentParser, UserError
from keras_gan.common.quiet import tensorflow_start
from keras_gan.evaluation import run_records

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The paper's settings: a fixed 5,000 generator updates and none of the
# stabilisers, whatever train.py's defaults are.
PAPER = {"--steps": "5000", "--steps-per-epoch": "1000", "--learning-rate": "2e-4", "--beta-1": "0.5",
         "--augmentation": "none", "--r1-gamma": "0", "--r1-interval": "1", "--ema": "0"}
GRID = {  # name: train.py flags; MLP and conv x k x G loss x label smoothing
    "conv-k1-ns": {**PAPER, "--model": "conv"},
    "conv-k2-ns": {**PAPER, "--model": "conv", "--k": "2"},
    "conv-k1-minimax": {**PAPER, "--model": "conv", "--generator-loss": "minimax"},
    "conv-k1-ns-ls0.1": {**PAPER, "--model": "conv", "--label-smoothing": "0.1"},
    "mlp-k1-ns": {**PAPER, "--model": "mlp"},
    "mlp-k2-ns": {**PAPER, "--model": "mlp", "--k": "2"},
    "mlp-k1-minimax": {**PAPER, "--model": "mlp", "--generator-loss": "minimax"},
    "mlp-k1-ns-ls0.1": {**PAPER, "--model": "mlp", "--label-smoothing": "0.1"},
}
# `python train.py` with no flags: whatever the default recipe is today
# (RECIPE in keras_gan/cli/flags.py). When it changes, these runs' records
# no longer match their configuration and are listed as not run yet.
TODAY = {"today": {}}
# The recipe every configuration below starts from: train.py's default until
# 2026-12-06, 12,000 steps in epochs of 1,000, Adam 1e-3 with beta_1 0.5, R1
# on every D update, EMA 0.999 (R1 gamma 1 and batch 64: still train.py's).
# Today's default (RECIPE in keras_gan/cli/flags.py) is measured against it
# in docs/performance.md; pinned here, the records of these runs stay
# current until they are trained again on today's recipe.
SWEEP_STEPS = 12_000
SWEEP_RECIPE = {"--steps": str(SWEEP_STEPS), "--steps-per-epoch": "1000", "--learning-rate": "1e-3",
                "--beta-1": "0.5", "--r1-interval": "1", "--ema": "0.999"}
# The quality sweep: what changes training (not the fixed architectures),
# each at that recipe's budget; "default" is that recipe, the others change
# one thing (or, "default-paper-optimiser", go back to the paper-era recipe:
# Adam 2e-4, no R1, no EMA).
SWEEP = {
    "default": {**SWEEP_RECIPE},
    "default-no-r1": {**SWEEP_RECIPE, "--r1-gamma": "0"},
    "default-no-ema": {**SWEEP_RECIPE, "--ema": "0"},
    "default-paper-optimiser": {**SWEEP_RECIPE, "--learning-rate": "2e-4", "--r1-gamma": "0", "--ema": "0"},
    "default+diffaugment": {**SWEEP_RECIPE, "--augmentation": "translation,cutout"},
    "default+lr-linear": {**SWEEP_RECIPE, "--lr-schedule": "linear"},
}
# Beyond the paper: the default run with the class label given to both players.
CONDITIONAL = {
    "conditional": {**SWEEP_RECIPE, "--conditional": None},
}
# The default run computing in bfloat16 (on a CPU; float16 on a GPU).
MIXED = {
    "default+mixed-precision": {**SWEEP_RECIPE, "--mixed-precision": None},
}
# k = 2 beside the default's k = 1, compared on the same wall-clock budget
# (the default's training time). Both have epochs of the same steps (train.py's
# rule for a run set by --steps, whatever k), so both spend the same on
# per-epoch callbacks. (An adaptive k was compared here too, and dropped:
# docs/results.md.)
K_COMPARISON = {
    "default-k2": {**SWEEP_RECIPE, "--k": "2"},
}
# The default recipe three times as long: where does it flatten, and would a
# machine three times as fast reach the 2x target in the same ten minutes?
LONGER = {
    "default-3x": {**SWEEP_RECIPE, "--steps": str(3 * SWEEP_STEPS)},
}
# The default run on Keras' other backends (KERAS_BACKEND), the same steps:
# does the same GAN reach the same quality on each?
BACKENDS = {
    "default-jax": {**SWEEP_RECIPE},
    "default-torch": {**SWEEP_RECIPE},
}
ENVIRONMENT = {"default-jax": {"KERAS_BACKEND": "jax"}, "default-torch": {"KERAS_BACKEND": "torch"}}
# TensorFlow runs compile as every run here did before train.py timed its
# compile settings (keras_gan/training/compile_settings.py): runs compared at equal
# seconds (k = 2 against k = 1) must not differ in XLA by what a trial chose.
PINNED_COMPILE = {"--jit-compile": "on", "--steps-per-execution": "16"}
# Except today's default: its lazy R1 is a tf.cond, which XLA runs on a CPU
# at 0.40 of the rate without it (docs/performance.md), so train.py's rule
# takes XLA off there; pinned off, its seconds are the main command's.
TODAY_COMPILE = {**PINNED_COMPILE, "--jit-compile": "off"}
CONFIGS = {**GRID, **TODAY, **SWEEP, **CONDITIONAL, **MIXED, **K_COMPARISON, **LONGER, **BACKENDS}
# Seeds per configuration unless --seeds says otherwise: the default run's
# spread over seeds is the one that matters most, and the conditional and
# k comparisons (issue #12) are judged over seeds too.
SEEDS = {"today": (0, 1, 2), "default": (0, 1, 2), "conditional": (0, 1, 2), "default-k2": (0, 1, 2)}
PAPER_TABLE_1 = [  # Goodfellow et al. (2014), Table 1: MNIST Parzen log-likelihood
    ("DBN (Bengio et al. 2013)", "138 ± 2"),
    ("Stacked CAE (Bengio et al. 2013)", "121 ± 1.6"),
    ("Deep GSN (Bengio et al. 2014)", "214 ± 1.1"),
    ("Adversarial nets (the paper)", "225 ± 2"),
]
BEGIN, END = "<!-- results from python -m keras_gan.experiments: begin -->", "<!-- results: end -->"
# The README's picture and caption: today's default, seed 0 (--readme).
README_BEGIN, README_END = "<!-- readme picture: begin -->", "<!-- readme picture: end -->"
README_RUN = ("today", 0)
TODAY_HEADING = "Today's default: `python train.py` with no flags"


def train_flags(name, overrides):
    """The config's flags, with `overrides` (a dict) replacing them; a
    length override (--epochs or --steps) replaces the config's length."""
    flags = dict(CONFIGS[name])
    if {"--epochs", "--steps"} & set(overrides):
        flags.pop("--steps", None)
        flags.pop("--epochs", None)
    flags.update(overrides)
    return [part for flag, value in flags.items() for part in ((flag,) if value is None else (flag, value))]


def read_summary(logdir):
    """The run's summary.json as a dict, or None if it has not finished."""
    path = os.path.join(logdir, "summary.json")
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def is_stale(summary):
    """True for a finished run from before the GAN's training data excluded
    the evaluation's held-out reference images (its summary has no
    `training_images`): its figures measure the GAN on images it trained on."""
    return summary is not None and "training_images" not in summary


def command_flags(name, seed, overrides):
    """train.py's flags for configuration `name` and `seed` (no --logdir)."""
    pinned = ({} if name in ENVIRONMENT  # other backends keep their rules
              else TODAY_COMPILE if name in TODAY else PINNED_COMPILE)
    return [*train_flags(name, {**pinned, **overrides}), "--seed", str(seed), "--no-export"]


def settings_now(name, seed, overrides):
    """The run.json settings train.py would write for `name` and `seed` today."""
    import tempfile

    from keras_gan.cli import flags, runs

    with tempfile.TemporaryDirectory() as folder:  # a --logdir with no run in it
        args = flags.parse_args([*command_flags(name, seed, overrides), "--no-eval",
                                 "--logdir", os.path.join(folder, "run")])
    return runs.settings_of(args)


def run_one(name, seed, runs_dir, overrides):
    logdir = os.path.join(runs_dir, f"{name}-s{seed}")
    command = [sys.executable, os.path.join(ROOT, "train.py"), *command_flags(name, seed, overrides),
               "--logdir", logdir, "--verbose", "0"]
    if is_stale(read_summary(logdir)):
        command.append("--fresh")
    print(" ".join(command[1:]), flush=True)
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", **ENVIRONMENT.get(name, {})}
    result = subprocess.run(command, cwd=ROOT, text=True, capture_output=True, env=env)
    if result.returncode != 0:
        raise UserError(f"{name} seed {seed}: train.py failed: {result.stderr.strip().splitlines()[-1:]}")
    return logdir, read_summary(logdir)


def row(name, seed, summary):
    e = summary["evaluation"]
    args = summary["args"]
    p = e["prdc"]
    return [
        name, str(seed), args["model"], str(args["k"]), args["generator_loss"].replace("_", "-"),
        str(args["label_smoothing"]), learning_rate(args), stabilisers(args), f"{summary['steps']:,}",
        f"{summary['seconds']:.0f}",
        f"{summary['wall_seconds']:.0f}" if "wall_seconds" in summary else "—",
        f"{e['frechet_distance']:.2f}", f"{e['frechet_ratio_to_real']:.1f}×",
        f"{e['kid']:.3f} ± {e['kid_standard_error']:.3f}",
        f"{p['precision']:.2f} / {p['recall']:.2f}", f"{p['density']:.2f} / {p['coverage']:.2f}",
        str(e["modes"]["modes"]),
        f"{e['recognisable']['samples']:.2f} / {e['recognisable']['reference']:.2f}",
        f"{e['modes']['classifier_score']:.2f}",
        f"{e['parzen']['mean']:.0f} ± {e['parzen']['standard_error']:.0f}",
        f"{e['memorisation']['median_sample_to_nearest_train']:.2f} / "
        f"{e['memorisation']['median_reference_to_nearest_train']:.2f}",
    ]


def learning_rate(args):
    schedule = args.get("lr_schedule", "constant")
    return f"{args['learning_rate']:g}" + ("" if schedule == "constant" else f", {schedule}")


def stabilisers(args):
    parts = []
    if args.get("augmentation", "none") != "none":
        parts.append(f"DiffAugment {args['augmentation'].replace(',', '+')}")
    if args.get("r1_gamma"):
        every = args.get("r1_interval", 1)
        parts.append(f"R1 γ={args['r1_gamma']:g}" + (f" every {every}" if every > 1 else ""))
    if args.get("ema"):
        parts.append(f"EMA {args['ema']:g}")
    return ", ".join(parts) or "none"


HEADER = ["run", "seed", "model", "k", "G loss", "label smoothing", "Adam lr", "stabilisers", "steps", "train s", "wall s",
          "Fréchet", "÷ floor", "KID", "precision / recall", "density / coverage",
          "classes ≥ 5%", "recognisable samples / real", "classifier score", "Parzen",
          "NN distance samples / real"]


CONDITIONAL_HEADER = ["run", "seed", "class accuracy", "lowest class", "classes < 90%", "per class (0–9)"]


def conditional_row(name, seed, summary):
    c = summary["evaluation"]["conditional"]
    per_class = [c["per_class_accuracy"][str(k)] for k in range(len(c["per_class_accuracy"]))]
    return [name, str(seed), f"{c['class_accuracy']:.1%}",
            f"{c['lowest_class']}: {c['lowest_class_accuracy']:.1%}",
            str(sum(a < 0.9 for a in per_class)), " ".join(f"{a:.3f}" for a in per_class)]


def table(rows, header=HEADER):
    if not rows:
        return "(none run)"
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def default_budget(runs):
    """The default runs' median training seconds among `runs` ((row, summary)
    pairs), or None when there is no default run or nothing beside it."""
    defaults = [s["seconds"] for r, s in runs if r[0] == "default"]
    if not defaults or len(runs) == len(defaults):
        return None
    return sorted(defaults)[len(defaults) // 2]


def k_comparison(rows, records, images_dir):
    """Markdown: k = 1 (the default) and 2, after equal steps and at the
    default's wall-clock budget (its median training seconds), read from each
    run's evaluation curve (keras_gan/evaluation/curves.py); and the figure."""
    from keras_gan.evaluation import curves as eval_curves

    runs = [(r, c["summary"], c) for r, c in zip(rows, records) if r[0] == "default" or r[0] in K_COMPARISON]
    budget = default_budget([(r, s) for r, s, _ in runs])
    if budget is None:
        return ["(run `default` and the k configurations to fill this table)"]
    steps = f"{SWEEP_STEPS:,} steps"
    header = ["run", "seed", "k", "D updates per G step", f"train s ({steps})",
              f"÷ floor at {budget:.0f} s (2,000 samples)", f"÷ floor after {steps} (10,000 samples)"]
    lines, curves = [], {}
    for r, s, record in runs:
        seconds, values = run_records.curve(record, eval_curves.TAG)
        curves.setdefault(f"k = {s['args']['k']}", []).append((seconds, values))
        at_budget = eval_curves.value_at(seconds, values, budget)
        updates = s.get("discriminator_updates", s["steps"] * s["args"]["k"])
        lines.append([r[0], r[1], str(s["args"]["k"]), f"{updates / s['steps']:.2f}",
                      f"{s['seconds']:.0f}", "—" if at_budget is None else f"{at_budget:.1f}×",
                      f"{s['evaluation']['frechet_ratio_to_real']:.1f}×"])
    figure = os.path.join(images_dir, "k_budget.png")
    eval_curves.plot(curves, budget, figure, "sample quality against training time, by k")
    return [table(lines, header), "",
            f"![Fréchet ÷ floor against training seconds](images/results/{os.path.basename(figure)})"]


def steps_curve(record, tag):
    """(generator steps, values) of a run's per-epoch curve: point i was
    measured after epoch i + 1. None when the points are not one per epoch
    (a run resumed after a kill can log an epoch twice)."""
    _, values = run_records.curve(record, tag)
    summary = record["summary"]
    if len(values) != summary["epochs"]:
        return None
    return np.arange(1, len(values) + 1) * summary["steps_per_epoch"], values


def longer_runs(rows, records, images_dir):
    """Markdown: the default runs and the longer ones, read from their
    evaluation curves after 1, 2 and 3 times the default's steps; and the
    figures of those curves. Steps, not seconds: the runs may have trained
    on machines (or days) of different speeds."""
    from keras_gan.evaluation import curves as eval_curves

    runs = [(r, c["summary"], c) for r, c in zip(rows, records) if r[0] == "default" or r[0] in LONGER]
    if not any(r[0] in LONGER for r, _, _ in runs) or not any(r[0] == "default" for r, _, _ in runs):
        return ["(run `default` and the longer configurations to fill this table)"]
    marks = [n * SWEEP_STEPS for n in (1, 2, 3)]
    header = ["run", "seed", "steps", "train s", *(f"÷ floor after {m:,} steps" for m in marks),
              "÷ floor at the end (10,000 samples)", "recognisable samples / real"]
    lines, curves, recognisable = [], {}, {}
    for r, s, record in runs:
        ratio, share = steps_curve(record, eval_curves.TAG), steps_curve(record, eval_curves.RECOGNISABLE_TAG)
        label = f"{s['steps']:,} steps"
        if ratio is not None:
            curves.setdefault(label, []).append(ratio)
            recognisable.setdefault(label, []).append(share)
        at = [None if ratio is None or ratio[0][-1] < m else eval_curves.value_at(*ratio, m) for m in marks]
        e = s["evaluation"]
        lines.append([r[0], r[1], f"{s['steps']:,}", f"{s['seconds']:.0f}",
                      *("—" if a is None else f"{a:.1f}×" for a in at),
                      f"{e['frechet_ratio_to_real']:.1f}×",
                      f"{e['recognisable']['samples']:.2f} / {e['recognisable']['reference']:.2f}"])
    steps_axis = {"xlabel": "generator steps", "unit": "steps"}
    figure = os.path.join(images_dir, "longer.png")
    eval_curves.plot(curves, SWEEP_STEPS, figure, "the default recipe, and three times as long", **steps_axis)
    share_figure = os.path.join(images_dir, "longer_recognisable.png")
    eval_curves.plot(recognisable, SWEEP_STEPS, share_figure, "samples the classifier names at p ≥ 0.9",
                     ylabel="recognisable share (2,000 samples)", yscale="linear", **steps_axis)
    return [table(lines, header), "",
            "The ÷ floor columns read each run's per-epoch curve: 2,000 samples, and the Fréchet "
            "distance is biased upwards at small sample sizes, so they read higher than the "
            "10,000-sample figure at the end; — where a run had not trained that long. They compare "
            "runs after equal steps, not seconds: `train s` says what each run's steps cost on "
            "its machine that day.", "",
            f"![Fréchet ÷ floor against generator steps, default and longer](images/results/"
            f"{os.path.basename(figure)})", "",
            f"![The recognisable share of samples against generator steps](images/results/"
            f"{os.path.basename(share_figure)})"]


GROUPS = {"the paper's grid": GRID, "today's default": TODAY, "quality sweep": SWEEP,
          "conditional": CONDITIONAL, "mixed precision": MIXED, "k = 2": K_COMPARISON, "longer": LONGER,
          "backends": BACKENDS}


def recognisable_figure(rows, summaries, images_dir):
    """Markdown: every run's Fréchet ratio against its recognisable share (a
    point per run, a colour per group of configurations), and the figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from keras_gan.outputs.images import save_figure_png

    fig, axis = plt.subplots(figsize=(7, 4.5))
    for group, configs in GROUPS.items():
        points = [(s["evaluation"]["recognisable"]["samples"], s["evaluation"]["frechet_ratio_to_real"])
                  for r, s in zip(rows, summaries) if r[0] in configs]
        if points:
            axis.scatter(*zip(*points), label=group, s=24, alpha=0.8)
    reference = summaries[0]["evaluation"]["recognisable"]["reference"]
    axis.axvline(reference, color="gray", ls="--", lw=0.8, label=f"real digits: {reference:.2f}")
    axis.axhline(2.0, color="gray", ls=":", lw=0.8, label="the 2× target")
    axis.set(xlabel="recognisable share of samples (classifier p ≥ 0.9)",
             ylabel="Fréchet ÷ floor (10,000 samples)", yscale="log",
             title="sample quality against recognisable digits, every run")
    axis.legend(fontsize=8)
    path = save_figure_png(fig, os.path.join(images_dir, "recognisable.png"))
    return [f"![Fréchet ÷ floor against the recognisable share, every run](images/results/"
            f"{os.path.basename(path)})"]


def backend_rows(rows, summaries):
    """The backends' runs, each seed beside the default run (TensorFlow) of that seed."""
    seeds = {r[1] for r in rows if r[0] in BACKENDS}
    return [r + [s.get("backend", "tensorflow")] for r, s in zip(rows, summaries)
            if r[0] in BACKENDS or (r[0] == "default" and r[1] in seeds)]


def finished_summary(logdir):
    """The summary of a finished, current run (not stale), else None."""
    summary = read_summary(logdir)
    return None if summary is None or is_stale(summary) else summary


def machines(records):
    """The machines `records` trained on, most runs first."""
    counts = collections.Counter(record.get("machine", "a machine not recorded") for record in records)
    return "; ".join(f"{machine} ({n} run{'s' * (n != 1)})" for machine, n in counts.most_common())


def results_images_dir(doc):
    """Where the sample grids and figures referenced by `doc` go."""
    return os.path.join(os.path.dirname(doc), "images", "results")


def classifiers(summaries):
    """'Real-vs-real Fréchet floor: 0.70. Classifier <architecture>, accuracy
    on the reference images 0.9850.' for the evaluation classifier(s) the runs
    were measured with (each with its floor when they differ: their rows
    compare only roughly, and each row's ratio is to its own classifier's floor)."""
    seen = collections.Counter(
        (s["evaluation"]["classifier"]["architecture"], s["evaluation"]["classifier"]["test_accuracy"],
         round(s["evaluation"]["frechet_distance_real_train_vs_reference"], 2))
        for s in summaries)
    if len(seen) == 1:
        (architecture, accuracy, floor), = seen
        return (f"Real-vs-real Fréchet floor: {floor:.2f}. Classifier {architecture}, accuracy on the "
                f"reference images {accuracy:.4f}.")
    parts = [f"{architecture}, accuracy on the reference images {accuracy:.4f}, real-vs-real Fréchet floor "
             f"{floor:.2f} ({count} run{'s' * (count != 1)})"
             for (architecture, accuracy, floor), count in sorted(seen.items())]
    return ("Measured with different evaluation classifiers, so rows of different ones compare only "
            "roughly: " + "; ".join(parts) + ".")


def write_results(doc, rows, records, argv, missing=()):
    images_dir = results_images_dir(doc)
    summaries = [record["summary"] for record in records]
    first = summaries[0]
    e = first["evaluation"]
    parzen_rows = PAPER_TABLE_1 + [
        (f"this project: {r[0]}, seed {r[1]} (σ = {s['evaluation']['parzen']['sigma']:.3f})",
         f"{s['evaluation']['parzen']['mean']:.0f} ± {s['evaluation']['parzen']['standard_error']:.0f}")
        for r, s in zip(rows, summaries)
    ]
    block = "\n".join([
        f"Made by `python -m keras_gan.experiments {' '.join(argv)}`".rstrip()
        + f" from the records of docs/run-records/; the runs trained on {machines(records)}.",
        f"Data: {first['data']}. Evaluation {e['reference']}. {classifiers(summaries)} "
        f"{e['num_samples']:,} samples per run.",
        *([] if not missing else [
            "",
            f"**Not run yet** ({len(missing)} run{'s' * (len(missing) != 1)}, so their rows are missing below): "
            + ", ".join(f"{name} seed {seed}" + (f" (trained with other settings than today's: {why})"
                                                 if why else "")
                        for name, seed, why in missing)
            + ". `python -m keras_gan.experiments` trains them."]),
        "",
        "### Parzen-window log-likelihood (the paper's Table 1 protocol)",
        "",
        "| model | MNIST log-likelihood |",
        "| --- | --- |",
        *[f"| {a} | {b} |" for a, b in parzen_rows],
        "",
        "### The paper's grid: 5,000 steps, no stabilisers",
        "",
        table([r for r in rows if r[0] in GRID]),
        "",
        f"### {TODAY_HEADING}",
        "",
        table([r for r in rows if r[0] in TODAY]),
        "",
        "### The quality sweep: the default run's budget",
        "",
        table([r for r in rows if r[0] in SWEEP]),
        "",
        "### Conditional: the default recipe with `--conditional`",
        "",
        table([r for r in rows if r[0] in CONDITIONAL]),
        "",
        "How often the classifier reads the class each sample was drawn for "
        "(10,000 samples, 1,000 per class):",
        "",
        table([conditional_row(r[0], int(r[1]), s) for r, s in zip(rows, summaries)
               if r[0] in CONDITIONAL], CONDITIONAL_HEADER),
        "",
        "### Mixed precision: the default run computing in bfloat16",
        "",
        table([r for r in rows if r[0] in MIXED or r[0] == "default"]),
        "",
        "### Backends: the default run on TensorFlow, JAX and PyTorch (`KERAS_BACKEND`)",
        "",
        "The same flags and steps; JAX and PyTorch read the data through the NumPy pipeline "
        "(another order than tf.data's). Train seconds are this CPU's, not a GPU's (docs/backends.md).",
        "",
        table(backend_rows(rows, summaries), HEADER + ["backend"]),
        "",
        "### k: 1 (the default) or 2, on the same wall-clock budget",
        "",
        *k_comparison(rows, records, images_dir),
        "",
        "### The default recipe, three times as long",
        "",
        *longer_runs(rows, records, images_dir),
        "",
        "### Sample quality against recognisable digits",
        "",
        *recognisable_figure(rows, summaries, images_dir),
        "",
        "### Samples (the run's `samples.png`: 64 images; conditional runs 100, a row per class)",
        "",
        *[f"**{r[0]}, seed {r[1]}**\n\n![{r[0]} seed {r[1]}](images/results/{r[0]}-s{r[1]}.png)\n"
          for r in rows],
    ])
    replace_marked_block(doc, BEGIN, END, block)


def anchor(heading):
    """The link fragment GitHub gives a markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def readme_picture(rows, records, readme, doc):
    """Markdown for the block of `readme`: README_RUN's sample grid (as
    copied beside `doc`) and a caption from its record, with the other seeds
    of its configuration beside it; None without a current row for it."""
    name, seed = README_RUN
    by_seed = {int(r[1]): record for r, record in zip(rows, records) if r[0] == name}
    if seed not in by_seed:
        return None
    record = by_seed[seed]
    s, e = record["summary"], record["summary"]["evaluation"]
    shares = e["modes"]["class_share"]
    others = "; ".join(f"seed {k}: {v['summary']['evaluation']['frechet_ratio_to_real']:.1f}×, "
                       f"{v['summary']['evaluation']['recognisable']['samples']:.0%} recognisable"
                       for k, v in sorted(by_seed.items()) if k != seed)
    n = s["args"]["samples"]
    here = os.path.dirname(os.path.abspath(readme))

    def link(path):
        return os.path.relpath(os.path.abspath(path), here)

    image = link(os.path.join(results_images_dir(doc), f"{name}-s{seed}.png"))
    record_file = link(os.path.join(run_records.records_dir(doc), f"{name}-s{seed}.json"))
    machine = record.get("machine", "a machine not recorded")
    return "\n".join([
        f"![{n} digits drawn by the conv generator]({image})",
        "",
        f"*{n} digits from `python train.py --seed {seed}`, the default recipe ({s['steps']:,} steps, "
        f"{s['seconds']:.0f} s of training on {machine}; its record is {record_file}): "
        f"{e['frechet_ratio_to_real']:.1f}× the real-vs-real Fréchet floor, "
        f"{e['recognisable']['samples']:.0%} of them recognisable (real digits: "
        f"{e['recognisable']['reference']:.0%}), the {len(shares)} classes at "
        f"{min(shares):.1%}–{max(shares):.1%} of the samples"
        + (f" ({others})" if others else "")
        + ". Written from the record by `python -m keras_gan.experiments --readme README.md`; the "
        f"full evaluation: [{link(doc)}]({link(doc)}#{anchor(TODAY_HEADING)}).*",
    ])


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    parser = OneLineArgumentParser(prog="python -m keras_gan.experiments", description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=sorted(CONFIGS),
                        help="configurations to run; the tables still show every finished run")
    parser.add_argument("--seeds", nargs="+", type=int,
                        help="seeds of every configuration (default: 0; 0 1 2 for the default run)")
    parser.add_argument("--runs-dir", default=os.path.join(ROOT, "results", "runs"))
    parser.add_argument("--doc", default=os.path.join(ROOT, "docs", "results.md"))
    parser.add_argument("--epochs", type=int, help="override train.py's default length (quick checks)")
    parser.add_argument("--steps-per-epoch", type=int, help="passed to train.py (quick checks)")
    parser.add_argument("--no-download", action="store_true", help="passed to train.py")
    parser.add_argument("--classifier-dir", help="passed to train.py")
    parser.add_argument("--readme", help=f"also write the picture of {README_RUN[0]} seed {README_RUN[1]} and its "
                                          "caption into this file's block (README.md)")
    parser.add_argument("--render-only", action="store_true",
                        help="train nothing: write the tables from the runs that have finished, "
                             "and list the others as not run yet")
    parser.add_argument("--records-only", action="store_true",
                        help="write the records of the runs (docs/run-records/) but leave the "
                             "doc's tables as they are")
    try:
        args = parser.parse_args(argv)
        for flag, path in (("--doc", args.doc), ("--readme", args.readme)):
            if path is not None and not os.path.isfile(path):
                raise UserError(f"{flag} {path}: no such file.")
        if args.readme and args.records_only:
            raise UserError("--readme with --records-only: --records-only leaves the docs as they are.")
        overrides = {flag: str(value) for flag, value in (
            ("--epochs", args.epochs), ("--steps-per-epoch", args.steps_per_epoch),
            ("--classifier-dir", args.classifier_dir)) if value is not None}
        if args.no_download:
            overrides["--no-download"] = None
        if importlib.util.find_spec("tensorflow") is not None:
            # TensorBoard's event reader (the runs' curves) imports TensorFlow
            # where it is installed: start it without its C++ notices.
            with tensorflow_start():
                import tensorflow  # noqa: F401
        rows, records, missing = [], [], []
        images_dir = results_images_dir(args.doc)
        records_dir = run_records.records_dir(args.doc)
        os.makedirs(images_dir, exist_ok=True)
        # Every configuration's row, whatever --only says: those named are
        # trained (or reused), the others read from their finished runs or,
        # without one, from their records, so a partial command merges its
        # rows into the tables instead of replacing them.
        trained = set(args.only or CONFIGS)
        for name in CONFIGS:
            for seed in args.seeds or SEEDS.get(name, (0,)):
                run = f"{name}-s{seed}"
                logdir = os.path.join(args.runs_dir, run)
                if args.render_only or name not in trained:
                    summary = finished_summary(logdir)
                else:
                    logdir, summary = run_one(name, seed, args.runs_dir, overrides)
                if summary is not None:  # a run here: its record, (re)written below
                    record = run_records.from_run(logdir, run, cpu_description())
                else:
                    record = run_records.read(records_dir, run)
                # A run or record of other settings than the configuration's
                # today (a default changed since) is not its row.
                why = record and run_records.differences(record, settings_now(name, seed, overrides))
                if record is None or why or is_stale(record["summary"]):
                    missing.append((name, seed, ", ".join(why or [])))
                    continue
                if summary is not None:
                    run_records.write(records_dir, record, os.path.join(logdir, "samples.png"))
                if not args.records_only:  # the doc's pictures change only with its tables
                    shutil.copyfile(run_records.image_of(records_dir, run), os.path.join(images_dir, f"{run}.png"))
                rows.append(row(name, seed, record["summary"]))
                records.append(record)
        if not records:
            raise UserError(f"no finished runs in {args.runs_dir}, and no current records in "
                            f"{records_dir}, to write tables from.")
        if args.records_only:
            print(f"{len(records)} current records in {records_dir}; {len(missing)} runs not run yet; "
                  f"{args.doc} left as it is")
            return 0
        picture = args.readme and readme_picture(rows, records, args.readme, args.doc)
        if args.readme and picture is None:
            raise UserError(f"--readme: no current run or record of {README_RUN[0]} seed {README_RUN[1]} "
                            "to show; train it first.")
        write_results(args.doc, rows, records, argv, missing)
        if picture:
            replace_marked_block(args.readme, README_BEGIN, README_END, picture)
    except UserError as e:
        print(f"python -m keras_gan.experiments: error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {args.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
