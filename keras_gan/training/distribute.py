"""Choosing a `tf.distribute` strategy, and what the GAN needs under one.

`--strategy`:
- `default`: one device (TensorFlow's default strategy).
- `mirrored`: `MirroredStrategy`, synchronous data parallelism over the GPUs
  of one machine (or given devices).
- `multi_worker`: `MultiWorkerMirroredStrategy` over several machines; each
  worker is told the cluster and its own role by `TF_CONFIG`.
- `auto`: `mirrored` when more than one GPU is visible, else `default`.

The batch size is global: each of N replicas trains on batch/N examples, so
the global batch must divide evenly. How the GAN stays exact under N replicas
(loss scaling, noise, BatchNorm) is explained in docs/distributed.md.
"""

import json
import os

from keras_gan.common.options import UserError

STRATEGIES = ("auto", "default", "mirrored", "multi_worker")


def check_tf_config(environ=os.environ):
    """Parse and validate TF_CONFIG for multi-worker training; UserError if unusable."""
    raw = environ.get("TF_CONFIG")
    if not raw:
        raise UserError("--strategy multi_worker: TF_CONFIG is not set (see docs/distributed.md).")
    try:
        config = json.loads(raw)
        workers = config["cluster"]["worker"]
        task = config["task"]
        task_type, index = task["type"], int(task["index"])
    except (ValueError, KeyError, TypeError) as e:
        raise UserError(
            f"--strategy multi_worker: TF_CONFIG is not valid ({type(e).__name__}: {e}); "
            'expected {"cluster": {"worker": [...]}, "task": {"type": ..., "index": ...}}.'
        ) from None
    members = config["cluster"].get(task_type)
    if not isinstance(workers, list) or not workers:
        raise UserError("--strategy multi_worker: TF_CONFIG cluster.worker must list host:port addresses.")
    if not isinstance(members, list) or not 0 <= index < len(members):
        raise UserError(
            f"--strategy multi_worker: TF_CONFIG task {task_type}:{index} is not in the cluster."
        )
    return config


def synchronous_workers(config):
    """How many processes of a TF_CONFIG cluster train in sync (its chief and
    workers); each holds one replica or more."""
    cluster = config["cluster"]
    return len(cluster.get("chief", [])) + len(cluster["worker"])


def mirrored_strategy(devices=None):
    """MirroredStrategy over `devices` (default: all GPUs, else the CPU).

    Without GPUs, TensorFlow 2.21 reduces across CPU replicas with collective
    ops that each replica's thread creates on its own; with k >= 2 and the
    generator's synchronized BatchNorm their creation order, and so their
    pairing, differed between replicas ("Shape mismatch in the collective
    instance"). Reducing through one device has no such pairing to get
    wrong. On GPUs TensorFlow's default (NCCL) is kept.
    """
    import tensorflow as tf

    names = devices or [d.name for d in tf.config.list_logical_devices("GPU")]
    on_gpus = any("GPU" in name.upper() for name in names)
    cross_device_ops = None if on_gpus else tf.distribute.ReductionToOneDevice()
    return tf.distribute.MirroredStrategy(devices, cross_device_ops=cross_device_ops)


def make_strategy(name):
    """The `tf.distribute.Strategy` for a `--strategy` value (on JAX and
    PyTorch, its counterpart from keras_gan/training/keras_distribution.py)."""
    import keras

    if name not in STRATEGIES:
        raise UserError(f"--strategy {name!r}: expected one of {', '.join(STRATEGIES)}.")
    if keras.backend.backend() != "tensorflow":
        from keras_gan.training import keras_distribution

        return keras_distribution.make(name, keras.backend.backend())
    import tensorflow as tf

    if name == "auto":
        name = "mirrored" if len(tf.config.list_logical_devices("GPU")) > 1 else "default"
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return mirrored_strategy()
    check_tf_config()
    return tf.distribute.MultiWorkerMirroredStrategy()


def is_multi_worker(strategy):
    import sys

    tf = sys.modules.get("tensorflow")  # not imported: no tf.distribute strategy either
    return tf is not None and isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def has_gpu():
    """Whether Keras' backend sees a GPU."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return any(d.platform == "gpu" for d in jax.devices())
    if backend == "torch":
        import torch

        return torch.cuda.is_available()
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def check_global_batch(batch_size, strategy):
    replicas = strategy.num_replicas_in_sync
    if batch_size % replicas:
        raise UserError(
            f"--batch-size {batch_size} is the global batch: it must be divisible by the "
            f"{replicas} replicas in sync."
        )


def is_chief(strategy):
    """Whether this process writes the run's outputs: always, except on the
    non-chief workers of a multi-worker cluster (chief: the "chief" task, or
    worker 0 when the cluster has none)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    task_type = getattr(resolver, "task_type", None)
    if not task_type:
        return True
    if task_type == "chief":
        return True
    cluster = resolver.cluster_spec().as_dict()
    return task_type == "worker" and resolver.task_id == 0 and "chief" not in cluster
