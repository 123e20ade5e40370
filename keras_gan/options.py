"""The choices the package offers, and its user-error type.

Importable without TensorFlow, so that the command line can check its flags
(and fail fast on a typo) before paying for `import tensorflow`.
"""

import argparse

MODEL_FAMILIES = ("mlp", "conv")
GENERATOR_LOSSES = ("non_saturating", "minimax")
DATASETS = ("mnist", "fashion_mnist")


class UserError(ValueError):
    """A mistake in the user's flags, files or data. The message is one line
    that names the flag, file or value; command lines print it and exit 2."""


class OneLineArgumentParser(argparse.ArgumentParser):
    """argparse that raises UserError instead of printing usage and exiting,
    so that every user mistake is reported the same way: one line, exit 2."""

    def error(self, message):
        raise UserError(message)
