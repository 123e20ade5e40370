"""Regenerate every figure (and the numbers block) of docs/theory.md.

    python -m keras_gan.toy                 # figures into docs/images/theory/
    python -m keras_gan.toy --out DIR --quick
"""

import os
import sys

from keras_gan.common.options import OneLineArgumentParser, UserError
from keras_gan.common.quiet import tensorflow_start

DEFAULT_OUT = os.path.join("docs", "images", "theory")
DEFAULT_DOC = os.path.join("docs", "theory.md")


def main(argv=None):
    parser = OneLineArgumentParser(prog="python -m keras_gan.toy", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=DEFAULT_OUT, help="folder for the PNGs (default: %(default)s)")
    parser.add_argument("--doc", default=DEFAULT_DOC,
                        help="page whose numbers block is rewritten (default: %(default)s; '' for none)")
    parser.add_argument("--quick", action="store_true", help="a tenth of the steps (for tests)")
    try:
        args = parser.parse_args(argv)
        from keras_gan.common.files import check_writable_dir

        check_writable_dir(args.out, "--out")
        if args.doc and not os.path.isfile(args.doc):
            raise UserError(f"--doc {args.doc}: no such file.")
    except UserError as e:
        print(f"python -m keras_gan.toy: error: {e}", file=sys.stderr)
        return 2
    with tensorflow_start():
        from keras_gan.toy import report
    written = report.make_all(args.out, args.doc or None, scale=0.1 if args.quick else 1.0)
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
