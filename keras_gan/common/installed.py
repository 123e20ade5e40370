"""Whether an optional package can be imported here.

TensorFlow (and with it tensorflow-datasets, TensorBoard's tf.summary and
the TF Serving export) is optional for Keras on JAX and PyTorch."""

import importlib.util


def installed(name):
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a finder that refuses it, a broken install
        return False
