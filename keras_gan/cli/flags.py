"""train.py's flags: the parser, its checks, and the run directory they name.

`parse_args` checks every flag and every path the run will write before data
or TensorFlow is loaded, and creates nothing: a mistake costs one line and
exit code 2 (keras_gan/train.py), never a half-made run directory.
"""

import argparse
import datetime
import math
import os
import random

from keras_gan.cli import runs
from keras_gan.common.files import check_writable_dir
from keras_gan.common.quiet import keras_backend
from keras_gan.common.options import (
    AUGMENTATIONS,
    DATASETS,
    DEFAULT_BETA_1,
    DEFAULT_LEARNING_RATE,
    EVALUATION_SAMPLES,
    GENERATOR_LOSSES,
    LATENT_DIM,
    LR_SCHEDULES,
    MAX_SAMPLES,
    MAX_SEED,
    MIN_EVALUATION_SAMPLES,
    MODEL_FAMILIES,
    NUM_CLASSES,
    PER_EPOCH_EVALUATION_SAMPLES,
    OneLineArgumentParser,
    UserError,
    parse_augmentation,
)
from keras_gan.training import compile_settings
from keras_gan.training.distribute import STRATEGIES, check_tf_config, synchronous_workers

DEFAULT_RUNS_ROOT = "logs"
# train.py's defaults where they differ from the library's (the paper's and
# DCGAN's: `GAN(...)`, `default_optimizer()`). R1 and the EMA come from the
# quality sweep of docs/results.md; Adam 2e-3 without momentum, the EMA's
# shorter memory and the lazy R1 penalty from the recipe search and the
# side-by-side runs of docs/performance.md: better than the sweep's
# 12,000-step quality in 7,000 steps, in under half the wall time.
RECIPE = {"steps": 7_000, "batch_size": 64, "learning_rate": 2e-3, "beta_1": 0.0,
          "augmentation": "none", "r1_gamma": 1.0, "r1_interval": 16, "ema": 0.995}
DEFAULT_STEPS = RECIPE["steps"]  # when neither --steps nor --epochs is given
# The most steps in one epoch of a run set by --steps. Each epoch ends with a
# sample grid, TensorBoard images, a backup and the evaluation; over the
# offline sample's 62-step passes that was a quarter of the default run's
# `fit`; over 500-step epochs it is a few percent (docs/performance.md), and
# the default run still shows 14 grids and evaluations.
MAX_EPOCH_STEPS = 500
DEFAULT_SAMPLES = 64
DEFAULT_CONDITIONAL_SAMPLES = 100  # 10 x 10: a row per class


def _number(kind, minimum=None, below=None, above=None, maximum=None):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            expected = "an integer" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
        if minimum is not None and value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {text}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"must be <= {maximum}, got {text}")
        if above is not None and not value > above:
            raise argparse.ArgumentTypeError(f"must be > {above}, got {text}")
        if below is not None and not value < below:
            raise argparse.ArgumentTypeError(f"must be < {below}, got {text}")
        return value

    return parse


