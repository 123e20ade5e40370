"""Export the generator as a versioned SavedModel that TF Serving can load.

Layout (the one TF Serving watches): `<export_dir>/<version>/saved_model.pb`
plus `variables/`, where version is the next integer after those present.
A version is written under a temporary name and renamed into place, so a
server never sees a half-written model and an existing version is never
overwritten.

Signatures (stable names; the SavedModel needs neither Keras nor this package
to load: `tf.saved_model.load(path).signatures[name]`):

- `serving_default`: `z` float32 [None, latent_dim] -> `images` float32
  [None, 28, 28, 1] in [0, 1].
- `sample`: `num_samples` int32 scalar, `seed` int32 scalar -> `images` and
  the `z` used. The same seed gives the same images; the z are exactly those
  of `GAN.generate(num_samples, seed=seed)`. `num_samples` outside
  1..MAX_SAMPLES fails inside the graph with a clear message instead of
  exhausting the server's memory.

A conditional generator (`--conditional`) takes the class too:

- `serving_default`: `z` float32 [None, latent_dim], `labels` int32 [None]
  -> `images`.
- `sample`: as above, with the labels 0, 1, ..., 9, 0, 1, ... (equal shares,
  `GAN.generate`'s default); it returns the `labels` too.
- `sample_class`: `labels` int32 [n], `seed` int32 scalar -> `images` of
  those classes and the `z` used: those of `GAN.generate(n, seed, labels)`.

A label outside 0..9, or labels and z of different lengths, fail inside the
graph with a message that says so.

Command line, for an existing run's `gan.keras`: `python -m keras_gan.export`
(keras_gan/export.py).
"""

import json
import os
import re
import sys

from keras_gan.common.installed import installed
from keras_gan.common.options import MAX_SAMPLES, UserError

VERSION_PATTERN = re.compile(r"^[0-9]+$")


def existing_versions(export_dir):
    """Sorted integer versions already present in `export_dir`."""
    if not os.path.isdir(export_dir):
        return []
    return sorted(int(n) for n in os.listdir(export_dir) if VERSION_PATTERN.match(n))


def next_version(export_dir):
    return (existing_versions(export_dir) or [0])[-1] + 1


def resolve_version(model, flag="--model"):
    """`model` itself if it is a SavedModel, else its newest integer version
    (TF Serving's default policy); UserError naming `flag` otherwise."""
    if os.path.isfile(os.path.join(model, "saved_model.pb")):
        return model
    if not os.path.isdir(model):
        raise UserError(f"{flag} {model}: no such directory.")
    for version in reversed(existing_versions(model)):
        path = os.path.join(model, str(version))
        if os.path.isfile(os.path.join(path, "saved_model.pb")):
            return path
    raise UserError(f"{flag} {model}: neither a SavedModel nor a folder of versions.")


TAG_FILE = os.path.join("assets.extra", "keras_gan.json")


def tagged_version(export_dir, tag):
    """The version under `export_dir` that was exported with `tag`, or None."""
    for version in existing_versions(export_dir):
        path = os.path.join(export_dir, str(version))
        try:
            with open(os.path.join(path, TAG_FILE)) as f:
                if json.load(f).get("tag") == tag:
                    return path
        except (OSError, ValueError):
            continue
    return None


def use_tensorflow_backend():
    """A SavedModel is TensorFlow's: export with Keras on TensorFlow, whatever
    backend trained the GAN (a `.keras` file loads on any of them)."""
    if not installed("tensorflow"):
        raise UserError("exporting for TF Serving needs TensorFlow, which is not installed here "
                        "(pip install -r requirements.txt); the .keras file can be exported on any "
                        "machine that has it: python -m keras_gan.export --checkpoint FILE.")
    if "keras" not in sys.modules:
        os.environ["KERAS_BACKEND"] = "tensorflow"
        return
    check_tensorflow_backend()


