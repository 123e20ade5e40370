"""The core training tests, run on every Keras backend.

tests/test_backends.py runs this folder with KERAS_BACKEND=jax and =torch,
each in its own process, with `--confcutdir tests/multibackend` so that the
TensorFlow set-up of tests/conftest.py is not loaded (these tests import
neither TensorFlow nor tf.data); the main test run covers TensorFlow.
"""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
