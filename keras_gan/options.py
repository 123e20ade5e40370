"""The choices the package offers, and its user-error type.

Importable without TensorFlow, so that the command line can check its flags
(and fail fast on a typo) before paying for `import tensorflow`.
"""

MODEL_FAMILIES = ("mlp", "conv")
GENERATOR_LOSSES = ("non_saturating", "minimax")
DATASETS = ("mnist", "fashion_mnist")


class UserError(ValueError):
    """A mistake in the user's flags, files or data. The message is one line
    that names the flag, file or value; command lines print it and exit 2."""
