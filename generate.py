"""Draw samples from an exported generator: no training code, no Keras model.

    python generate.py                                  # newest version in saved_models/generator
    python generate.py --model saved_models/generator/3 --num-samples 100 --seed 7 \\
        --png digits.png --npy digits.npy

Loads the SavedModel with `tf.saved_model.load` and calls its `sample`
signature, exactly as TF Serving would. A folder of versions resolves to its
newest version, as TF Serving's default policy does.
"""

import contextlib
import os
import sys

from keras_gan.export import resolve_version
from keras_gan.files import atomic_path, check_writable_file
from keras_gan.options import OneLineArgumentParser, UserError, check_sample_request
from keras_gan.quiet import tensorflow_start

DEFAULT_MODEL = os.path.join("saved_models", "generator")


def parse_args(argv):
    parser = OneLineArgumentParser(description="Sample images from an exported generator.")
    parser.add_argument("--model", default=DEFAULT_MODEL,
                        help="SavedModel or folder of versions (default: %(default)s)")
    parser.add_argument("--num-samples", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--png", default="samples.png", help="grid image to write")
    parser.add_argument("--npy", help="also write the images [n, 28, 28, 1] in [0, 1]")
    args = parser.parse_args(argv)
    check_sample_request(args.num_samples, args.seed)
    # Both outputs are checked before sampling, and written together below.
    check_writable_file(args.png, "--png")
    if args.npy:
        check_writable_file(args.npy, "--npy")
    return args


def sample(path, num_samples, seed):
    """Images from the export's `sample` signature, as TF Serving would run it."""
    with tensorflow_start():
        import tensorflow as tf

    try:
        signature = tf.saved_model.load(path).signatures["sample"]
    except (OSError, KeyError, ValueError) as e:
        reason = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise UserError(f"--model {path}: cannot load a 'sample' signature ({reason}).") from None
    return signature(
        num_samples=tf.constant(num_samples, tf.int32), seed=tf.constant(seed, tf.int32)
    )["images"].numpy()


def main(argv=None):
    try:
        args = parse_args(argv)
        path = resolve_version(args.model)
        images = sample(path, args.num_samples, args.seed)
        import numpy as np

        from keras_gan.images import save_grid_png

        # All or nothing: both files are complete under temporary names before
        # either is renamed into place.
        with contextlib.ExitStack() as stack:
            png = stack.enter_context(atomic_path(args.png))
            save_grid_png(png, images)
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
