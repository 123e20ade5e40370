"""The same GAN on JAX and PyTorch: the core training tests on each backend,
in their own processes, and one GAN file moving between all three backends."""

import importlib.util
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, quiet_environment

OTHER_BACKENDS = ["jax", "torch"]
MISSING = [name for name in OTHER_BACKENDS if importlib.util.find_spec(name) is None]
JOB = os.path.join(ROOT, "tests", "multibackend", "portability_job.py")


def needs_other_backends():
    """JAX and PyTorch are pyproject.toml's extras jax and torch (requirements-dev.txt
    has both): without them these tests skip, all on this one line."""
    if MISSING:
        pytest.skip(f"needs the {' and '.join(MISSING)} extra{'s' * (len(MISSING) > 1)}: "
                    f"pip install '.[{','.join(MISSING)}]'")


def run_on(backend, args, timeout=900, extra_env=None):
    env = dict(quiet_environment(), KERAS_BACKEND=backend, JAX_PLATFORMS="cpu", TF_CPP_MIN_LOG_LEVEL="3",
               **(extra_env or {}))
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def core_training_tests():
    """The ids of the tests in tests/multibackend, as pytest collects them for
    TensorFlow (the main run's backend), in a process of their own."""
    result = run_on("tensorflow", ["-m", "pytest", "--confcutdir", "tests/multibackend", "-p", "no:cacheprovider",
                                   "-q", "--collect-only", "tests/multibackend"], timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    ids = [line for line in result.stdout.splitlines() if line.startswith("tests/multibackend/")]
    assert ids and f"{len(ids)} tests collected" in result.stdout, result.stdout[-2000:]
    return ids


@pytest.mark.parametrize("backend", OTHER_BACKENDS)
def test_the_core_training_tests_pass_on(backend, core_training_tests):
    """tests/multibackend, which the main run covers on TensorFlow, on `backend`:
    every test TensorFlow collects passes there, by name, and nothing else runs
    (none skipped, deselected or left uncollected)."""
    needs_other_backends()
    result = run_on(backend, ["-m", "pytest", "--confcutdir", "tests/multibackend", "-p", "no:cacheprovider",
                              "-q", "-rA", "-W", "ignore", "tests/multibackend"])
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    summary = result.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"=* ?\d+ passed in [\d.]+s( \(.*\))? ?=*", summary), summary
    assert int(re.search(r"(\d+) passed", summary).group(1)) == len(core_training_tests), summary
    passed = re.findall(r"^PASSED (\S+)", result.stdout, re.M)
    assert sorted(passed) == sorted(core_training_tests)


def test_a_gan_saved_on_any_backend_loads_and_trains_on_the_others(tmp_path):
    """JAX saves; PyTorch loads it and saves its own; JAX loads PyTorch's;
    TensorFlow (this process) loads both; and `python -m keras_gan.export`,
    started under JAX, exports JAX's generator for TF Serving."""
    needs_other_backends()
    import tensorflow as tf

    folder = str(tmp_path)
    said = []
    for backend, commands in (("jax", ["save", "agree"]), ("torch", ["check", "save", "agree"]),
                              ("jax", ["check"])):
        result = run_on(backend, [JOB, *commands, folder])
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        said += result.stdout.strip().splitlines()
    assert said == ["saved jax", "agree jax", "torch checked jax", "saved torch", "agree torch",
                    "jax checked torch"]

    spec = importlib.util.spec_from_file_location("portability_job", JOB)
    job = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(job)
    assert job.check(folder) == ["jax", "torch"]

    # The real MLP GAN from the same weights, data and noise: the three
    # backends' losses and weights after 6 steps agree (float32 rounding).
    job.agree(folder)
    runs = {b: np.load(os.path.join(folder, f"agree-{b}.npz")) for b in ("tensorflow", "jax", "torch")}
    reference = runs["tensorflow"]
    assert reference["g_loss"][0] > 0 and len(reference.files) > 10
    for backend in ("jax", "torch"):
        for name in reference.files:
            np.testing.assert_allclose(runs[backend][name], reference[name], rtol=1e-4, atol=1e-5,
                                       err_msg=f"{backend}: {name}")

    export_dir = str(tmp_path / "export")
    result = run_on("jax", ["-m", "keras_gan.export", "--checkpoint", os.path.join(folder, "gan-jax.keras"),
                            "--export-dir", export_dir])
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == os.path.join(export_dir, "1")
    expected = np.load(os.path.join(folder, "gan-jax.npz"))
    serving = tf.saved_model.load(os.path.join(export_dir, "1")).signatures["serving_default"]
    images = serving(z=tf.constant(expected["z"]))["images"].numpy()
    np.testing.assert_allclose(images, np.clip((expected["averaged"] + 1) / 2, 0, 1), atol=2e-5)


