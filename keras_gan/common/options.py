"""The choices and constants the package offers, and its user-error type.

Importable without TensorFlow, so that the command line can check its flags
(and fail fast on a typo) before paying for `import tensorflow`. Each
constant is defined here once; modules import it rather than repeat it.
"""

import argparse

MODEL_FAMILIES = ("mlp", "conv")
GENERATOR_LOSSES = ("non_saturating", "minimax")
LR_SCHEDULES = ("constant", "linear")
DATASETS = ("mnist", "fashion_mnist")
AUGMENTATIONS = ("translation", "cutout")  # DiffAugment transforms (keras_gan/model/augment.py)

IMAGE_SHAPE = (28, 28, 1)
LATENT_DIM = 32
NUM_CLASSES = 10  # MNIST's digits, Fashion-MNIST's garments: the labels of --conditional
DEFAULT_LEARNING_RATE = 2e-4
DEFAULT_BETA_1 = 0.5
# Seeds are int32 wherever they travel (TF stateless ops, the exported
# `sample` signature), so every seed the project takes is in 0..MAX_SEED.
MAX_SEED = 2**31 - 1
# The most images one call may generate: a bound on memory per request.
MAX_SAMPLES = 10_000
# The closing evaluation's samples (train.py's --eval-samples, `python -m
# keras_gan.evaluate --num-samples`): docs/evaluation.md's figures are of 10,000.
EVALUATION_SAMPLES = 10_000
# The per-epoch evaluation's samples (TensorBoard's eval/*), at most.
PER_EPOCH_EVALUATION_SAMPLES = 2_000
# The fewest train.py evaluates: KID's subsets and the per-epoch precision and
# recall sets are 1,000 images each (keras_gan/training/quality_monitor.py).
MIN_EVALUATION_SAMPLES = 1_000


def check_sample_request(num_samples, seed):
    """The bounds every command puts on how many images it draws, and from which seed."""
    if not 1 <= num_samples <= MAX_SAMPLES:
        raise UserError(f"--num-samples {num_samples}: expected 1..{MAX_SAMPLES}.")
    if not 0 <= seed <= MAX_SEED:
        raise UserError(f"--seed {seed}: expected 0..{MAX_SEED}.")


def balanced_labels(n, num_classes=NUM_CLASSES):
    """n class labels in equal shares, 0, 1, ..., num_classes - 1, 0, 1, ...: what a
    conditional generator draws when no labels are asked for."""
    import numpy as np

    return np.arange(n, dtype=np.int32) % num_classes


def parse_labels(text, num_classes=NUM_CLASSES):
    """"3" -> [3]; "0,4,7" -> [0, 4, 7]; "0-9" -> [0, ..., 9]. ValueError naming
    the part that is not a label in 0..num_classes-1."""
    labels = []
    for part in text.split(","):
        first, dash, last = part.strip().partition("-")
        try:
            span = range(int(first), int(last) + 1) if dash else [int(first)]
        except ValueError:
            raise ValueError(f"{part.strip()!r} is not a label or a range a-b") from None
        for label in span:
            if not 0 <= label < num_classes:
                raise ValueError(f"label {label} is outside 0..{num_classes - 1}")
        if not span:
            raise ValueError(f"the range {part.strip()!r} is empty")
        labels.extend(span)
    return labels


def parse_augmentation(text):
    """"translation,cutout" -> ("translation", "cutout"); "none" or "" -> ().
    ValueError naming the unknown or repeated part for anything else."""
    if text in (None, "", "none"):
        return ()
    parts = tuple(part.strip() for part in text.split(","))
    for part in parts:
        if part not in AUGMENTATIONS:
            raise ValueError(f"unknown augmentation {part!r}: expected none or a "
                             f"comma-separated list of {', '.join(AUGMENTATIONS)}")
    if len(set(parts)) != len(parts):
        raise ValueError(f"augmentation {text!r} names a transform twice")
    return parts


class UserError(ValueError):
    """A mistake in the user's flags, files or data. The message is one line
    that names the flag, file or value; command lines print it and exit 2."""


class NonFiniteLoss(RuntimeError):
    """Training produced a NaN/Inf loss; the message names the step and loss.
    Not the user's typo, but reported the same way: one line, non-zero exit."""


class OneLineArgumentParser(argparse.ArgumentParser):
    """argparse that raises UserError instead of printing usage and exiting,
    so that every user mistake is reported the same way: one line, exit 2."""

    def error(self, message):
        raise UserError(message)
