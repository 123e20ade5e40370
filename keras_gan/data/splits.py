"""TFDS split syntax (`train+test`, `train[:10%]`, ...) applied to local splits."""

import numpy as np

from keras_gan.data.idx import DataError


def select_split(split, counts, load, where):
    """The images that `split` selects from local splits.

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
    except (ValueError, AssertionError, TypeError) as e:
        lines = str(e).strip().splitlines()
        first_line = (lines[0] if lines else type(e).__name__).rstrip(".")
        raise DataError(f"--split {split!r}: {first_line} in {where}.") from None
    parts = [load(i.splitname)[i.from_ : i.to] for i in instructions]
    images = np.concatenate(parts) if len(parts) > 1 else parts[0]
    if len(images) == 0:
        raise DataError(f"--split {split!r} selects no images.")
    return images