def test_data_parallel_on_jax_trains_exactly_as_one_device():
    """keras.distribution.DataParallel over two XLA host devices (what
    --strategy mirrored makes on JAX): the same history and weights."""
    needs_other_backends()
    env_flags = "--xla_force_host_platform_device_count=2"
    result = run_on("jax", [os.path.join(ROOT, "tests", "multibackend", "data_parallel_job.py")],
                    extra_env={"XLA_FLAGS": env_flags})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "data parallel over 2 devices: same weights"


TRAIN = os.path.join(ROOT, "train.py")
KILL_AT = os.path.join(ROOT, "tests", "kill_at.py")  # train.py, SIGKILLed at a named point
WITHOUT_TF = os.path.join(ROOT, "tests", "multibackend", "without_tensorflow.py")


def tiny_run(tmp_path, name, *extra):
    return ["--model", "mlp", "--batch-size", "16", "--epochs", "2", "--steps-per-epoch", "3", "--seed", "0",
            "--logdir", str(tmp_path / name), "--export-dir", str(tmp_path / "export"), "--verbose", "0",
            *extra]


def test_train_py_on_jax_without_tensorflow_trains_evaluates_and_logs(tmp_path, mnist_dir, evaluation):
    """A machine with Keras on JAX and no TensorFlow: the data (IDX), the
    training, the evaluation, the pictures and the TensorBoard logs all work;
    only the export is left for a machine that has TensorFlow, and a NOTE says so."""
    needs_other_backends()
    from keras_gan.evaluation import curves as eval_curves

    argv = tiny_run(tmp_path, "run", "--data-dir", mnist_dir, "--split", "test",
                    "--classifier-dir", evaluation[2])
    result = run_on("jax", [WITHOUT_TF, TRAIN, *argv])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Keras on jax" in result.stdout
    assert "NOTE: no TF Serving export: TensorFlow is not installed here" in result.stderr
    assert "Traceback" not in result.stderr
    summary = json.load(open(tmp_path / "run" / "summary.json"))
    assert summary["backend"] == "jax" and summary["steps"] == 6 and summary["export"] is None
    assert summary["evaluation"]["frechet_distance"] > 0
    assert (tmp_path / "run" / "samples.png").is_file() and (tmp_path / "run" / "gan.keras").is_file()
    seconds, ratios = eval_curves.curve(str(tmp_path / "run"))  # written without tf.summary
    assert len(seconds) >= 1 and np.all(ratios > 0)
    assert not (tmp_path / "export").exists()


def test_train_py_on_pytorch_exports_through_tensorflow(tmp_path, mnist_dir):
    needs_other_backends()
    import tensorflow as tf

    argv = tiny_run(tmp_path, "run", "--data-dir", mnist_dir, "--split", "test", "--no-eval")
    result = run_on("torch", [TRAIN, *argv])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = json.load(open(tmp_path / "run" / "summary.json"))
    assert summary["backend"] == "torch" and summary["steps"] == 6
    assert summary["export"] == str(tmp_path / "export" / "1")
    serving = tf.saved_model.load(summary["export"]).signatures["serving_default"]
    images = serving(z=tf.zeros((2, 32)))["images"].numpy()
    assert images.shape == (2, 28, 28, 1) and 0 <= images.min() and images.max() <= 1


