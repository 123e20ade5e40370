"""IDX image files, the format MNIST and Fashion-MNIST are distributed in.

Layout: a 16-byte big-endian header (magic 0x00000803 = unsigned bytes, 3
dimensions; count; rows; cols), then count * rows * cols pixel bytes. Files
may be gzipped. Every defect -- unreadable, truncated, wrong magic, wrong
image size, a header that promises more or fewer bytes than the file holds --
is a `DataError` whose one-line message names the file.
"""

import gzip
import os
import struct
import zlib

import numpy as np

from keras_gan.common.options import IMAGE_SHAPE, UserError

# The IDX image files of each split, as distributed by LeCun et al. and Zalando.
IDX_IMAGE_FILES = {
    "train": "train-images-idx3-ubyte",
    "test": "t10k-images-idx3-ubyte",
}
IDX_LABEL_FILES = {
    "train": "train-labels-idx1-ubyte",
    "test": "t10k-labels-idx1-ubyte",
}
IDX_IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions
IDX_LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension
HEADER_BYTES = 16
LABEL_HEADER_BYTES = 8


class DataError(UserError):
    """A problem with the user's data or data flags; the message says which."""


def read_idx_header(path):
    """(count, rows, cols) from an IDX image file's 16-byte header."""
    header = _read_bytes(path, limit=HEADER_BYTES)
    if len(header) < HEADER_BYTES:
        raise DataError(f"{path}: truncated IDX file ({len(header)} bytes, no full header).")
    magic, count, rows, cols = struct.unpack(">IIII", header)
    if magic != IDX_IMAGES_MAGIC:
        raise DataError(
            f"{path}: bad magic number 0x{magic:08x}, expected "
            f"0x{IDX_IMAGES_MAGIC:08x} (IDX 3-D unsigned-byte images)."
        )
    if (rows, cols) != IMAGE_SHAPE[:2]:
        raise DataError(
            f"{path}: images are {rows}x{cols}, expected {IMAGE_SHAPE[0]}x{IMAGE_SHAPE[1]}."
        )
    return count, rows, cols


def read_idx_images(path):
    """uint8 images [N, 28, 28, 1] from an IDX image file (gzipped or not)."""
    count, rows, cols = read_idx_header(path)
    data = _read_bytes(path)
    expected = HEADER_BYTES + count * rows * cols
    if len(data) != expected:
        raise DataError(
            f"{path}: wrong size: the header promises {count} images "
            f"({expected} bytes), the file holds {len(data)} bytes."
        )
    if count == 0:
        raise DataError(f"{path}: the file holds no images.")
    pixels = np.frombuffer(data, dtype=np.uint8, offset=HEADER_BYTES)
    return pixels.reshape(count, rows, cols, 1)


def read_idx_labels(path):
    """uint8 labels [N] from an IDX label file (gzipped or not)."""
    data = _read_bytes(path)
    if len(data) < LABEL_HEADER_BYTES:
        raise DataError(f"{path}: truncated IDX file ({len(data)} bytes, no full header).")
    magic, count = struct.unpack(">II", data[:LABEL_HEADER_BYTES])
    if magic != IDX_LABELS_MAGIC:
        raise DataError(
            f"{path}: bad magic number 0x{magic:08x}, expected "
            f"0x{IDX_LABELS_MAGIC:08x} (IDX 1-D unsigned-byte labels)."
        )
    if len(data) != LABEL_HEADER_BYTES + count:
        raise DataError(
            f"{path}: wrong size: the header promises {count} labels, the file holds "
            f"{len(data) - LABEL_HEADER_BYTES}."
        )
    return np.frombuffer(data, dtype=np.uint8, offset=LABEL_HEADER_BYTES).copy()


def _read_bytes(path, limit=-1):
    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            return f.read(limit)
    except (OSError, EOFError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise DataError(f"{path}: cannot read ({reason}).") from None


def find_idx_files(data_dir, kind="images"):
    """{split: path} for the IDX image (or label) files present in `data_dir`."""
    if not os.path.isdir(data_dir):
        raise DataError(f"--data-dir {data_dir}: no such directory.")
    stems = IDX_IMAGE_FILES if kind == "images" else IDX_LABEL_FILES
    found = {}
    for split, stem in stems.items():
        for name in (stem + ".gz", stem):
            path = os.path.join(data_dir, name)
            if os.path.isfile(path):
                found[split] = path
                break
    if not found and kind == "images":
        names = ", ".join(stem + ".gz" for stem in IDX_IMAGE_FILES.values())
        raise DataError(f"--data-dir {data_dir}: no IDX image files ({names}).")
    return found
