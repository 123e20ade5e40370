"""`--strategy` on JAX and PyTorch, where `tf.distribute` does not exist.

- JAX: `mirrored` (and `auto` with more than one local device) is
  `keras.distribution.DataParallel` over this machine's devices: the
  variables are replicated, each batch is split along its first axis, and
  the jitted step computes on the global arrays, so the GAN trains exactly as
  on one device (its noise, labels and BatchNorm statistics are those of the
  global batch without any of tf.distribute's per-replica care).
- PyTorch: one device.
- `multi_worker` is TensorFlow's `MultiWorkerMirroredStrategy`: refused with
  a message elsewhere.

Each object offers what train.py uses of a tf.distribute strategy:
`scope()`, `num_replicas_in_sync` and `cluster_resolver`.
"""

import contextlib

from keras_gan.common.options import UserError


class OneDevice:
    num_replicas_in_sync = 1
    cluster_resolver = None

    def scope(self):
        return contextlib.nullcontext()


class DataParallel:
    """`keras.distribution.DataParallel` over the local devices (JAX)."""

    cluster_resolver = None

    def __init__(self, devices):
        import keras

        self.distribution = keras.distribution.DataParallel(devices=devices)
        self.num_replicas_in_sync = len(devices)

    def scope(self):
        return self.distribution.scope()


def make(name, backend):
    """The strategy-like object for `--strategy name` on `backend` (jax or torch)."""
    if name == "multi_worker":
        raise UserError(
            f"--strategy multi_worker is TensorFlow's MultiWorkerMirroredStrategy, and Keras runs on "
            f"{backend} here: use KERAS_BACKEND=tensorflow"
            + (", or --strategy mirrored for this machine's devices." if backend == "jax" else ".")
        )
    if backend == "torch":
        if name == "mirrored":
            raise UserError("--strategy mirrored: on PyTorch keras-gan trains on one device; use "
                            "KERAS_BACKEND=jax or tensorflow for several.")
        return OneDevice()
    import jax

    devices = jax.local_devices()
    if name == "mirrored" or (name == "auto" and len(devices) > 1):
        return DataParallel(devices)
    return OneDevice()
