"""What train.py cannot do on the current Keras backend is refused in one line
(TensorFlow here; JAX and PyTorch through tests/test_backends.py, which runs
this folder on each): `keras_gan.train.main`, the function train.py runs,
returns the usage error's exit code 2 and writes exactly one
"train.py: error:" line naming the problem, with no exception escaping it
(which in train.py would be a traceback)."""

import gzip
import os
import struct

import keras
import numpy as np
import pytest

from keras_gan import train
from keras_gan.common.options import IMAGE_SHAPE

# backend -> [(flags, the message of their one-line error)]
CANNOT = {
    "jax": [
        (["--strategy", "multi_worker"],
         "--strategy multi_worker is TensorFlow's MultiWorkerMirroredStrategy, and Keras runs on jax here"),
    ],
    "torch": [
        (["--strategy", "mirrored"], "--strategy mirrored: on PyTorch keras-gan trains on one device"),
        (["--steps-per-execution", "4"], "--steps-per-execution 4: Keras on PyTorch runs one step per call"),
    ],
    # TensorFlow can, given a cluster: without TF_CONFIG it says so.
    "tensorflow": [
        (["--strategy", "multi_worker"], "--strategy multi_worker: TF_CONFIG is not set"),
    ],
}


def write_test_split(folder, n=64):
    """MNIST's test-split IDX image file (no labels) of n random digits."""
    images = np.random.default_rng(0).integers(0, 256, (n, *IMAGE_SHAPE[:2]), dtype=np.uint8)
    with gzip.open(os.path.join(folder, "t10k-images-idx3-ubyte.gz"), "wb") as f:
        f.write(struct.pack(">IIII", 0x00000803, n, *IMAGE_SHAPE[:2]) + images.tobytes())


@pytest.fixture
def environment_kept(monkeypatch):
    """os.environ as it was, after the test: train.main sets variables for
    the processes it would start (TF_XLA_FLAGS), which a test keeps to itself."""
    monkeypatch.delenv("TF_CONFIG", raising=False)
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


def test_what_this_backend_cannot_do_is_a_one_line_error(tmp_path, capsys, environment_kept):
    write_test_split(tmp_path)
    cases = CANNOT[keras.backend.backend()]
    assert cases
    for i, (flags, message) in enumerate(cases):
        argv = ["--model", "mlp", "--batch-size", "16", "--epochs", "2", "--steps-per-epoch", "3",
                "--seed", "0", "--logdir", str(tmp_path / f"run{i}"), "--export-dir", str(tmp_path / "export"),
                "--verbose", "0", "--data-dir", str(tmp_path), "--split", "test", "--no-eval", *flags]
        code = train.main(argv)
        err = capsys.readouterr().err
        assert code == train.USAGE_ERROR == 2, err[-2000:]
        lines = [line for line in err.strip().splitlines() if line.startswith("train.py: error:")]
        assert len(lines) == 1 and message in lines[0], err[-2000:]
        assert not (tmp_path / f"run{i}").exists() and not (tmp_path / "export").exists()
