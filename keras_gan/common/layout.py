"""The names inside a run directory, defined once for every layer that reads or writes one.

Training writes these (keras_gan/training, keras_gan/cli); evaluation and the
experiments read them back (keras_gan/evaluation/curves.py). Keeping them
here, below both, lets neither import the other for a file name.
"""

SETTINGS_FILE = "run.json"  # the flags that decide the run's result (resuming checks them)
FINISHED_FILE = "summary.json"  # written last: its presence marks the run finished
TENSORBOARD_DIR = "train"  # the run's TensorBoard events
SAMPLES_DIR = "samples"  # a sample grid per epoch
PER_EPOCH_OUTPUTS = (TENSORBOARD_DIR, SAMPLES_DIR)  # what --fresh removes with the backups
# The compile settings the run chose (XLA, steps per call), kept so that a
# resumed run compiles as its first part did, whatever the cache says now.
COMPILE_FILE = "compile.json"
