"""The evaluation classifier's training, epoch by epoch: what its size and schedule buy.

    .venv/bin/python benchmarks/classifier.py [--widths 24,48 32,64] [--epochs 8 20]
        [--momentum 0.99 0.9] [--data-dir DIR] [--doc docs/evaluation.md]

For each width of the conv blocks, BatchNorm momentum and schedule length, the classifier of
keras_gan/evaluation/classifier.py is built and trained with its own recipe
(`classifier.fit`: same seed, data, augmentation, Adam with cosine decay over
the run), and after every epoch it is scored on the held-out reference images
in inference mode (BatchNorm's moving statistics), as the evaluation uses it.
The row of the shipped widths, momentum and length (classifier.WIDTHS,
BN_MOMENTUM and EPOCHS) is marked; any other is an experiment, not what
train.py trains.

The data are the evaluation's (`reference.load_evaluation_data`): MNIST from
tensorflow-datasets or --data-dir, else the offline 5,000-image sample with a
stratified fifth held out.
"""

import argparse
import datetime
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from keras_gan.common.files import replace_marked_block  # noqa: E402
from keras_gan.common.options import OneLineArgumentParser, UserError  # noqa: E402

DOC_BEGIN = "<!-- classifier schedule: begin -->"
DOC_END = "<!-- classifier schedule: end -->"


def parse_args(argv):
    p = OneLineArgumentParser(prog="benchmarks/classifier.py", description=__doc__.splitlines()[0])
    p.add_argument("--widths", type=widths, nargs="+", default=[(24, 48), (32, 64)],
                   help="filters of the two conv blocks, as A,B (default: 24,48, the shipped ones, and 32,64)")
    p.add_argument("--epochs", type=int, nargs="+", default=[12, 20], help="schedule lengths (default: 12 20)")
    p.add_argument("--momentum", type=float, nargs="+", default=[0.9, 0.99],
                   help="BatchNorm momentum values (default: 0.9, the shipped one, and Keras' default 0.99)")
    p.add_argument("--data-dir", help="MNIST IDX files (default: tensorflow-datasets, else the offline sample)")
    p.add_argument("--doc", help="also write the table into this page's marked block")
    args = p.parse_args(argv)
    for epochs in args.epochs:
        if not 1 <= epochs <= 200:
            raise UserError(f"--epochs {epochs}: expected 1 to 200")
    for momentum in args.momentum:
        if not 0.0 < momentum < 1.0:
            raise UserError(f"--momentum {momentum}: expected a number between 0 and 1")
    if args.doc and not os.path.isfile(args.doc):
        raise UserError(f"--doc {args.doc}: no such file.")
    if args.doc and DOC_BEGIN not in open(args.doc).read():  # said now, not after the training
        raise UserError(f"--doc {args.doc}: no generated block ({DOC_BEGIN} ... {DOC_END}).")
    return args


def widths(text):
    """'24,48' -> (24, 48); a one-line error for anything else."""
    parts = text.split(",")
    if len(parts) != 2 or not all(p.isdigit() and 1 <= int(p) <= 1024 for p in parts):
        raise argparse.ArgumentTypeError(f"expected two filter counts from 1 to 1024 as A,B, got {text!r}")
    return tuple(int(p) for p in parts)


def schedule_run(data, epochs, momentum, filters):
    """{seconds, curve}: held-out inference-mode accuracy after each epoch."""
    import keras

    from keras_gan.evaluation import classifier

    keras.utils.set_random_seed(classifier.SEED)
    model = classifier.build(widths=filters)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = momentum
    scorer = classifier.Classifier(model, {})  # the evaluation's own inference, on the weights being trained
    curve = []
    held_out = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: curve.append(
        scorer.accuracy(data.reference_images, data.reference_labels)))
    start = time.perf_counter()
    classifier.fit(model, data.train_images, data.train_labels, epochs, callbacks=[held_out])
    return {"seconds": time.perf_counter() - start, "curve": curve}


def first_epoch_at(curve, level):
    return next((i + 1 for i, accuracy in enumerate(curve) if accuracy >= level), None)


def markdown(rows, data_source, machine, shipped):
    """The table; the row whose (widths, momentum, epochs) is `shipped` is marked."""
    lines = [
        f"Measured {datetime.date.today().isoformat()} on {machine}; data: {data_source}.",
        "",
        "| conv filters | BatchNorm momentum | epochs | seconds | held-out accuracy at the end | first epoch >= 90% | "
        "first epoch >= 98% | accuracy after each epoch |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        curve = row["curve"]
        reached = [first_epoch_at(curve, level) for level in (0.9, 0.98)]
        lines.append(
            f"| {row['widths'][0]}, {row['widths'][1]} | {row['momentum']:g} | {row['epochs']}"
            f"{' (shipped)' if (tuple(row['widths']), row['momentum'], row['epochs']) == shipped else ''} | "
            f"{row['seconds']:.0f} | {curve[-1]:.1%} | {reached[0] or '-'} | {reached[1] or '-'} | "
            + " ".join(f"{a:.2f}" for a in curve) + " |")
    return "\n".join(lines)


def main(argv=None):
    try:
        args = parse_args(argv)
        from keras_gan.common.quiet import tensorflow_start

        with tensorflow_start():
            from keras_gan.evaluation import reference

        data = reference.load_evaluation_data("mnist", data_dir=args.data_dir, download=False)
    except UserError as e:
        print(f"benchmarks/classifier.py: error: {e}", file=sys.stderr)
        return 2
    rows = []
    for filters in args.widths:
        for momentum in args.momentum:
            for epochs in args.epochs:
                run = schedule_run(data, epochs, momentum, filters)
                rows.append({"widths": filters, "momentum": momentum, "epochs": epochs, **run})
                print(f"filters {filters}, momentum {momentum:g}, {epochs} epochs: "
                      f"{run['curve'][-1]:.1%} in {run['seconds']:.0f} s", file=sys.stderr, flush=True)
    from keras_gan.common.machine import cpu_description

    from keras_gan.evaluation.classifier import BN_MOMENTUM, EPOCHS, WIDTHS

    table = markdown(rows, data.train_source, cpu_description(), shipped=(WIDTHS, BN_MOMENTUM, EPOCHS))
    print(table)
    if args.doc:
        replace_marked_block(args.doc, DOC_BEGIN, DOC_END, table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
