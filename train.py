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
import datetime
import json
import math
import os
import random
import sys
import tempfile
import time

from keras_gan.distribute import STRATEGIES
from keras_gan.options import (
    DATASETS,
    GENERATOR_LOSSES,
    MODEL_FAMILIES,
    OneLineArgumentParser,
    UserError,
)

USAGE_ERROR = 2
# Training length when --epochs is not given: the conv GAN draws clearly
# recognisable digits after about this many generator updates at batch 64.
DEFAULT_STEPS = 5000


def _number(kind, minimum=None, below=None, above=None):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            expected = "an integer" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        if minimum is not None and value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {text}")
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
    p.add_argument("--epochs", type=_number(int, minimum=1),
                   help=f"passes over the data (default: enough for {DEFAULT_STEPS:,} "
                        "training steps: 6 on full MNIST, 65 on the 5,000-image sample)")
    p.add_argument("--batch-size", type=_number(int, minimum=1), default=64,
                   help="m: images per discriminator/generator update (default: 64)")
    p.add_argument("--k", type=_number(int, minimum=1), default=1,
                   help="discriminator updates per generator update (default: 1)")
    p.add_argument("--latent-dim", type=_number(int, minimum=1), default=32,
                   help="size of z (default: 32)")
    p.add_argument("--learning-rate", type=_number(float, above=0.0), default=2e-4,
                   help="Adam learning rate of both players (default: 2e-4)")
    p.add_argument("--beta-1", type=_number(float, minimum=0.0, below=1.0), default=0.5,
                   help="Adam beta_1 (default: 0.5)")
    p.add_argument("--generator-loss", choices=GENERATOR_LOSSES, default="non_saturating",
                   help="non_saturating: -log D(G(z)) (default); minimax: log(1 - D(G(z)))")
    p.add_argument("--label-smoothing", type=_number(float, minimum=0.0, below=1.0),
                   default=0.0, help="one-sided: real targets become 1 - s (default: 0)")
    p.add_argument("--dataset", choices=DATASETS, default="mnist")
    p.add_argument("--data-dir", help="folder with the IDX .gz files (offline use)")
    p.add_argument("--split", default="train",
                   help="TFDS split syntax: train, test, train+test, train[:10%%] (default: train)")
    p.add_argument("--no-download", action="store_true",
                   help="never try to download the dataset")
    p.add_argument("--seed", type=_number(int, minimum=0),
                   help="same seed, same machine -> identical weights (default: random, printed)")
    p.add_argument("--logdir", help="run directory (default: logs/<timestamp>)")
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
                   help="XLA compilation of the train step; auto: on for one replica "
                        "(1.5-1.9x faster on CPU, docs/performance.md), off for several "
                        "(XLA cannot compile CPU collectives)")
    p.add_argument("--steps-per-execution", type=_number(int, minimum=1),
                   help="training steps per call into the compiled graph "
                        "(default: 16; 1 under multi_worker)")
    p.add_argument("--log-every-n-steps", type=_number(int, minimum=1), default=100,
                   help="interval of TensorBoard's step-level scalars (default: 100)")
    p.add_argument("--samples", type=_number(int, minimum=1), default=64,
                   help="images in samples.png and the per-epoch grids (default: 64)")
    p.add_argument("--verbose", type=int, choices=(0, 1, 2),
                   help="Keras progress output: 0 silent, 1 bar, 2 a line per epoch")
    p.add_argument("--summary", action="store_true",
                   help="print both models' Keras summaries and exit")
    return p


def parse_args(argv):
    args = build_parser().parse_args(argv)
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
    if args.data_dir is not None and not os.path.isdir(args.data_dir):
        raise UserError(f"--data-dir {args.data_dir}: no such directory")
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(2**31)
    if args.logdir is None:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        args.logdir = os.path.join("logs", f"{stamp}-{args.model}")
    return args


def print_summaries(args):
    from keras_gan.models import build_models

    generator, discriminator = build_models(args.model, args.latent_dim)
    generator.summary()
    discriminator.summary()


