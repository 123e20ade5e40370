"""TFDS split syntax (`train+test`, `train[:10%]`, ...) applied to local splits."""

import numpy as np

from keras_gan.data.idx import DataError


def select_split(split, counts, load, where):
    """What `split` selects from local splits, as a tuple of arrays.

    `counts` maps the available split names to their sizes, `load(name)`
    returns a tuple of that split's arrays (images, and labels where there
    are any), all sliced alike. Parsing and slicing are TFDS' own, so the
    syntax means exactly what it means for `tfds.load`.
    """
    try:
        from tensorflow_datasets.core import splits as tfds_splits
    except ImportError:  # no TFDS (Keras on JAX without TensorFlow): whole splits only
        if split.isidentifier() and split not in counts:
            raise DataError(f"--split {split!r}: Unknown split {split!r}, should be one of "
                            f"{', '.join(counts)} in {where}.") from None
        if split not in counts:
            raise DataError(f"--split {split!r}: without tensorflow-datasets only a whole split "
                            f"({', '.join(counts)}) can be selected in {where}.") from None
        return load(split)

    infos = {
        name: tfds_splits.SplitInfo(
            name=name, shard_lengths=[n], num_bytes=0, filename_template=None
        )
        for name, n in counts.items()
    }
    try:
        instructions = tfds_splits.ReadInstruction.from_spec(split).to_absolute(infos)
    except (ValueError, AssertionError, TypeError) as e:
        lines = str(e).strip().splitlines()
        first_line = (lines[0] if lines else type(e).__name__).rstrip(".")
        raise DataError(f"--split {split!r}: {first_line} in {where}.") from None
    parts = [[a[i.from_ : i.to] for a in load(i.splitname)] for i in instructions]
    arrays = tuple(np.concatenate(column) for column in zip(*parts))
    if len(arrays[0]) == 0:
        raise DataError(f"--split {split!r} selects no images.")
    return arrays