def build_parser():
    p = OneLineArgumentParser(
        description="Train a GAN on MNIST with model.fit and export the generator."
    )
    p.add_argument("--model", choices=MODEL_FAMILIES, default="conv",
                   help="model family (default: conv)")
    p.add_argument("--conditional", action="store_true",
                   help="class-conditional GAN (Mirza & Osindero 2014): G and D also take the "
                        "label; sample grids have one row per class")
    p.add_argument("--epochs", type=_number(int, minimum=1),
                   help="passes over the data (default: as many as --steps needs)")
    p.add_argument("--steps", type=_number(int, minimum=1),
                   help=f"generator updates to train, rounded up to whole epochs "
                        f"(default: {DEFAULT_STEPS:,} unless --epochs is given)")
    p.add_argument("--batch-size", type=_number(int, minimum=1), default=RECIPE["batch_size"],
                   help=f"m: images per discriminator/generator update (default: {RECIPE['batch_size']})")
    p.add_argument("--k", type=_number(int, minimum=1), default=1,
                   help="discriminator updates per generator update (default: 1)")
    p.add_argument("--latent-dim", type=_number(int, minimum=1, maximum=4096), default=LATENT_DIM,
                   help=f"size of z (default: {LATENT_DIM})")
    p.add_argument("--learning-rate", type=_number(float, above=0.0),
                   default=RECIPE["learning_rate"],
                   help=f"Adam learning rate of both players (default: {RECIPE['learning_rate']:g}; "
                        f"the library's and DCGAN's: {DEFAULT_LEARNING_RATE:g})")
    p.add_argument("--lr-schedule", choices=LR_SCHEDULES, default="constant",
                   help="constant, or linear: decay both learning rates to 0 over the run "
                        "(default: constant)")
    p.add_argument("--beta-1", type=_number(float, minimum=0.0, below=1.0), default=RECIPE["beta_1"],
                   help=f"Adam beta_1 of both players (default: {RECIPE['beta_1']:g}; "
                        f"the library's and DCGAN's: {DEFAULT_BETA_1:g})")
    p.add_argument("--generator-loss", choices=GENERATOR_LOSSES, default="non_saturating",
                   help="non_saturating: -log D(G(z)) (default); minimax: log(1 - D(G(z)))")
    p.add_argument("--label-smoothing", type=_number(float, minimum=0.0, below=1.0),
                   default=0.0, help="one-sided: real targets become 1 - s (default: 0)")
    p.add_argument("--augmentation", default=RECIPE["augmentation"],
                   help="DiffAugment transforms of every image D sees, real and fake: none, or "
                        f"a comma-separated list of {', '.join(AUGMENTATIONS)} "
                        f"(default: {RECIPE['augmentation']})")
    p.add_argument("--r1-gamma", type=_number(float, minimum=0.0), default=RECIPE["r1_gamma"],
                   help="R1 penalty on D's gradient at real images, (gamma/2) E||grad D||^2; "
                        f"0: none (default: {RECIPE['r1_gamma']:g})")
    p.add_argument("--r1-interval", type=_number(int, minimum=1), default=RECIPE["r1_interval"],
                   help="lazy R1: the penalty on every N-th D update only, weighted by N "
                        f"(default: {RECIPE['r1_interval']}; 1: on every update)")
    p.add_argument("--ema", type=_number(float, minimum=0.0, below=1.0), default=RECIPE["ema"],
                   help="decay of an exponential moving average of G's weights, used for "
                        f"samples, evaluation and export; 0: none (default: {RECIPE['ema']:g})")
    p.add_argument("--dataset", choices=DATASETS, default="mnist")
    p.add_argument("--data-dir", help="folder with the IDX .gz files (offline use)")
    p.add_argument("--split", default="train",
                   help="TFDS split syntax: train, test, train+test, train[:10%%] (default: train)")
    p.add_argument("--no-download", action="store_true",
                   help="never download: use a prepared TFDS copy if there is one, "
                        "else the offline fallback")
    p.add_argument("--seed", type=_number(int, minimum=0, maximum=MAX_SEED),
                   help="same seed, same machine -> identical weights (default: random, printed)")
    p.add_argument("--logdir",
                   help="run directory (default: the newest unfinished run under logs/ "
                        "with the same settings, else a new logs/<timestamp>-<model>)")
    p.add_argument("--fresh", action="store_true",
                   help="start over instead of resuming the run in --logdir (or under logs/)")
    p.add_argument("--export-dir", default=os.path.join("saved_models", "generator"),
                   help="TF Serving model folder; each run adds a version (default: %(default)s)")
    p.add_argument("--no-export", action="store_true", help="skip the SavedModel export")
    p.add_argument("--backup-dir",
                   help="per-epoch backups; rerunning the same command resumes from the "
                        "last one (default: <logdir>/backup)")
    p.add_argument("--steps-per-epoch", type=_number(int, minimum=1),
                   help="training steps per epoch, the cadence of sample grids, backups and the "
                        f"evaluation (default: with --epochs one pass over the data; with --steps "
                        f"at most {MAX_EPOCH_STEPS}, in equal epochs)")
    p.add_argument("--strategy", choices=STRATEGIES, default="auto",
                   help="tf.distribute: auto (mirrored if >1 GPU, else default), default, "
                        "mirrored, multi_worker (TF_CONFIG); --batch-size is the global batch")
    p.add_argument("--jit-compile", choices=("auto", "on", "off"), default="auto",
                   help="XLA compilation of the train step; auto: on one TensorFlow replica, "
                        "whichever a short timed trial finds faster on this machine (cached; "
                        f"uncached runs under {compile_settings.MIN_RUN_STEPS:,} steps: on), off for several "
                        "replicas (docs/performance.md)")
    p.add_argument("--mixed-precision", action="store_true",
                   help="compute in bfloat16 (CPU) or float16 with loss scaling (GPU); G's image "
                        "and D's logit stay float32 (docs/performance.md)")
    p.add_argument("--steps-per-execution", type=_number(int, minimum=1),
                   help="training steps per call into the compiled graph (default: "
                        f"{compile_settings.STEPS_PER_EXECUTION} or 1, "
                        "timed with --jit-compile on one TensorFlow replica; 1 under "
                        "multi_worker; on JAX fused in one jax.lax.scan, so it must divide the "
                        "steps per epoch, default the largest divisor up to 16 on a GPU and 1 on "
                        "a CPU; 1 on PyTorch)")
    p.add_argument("--log-every-n-steps", type=_number(int, minimum=1), default=100,
                   help="interval of TensorBoard's step-level scalars (default: 100)")
    p.add_argument("--samples", type=_number(int, minimum=1, maximum=MAX_SAMPLES),
                   help="images in samples.png and the per-epoch grids "
                        f"(default: 64; {DEFAULT_CONDITIONAL_SAMPLES} with --conditional)")
    p.add_argument("--verbose", type=int, choices=(0, 1, 2),
                   help="Keras progress output: 0 silent, 1 bar, 2 a line per epoch")
    p.add_argument("--no-eval", action="store_true",
                   help="skip the evaluation: per epoch (TensorBoard eval/*) and after training "
                        "(summary.json); docs/evaluation.md")
    p.add_argument("--eval-samples", type=_number(int, minimum=MIN_EVALUATION_SAMPLES, maximum=MAX_SAMPLES),
                   default=EVALUATION_SAMPLES,
                   help=f"samples of the evaluation after training (default: {EVALUATION_SAMPLES:,}); "
                        f"the per-epoch evaluation as many, at most {PER_EPOCH_EVALUATION_SAMPLES:,}")
    p.add_argument("--classifier-dir", default=os.path.join("saved_models", "classifier"),
                   help="where the evaluation classifier is kept (default: %(default)s/<dataset>)")
    p.add_argument("--summary", action="store_true",
                   help="print both models' Keras summaries and exit")
    return p


