"""Export the generator of a saved GAN (`.keras`) as a SavedModel for TF Serving.

    python -m keras_gan.export --checkpoint logs/RUN/gan.keras \
        --export-dir saved_models/generator

The next version under --export-dir, with the signatures of
keras_gan/outputs/saved_model.py; with EMA, the averaged generator (what the
run itself exported). Bad input: one line on stderr, exit code 2.
"""

import os
import sys

from keras_gan.common.files import check_writable_dir
from keras_gan.common.options import OneLineArgumentParser, UserError
from keras_gan.common.quiet import tensorflow_start
from keras_gan.outputs import saved_model  # no TensorFlow at import


def main(argv=None):
    try:
        print(export_checkpoint(argv))
    except UserError as e:
        print(f"python -m keras_gan.export: error: {e}", file=sys.stderr)
        return 2
    return 0


def export_checkpoint(argv):
    """The command line: load a .keras GAN, export its generator, return the path."""
    parser = OneLineArgumentParser(
        prog="python -m keras_gan.export",
        description="Export the generator of a saved GAN (.keras) for TF Serving.",
    )
    parser.add_argument("--checkpoint", required=True, help="a GAN saved as .keras")
    parser.add_argument("--export-dir", default=os.path.join("saved_models", "generator"))
    parser.add_argument("--tag", help="stored with the version; if a version has this tag "
                                      "already, print its path and write nothing (train.py passes "
                                      "the weights' digest)")
    args = parser.parse_args(argv)
    if not os.path.isfile(args.checkpoint):
        raise UserError(f"--checkpoint {args.checkpoint}: no such file.")
    check_writable_dir(args.export_dir, "--export-dir")
    saved_model.use_tensorflow_backend()
    with tensorflow_start():
        from keras_gan.model.gan import load_checkpoint

    # The generator the run itself would export: with EMA, the averaged weights.
    gan = load_checkpoint(args.checkpoint)
    return saved_model.export_generator(gan.sampling_generator(), args.export_dir, args.tag)


if __name__ == "__main__":
    sys.exit(main())
