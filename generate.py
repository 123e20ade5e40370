"""Draw samples from an exported generator: no training code, no Keras model.

    python generate.py                                  # newest version in saved_models/generator
    python generate.py --model saved_models/generator/3 --num-samples 100 --seed 7 \\
        --png digits.png --npy digits.npy
    python generate.py --labels 7 --num-samples 16      # a conditional export: sevens
    python generate.py --labels 0-9 --num-samples 100   # a row per class

Loads the SavedModel with `tf.saved_model.load` and calls its `sample`
signature (a conditional export's `sample_class`), exactly as TF Serving
would. A folder of versions resolves to its newest version, as TF Serving's
default policy does. With a conditional export, the images are drawn class
by class in equal shares, one row of the grid per class (all ten classes
unless --labels names some).
"""

import contextlib
import os
import sys

from keras_gan.outputs.saved_model import resolve_version
from keras_gan.common.files import atomic_path, check_writable_file
from keras_gan.common.options import (
    NUM_CLASSES, OneLineArgumentParser, UserError, check_sample_request, parse_labels,
)
from keras_gan.common.quiet import tensorflow_start

DEFAULT_MODEL = os.path.join("saved_models", "generator")


def parse_args(argv):
    parser = OneLineArgumentParser(description="Sample images from an exported generator.")
    parser.add_argument("--model", default=DEFAULT_MODEL,
                        help="SavedModel or folder of versions (default: %(default)s)")
    parser.add_argument("--num-samples", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--png", default="samples.png", help="grid image to write")
    parser.add_argument("--npy", help="also write the images [n, 28, 28, 1] in [0, 1]")
    parser.add_argument("--labels",
                        help="conditional exports: the classes to draw, e.g. 7, 3,5 or 0-9 "
                             "(default: all)")
    args = parser.parse_args(argv)
    check_sample_request(args.num_samples, args.seed)
    if args.labels is not None:
        try:
            args.labels = parse_labels(args.labels)
        except ValueError as e:
            raise UserError(f"--labels {args.labels}: {e}") from None
        if args.num_samples < len(args.labels):
            raise UserError(f"--num-samples {args.num_samples}: fewer than the "
                            f"{len(args.labels)} --labels")
    # Both outputs are checked before sampling, and written together below.
    check_writable_file(args.png, "--png")
    if args.npy:
        check_writable_file(args.npy, "--npy")
    return args


def sample(path, num_samples, seed, labels=None):
    """(images, grid columns) from the export, as TF Serving would run it:
    its `sample` signature, or a conditional export's `sample_class` with
    `labels` (default: every class) in rows of the grid."""
    with tensorflow_start():
        import tensorflow as tf

    from keras_gan.outputs.images import class_rows

    try:
        signatures = tf.saved_model.load(path).signatures
        signatures["sample"]
    except (OSError, KeyError, ValueError) as e:
        reason = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise UserError(f"--model {path}: cannot load a 'sample' signature ({reason}).") from None
    seed = tf.constant(seed, tf.int32)
    if "sample_class" not in signatures:
        if labels is not None:
            raise UserError(f"--labels: {path} is an unconditional generator (no 'sample_class' "
                            "signature); train with --conditional to draw chosen classes")
        return signatures["sample"](num_samples=tf.constant(num_samples, tf.int32),
                                    seed=seed)["images"].numpy(), None
    labels = list(range(NUM_CLASSES)) if labels is None else labels
    rows, cols = class_rows(num_samples, len(labels))
    per_image = tf.constant([labels[row] for row in rows], tf.int32)
    return signatures["sample_class"](labels=per_image, seed=seed)["images"].numpy(), cols


def main(argv=None):
    try:
        args = parse_args(argv)
        path = resolve_version(args.model)
        images, cols = sample(path, args.num_samples, args.seed, args.labels)
        import numpy as np

        from keras_gan.outputs.images import save_grid_png

        # All or nothing: both files are complete under temporary names before
        # either is renamed into place.
        with contextlib.ExitStack() as stack:
            png = stack.enter_context(atomic_path(args.png))
            save_grid_png(png, images, cols=cols)
            if args.npy:
                with open(stack.enter_context(atomic_path(args.npy)), "wb") as f:
                    np.save(f, images)
    except UserError as e:
        print(f"generate.py: error: {e}", file=sys.stderr)
        return 2
    print(f"{args.num_samples} samples from {path} -> {args.png}"
          + (f", {args.npy}" if args.npy else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
