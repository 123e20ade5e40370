"""Which real images an evaluation compares against, and which train the classifier.

With a test split (an IDX folder holding t10k files, or tensorflow-datasets),
the classifier trains on the training split and the reference set is the
test split. With one split only (the offline 5,000-image fallback, or a
folder with one IDX file), a fixed, class-stratified fifth of it is held out
as the reference set, and the evaluation says so. The GAN does not train on
those images either (`without_reference`): samples are measured against
digits that neither the classifier nor the GAN has seen.
"""

import dataclasses

import numpy as np

from keras_gan.data import DataError, load_images

HELD_OUT_SHARE = 0.2


@dataclasses.dataclass
class EvaluationData:
    train_images: np.ndarray  # the real training images (classifier, memorisation, floor)
    train_labels: np.ndarray
    reference_images: np.ndarray  # the real images samples are compared with
    reference_labels: np.ndarray
    reference_source: str  # one line each: where the images came from
    train_source: str
    held_out: bool  # True when the reference set was cut from the training images

    @property
    def description(self):
        return f"reference: {self.reference_source}; classifier trained on {self.train_source}"


def _try_split(dataset, split, data_dir, download, tfds_dir):
    try:
        return load_images(dataset, split, data_dir, download, tfds_dir)
    except DataError as e:
        if "Unknown split" in str(e) or "selects no images" in str(e):
            return None
        raise


def _need_labels(real, where):
    if real.labels is None:
        raise DataError(
            f"{where}: the evaluation classifier needs class labels "
            "(train-labels-idx1-ubyte.gz / t10k-labels-idx1-ubyte.gz beside the images)."
        )


def stratified_split(labels, share, seed=0):
    """(kept, held_out) index arrays; `share` of every class held out."""
    rng = np.random.default_rng(seed)
    held = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        held.extend(rng.choice(members, int(round(share * len(members))), replace=False))
    held = np.sort(np.asarray(held, dtype=np.int64))
    kept = np.setdiff1d(np.arange(len(labels)), held)
    return kept, held


def load_evaluation_data(dataset="mnist", data_dir=None, download=True, tfds_dir=None):
    where = f"--data-dir {data_dir}" if data_dir else f"--dataset {dataset}"
    train = _try_split(dataset, "train", data_dir, download, tfds_dir)
    test = _try_split(dataset, "test", data_dir, download, tfds_dir)
    if train is None and test is None:
        raise DataError(f"{where}: neither a train nor a test split to evaluate against.")
    if train is not None and test is not None:
        _need_labels(train, where)
        _need_labels(test, where)
        return EvaluationData(train.images, train.labels, test.images, test.labels,
                              test.source, train.source, held_out=False)
    only = train or test
    _need_labels(only, where)
    kept, held = stratified_split(only.labels, HELD_OUT_SHARE)
    return EvaluationData(
        only.images[kept], only.labels[kept], only.images[held], only.labels[held],
        f"{len(held):,} images held out (stratified, seed 0) from {only.source}, since there "
        "is no other split",
        f"the other {len(kept):,} images of {only.source}",
        held_out=True,
    )


def _rows(images):
    return [image.tobytes() for image in np.ascontiguousarray(images)]


def without_reference(real, data):
    """`real` (a keras_gan.data.Images) less every image of `data`'s reference
    set when that set was cut from the training images (`data.held_out`), so
    that the GAN is never trained on what it is measured against; `real`
    unchanged otherwise. Images are matched by content, so any split syntax
    of the same source works."""
    if data is None or not data.held_out:
        return real
    reference = set(_rows(data.reference_images))
    keep = np.array([row not in reference for row in _rows(real.images)], dtype=bool)
    removed = int((~keep).sum())
    if not removed:
        return real
    held = f"{removed:,} held out as the evaluation's reference, {int(keep.sum()):,} trained on"
    return dataclasses.replace(
        real,
        images=real.images[keep],
        labels=None if real.labels is None else real.labels[keep],
        source=f"{real.source}; {held}",
        notice=f"{real.notice} Of those, {held}." if real.notice else "",
    )


def evaluation_data_or_none(dataset="mnist", data_dir=None, download=True, tfds_dir=None):
    """`load_evaluation_data`, or None where there is nothing to evaluate
    against (no labels, no split): the caller trains on every image then."""
    try:
        return load_evaluation_data(dataset, data_dir, download, tfds_dir)
    except DataError:
        return None
