"""Run directories: the settings a run started with, and which run to resume.

`run.json` in a run directory records the flags that determine the run's
result; `summary.json` marks it finished. Rerunning a command resumes:

- with `--logdir DIR`, the run in DIR, provided its settings are the same;
- without it, the newest unfinished run under `logs/` with the same settings
  (the seed, unless given, is taken from that run), announced in one line.

No TensorFlow here: this runs before it is imported.
"""

import contextlib
import json
import os

from keras_gan.common.files import atomic_path
from keras_gan.common.layout import COMPILE_FILE, FINISHED_FILE, SETTINGS_FILE
from keras_gan.common.options import UserError
from keras_gan.training.compile_settings import valid_settings

# Flags that do not change what a run computes, or that say where it is.
NOT_SETTINGS = ("logdir", "verbose", "fresh", "summary", "no_eval", "eval_samples", "classifier_dir")


def settings_of(args):
    return {k: v for k, v in sorted(vars(args).items()) if k not in NOT_SETTINGS}


def read_settings(run_dir):
    path = os.path.join(run_dir, SETTINGS_FILE)
    try:
        with open(path) as f:
            return json.load(f)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, ValueError) as e:
        raise UserError(f"{path}: unreadable run settings ({e}); pass --fresh to start over.") from None


def write_settings(run_dir, settings):
    with atomic_path(os.path.join(run_dir, SETTINGS_FILE)) as tmp:
        with open(tmp, "w") as f:
            json.dump(settings, f, indent=2, sort_keys=True)


def is_finished(run_dir):
    return os.path.isfile(os.path.join(run_dir, FINISHED_FILE))


def mark_unfinished(run_dir):
    """Forget that the run in `run_dir` finished (--fresh trains it again)."""
    with contextlib.suppress(FileNotFoundError):
        os.remove(os.path.join(run_dir, FINISHED_FILE))


def first_difference(saved, settings, ignore=()):
    """The first flag whose value differs, as "--flag A there, B now", or None."""
    for key in sorted(set(saved) | set(settings)):
        if key in ignore:
            continue
        if saved.get(key) != settings.get(key):
            flag = "--" + key.replace("_", "-")
            return f"{flag} {saved.get(key)!r} there, {settings.get(key)!r} now"
    return None


# What a run.json written before a flag existed ran with: the flag's "off".
# (Runs without --epochs or --steps trained 5,000 steps, the default of the time.)
LEGACY_SETTINGS = {"augmentation": "none", "r1_gamma": 0.0, "r1_interval": 1, "ema": 0.0, "lr_schedule": "constant",
                   "conditional": False, "mixed_precision": False}
LEGACY_DEFAULT_STEPS = 5000


def with_legacy_settings(saved):
    if saved is None:
        return saved
    if "steps" not in saved:
        saved = {**saved, "steps": LEGACY_DEFAULT_STEPS if saved.get("epochs") is None else None}
    return {**LEGACY_SETTINGS, **saved}


def check_same_run(run_dir, settings):
    """UserError unless `run_dir` is new or holds a run with these settings."""
    saved = with_legacy_settings(read_settings(run_dir))
    if saved is None:
        return
    difference = first_difference(saved, settings)
    if difference:
        raise UserError(
            f"--logdir {run_dir} holds a run with other settings ({difference}); "
            "pass another --logdir, or --fresh to start that run over."
        )


def find_unfinished(root, settings, seed_given):
    """(run_dir, saved settings) of the newest unfinished run under `root`
    with the same settings (the seed compared only if given), or None."""
    if not os.path.isdir(root):
        return None
    ignore = () if seed_given else ("seed",)
    for name in sorted(os.listdir(root), reverse=True):  # timestamped: newest first
        run_dir = os.path.join(root, name)
        if not os.path.isdir(run_dir) or is_finished(run_dir):
            continue
        try:
            saved = with_legacy_settings(read_settings(run_dir))
        except UserError:
            continue
        if saved is not None and first_difference(saved, settings, ignore) is None:
            return run_dir, saved
    return None


def read_compile_choice(run_dir):
    """(jit_compile, steps_per_execution) this run recorded, or None."""
    try:
        with open(os.path.join(run_dir, COMPILE_FILE)) as f:
            recorded = json.load(f)
        jit, spe = recorded["jit_compile"], recorded["steps_per_execution"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return (jit, spe) if valid_settings(jit, spe) else None


def write_compile_choice(run_dir, jit_compile, steps_per_execution):
    with atomic_path(os.path.join(run_dir, COMPILE_FILE)) as tmp:
        with open(tmp, "w") as f:
            json.dump({"jit_compile": jit_compile, "steps_per_execution": steps_per_execution}, f)
