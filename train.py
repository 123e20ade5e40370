"""Train a GAN (Goodfellow et al. 2014) on MNIST with `model.fit`, then export it.

    python train.py                       # conv GAN on MNIST, defaults that give digits
    python train.py --model mlp --k 2     # the MLP GAN, two D updates per G update
    python train.py --model conv --summary

Writes into the run directory (--logdir): TensorBoard logs, `samples.png`,
`samples/epoch_NNN.png`, `progress.gif`, `loss_curves.png`, `interpolation.png`,
`gan.keras` (the whole GAN, both optimizers included) and `summary.json`; and
the generator as the next version under --export-dir for TF Serving.
Bad flags or data: one line on stderr naming the problem, exit code 2.
"""

import argparse
import atexit
import contextlib
import dataclasses
import datetime
import json
import math
import os
import random
import signal
import sys
import tempfile
import time

PROCESS_START = time.monotonic()  # for summary.json's wall_seconds: the whole command

from keras_gan.training import compile_settings
from keras_gan.cli import runs
from keras_gan.training.distribute import STRATEGIES
from keras_gan.common.files import check_writable_dir
from keras_gan.common.options import (
    AUGMENTATIONS,
    DATASETS,
    DEFAULT_BETA_1,
    DEFAULT_LEARNING_RATE,
    GENERATOR_LOSSES,
    LR_SCHEDULES,
    LATENT_DIM,
    MAX_SAMPLES,
    MAX_SEED,
    MODEL_FAMILIES,
    NUM_CLASSES,
    NonFiniteLoss,
    OneLineArgumentParser,
    UserError,
    parse_augmentation,
)

USAGE_ERROR = 2
TRAINING_FAILED = 1
DEFAULT_RUNS_ROOT = "logs"
# Test hook: SIGKILL this process at a named point (see tests/test_resume.py).
KILL_AT_ENV = "KERAS_GAN_KILL_AT"
# train.py's defaults where they differ from the library's (the paper's and
# DCGAN's: `GAN(...)`, `default_optimizer()`): the recipe the quality sweep
# of docs/results.md chose for the default run, within 10 minutes on 2 cores.
RECIPE = {"steps": 12_000, "learning_rate": 1e-3, "augmentation": "none", "r1_gamma": 1.0,
          "ema": 0.999}
DEFAULT_STEPS = RECIPE["steps"]  # when neither --steps nor --epochs is given
# The most per-epoch evaluations (TensorBoard eval/*) in one run.
EVALUATIONS = 50
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
    p.add_argument("--batch-size", type=_number(int, minimum=1), default=64,
                   help="m: images per discriminator/generator update (default: 64)")
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
    p.add_argument("--beta-1", type=_number(float, minimum=0.0, below=1.0), default=DEFAULT_BETA_1,
                   help=f"Adam beta_1 (default: {DEFAULT_BETA_1})")
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
                   help="training steps per epoch (default: one pass over the data)")
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
    if args.epochs is not None and args.steps is not None:
        raise UserError("--epochs and --steps both set the training length: give one")
    if args.samples is None:
        args.samples = DEFAULT_CONDITIONAL_SAMPLES if args.conditional else DEFAULT_SAMPLES
    if args.epochs is None and args.steps is None:
        args.steps = DEFAULT_STEPS  # recorded in run.json: a later default does not change this run
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
    """Set args.logdir (and args.seed): the run to resume, or a new one."""
    seed_given = args.seed is not None
    if not seed_given:
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


def backup_dir(args):
    return args.backup_dir or os.path.join(args.logdir, "backup")


def print_summaries(args):
    from keras_gan.common.quiet import tensorflow_start

    with tensorflow_start():
        from keras_gan.model.networks import build_models

    generator, discriminator = build_models(args.model, args.latent_dim, num_classes(args))
    generator.summary()
    discriminator.summary()


def num_classes(args):
    """The GAN's `num_classes`: None, or the classes of a --conditional run."""
    return NUM_CLASSES if args.conditional else None