def run(args):
    """Train, then write samples, the .keras GAN, the export and a summary."""
    import keras
    import tensorflow as tf

    from keras_gan import data
    from keras_gan.callbacks import GANMonitor
    from keras_gan.distribute import check_global_batch, is_chief, make_strategy
    from keras_gan.export import export_generator
    from keras_gan.files import atomic_path, check_writable_dir, remove_tree
    from keras_gan.gan import GAN, default_optimizer
    from keras_gan.images import save_grid_png
    from keras_gan.models import build_models

    # Everything that can fail because of the user is checked before training,
    # the data first, so that a data error leaves no directory behind.
    strategy = make_strategy(args.strategy)
    check_global_batch(args.batch_size, strategy)
    multi_worker = isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
    steps_per_execution = args.steps_per_execution or (1 if multi_worker else 16)
    jit_compile = args.jit_compile == "on" or (
        args.jit_compile == "auto" and strategy.num_replicas_in_sync == 1 and not multi_worker
    )
    real = data.load_images(args.dataset, args.split, args.data_dir, not args.no_download)
    if len(real.images) < args.batch_size * args.k:
        raise data.DataError(
            f"--batch-size {args.batch_size} x --k {args.k} = "
            f"{args.batch_size * args.k} images per step, but {real.source}."
        )
    steps = args.steps_per_epoch or data.steps_per_epoch(
        len(real.images), args.batch_size, args.k
    )

    chief = is_chief(strategy)
    backup_dir = args.backup_dir or os.path.join(args.logdir, "backup")
    if not chief:
        # Each worker keeps its own backup (Keras' BackupAndRestore is not
        # chief-aware: two writers of one file collide), at a stable path so
        # that a restarted worker finds it; beside the chief's, not inside it,
        # since each deletes its own when the run is done.
        backup_dir = f"{os.path.normpath(backup_dir)}-worker-{strategy.cluster_resolver.task_id}"
        # Every worker runs the same program, but only the chief's outputs
        # are kept: the others write to a temporary directory of their own.
        args.logdir = args.export_dir = tempfile.mkdtemp(prefix="keras-gan-worker-")
        atexit.register(remove_tree, args.logdir)
    check_writable_dir(args.logdir, "--logdir")
    if not args.no_export:
        check_writable_dir(args.export_dir, "--export-dir")
    if real.notice:
        print(f"WARNING: {real.notice}", file=sys.stderr, flush=True)
    epochs = args.epochs or math.ceil(DEFAULT_STEPS / steps)

    keras.utils.set_random_seed(args.seed)
    dataset = data.make_dataset(real.images, args.batch_size, args.k, seed=args.seed)
    with strategy.scope():
        generator, discriminator = build_models(args.model, args.latent_dim)
        gan = GAN(
            generator,
            discriminator,
            k=args.k,
            generator_loss=args.generator_loss,
            label_smoothing=args.label_smoothing,
            seed=args.seed,
        )
        gan.compile(
            d_optimizer=default_optimizer(args.learning_rate, args.beta_1, "d_optimizer"),
            g_optimizer=default_optimizer(args.learning_rate, args.beta_1, "g_optimizer"),
            jit_compile=jit_compile,
            steps_per_execution=min(steps_per_execution, steps),
        )
    callbacks = [
        # Restores weights, both optimizers, the noise stream and the epoch
        # from the last backup if there is one; deleted after a finished run.
        keras.callbacks.BackupAndRestore(backup_dir, double_checkpoint=True),
        keras.callbacks.TensorBoard(args.logdir, write_graph=False),
        GANMonitor(
            args.logdir,
            real_images=data.scale_images(real.images[:256]),
            num_images=args.samples,
            seed=args.seed,
            log_every_n_steps=args.log_every_n_steps,
            flags=vars(args),
        ),
    ]

    print(f"data: {real.source}", flush=True)
    print(
        f"model: {args.model} GAN, k={args.k}, batch {args.batch_size} over "
        f"{strategy.num_replicas_in_sync} replica(s), "
        f"{steps} steps/epoch x {epochs} epochs, seed {args.seed}",
        flush=True,
    )
    start = time.perf_counter()
    history = gan.fit(
        dataset.repeat(),
        epochs=epochs,
        steps_per_epoch=steps,
        callbacks=callbacks,
        shuffle=False,  # make_dataset shuffles
        verbose="auto" if args.verbose is None else args.verbose,
    )
    seconds = time.perf_counter() - start

    samples = save_grid_png(
        os.path.join(args.logdir, "samples.png"),
        gan.generate(args.samples, seed=args.seed),
    )
    checkpoint = os.path.join(args.logdir, "gan.keras")
    with atomic_path(checkpoint) as tmp:
        gan.save(tmp)
    export = None if args.no_export else export_generator(generator, args.export_dir)

    total_steps = int(keras.ops.convert_to_numpy(gan.g_optimizer.iterations))
    steps_this_run = len(history.epoch) * steps  # fewer when resumed from a backup
    summary = {
        "data": real.source,
        "fallback": real.notice or None,
        "args": vars(args),
        "epochs": epochs,
        "steps": total_steps,
        "seconds": round(seconds, 2),
        "real_images_per_second": round(
            steps_this_run * args.k * args.batch_size / seconds, 1
        ),
        "final_metrics": {k: float(v[-1]) for k, v in history.history.items()},
        "weights_sha256": weights_digest(gan),
        "samples": samples,
        "checkpoint": checkpoint,
        "export": export,
    }
    with atomic_path(os.path.join(args.logdir, "summary.json")) as tmp:
        with open(tmp, "w") as f:
            json.dump(summary, f, indent=2)
    print(f"trained {steps_this_run} steps in {seconds:.1f} s "
          f"({summary['real_images_per_second']:.0f} real images/s)")
    print(f"weights sha256: {summary['weights_sha256']}")
    if real.notice:
        print(f"NOTE: {real.notice}")
    if not chief:
        print("worker outputs discarded: the chief writes the run's files")
        return summary
    print(f"samples: {samples}")
    print(f"checkpoint: {checkpoint}")
    if export:
        print(f"exported generator: {export}")
    return summary


def weights_digest(gan):
    """SHA-256 of all of the GAN's weights: equal digests, bit-identical models."""
    import hashlib

    import numpy as np

    digest = hashlib.sha256()
    for weight in gan.weights:
        digest.update(np.ascontiguousarray(weight.numpy()).tobytes())
    return digest.hexdigest()


def main(argv=None):
    try:
        args = parse_args(argv)
        if args.summary:
            print_summaries(args)
            return 0
        run(args)
    except UserError as e:
        print(f"train.py: error: {e}", file=sys.stderr)
        return USAGE_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())
