"""The record of one finished experiment run, kept beside docs/results.md.

A run of `python -m keras_gan.experiments` leaves a folder of hundreds of
megabytes (checkpoints, TensorBoard events) that is not part of the
repository. What the tables and figures of docs/results.md read from it is
small: the run's settings (run.json), its summary.json, its evaluation
curves against training seconds (keras_gan/evaluation/curves.py) and its
sample grid. Each finished run's record holds exactly that, as `<run>.json`
and `<run>.png` in the records folder (docs/run-records/), so the tables can
be rendered again on any machine, and runs trained in different sessions
add up, without the run folders.

A record counts only while its settings are the ones its configuration
trains with now: when a default changes (the recipe, the epoch length), a
record of the old settings is stale, and its row is listed as not run yet.
"""

import json
import os
import shutil

import numpy as np

from keras_gan.common import layout
from keras_gan.common.files import atomic_path
from keras_gan.common.options import UserError
from keras_gan.evaluation import curves

CURVE_TAGS = (curves.TAG, curves.RECOGNISABLE_TAG)  # what the tables and figures read
# Settings in run.json that say where a run reads and writes, not what it
# trains (run.json already leaves out --logdir, --classifier-dir and the like:
# keras_gan/cli/runs.py's NOT_SETTINGS).
WHERE = ("export_dir", "no_export", "backup_dir", "data_dir", "no_download")


def records_dir(doc):
    """The records of `doc`'s runs: the folder `run-records` beside it."""
    return os.path.join(os.path.dirname(doc), "run-records")


def path_of(folder, run):
    return os.path.join(folder, f"{run}.json")


def training_settings(settings):
    """`settings` (run.json's) without the keys of WHERE."""
    return {k: v for k, v in settings.items() if k not in WHERE}


def from_run(run_dir, run, machine):
    """The record of the finished run in `run_dir`, named `run`, trained on `machine`."""
    summary, settings = (_read_json(os.path.join(run_dir, name), "cannot read it")
                         for name in (layout.FINISHED_FILE, layout.SETTINGS_FILE))
    record = {"run": run, "machine": machine, "settings": training_settings(settings),
              "summary": summary, "curves": {}}
    for tag in CURVE_TAGS:
        seconds, values = curves.curve(run_dir, tag)
        record["curves"][tag] = [seconds.tolist(), values.tolist()]
    return record


def _read_json(path, problem):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise UserError(f"{path}: {problem} ({e}).") from None


def image_of(folder, run):
    """The run's sample grid (its samples.png), kept beside its record."""
    return os.path.join(folder, f"{run}.png")


def write(folder, record, samples_png):
    """`record` and the run's sample grid `samples_png` into `folder`: the grid
    first, so that a record is never there without its picture."""
    os.makedirs(folder, exist_ok=True)
    with atomic_path(image_of(folder, record["run"])) as tmp:
        shutil.copyfile(samples_png, tmp)
    with atomic_path(path_of(folder, record["run"])) as tmp:
        with open(tmp, "w") as f:
            json.dump(record, f, indent=1, sort_keys=True)
            f.write("\n")


def read(folder, run):
    """The record of `run` in `folder`, or None if there is none (or its grid is gone)."""
    path = path_of(folder, run)
    if not (os.path.isfile(path) and os.path.isfile(image_of(folder, run))):
        return None
    record = _read_json(path, "unreadable run record")
    if not isinstance(record, dict) or not {"run", "settings", "summary", "curves"} <= set(record):
        raise UserError(f"{path}: not a run record (it needs run, settings, summary and curves).")
    return record


def differences(record, settings):
    """The settings (run.json's) in which `record` differs from `settings`,
    as "--flag there -> now" strings; empty when it is current."""
    now, there = training_settings(settings), record["settings"]
    return [f"--{k.replace('_', '-')} {there.get(k)!r} -> {now.get(k)!r}"
            for k in sorted(set(now) | set(there)) if there.get(k) != now.get(k)]


def curve(record, tag):
    """(seconds, values) of `tag` in `record`, as keras_gan.evaluation.curves.curve gives them."""
    seconds, values = record["curves"][tag]
    return np.array(seconds, float), np.array(values, float)
