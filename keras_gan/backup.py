"""Per-epoch backups that a killed run resumes from, bit for bit.

Keras' `BackupAndRestore` writes the weights and then, separately, the epoch
number: killed between the two, a run resumes with new weights and an old
epoch and silently trains an epoch twice. Here each backup is one weights
file, written under a temporary name and renamed, and a small pointer file
`backup.json` names it, replaced atomically after the file is complete: at
any instant the pointer names a whole backup.

A backup holds everything the next epoch depends on: both models' weights
(BatchNorm statistics included), both optimizers' state, and every random
state (the noise stream, Dropout); see `GAN.save_own_variables`. With the
data order a function of (seed, epoch) (`keras_gan.data.pipeline`), an epoch
replayed after a resume is the epoch an uninterrupted run trains.
"""

import json
import os

import keras

from keras_gan.files import atomic_path

POINTER = "backup.json"


def last_epoch(backup_dir):
    """Epochs completed in the backup in `backup_dir` (0: no backup)."""
    record = _read_pointer(backup_dir)
    return record["epoch"] if record else 0


def restore(gan, backup_dir):
    """Load the last backup into `gan`; return its epoch count (0: none)."""
    record = _read_pointer(backup_dir)
    if not record:
        return 0
    gan.load_weights(os.path.join(backup_dir, record["weights"]))
    return record["epoch"]


def _read_pointer(backup_dir):
    path = os.path.join(backup_dir, POINTER)
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


class EpochBackup(keras.callbacks.Callback):
    """Back up the model at the end of every epoch (put it last in `callbacks`,
    so that an epoch counts as done only when every other callback is).

    The backups stay until `remove()`: a run removes them once all its outputs
    are written, so a kill after training still resumes without retraining.
    """

    def __init__(self, backup_dir):
        super().__init__()
        self.backup_dir = backup_dir

    def on_epoch_end(self, epoch, logs=None):
        os.makedirs(self.backup_dir, exist_ok=True)
        old = _read_pointer(self.backup_dir)
        name = f"epoch-{epoch + 1:05d}.weights.h5"
        with atomic_path(os.path.join(self.backup_dir, name)) as tmp:
            self.model.save_weights(tmp)
        with atomic_path(os.path.join(self.backup_dir, POINTER)) as tmp:
            with open(tmp, "w") as f:
                json.dump({"epoch": epoch + 1, "weights": name}, f)
        if old and old["weights"] != name:
            os.remove(os.path.join(self.backup_dir, old["weights"]))