def check_tensorflow_backend():
    import keras

    if keras.backend.backend() != "tensorflow":
        raise UserError(
            f"exporting for TF Serving needs Keras on TensorFlow, and this process runs Keras on "
            f"{keras.backend.backend()}: save the GAN (.keras) and run "
            f"python -m keras_gan.export --checkpoint FILE, which switches to TensorFlow itself."
        )


def export_generator(generator, export_dir, tag=None):
    """Write `generator` as the next version under `export_dir`; return its path.

    `tag` (e.g. the weights' digest) is stored in the version's
    `assets.extra/keras_gan.json`, which TF Serving ignores; if a version with
    the same tag exists already, nothing is written and its path is returned,
    so a run that is resumed after its export does not export twice.
    """
    if tag is not None:
        existing = tagged_version(export_dir, tag)
        if existing:
            return existing
    check_tensorflow_backend()
    import keras
    import tensorflow as tf

    from keras_gan.common.files import remove_tree
    from keras_gan.model.gan import to_unit_range

    archive = keras.export.ExportArchive()
    archive.track(generator)
    if len(generator.inputs) == 1:
        _add_endpoints(archive, generator, tf, to_unit_range)
    else:
        _add_conditional_endpoints(archive, generator, tf, to_unit_range)
    os.makedirs(export_dir, exist_ok=True)
    tmp = os.path.join(export_dir, f".tmp-export-{os.getpid()}")
    remove_tree(tmp)
    try:
        archive.write_out(tmp, verbose=False)
        if tag is not None:
            os.makedirs(os.path.join(tmp, os.path.dirname(TAG_FILE)))
            with open(os.path.join(tmp, TAG_FILE), "w") as f:
                json.dump({"tag": tag}, f)
        while True:
            final = os.path.join(export_dir, str(next_version(export_dir)))
            try:
                os.rename(tmp, final)  # refuses to replace a non-empty version
                return final
            except OSError:
                if not os.path.exists(final):
                    raise
                # Another writer took this version number meanwhile: take the next.
    finally:
        remove_tree(tmp)


def _latent_vectors(tf, num_samples, seed, latent_dim):
    """`GAN.latent_vectors(num_samples, seed)`, checked: the same stateless
    draw as keras.random.normal(seed=int), seed s -> [s, 0]."""
    message = f"num_samples must be in 1..{MAX_SAMPLES}"
    checks = [
        tf.debugging.assert_greater_equal(num_samples, 1, message=message),
        tf.debugging.assert_less_equal(num_samples, MAX_SAMPLES, message=message),
    ]
    with tf.control_dependencies(checks):
        return tf.random.stateless_normal(tf.stack([num_samples, latent_dim]), seed=tf.stack([seed, 0]))


def _checked_z(tf, z, latent_dim):
    # Signature wrappers do not always check the rank of their inputs:
    # say what z must be, rather than fail deep inside the generator.
    return tf.ensure_shape(z, [None, latent_dim], name="z_must_be_batch_x_latent_dim")


def _add_endpoints(archive, generator, tf, to_unit_range):
    latent_dim = int(generator.inputs[0].shape[-1])

    def serve(z):
        z = _checked_z(tf, z, latent_dim)
        return {"images": to_unit_range(generator(z, training=False))}

    def sample(num_samples, seed):
        z = _latent_vectors(tf, num_samples, seed, latent_dim)
        return {"images": serve(z)["images"], "z": z}

    archive.add_endpoint("serving_default", serve, input_signature=[
        tf.TensorSpec([None, latent_dim], tf.float32, name="z"),
    ])
    archive.add_endpoint("sample", sample, input_signature=[
        tf.TensorSpec([], tf.int32, name="num_samples"),
        tf.TensorSpec([], tf.int32, name="seed"),
    ])


