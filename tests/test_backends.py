"""The same GAN on JAX and PyTorch: the core training tests on each backend,
in their own processes, and one GAN file moving between all three backends."""

import os
import re
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, quiet_environment

OTHER_BACKENDS = ["jax", "torch"]
JOB = os.path.join(ROOT, "tests", "multibackend", "portability_job.py")


def run_on(backend, args, timeout=900):
    env = dict(quiet_environment(), KERAS_BACKEND=backend, JAX_PLATFORMS="cpu", TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.parametrize("backend", OTHER_BACKENDS)
def test_the_core_training_tests_pass_on(backend):
    """tests/multibackend, which the main run covers on TensorFlow, on `backend`:
    every test passes, none is skipped."""
    result = run_on(backend, ["-m", "pytest", "--confcutdir", "tests/multibackend", "-p", "no:cacheprovider",
                              "-q", "-W", "ignore", "tests/multibackend"])
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    summary = result.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"\d+ passed in [\d.]+s( \(.*\))?", summary), summary
    assert int(summary.split()[0]) >= 12


def test_a_gan_saved_on_any_backend_loads_and_trains_on_the_others(tmp_path):
    """JAX saves; PyTorch loads it and saves its own; JAX loads PyTorch's;
    TensorFlow (this process) loads both; and `python -m keras_gan.export`,
    started under JAX, exports JAX's generator for TF Serving."""
    import importlib.util

    import tensorflow as tf

    folder = str(tmp_path)
    said = []
    for backend, commands in (("jax", ["save"]), ("torch", ["check", "save"]), ("jax", ["check"])):
        result = run_on(backend, [JOB, *commands, folder])
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        said += result.stdout.strip().splitlines()
    assert said == ["saved jax", "torch checked jax", "saved torch", "jax checked torch"]

    spec = importlib.util.spec_from_file_location("portability_job", JOB)
    job = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(job)
    assert job.check(folder) == ["jax", "torch"]

    export_dir = str(tmp_path / "export")
    result = run_on("jax", ["-m", "keras_gan.export", "--checkpoint", os.path.join(folder, "gan-jax.keras"),
                            "--export-dir", export_dir])
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == os.path.join(export_dir, "1")
    expected = np.load(os.path.join(folder, "gan-jax.npz"))
    serving = tf.saved_model.load(os.path.join(export_dir, "1")).signatures["serving_default"]
    images = serving(z=tf.constant(expected["z"]))["images"].numpy()
    np.testing.assert_allclose(images, np.clip((expected["averaged"] + 1) / 2, 0, 1), atol=2e-5)