def parse_args(argv):
    """Flags -> args, with the run directory decided; UserError on any mistake.

    Every path the run will write is checked here, before data or TensorFlow
    is loaded, and nothing is created yet.
    """
    args = build_parser().parse_args(argv)
    try:
        args.augmentation = ",".join(parse_augmentation(args.augmentation)) or "none"
    except ValueError as e:
        raise UserError(f"--augmentation {args.augmentation}: {e}") from None
    if args.strategy == "multi_worker" and args.seed is None:
        raise UserError(
            "--strategy multi_worker needs --seed: every worker must start from "
            "the same weights and draw the same noise stream"
        )
    if args.strategy == "multi_worker" and (args.steps_per_execution or 1) > 1:
        raise UserError(
            "--steps-per-execution must be 1 with --strategy multi_worker "
            "(Keras 3.15's multi-step loop fails under MultiWorkerMirroredStrategy)"
        )
    if args.strategy == "multi_worker" and keras_backend() == "tensorflow":
        # Checked before TensorFlow starts, so every worker refuses at once
        # instead of after joining the cluster; the replicas on each worker's
        # GPUs are counted once the strategy exists (keras_gan/cli/plan.py).
        # (On JAX and PyTorch the strategy itself is refused, in one line.)
        workers = synchronous_workers(check_tf_config())
        if args.batch_size % workers:
            raise UserError(
                f"--batch-size {args.batch_size} is the global batch: it must be divisible by the "
                f"replicas in sync, a multiple of the {workers} workers in TF_CONFIG."
            )
    if args.epochs is not None and args.steps is not None:
        raise UserError("--epochs and --steps both set the training length: give one")
    if args.samples is None:
        args.samples = DEFAULT_CONDITIONAL_SAMPLES if args.conditional else DEFAULT_SAMPLES
    if args.epochs is None and args.steps is None:
        args.steps = DEFAULT_STEPS  # recorded in run.json: a later default does not change this run
    if args.steps is not None and args.steps_per_epoch is None:
        args.steps_per_epoch = epoch_steps(args.steps)  # recorded too (run.json before: one pass)
    if args.data_dir is not None and not os.path.isdir(args.data_dir):
        raise UserError(f"--data-dir {args.data_dir}: no such directory")
    if args.summary:
        return args
    logdir_given = args.logdir is not None
    choose_run_dir(args)
    check_writable_dir(args.logdir, "--logdir")
    check_writable_dir(backup_dir(args), "--backup-dir")
    if not args.no_export:
        check_writable_dir(args.export_dir, "--export-dir")
    if not args.no_eval:
        check_writable_dir(args.classifier_dir, "--classifier-dir")
    if logdir_given and not args.fresh:
        runs.check_same_run(args.logdir, runs.settings_of(args))
    return args