def _add_conditional_endpoints(archive, generator, tf, to_unit_range):
    latent_dim = int(generator.inputs[0].shape[-1])
    num_classes = generator.get_layer("label_embedding").input_dim

    def serve(z, labels):
        z = _checked_z(tf, z, latent_dim)
        labels = tf.ensure_shape(labels, [None], name="labels_must_be_a_vector")
        message = f"labels must be in 0..{num_classes - 1}"
        checks = [
            tf.debugging.assert_greater_equal(labels, 0, message=message),
            tf.debugging.assert_less(labels, num_classes, message=message),
            tf.debugging.assert_equal(tf.shape(z)[0], tf.shape(labels)[0],
                                      message="z and labels must have the same length"),
        ]
        with tf.control_dependencies(checks):
            images = generator([tf.identity(z), tf.identity(labels)], training=False)
        return {"images": to_unit_range(images)}

    def sample_class(labels, seed):
        z = _latent_vectors(tf, tf.size(labels), seed, latent_dim)
        return {"images": serve(z, labels)["images"], "z": z}

    def sample(num_samples, seed):
        z = _latent_vectors(tf, num_samples, seed, latent_dim)
        labels = tf.range(num_samples) % num_classes  # options.balanced_labels
        return {"images": serve(z, labels)["images"], "z": z, "labels": labels}

    archive.add_endpoint("serving_default", serve, input_signature=[
        tf.TensorSpec([None, latent_dim], tf.float32, name="z"),
        tf.TensorSpec([None], tf.int32, name="labels"),
    ])
    archive.add_endpoint("sample", sample, input_signature=[
        tf.TensorSpec([], tf.int32, name="num_samples"),
        tf.TensorSpec([], tf.int32, name="seed"),
    ])
    archive.add_endpoint("sample_class", sample_class, input_signature=[
        tf.TensorSpec([None], tf.int32, name="labels"),
        tf.TensorSpec([], tf.int32, name="seed"),
    ])


def rest_predict_body(signature_name, inputs, columnar=False):
    """The JSON body of a TF Serving REST `:predict` call, as a dict.

    `inputs` maps input names to values (arrays or scalars) for ONE batch.
    Row form ("instances") lists one object per example and needs every input
    to share the batch dimension; columnar form ("inputs") passes each input
    whole, which is the only form for scalar inputs like `sample`'s.
    """
    import numpy as np

    lists = {name: np.asarray(value).tolist() for name, value in inputs.items()}
    if columnar:
        return {"signature_name": signature_name, "inputs": lists}
    batch = {len(v) for v in lists.values() if isinstance(v, list)}
    if len(batch) != 1 or any(not isinstance(v, list) for v in lists.values()):
        raise ValueError("row form needs inputs that share one batch dimension")
    n = batch.pop()
    instances = [{name: v[i] for name, v in lists.items()} for i in range(n)]
    return {"signature_name": signature_name, "instances": instances}


def export_saved_gan(gan, checkpoint, export_dir, tag):
    """Export `gan`'s sampling generator (saved in `checkpoint`) for TF Serving;
    return the version's path, or None with a NOTE where TensorFlow is absent.

    On TensorFlow this process exports it. On JAX and PyTorch, a TensorFlow
    process does (`python -m keras_gan.export`, Keras on TensorFlow), from the
    `.keras` file: a SavedModel is TensorFlow's."""
    import keras

    if keras.backend.backend() == "tensorflow":
        return export_generator(gan.sampling_generator(), export_dir, tag=tag)
    import subprocess

    if not installed("tensorflow"):
        print(f"NOTE: no TF Serving export: TensorFlow is not installed here; on a machine that has it: "
              f"python -m keras_gan.export --checkpoint {checkpoint}", file=sys.stderr, flush=True)
        return None
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p)
    env = dict(os.environ, KERAS_BACKEND="tensorflow", CUDA_VISIBLE_DEVICES="", PYTHONPATH=path)
    command = [sys.executable, "-m", "keras_gan.export", "--checkpoint", checkpoint,
               "--export-dir", export_dir, "--tag", tag]
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode:
        lines = result.stderr.strip().splitlines() or ["no message"]
        raise UserError(f"exporting {checkpoint} with TensorFlow failed: {lines[-1]}")
    return result.stdout.strip().splitlines()[-1]

