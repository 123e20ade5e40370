"""Per-epoch backups that a killed run resumes from, bit for bit.

Keras' `BackupAndRestore` writes the weights and then, separately, the epoch
number: killed between the two, a run resumes with new weights and an old
epoch and silently trains an epoch twice. Here a backup is one file,
`epoch-NNNNN.weights.h5`, written under a temporary name and renamed: a file
with that name is complete, and its name is the epoch count. The newest two
are kept (see `restore` for why two).

A backup holds everything the next epoch depends on: both models' weights
(BatchNorm statistics included), both optimizers' state, and every random
state (the noise stream, Dropout); see `GAN.save_own_variables`. With the
data order a function of (seed, epoch) (`keras_gan.data.pipeline`), an epoch
replayed after a resume is the epoch an uninterrupted run trains.
"""

import os
import re

import keras

from keras_gan.common.files import atomic_path

BACKUP_NAME = "epoch-{:05d}.weights.h5"
BACKUP_PATTERN = re.compile(r"^epoch-(\d{5})\.weights\.h5$")
KEEP = 2


def backups(backup_dir):
    """{epochs completed: path} of the complete backups in `backup_dir`."""
    if not os.path.isdir(backup_dir):
        return {}
    found = {}
    for name in os.listdir(backup_dir):
        match = BACKUP_PATTERN.match(name)
        if match:
            found[int(match.group(1))] = os.path.join(backup_dir, name)
    return found


def last_epoch(backup_dir):
    """Epochs completed in the newest backup in `backup_dir` (0: none)."""
    return max(backups(backup_dir), default=0)


def restore(gan, backup_dir, strategy=None):
    """Load the newest backup into `gan`; return its epoch count (0: none).

    Under a multi-worker strategy every worker keeps its own backups, and a
    worker killed at the end of an epoch may be one epoch behind the others:
    the workers then agree (one all-reduce) on the newest epoch that all of
    them have -- hence two backups kept.
    """
    from keras_gan.training.distribute import is_multi_worker

    found = backups(backup_dir)
    epoch = max(found, default=0)
    if is_multi_worker(strategy):
        epoch = _newest_common_epoch(strategy, set(found) | {0}, epoch)
    if epoch:
        gan.load_weights(found[epoch])
    return epoch


def _newest_common_epoch(strategy, epochs, newest):
    import tensorflow as tf

    # Two all-reduces (SUM is what every strategy offers): a length that
    # covers every worker's newest epoch, then how many workers hold each epoch.
    size = strategy.reduce(
        tf.distribute.ReduceOp.SUM, strategy.run(lambda: tf.constant(newest + 1)), axis=None
    )
    mask = [1 if e in epochs else 0 for e in range(int(size) + 1)]
    counts = strategy.reduce(
        tf.distribute.ReduceOp.SUM, strategy.run(lambda: tf.constant(mask)), axis=None
    ).numpy()
    return max(e for e, n in enumerate(counts) if n == strategy.num_replicas_in_sync)


class EpochBackup(keras.callbacks.Callback):
    """Back up the model at the end of every epoch (put it last in `callbacks`,
    so that an epoch counts as done only when every other callback is).

    The backups stay until the run removes `backup_dir`, once all its outputs
    are written, so a kill after training still resumes without retraining.
    """

    def __init__(self, backup_dir):
        super().__init__()
        self.backup_dir = backup_dir

    def on_epoch_end(self, epoch, logs=None):
        os.makedirs(self.backup_dir, exist_ok=True)
        with atomic_path(os.path.join(self.backup_dir, BACKUP_NAME.format(epoch + 1))) as tmp:
            self.model.save_weights(tmp)
        found = backups(self.backup_dir)
        for old in sorted(found)[:-KEEP]:
            os.remove(found[old])
