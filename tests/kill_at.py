"""train.py, killed with SIGKILL at a named point: the tests' fault injection,
from outside the shipped code (which has no hook for it).

    python tests/kill_at.py [--on-cue] POINT [train.py flags]

POINT is one of
    step:N            the end of the first compiled call that reaches generator
                      step N (mid-epoch, before that epoch's backup);
    epoch_end:N       epoch N's backup written, epoch N + 1 not begun;
    after_fit         training done, no output written yet;
    after_samples     samples.png written;
    after_checkpoint  gan.keras written;
    after_export      the SavedModel written, summary.json not yet;
    never             no kill: train.py's run as it is.
It wraps the named step of keras_gan/cli (a module attribute the program
looks up when it calls it), then runs keras_gan.train.main as train.py does.

--on-cue: import the program (and so TensorFlow) first, then wait for a line
on stdin before running it. A test starts the next process of a sequence
while the one before still runs, and cues it once that one has ended: the
start-up of one overlaps the work of the other, and each run still begins
from what the run before it left on disk.
"""

import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from keras_gan.common.quiet import tensorflow_start  # noqa: E402

with tensorflow_start():  # TensorFlow and Keras start as in train.py's own run (cli/program.py)
    from keras_gan import train
    from keras_gan.cli import build, outputs, program
    from keras_gan.training.backup import EpochBackup

# The step after which each point kills: (module, function name).
AFTER = {
    "after_fit": (program, "fit"),
    "after_samples": (outputs, "write_samples"),
    "after_checkpoint": (outputs, "write_checkpoint"),
    "after_export": (outputs, "export_generator"),
}


def die():
    os.kill(os.getpid(), signal.SIGKILL)


def kill_after(module, name):
    step = getattr(module, name)

    def step_then_die(*args, **kwargs):
        step(*args, **kwargs)
        die()

    setattr(module, name, step_then_die)


def kill_at_step(n):
    """build_training's callbacks, with one that kills at step n before the backup (last)."""
    build_training = build.build_training

    def with_kill(*args, **kwargs):
        import keras

        gan, dataset, callbacks = build_training(*args, **kwargs)

        def kill_if_reached(batch, logs):
            if int(keras.ops.convert_to_numpy(gan.g_optimizer.iterations)) >= n:
                die()

        callbacks.insert(len(callbacks) - 1, keras.callbacks.LambdaCallback(on_train_batch_end=kill_if_reached))
        return gan, dataset, callbacks

    build.build_training = with_kill


def kill_after_backup(n):
    """EpochBackup (the last callback), killing once epoch n's backup is written."""
    write_backup = EpochBackup.on_epoch_end

    def write_then_die(self, epoch, logs=None):
        write_backup(self, epoch, logs)
        if epoch + 1 == n:
            die()

    EpochBackup.on_epoch_end = write_then_die


def main(point, argv):
    if point.startswith("step:"):
        kill_at_step(int(point[len("step:"):]))
    elif point.startswith("epoch_end:"):
        kill_after_backup(int(point[len("epoch_end:"):]))
    elif point in AFTER:
        kill_after(*AFTER[point])
    elif point != "never":
        sys.exit(f"kill_at.py: unknown point {point!r}; expected step:N, epoch_end:N, never "
                 f"or one of {', '.join(AFTER)}")
    return train.main(argv)


if __name__ == "__main__":
    on_cue = sys.argv[1] == "--on-cue"
    point, argv = sys.argv[1 + on_cue], sys.argv[2 + on_cue:]
    if on_cue and not sys.stdin.readline():
        sys.exit("kill_at.py: stdin closed before the cue")
    sys.exit(main(point, argv))