def kill_point(name):
    """SIGKILL this process if the test hook names this point."""
    if os.environ.get(KILL_AT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def run(args):
    """Train (resuming where a killed run stopped), then write every output."""
    from keras_gan.common.files import remove_tree
    from keras_gan.common.quiet import tensorflow_start

    if not args.fresh and runs.is_finished(args.logdir):
        print(f"{args.logdir} is a finished run (its {runs.FINISHED_FILE} is written): nothing "
              "to do; --fresh trains it again")
        return None

    with tensorflow_start():
        from keras_gan.training import backup# imports Keras, and so TensorFlow
        from keras_gan.training.distribute import make_strategy

        strategy = make_strategy(args.strategy)
    plan = plan_run(args, strategy)
    if args.fresh:  # the run is unfinished again, from its first epoch
        remove_tree(plan.backup_dir)
        # The old run's TensorBoard events and per-epoch grids too: new events
        # appended beside them would draw two runs as one curve.
        for produced in runs.PER_EPOCH_OUTPUTS:
            remove_tree(os.path.join(args.logdir, produced))
        with contextlib.suppress(FileNotFoundError):  # a fresh start chooses its compile settings anew
            os.remove(os.path.join(args.logdir, runs.COMPILE_FILE))
        runs.mark_unfinished(args.logdir)
    import keras

    from keras_gan.common.quiet import hidden_stderr_lines

    # Grappler's harmless "remapper failed" line comes while the step is
    # compiled: in the trial, and in fit's first call (then the filter stops).
    with compute_policy(plan.precision), hidden_stderr_lines() as stderr_filter:
        choose_compile_settings(args, plan, strategy)  # before the seed is set: the trial draws nothing
        gan, dataset, callbacks = build_training(args, plan, strategy)
        callbacks.insert(0, keras.callbacks.LambdaCallback(
            on_train_batch_end=lambda batch, logs: stderr_filter.stop()))
        initial_epoch = backup.restore(gan, plan.backup_dir, strategy)
        if initial_epoch:
            print(f"resumed from the backup of epoch {initial_epoch} in {plan.backup_dir}", flush=True)
        start = time.perf_counter()
        gan.fit(
            dataset,
            epochs=plan.epochs,
            initial_epoch=initial_epoch,
            callbacks=callbacks,
            shuffle=False,  # the dataset has its own order (keras_gan.data.pipeline)
            verbose="auto" if args.verbose is None else args.verbose,
        )
        seconds = time.perf_counter() - start
        kill_point("after_fit")
        trained_steps = (plan.epochs - initial_epoch) * plan.steps
        return write_outputs(args, plan, gan, callbacks, trained_steps, seconds)


@contextlib.contextmanager
def compute_policy(name):
    """Keras' global dtype policy set to `name` while the models are built
    and trained, and put back afterwards (train.main may run in-process)."""
    import keras

    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def precision_policy(args):
    """float32; with --mixed-precision, mixed_float16 where there is a GPU
    (tensor cores; needs loss scaling), else mixed_bfloat16 (float32's range:
    no loss scaling needed)."""
    from keras_gan.training.distribute import has_gpu

    if not args.mixed_precision:
        return "float32"
    return "mixed_float16" if has_gpu() else "mixed_bfloat16"


@dataclasses.dataclass
class Plan:
    """What a run will do, decided and checked before anything is built."""

    real: object  # keras_gan.data.Images
    steps: int  # per epoch
    epochs: int
    chief: bool  # writes the run's outputs
    steps_per_execution: int
    jit_compile: bool
    backup_dir: str
    precision: str = "float32"  # Keras dtype policy: float32, mixed_bfloat16 or mixed_float16
    evaluation: object = None  # (EvaluationData, Classifier), or None: no evaluation


def plan_run(args, strategy):
    """Data, steps, epochs, compile settings and paths; UserError on any mistake."""
    from keras_gan import data
    from keras_gan.training.distribute import check_global_batch, is_chief, is_multi_worker
    from keras_gan.evaluation import reference

    check_global_batch(args.batch_size, strategy)
    multi_worker = is_multi_worker(strategy)
    real = data.load_images(args.dataset, args.split, args.data_dir, not args.no_download)
    # Decided by the data, not by --no-eval, so that a seed means the same run either way.
    evaluation_data = reference.evaluation_data_or_none(args.dataset, args.data_dir, not args.no_download)
    real = reference.without_reference(real, evaluation_data)
    data.check_enough_images(len(real.images), args.batch_size, args.k, where=real.source)
    if args.conditional and real.labels is None:
        raise UserError(f"--conditional needs class labels, and {real.source} has none "
                        "(no *-labels-idx1-ubyte files beside the images)")
    steps = args.steps_per_epoch or data.steps_per_epoch(len(real.images), args.batch_size, args.k)
    chief = is_chief(strategy)
    plan = Plan(
        real=real,
        steps=steps,
        epochs=args.epochs or math.ceil(args.steps / steps),
        chief=chief,
        steps_per_execution=steps_per_execution(args.steps_per_execution, multi_worker, steps),
        jit_compile=use_jit(args.jit_compile, strategy.num_replicas_in_sync, multi_worker),
        backup_dir=backup_dir(args),
        precision=precision_policy(args),
    )
    if not chief:
        # Each worker keeps its own backup (two writers of one file collide),
        # at a stable path so that a restarted worker finds it, beside the
        # chief's. Every worker runs the same program, but only the chief's
        # outputs are kept: the others write to a temporary directory.
        plan.backup_dir = f"{os.path.normpath(plan.backup_dir)}-worker-{strategy.cluster_resolver.task_id}"
        args.logdir = args.export_dir = tempfile.mkdtemp(prefix="keras-gan-worker-")
        atexit.register(_remove_tree, args.logdir)
    else:
        runs.write_settings(args.logdir, runs.settings_of(args))
    if real.notice:
        print(f"WARNING: {real.notice}", file=sys.stderr, flush=True)
    if not args.no_eval and chief and strategy.num_replicas_in_sync == 1:
        plan.evaluation = load_evaluation(args, evaluation_data)
    return plan


def steps_per_execution(flag, multi_worker, steps):
    """--steps-per-execution, or its default: 16 (1 multi-worker).

    PyTorch: 1 (Keras' trainer runs one step per call there). JAX: the steps
    are fused, S of them in one jax.lax.scan per call (`GAN.compile(
    fused_steps=S)`), so S must divide the epoch's steps; the default is the
    largest divisor of them up to 16 on a GPU, 1 on a CPU."""
    import keras

    from keras_gan.training.distribute import has_gpu

    backend = keras.backend.backend()
    if backend == "torch":
        if (flag or 1) > 1:
            raise UserError(f"--steps-per-execution {flag}: Keras on PyTorch runs one step per call; "
                            "leave it out (or use KERAS_BACKEND=jax or tensorflow).")
        return 1
    if backend == "jax":
        if flag and steps % flag:
            raise UserError(f"--steps-per-execution {flag}: on JAX the steps of one call are fused (one "
                            f"jax.lax.scan), so it must divide the {steps} steps per epoch.")
        if flag:
            return flag
        # Fused steps pay on a GPU (one dispatch for S steps); on a CPU they
        # lose: XLA's CPU convolutions inside a scan ran 3.6-4.3x slower here
        # (benchmarks/backends.py). So: 1 without a GPU.
        return max(d for d in range(1, 17) if steps % d == 0) if has_gpu() else 1
    return flag or (1 if multi_worker else compile_settings.STEPS_PER_EXECUTION)


def use_jit(flag, replicas, multi_worker):
    """--jit-compile: on, off, or auto: XLA for TensorFlow on one replica
    (tf.distribute's all-reduces and XLA disagree), always on JAX (its step
    is jitted), never on PyTorch (torch.compile only when asked for)."""
    import keras

    if flag != "auto":
        return flag == "on"
    backend = keras.backend.backend()
    if backend != "tensorflow":
        return backend == "jax"
    # One replica: XLA, unless the compile trial finds otherwise (choose_compile_settings).
    return compile_settings.STATIC_JIT_COMPILE and replicas == 1 and not multi_worker


def load_evaluation(args, data=None):
    """The real images (`data`, an EvaluationData, loaded if None) and the
    classifier the evaluation measures samples with."""
    from keras_gan.evaluation import classifier, reference

    if data is None:  # raises the DataError that says why there is none
        data = reference.load_evaluation_data(args.dataset, args.data_dir, not args.no_download)
    model = classifier.load_or_train(
        os.path.join(args.classifier_dir, args.dataset), data.train_images, data.train_labels,
        data.reference_images, data.reference_labels, data.train_source,
        log=lambda line: print(line, flush=True),
    )
    return data, model


def _remove_tree(path):
    from keras_gan.common.files import remove_tree

    remove_tree(path)


def build_training(args, plan, strategy):
    """The compiled GAN, its dataset and its callbacks (the backup last)."""
    import keras

    from keras_gan import data
    from keras_gan.training.backup import EpochBackup
    from keras_gan.training.monitor import GANMonitor
    from keras_gan.training.guard import NonFiniteGuard
    from keras_gan.training.summaries import epoch_scalars_callback

    keras.utils.set_random_seed(args.seed)
    epoch_counter = data.EpochCounter()
    dataset = data.make_dataset(
        plan.real.images, args.batch_size, args.k, seed=args.seed,
        steps_per_epoch=plan.steps, epoch_counter=epoch_counter,
        labels=plan.real.labels if args.conditional else None,
        steps_per_call=execution(plan.steps_per_execution, plan.steps).get("fused_steps", 1),
    )
    with strategy.scope():
        gan = make_gan(args, plan, plan.jit_compile, plan.steps_per_execution)
    callbacks = [
        epoch_counter,
        NonFiniteGuard(),
        epoch_scalars_callback(args.logdir),  # Keras' TensorBoard callback on TensorFlow
        GANMonitor(
            args.logdir,
            real_images=data.scale_images(plan.real.images[:256]),
            real_labels=plan.real.labels[:256] if args.conditional else None,
            num_images=args.samples,
            seed=args.seed,
            log_every_n_steps=args.log_every_n_steps,
            flags=vars(args),
        ),
    ]
    if plan.evaluation:
        from keras_gan.training.quality_monitor import QualityMonitor

        data, classifier = plan.evaluation
        # About 0.5 s per evaluation: at most EVALUATIONS per run, so that a
        # run of many short epochs does not spend minutes on them.
        every = math.ceil(plan.epochs / EVALUATIONS)
        callbacks.append(QualityMonitor(args.logdir, classifier, data, seed=args.seed, every=every))
    if os.environ.get(KILL_AT_ENV, "").startswith("step:"):
        callbacks.append(kill_at_step_callback(int(os.environ[KILL_AT_ENV][5:])))
    # Last, so that an epoch is backed up only when every other callback is done with it.
    callbacks.append(EpochBackup(plan.backup_dir))

    print(f"data: {plan.real.source}", flush=True)
    print(
        f"model: {'conditional ' * args.conditional}{args.model} GAN, k={args.k}, "
        f"batch {args.batch_size} over "
        f"{strategy.num_replicas_in_sync} replica(s), "
        f"{plan.steps} steps/epoch x {plan.epochs} epochs, seed {args.seed}, Keras on {keras.backend.backend()}",
        flush=True,
    )
    print(f"training: {describe_recipe(args, plan.precision)}", flush=True)
    return gan, dataset, callbacks


def make_gan(args, plan, jit_compile, steps_per_execution):
    """The GAN of this run's flags, compiled with these settings (in the
    caller's strategy scope): the one trained, and the compile trial's copies."""
    from keras_gan.model.gan import GAN, default_optimizer
    from keras_gan.model.networks import build_models

    generator, discriminator = build_models(args.model, args.latent_dim, num_classes(args))
    gan = GAN(
        generator,
        discriminator,
        k=args.k,
        generator_loss=args.generator_loss,
        label_smoothing=args.label_smoothing,
        augmentation=args.augmentation,
        r1_gamma=args.r1_gamma,
        num_classes=num_classes(args),
        seed=args.seed,
    )
    total_steps = plan.epochs * plan.steps
    loss_scale = plan.precision == "mixed_float16"
    gan.compile(
        d_optimizer=default_optimizer(
            learning_rate(args, total_steps * args.k), args.beta_1, "d_optimizer",
            loss_scale=loss_scale),
        g_optimizer=default_optimizer(
            learning_rate(args, total_steps), args.beta_1, "g_optimizer", ema=args.ema or None,
            loss_scale=loss_scale),
        jit_compile=jit_compile,
        **execution(steps_per_execution, plan.steps),
    )
    return gan


def execution(steps_per_execution, steps):
    """compile()'s arguments for running several steps per call: Keras'
    steps_per_execution, or on JAX the GAN's own fused steps (one scan)."""
    import keras

    if keras.backend.backend() == "jax":
        return {"fused_steps": steps_per_execution}
    return {"steps_per_execution": compile_settings.steps_per_call_cap(steps, steps_per_execution)}


def choose_compile_settings(args, plan, strategy):
    """XLA or not and steps per call: the flags, the static rules (other
    backends, several replicas), or on one TensorFlow replica a timed trial
    on this machine, cached (keras_gan/training/compile_settings.py). Prints the choice."""
    import keras

    from keras_gan import data
    from keras_gan.training.distribute import is_multi_worker

    backend = keras.backend.backend()
    recorded = runs.read_compile_choice(args.logdir) if plan.chief else None
    if backend != "tensorflow":
        choice = compile_settings.Choice(plan.jit_compile, plan.steps_per_execution,
                                         f"the flags, or the rule of Keras on {backend}")
    elif strategy.num_replicas_in_sync > 1 or is_multi_worker(strategy):
        choice = compile_settings.Choice(plan.jit_compile, plan.steps_per_execution,
                                         "the flags, or the rule for several replicas")
    elif recorded:
        # A resumed run (its flags match: run.json): the same compiled step as
        # its first part, for the same weights, whatever the cache says now.
        choice = compile_settings.Choice(*recorded, f"as this run chose before ({runs.COMPILE_FILE})")
    else:
        labels = plan.real.labels if args.conditional else None
        trial_data = data.make_dataset(plan.real.images, args.batch_size, args.k, seed=0,
                                       labels=labels).repeat()
        # In the strategy's scope, as the run's own GAN: the trial times what will run.
        with compile_settings.suppress_retracing_warnings(), strategy.scope():
            choice = compile_settings.choose(
                args.jit_compile, args.steps_per_execution, plan.epochs * plan.steps, plan.steps,
                compile_config(args, plan), lambda jit, spe: make_gan(args, plan, jit, spe),
                trial_data, args.batch_size * args.k,
                log=lambda line: print(line, flush=True))
    plan.jit_compile, plan.steps_per_execution = choice.jit_compile, choice.steps_per_execution
    if plan.chief:
        runs.write_compile_choice(args.logdir, choice.jit_compile, choice.steps_per_execution)
    spe = compile_settings.steps_per_call_cap(plan.steps, choice.steps_per_execution)
    print(f"compile: {compile_settings.describe(choice.jit_compile, spe, backend)}"
          f" ({choice.reason})", flush=True)


def compile_config(args, plan):
    """What the compile trial's cache is keyed by: everything that changes a step's speed."""
    import keras
    import tensorflow as tf

    from keras_gan.common.machine import cpu_description

    gpus = [tf.config.experimental.get_device_details(d).get("device_name", d.name)
            for d in tf.config.list_physical_devices("GPU")]
    return {
        "machine": cpu_description(), "gpus": gpus, "tensorflow": tf.__version__,
        "keras": keras.__version__, "model": args.model, "conditional": args.conditional,
        "latent_dim": args.latent_dim, "batch_size": args.batch_size, "k": args.k,
        "r1": args.r1_gamma > 0, "augmentation": args.augmentation, "ema": bool(args.ema),
        "precision": plan.precision, "steps_per_call_cap": compile_settings.steps_per_call_cap(plan.steps),
    }


def describe_recipe(args, precision="float32"):
    """One line: the optimiser, the stabilisers and the precision this run uses."""
    parts = [f"Adam {args.learning_rate:g} (beta_1 {args.beta_1:g}"
             + (", linear decay to 0)" if args.lr_schedule == "linear" else ")"),
             args.generator_loss.replace("_", "-") + " G loss"]
    if args.label_smoothing:
        parts.append(f"label smoothing {args.label_smoothing:g}")
    if args.augmentation != "none":
        parts.append(f"DiffAugment {args.augmentation}")
    if args.r1_gamma:
        parts.append(f"R1 gamma {args.r1_gamma:g}")
    if args.ema:
        parts.append(f"EMA {args.ema:g} of G's weights for samples and export")
    if precision != "float32":
        parts.append(f"{precision} compute"
                     + (" with loss scaling" if precision == "mixed_float16" else ""))
    return ", ".join(parts)


def learning_rate(args, updates):
    """--learning-rate, or with --lr-schedule linear a schedule from it down
    to 0 over `updates` optimizer steps (D makes k per generator step). A
    function of the optimizer's step count, so a resumed run continues it."""
    import keras

    if args.lr_schedule == "constant":
        return args.learning_rate
    return keras.optimizers.schedules.PolynomialDecay(args.learning_rate, updates, 0.0, power=1.0)


def write_outputs(args, plan, gan, callbacks, trained_steps, seconds):
    """Samples, .keras, export and summary; then, and only then, drop the backup."""
    from keras_gan.outputs import saved_model as export
    from keras_gan.training.monitor import GANMonitor
    from keras_gan.common.files import atomic_path, remove_tree
    from keras_gan.outputs.images import save_grid_png

    (monitor,) = (c for c in callbacks if isinstance(c, GANMonitor))
    labels, cols = monitor.grid_labels(args.samples)
    samples = save_grid_png(os.path.join(args.logdir, "samples.png"),
                            gan.generate(args.samples, seed=args.seed, labels=labels), cols=cols)
    kill_point("after_samples")
    checkpoint = os.path.join(args.logdir, "gan.keras")
    with atomic_path(checkpoint) as tmp:
        gan.save(tmp)
    kill_point("after_checkpoint")
    digest = weights_digest(gan)
    exported = None
    if not args.no_export:
        # Tagged with the weights' digest: a rerun after a kill finds this
        # version instead of adding a copy.
        exported = export.export_saved_gan(gan, checkpoint, args.export_dir, digest)
    kill_point("after_export")
    evaluation = None
    if plan.evaluation:
        from keras_gan.evaluation.report import evaluate

        data, classifier = plan.evaluation
        labels = gan.check_labels(None, 10_000)  # conditional: 1,000 of each class
        evaluation = evaluate(gan.generate(10_000, seed=args.seed, labels=labels), data, classifier,
                              labels=labels)
    import keras

    history = monitor.history_so_far()
    summary = {
        "data": plan.real.source,
        "training_images": len(plan.real.images),
        "fallback": plan.real.notice or None,
        "args": vars(args),
        "epochs": plan.epochs,
        "steps_per_epoch": plan.steps,
        "steps": int(keras.ops.convert_to_numpy(gan.g_optimizer.iterations)),
        "discriminator_updates": int(keras.ops.convert_to_numpy(gan.d_optimizer.iterations)),
        "steps_this_process": trained_steps,
        "precision": plan.precision,
        "backend": keras.backend.backend(),
        # What the step was compiled with (the flags, or the compile trial's choice).
        "compile": {"jit_compile": bool(gan.jit_compile),
                    "steps_per_execution": int(gan.steps_per_execution),
                    "fused_steps": int(getattr(gan, "fused_steps", 1))},
        "seconds": round(seconds, 2),
        # This process, start to summary: data, classifier, training, evaluation, export.
        "wall_seconds": round(time.monotonic() - PROCESS_START, 1),
        "real_images_per_second": (
            round(trained_steps * args.k * args.batch_size / seconds, 1) if trained_steps else None
        ),
        "final_metrics": {name: values[-1] for name, values in history.items()},
        "weights_sha256": digest,
        "evaluation": evaluation,
        "samples": samples,
        "checkpoint": checkpoint,
        "export": exported,
    }
    with atomic_path(os.path.join(args.logdir, runs.FINISHED_FILE)) as tmp:
        with open(tmp, "w") as f:
            json.dump(summary, f, indent=2)
    remove_tree(plan.backup_dir)  # everything is in place: the run is finished
    print_report(summary, plan)
    return summary


def print_report(summary, plan):
    """What a finished run tells its user, a line per fact."""
    if summary["steps_this_process"]:
        print(f"trained {summary['steps_this_process']} steps in {summary['seconds']:.1f} s "
              f"({summary['real_images_per_second']:.0f} real images/s)")
    else:
        print("training was already complete: outputs written from the last backup")
    print(f"weights sha256: {summary['weights_sha256']}")
    evaluation = summary["evaluation"]
    if evaluation:
        print(f"evaluation: Fréchet distance {evaluation['frechet_distance']:.2f}, "
              f"{evaluation['frechet_ratio_to_real']:.1f}x the real-vs-real "
              f"{evaluation['frechet_distance_real_train_vs_reference']:.2f}; "
              f"{evaluation['modes']['modes']} classes at >= 5%; precision "
              f"{evaluation['prdc']['precision']:.2f}, recall {evaluation['prdc']['recall']:.2f} "
              "(summary.json has every metric)")
        if evaluation.get("conditional"):
            accuracy = evaluation["conditional"]
            print(f"evaluation: the classifier reads the requested class in "
                  f"{accuracy['class_accuracy']:.1%} of the samples (lowest class: "
                  f"{accuracy['lowest_class']}, {accuracy['lowest_class_accuracy']:.1%})")
    if plan.real.notice:
        print(f"NOTE: {plan.real.notice}")
    if not plan.chief:
        print("worker outputs discarded: the chief writes the run's files")
        return
    print(f"samples: {summary['samples']}")
    print(f"checkpoint: {summary['checkpoint']}")
    if summary["export"]:
        print(f"exported generator: {summary['export']}")


def kill_at_step_callback(step):
    """For the test hook `step:N`: SIGKILL at the end of the first compiled
    call that reaches generator step N (mid-epoch, before its backup)."""
    import keras

    def kill_if_reached(batch, logs):
        if int(keras.ops.convert_to_numpy(kill.model.g_optimizer.iterations)) >= step:
            os.kill(os.getpid(), signal.SIGKILL)

    kill = keras.callbacks.LambdaCallback(on_train_batch_end=kill_if_reached)
    return kill


def weights_digest(gan):
    """SHA-256 of all of the GAN's weights (and of the averaged generator's,
    with EMA): equal digests, bit-identical models."""
    import hashlib

    import numpy as np

    digest = hashlib.sha256()
    sampling = gan.sampling_generator()
    averaged = sampling.weights if sampling is not gan.generator else []
    for weight in gan.weights + averaged:
        digest.update(np.ascontiguousarray(weight.numpy()).tobytes())
    return digest.hexdigest()


def main(argv=None):
    try:
        args = parse_args(argv)
        if args.summary:
            print_summaries(args)
            return 0
        compile_settings.enable_xla_cache()  # in effect where TensorFlow starts after this
        run(args)
    except UserError as e:
        print(f"train.py: error: {e}", file=sys.stderr)
        return USAGE_ERROR
    except NonFiniteLoss as e:
        print(f"train.py: error: training stopped at {e}; {_backup_note(args)}; "
              "nothing exported.", file=sys.stderr)
        return TRAINING_FAILED
    return 0


def _backup_note(args):
    from keras_gan.training.backup import last_epoch

    epoch = last_epoch(backup_dir(args))
    if not epoch:
        return "no epoch had finished, so there is no backup"
    return f"the last good backup (epoch {epoch}) is kept in {backup_dir(args)}"


if __name__ == "__main__":
    sys.exit(main())