@pytest.mark.parametrize("backend,flags,message", [
    ("jax", ["--strategy", "multi_worker"],
     "--strategy multi_worker is TensorFlow's MultiWorkerMirroredStrategy, and Keras runs on jax here"),
    ("torch", ["--strategy", "mirrored"], "--strategy mirrored: on PyTorch keras-gan trains on one device"),
    ("torch", ["--steps-per-execution", "4"], "--steps-per-execution 4: Keras on PyTorch runs one step per call"),
])
def test_what_a_backend_cannot_do_is_one_line_error(tmp_path, mnist_dir, backend, flags, message):
    needs_other_backends()
    argv = tiny_run(tmp_path, "run", "--data-dir", mnist_dir, "--split", "test", "--no-eval", *flags)
    result = run_on(backend, [TRAIN, *argv])
    assert result.returncode == 2
    lines = [line for line in result.stderr.strip().splitlines() if line.startswith("train.py: error:")]
    assert len(lines) == 1 and message in lines[0], result.stderr[-2000:]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("backend", OTHER_BACKENDS)
def test_a_killed_run_resumes_to_the_same_weights(backend, tmp_path, mnist_dir):
    """The conv GAN with its Dropout, R1, EMA and DiffAugment (on JAX with
    fused steps, 2 per call; PyTorch runs one step per call): killed in epoch 2
    and rerun, it ends with the weights of an uninterrupted run (the NumPy
    pipeline, the backups and the restored noise state together)."""
    needs_other_backends()
    fused = ["--steps-per-execution", "2"] if backend == "jax" else []

    def argv(name):
        return tiny_run(tmp_path, name, "--model", "conv", "--data-dir", mnist_dir, "--split", "test",
                        "--no-eval", "--no-export", "--augmentation", "translation,cutout",
                        "--steps-per-epoch", "4", *fused)

    def digest(result):
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
        return re.search(r"weights sha256: ([0-9a-f]{64})", result.stdout).group(1)

    reference = digest(run_on(backend, [TRAIN, *argv("reference")]))
    killed = run_on(backend, [KILL_AT, "step:6", *argv("killed")])
    assert killed.returncode == -9, killed.stderr[-2000:]
    resumed = run_on(backend, [TRAIN, *argv("killed")])
    assert "resumed from the backup of epoch 1" in resumed.stdout
    assert digest(resumed) == reference


def test_the_backends_page_quotes_the_real_code():
    """Every code block of docs/backends.md marked with a source file is in it, verbatim."""
    page = open(os.path.join(ROOT, "docs", "backends.md")).read()
    blocks = re.findall(r"<!-- code: (\S+) -->\n```python\n(.*?)```", page, re.S)
    assert len(blocks) >= 4
    for path, block in blocks:
        assert block in open(os.path.join(ROOT, path)).read(), (path, block)


def test_the_pytorch_reference_loop_trains_the_same_networks():
    """benchmarks/torch_reference.py (the yardstick of benchmarks/backends.py):
    the same trainable parameter counts as keras_gan.model.networks, and its loop trains."""
    needs_other_backends()
    import torch

    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    import torch_reference

    from keras_gan.model.networks import build_models

    for family, (make_g, make_d) in torch_reference.MODELS.items():
        generator, discriminator = build_models(family)
        for keras_model, torch_model in ((generator, make_g()), (discriminator, make_d())):
            keras_count = sum(int(np.prod(w.shape)) for w in keras_model.trainable_weights)
            assert torch_reference.parameter_count(torch_model) == keras_count, (family, keras_model.name)
    images = np.random.default_rng(0).integers(0, 256, (64, 28, 28, 1), np.uint8)
    loop = torch_reference.TorchLoop("conv", 8, images, "eager", device="cpu")
    before = [p.detach().clone() for p in loop.g.parameters()]
    assert loop.run(2) > 0
    assert all(not torch.equal(a, b) for a, b in zip(before, loop.g.parameters()))
    with pytest.raises(ValueError, match="needs a CUDA device"):
        torch_reference.TorchLoop("mlp", 8, images, "cuda graph", device="cpu")
