"""What a run will do, decided and checked before anything is built.

`plan_run` loads the data, holds out the evaluation's reference digits, fixes
the steps and epochs, the precision and the static compile settings, writes
`run.json` (the chief only), and loads the evaluation classifier: every
mistake in the data surfaces here, as a UserError, before any training.
"""

import atexit
import contextlib
import dataclasses
import math
import os
import sys
import tempfile

from keras_gan.cli import runs
from keras_gan.cli.flags import backup_dir
from keras_gan.common.options import UserError
from keras_gan.training import compile_settings


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


def plan_run(args, strategy, clock=None):
    """Data, steps, epochs, compile settings and paths; UserError on any mistake.
    `clock` (a cli.phases.PhaseClock) gets the classifier's seconds."""
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
    if real.notice:
        print(f"WARNING: {real.notice}", file=sys.stderr, flush=True)
    if not args.no_eval and chief and strategy.num_replicas_in_sync == 1:
        # Before anything is written: data the evaluation cannot use (no
        # labels) is refused with nothing left behind (tests/test_train_cli.py).
        with clock.phase("classifier") if clock else contextlib.nullcontext():
            plan.evaluation = load_evaluation(args, evaluation_data)
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


