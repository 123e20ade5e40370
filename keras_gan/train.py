"""Train a GAN (Goodfellow et al. 2014) on MNIST with `model.fit`, then export it.

    python train.py                       # conv GAN on MNIST, defaults that give digits
    python -m keras_gan.train --model mlp --k 2
    python train.py --model conv --summary

Writes into the run directory (--logdir): TensorBoard logs, `samples.png`,
`samples/epoch_NNN.png`, `progress.gif`, `loss_curves.png`, `interpolation.png`,
`gan.keras` (the whole GAN, both optimizers included) and `summary.json`; and
the generator as the next version under --export-dir for TF Serving.
Bad flags or data: one line on stderr naming the problem, exit code 2.
The program's steps are in keras_gan/cli/ (program.py runs them in order).
"""

import sys
import time

PROCESS_START = time.monotonic()  # summary.json's wall_seconds: the whole command

from keras_gan.cli import flags, program, report  # noqa: E402  (no TensorFlow yet)
from keras_gan.common.options import NonFiniteLoss, UserError  # noqa: E402
from keras_gan.training import compile_settings  # noqa: E402

USAGE_ERROR = 2
TRAINING_FAILED = 1


def main(argv=None):
    """Parse the flags, run, and return the exit code: 0, USAGE_ERROR or TRAINING_FAILED."""
    try:
        args = flags.parse_args(argv)
        if args.summary:
            program.print_summaries(args)
            return 0
        compile_settings.enable_xla_cache()  # in effect where TensorFlow starts after this
        program.run(args, PROCESS_START)
    except UserError as e:
        print(f"train.py: error: {e}", file=sys.stderr)
        return USAGE_ERROR
    except NonFiniteLoss as e:
        print(f"train.py: error: training stopped at {e}; {report.backup_note(args)}; "
              "nothing exported.", file=sys.stderr)
        return TRAINING_FAILED
    return 0


if __name__ == "__main__":
    sys.exit(main())