def choose_run_dir(args):
    """Set args.logdir (and args.seed): the run to resume, or a new one.

    A seed nobody gave is the resumed run's own, with --logdir or without:
    otherwise the same command, run again after a kill, would name another
    seed and be refused as a run with other settings."""
    seed_given = args.seed is not None
    saved = None if seed_given or args.fresh or args.logdir is None else runs.read_settings(args.logdir)
    if saved and "seed" in saved:
        args.seed = saved["seed"]
    elif not seed_given:
        args.seed = random.SystemRandom().randrange(MAX_SEED + 1)
    if args.logdir is not None:
        return
    settings = runs.settings_of(args)
    found = None if args.fresh else runs.find_unfinished(DEFAULT_RUNS_ROOT, settings, seed_given)
    if found:
        args.logdir, saved = found
        args.seed = saved["seed"]
        print(f"resuming the unfinished run {args.logdir} (same settings; --fresh starts "
              "a new run)", flush=True)
        return
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    args.logdir = os.path.join(DEFAULT_RUNS_ROOT, f"{stamp}-{args.model}")
    suffix = 1
    while os.path.exists(args.logdir):
        suffix += 1
        args.logdir = os.path.join(DEFAULT_RUNS_ROOT, f"{stamp}-{args.model}-{suffix}")


def epoch_steps(steps):
    """Steps per epoch of a run of `steps` steps: equal epochs of at most
    MAX_EPOCH_STEPS, so the run trains `steps` (or a few more, < one per epoch)."""
    return math.ceil(steps / math.ceil(steps / MAX_EPOCH_STEPS))


def backup_dir(args):
    """Where the run's per-epoch backups go: --backup-dir, or <logdir>/backup."""
    return args.backup_dir or os.path.join(args.logdir, "backup")


def num_classes(args):
    """The GAN's `num_classes`: None, or the classes of a --conditional run."""
    return NUM_CLASSES if args.conditional else None
