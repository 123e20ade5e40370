"""A finished run's evaluation curve, against the seconds it had trained.

`train.py` logs the per-epoch evaluation (`eval/*`, 2,000 samples,
keras_gan/training/quality_monitor.py) to TensorBoard, and every event carries
its wall time. Counted from the run's first event (`run/flags`, written as
`fit` starts), they say how good the samples were after t seconds of
training: what a comparison "on the same wall-clock budget" needs. Runs
whose steps cost different amounts (k = 2, an adaptive k) are then compared
where each had trained equally long, not after equally many steps.
"""

import os

import numpy as np

from keras_gan.common.layout import TENSORBOARD_DIR

START_TAG = "run/flags"  # GANMonitor.on_train_begin: the start of fit
TAG = "eval/frechet_ratio_to_real"
RECOGNISABLE_TAG = "eval/recognisable"


def curve(run_dir, tag=TAG):
    """(seconds since fit started, values) of `tag` in `run_dir`'s TensorBoard logs."""
    from tensorboard.backend.event_processing import event_accumulator

    events = event_accumulator.EventAccumulator(
        os.path.join(run_dir, TENSORBOARD_DIR), size_guidance={event_accumulator.TENSORS: 0})
    events.Reload()
    start = min(e.wall_time for e in events.Tensors(START_TAG))
    points = sorted((e.wall_time - start, _scalar(e)) for e in events.Tensors(tag))
    return np.array([p[0] for p in points]), np.array([p[1] for p in points])


def _scalar(event):
    from tensorboard.util import tensor_util  # no TensorFlow needed

    return float(tensor_util.make_ndarray(event.tensor_proto))


def value_at(seconds, values, budget):
    """The last value measured within `budget` seconds (None if none was)."""
    within = np.flatnonzero(seconds <= budget)
    return float(values[within[-1]]) if len(within) else None


def plot(curves, budget, path, title, ylabel="Fréchet ÷ floor (2,000 samples)", yscale="log",
         xlabel="seconds of training", unit="s"):
    """Curves {label: [(x, values), ...]} (one colour per label, a line per
    run; x in seconds, or another `unit`) with the budget marked; written
    atomically as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from keras_gan.outputs.images import save_figure_png

    fig, axis = plt.subplots(figsize=(7, 4))
    for (label, runs), colour in zip(curves.items(), plt.rcParams["axes.prop_cycle"].by_key()["color"]):
        for i, (seconds, values) in enumerate(runs):
            axis.plot(seconds, values, color=colour, lw=1.2, alpha=0.8, label=label if i == 0 else None)
    axis.axvline(budget, color="gray", ls="--", lw=0.8, label=f"budget: {budget:,.0f} {unit}")
    axis.set(xlabel=xlabel, ylabel=ylabel, yscale=yscale, title=title)
    axis.legend()
    return save_figure_png(fig, path)
