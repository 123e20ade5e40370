"""The same GAN on JAX and PyTorch: the core training tests on each backend,
in their own processes, train.py on each (trained, evaluated, exported,
killed and resumed), and one GAN file moving between all three backends.

Each JAX or PyTorch process is mostly one core's work (imports, tracing,
XLA compiles), so `started_ahead` starts the processes of the selected tests
as the module begins, a few at a time (`WORKERS`), and each test waits for
its own and checks what they did."""

import concurrent.futures
import contextlib
import importlib.util
import json
import os
import re
import subprocess
import sys
import threading

import numpy as np
import pytest

from conftest import ROOT, quiet_environment

OTHER_BACKENDS = ["jax", "torch"]
MISSING = [name for name in OTHER_BACKENDS if importlib.util.find_spec(name) is None]
MULTIBACKEND = os.path.join(ROOT, "tests", "multibackend")
JOB = os.path.join(MULTIBACKEND, "portability_job.py")
TRAIN = os.path.join(ROOT, "train.py")
KILL_AT = os.path.join(ROOT, "tests", "kill_at.py")  # train.py, SIGKILLed at a named point
WITHOUT_TF = os.path.join(MULTIBACKEND, "without_tensorflow.py")
CORES = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
WORKERS = max(1, min(4, len(CORES) or os.cpu_count() or 1))  # processes at a time

# JAX's persistent compilation cache, shared by the JAX processes of this test
# session (under tests/conftest.py's per-session KERAS_GAN_CACHE_DIR): a
# program whose XLA code was compiled before (the step of an uninterrupted run
# in its killed copy, or of two alike GANs in one test) is loaded, not
# compiled again. The size limit turns on its file lock (processes share it).
JAX_CACHE = {
    "JAX_COMPILATION_CACHE_DIR": os.path.join(os.environ["KERAS_GAN_CACHE_DIR"], "jax"),
    "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
    "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0",
    "JAX_COMPILATION_CACHE_MAX_SIZE": str(2 ** 31),
}
# XLA's CPU compiler without its fusion emitters: the JAX core tests took 92
# CPU-s instead of 107 on the developers' machine (the programs are tiny and
# compiled once; compiling is most of their cost). The runs' own numerics are
# compared with runs under the same flags only, and with TensorFlow to 1e-4.
# (TensorFlow's XLA accepts the flag too, and its compiles were no faster.)
XLA_FLAGS = "--xla_cpu_use_fusion_emitters=false"


def needs_other_backends():
    """JAX and PyTorch are pyproject.toml's extras jax and torch (requirements-dev.txt
    has both): without them these tests skip, all on this one line."""
    if MISSING:
        pytest.skip(f"needs the {' and '.join(MISSING)} extra{'s' * (len(MISSING) > 1)}: "
                    f"pip install '.[{','.join(MISSING)}]'")


def run_on(backend, args, timeout=900, extra_xla_flags=(), unoptimised_xla=False):
    """`args` run by Python on `backend`. `unoptimised_xla`: JAX compiles
    at -O0 (JAX_DISABLE_MOST_OPTIMIZATIONS), for the core tests only (their
    programs are tiny and compiled once; one that is not, the fused-steps
    test's, turns the optimisations back on): 42 CPU-s instead of 59 on
    the developers' machine (one process each, side by side, 2026-12-05). train.py's runs keep XLA's optimisations, as
    a user's run does: unoptimised, the conv GAN's steps ran ~5x slower."""
    env = dict(quiet_environment(), KERAS_BACKEND=backend, JAX_PLATFORMS="cpu", TF_CPP_MIN_LOG_LEVEL="3",
               **JAX_CACHE, XLA_FLAGS=" ".join([XLA_FLAGS, *extra_xla_flags]))
    if unoptimised_xla:
        env["JAX_DISABLE_MOST_OPTIMIZATIONS"] = "1"
    with subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as process:
        pin_to_own_core(process.pid)
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def pin_to_own_core(pid):
    """Where the workers of `ahead` take every core (2 here), a process one
    of them starts runs on that worker's core alone: its thread pools
    (XLA's, TensorFlow's, PyTorch's) then take one thread, as on a one-core
    machine, instead of spinning against the other worker's. Measured on 2
    cores: 2 workers unpinned were no faster than 1; pinned, 10% faster."""
    name = threading.current_thread().name
    if name.startswith("backend-process") and 1 < WORKERS == len(CORES):
        with contextlib.suppress(ProcessLookupError):  # it has ended already
            os.sched_setaffinity(pid, {CORES[int(name.rsplit("_", 1)[1]) % len(CORES)]})


def finished(result):
    """`result` (a subprocess.CompletedProcess) if it exited 0, else the test fails with its output."""
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-3000:]
    return result


# ------------------------------------------------------ processes started ahead
# test -> the fixtures whose processes it reads ({backend}: its parameter).
READS = {
    "test_the_core_training_tests_pass_on": ["core_tests_on_{backend}"],
    "test_a_gan_saved_on_any_backend_loads_and_trains_on_the_others": ["portability_runs"],
    "test_data_parallel_on_jax_trains_exactly_as_one_device": ["data_parallel_run"],
    "test_train_py_on_jax_without_tensorflow_trains_evaluates_and_logs": ["uninterrupted_jax_run"],
    "test_train_py_on_pytorch_exports_through_tensorflow": ["uninterrupted_torch_run"],
    "test_a_killed_run_resumes_to_the_same_weights": ["uninterrupted_{backend}_run",
                                                      "killed_and_resumed_{backend}_runs"],
}
# The order they start in: the longest first, but uninterrupted_jax_run after
# the processes that need no evaluation classifier, which this process may
# have to train first (the session fixture `evaluation`), meanwhile.
AHEAD = ["core_tests_on_jax", "portability_runs", "data_parallel_run", "uninterrupted_jax_run",
         "uninterrupted_torch_run", "killed_and_resumed_jax_runs", "killed_and_resumed_torch_runs",
         "core_tests_on_torch"]


def read(request, name):
    """What the processes of fixture `name` (as READS writes it) did, once
    they have ended: a subprocess.CompletedProcess, or a list of them for a
    job of several; with the job's folder first if it has one."""
    backend = request.node.callspec.params.get("backend") if hasattr(request.node, "callspec") else None
    value = request.getfixturevalue(name.format(backend=backend))
    if isinstance(value, tuple):
        folder, future = value
        return folder, future.result()
    return value.result()


@pytest.fixture(scope="module")
def ahead():
    with concurrent.futures.ThreadPoolExecutor(WORKERS, thread_name_prefix="backend-process") as pool:
        yield pool
        pool.shutdown(cancel_futures=True)


@pytest.fixture(scope="module", autouse=True)
def started_ahead(request, ahead):
    """Starts the processes of this module's selected tests, longest first.
    A fixture that fails here (the classifier of `evaluation`, say) fails
    again, as pytest keeps its error, in the tests that read it, and only there."""
    if MISSING:
        return
    wanted = set()
    for item in request.session.items:
        if item.module is request.module:
            backend = item.callspec.params.get("backend") if hasattr(item, "callspec") else None
            wanted.update(name.format(backend=backend) for name in READS.get(item.originalname, ()))
    for name in AHEAD:
        if name in wanted:
            with contextlib.suppress(Exception):
                request.getfixturevalue(name)


def in_order(*processes):
    """One job of processes (functions that run one and return its
    CompletedProcess) run one after another, up to the first that fails."""
    def job():
        results = []
        for process in processes:
            results.append(process())
            if results[-1].returncode not in (0, -9):  # -9: killed, as kill_at.py does
                break
        return results
    return job


# --------------------------------------------------- the core training tests
@pytest.fixture(scope="module")
def core_training_tests():
    """The ids of the tests in tests/multibackend, as pytest collects them for
    TensorFlow (the main run's backend): collected in this process, with the
    folder's own conftest.py only, as the runs on the other backends collect it."""

    class Collected:
        ids = None

        def pytest_collection_finish(self, session):
            self.ids = [item.nodeid for item in session.items]

    collected = Collected()
    code = pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", "--rootdir", ROOT,
                        "--confcutdir", MULTIBACKEND, MULTIBACKEND], plugins=[collected])
    assert code == 0 and collected.ids, code
    assert all(i.startswith("tests/multibackend/") for i in collected.ids), collected.ids
    return collected.ids


def core_tests_on(backend, ahead):
    return ahead.submit(run_on, backend, ["-m", "pytest", "--confcutdir", "tests/multibackend", "-p",
                                          "no:cacheprovider", "-q", "-rA", "-W", "ignore", "tests/multibackend"],
                        unoptimised_xla=True)


@pytest.fixture(scope="module")
def core_tests_on_jax(ahead):
    return core_tests_on("jax", ahead)


@pytest.fixture(scope="module")
def core_tests_on_torch(ahead):
    return core_tests_on("torch", ahead)


@pytest.mark.parametrize("backend", OTHER_BACKENDS)
def test_the_core_training_tests_pass_on(backend, core_training_tests, request):
    """tests/multibackend, which the main run covers on TensorFlow, on `backend`:
    every test TensorFlow collects passes there, by name, and nothing else runs
    (none skipped, deselected or left uncollected)."""
    needs_other_backends()
    expected = core_training_tests
    result = finished(read(request, "core_tests_on_{backend}"))
    summary = result.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"=* ?\d+ passed in [\d.]+s( \(.*\))? ?=*", summary), summary
    assert int(re.search(r"(\d+) passed", summary).group(1)) == len(expected), summary
    passed = re.findall(r"^PASSED (\S+)", result.stdout, re.M)
    assert sorted(passed) == sorted(expected)


# ------------------------------------------------------------------ one file
@pytest.fixture(scope="module")
def portability_runs(ahead, tmp_path_factory):
    """JAX saves; PyTorch loads it and saves its own; JAX loads PyTorch's; and
    `python -m keras_gan.export`, started under JAX, exports JAX's generator."""
    folder = tmp_path_factory.mktemp("portability")
    export = ["-m", "keras_gan.export", "--checkpoint", str(folder / "gan-jax.keras"),
              "--export-dir", str(folder / "export")]
    return folder, ahead.submit(in_order(
        lambda: run_on("jax", [JOB, "save", "agree", str(folder)]),
        lambda: run_on("torch", [JOB, "check", "save", "agree", str(folder)]),
        lambda: run_on("jax", [JOB, "check", str(folder)]),
        lambda: run_on("jax", export),
    ))


def test_a_gan_saved_on_any_backend_loads_and_trains_on_the_others(request):
    """JAX saves; PyTorch loads it and saves its own; JAX loads PyTorch's;
    TensorFlow (this process) loads both; and `python -m keras_gan.export`,
    started under JAX, exports JAX's generator for TF Serving."""
    needs_other_backends()
    import tensorflow as tf

    tmp_path, results = read(request, "portability_runs")
    for result in results:
        finished(result)
    assert len(results) == 4
    folder = str(tmp_path)
    said = [line for result in results[:3] for line in result.stdout.strip().splitlines()]
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
    assert results[3].stdout.strip() == os.path.join(export_dir, "1")
    expected = np.load(os.path.join(folder, "gan-jax.npz"))
    serving = tf.saved_model.load(os.path.join(export_dir, "1")).signatures["serving_default"]
    images = serving(z=tf.constant(expected["z"]))["images"].numpy()
    np.testing.assert_allclose(images, np.clip((expected["averaged"] + 1) / 2, 0, 1), atol=2e-5)


# ------------------------------------------------------------- data parallel
@pytest.fixture(scope="module")
def data_parallel_run(ahead):
    return ahead.submit(run_on, "jax", [os.path.join(MULTIBACKEND, "data_parallel_job.py")],
                        extra_xla_flags=["--xla_force_host_platform_device_count=2"])


def test_data_parallel_on_jax_trains_exactly_as_one_device(request):
    """keras.distribution.DataParallel over two XLA host devices (what
    --strategy mirrored makes on JAX): the same history and weights."""
    needs_other_backends()
    result = finished(read(request, "data_parallel_run"))
    assert result.stdout.strip().splitlines()[-1] == "data parallel over 2 devices: same weights"


# ------------------------------------------------------------------ train.py
def tiny_run(folder, name, *extra):
    return ["--model", "mlp", "--batch-size", "16", "--epochs", "2", "--steps-per-epoch", "3", "--seed", "0",
            "--logdir", str(folder / name), "--export-dir", str(folder / "export"), "--verbose", "0",
            *extra]


def conv_run(folder, name, backend, mnist_dir, *extra):
    """The run that is killed and resumed, and the uninterrupted run it must
    end as: the conv GAN with its Dropout, R1, EMA and DiffAugment, 2 epochs
    of 4 steps (on JAX fused, 2 per call; PyTorch runs one step per call)."""
    fused = ["--steps-per-execution", "2"] if backend == "jax" else []
    return tiny_run(folder, name, "--model", "conv", "--data-dir", mnist_dir, "--split", "test",
                    "--augmentation", "translation,cutout", "--steps-per-epoch", "4", *fused, *extra)


def weights_digest(result):
    return re.search(r"weights sha256: ([0-9a-f]{64})", finished(result).stdout).group(1)


@pytest.fixture(scope="module")
def uninterrupted_jax_run(ahead, tmp_path_factory, mnist_dir, evaluation):
    """train.py's conv run on JAX, as on a machine without TensorFlow, with the
    evaluation. The uninterrupted run of the JAX kill-and-resume test too:
    neither the evaluation (after training) nor TensorFlow's absence may
    change the weights."""
    folder = tmp_path_factory.mktemp("jax_run")
    argv = conv_run(folder, "run", "jax", mnist_dir, "--classifier-dir", evaluation[2], "--eval-samples", "1000")
    return folder, ahead.submit(run_on, "jax", [WITHOUT_TF, TRAIN, *argv])


@pytest.fixture(scope="module")
def uninterrupted_torch_run(ahead, tmp_path_factory, mnist_dir):
    """train.py's conv run on PyTorch, exported through TensorFlow. The
    uninterrupted run of the PyTorch kill-and-resume test too: the export
    (after training) may not change the weights."""
    folder = tmp_path_factory.mktemp("torch_run")
    return folder, ahead.submit(run_on, "torch", [TRAIN, *conv_run(folder, "run", "torch", mnist_dir, "--no-eval")])


def killed_and_resumed(backend, ahead, tmp_path_factory, mnist_dir):
    """`conv_run` SIGKILLed at step 6 (in epoch 2, before its backup), then rerun."""
    argv = conv_run(tmp_path_factory.mktemp(f"killed_{backend}"), "killed", backend, mnist_dir,
                    "--no-eval", "--no-export")
    return ahead.submit(in_order(lambda: run_on(backend, [KILL_AT, "step:6", *argv]),
                                 lambda: run_on(backend, [TRAIN, *argv])))


@pytest.fixture(scope="module")
def killed_and_resumed_jax_runs(ahead, tmp_path_factory, mnist_dir):
    return killed_and_resumed("jax", ahead, tmp_path_factory, mnist_dir)


@pytest.fixture(scope="module")
def killed_and_resumed_torch_runs(ahead, tmp_path_factory, mnist_dir):
    return killed_and_resumed("torch", ahead, tmp_path_factory, mnist_dir)


def test_train_py_on_jax_without_tensorflow_trains_evaluates_and_logs(request):
    """A machine with Keras on JAX and no TensorFlow: the data (IDX), the
    training (fused steps), the evaluation, the pictures and the TensorBoard
    logs all work; only the export is left for a machine that has TensorFlow,
    and a NOTE says so."""
    needs_other_backends()
    from keras_gan.evaluation import curves as eval_curves

    folder, result = read(request, "uninterrupted_jax_run")
    finished(result)
    assert "Keras on jax" in result.stdout
    assert "NOTE: no TF Serving export: TensorFlow is not installed here" in result.stderr
    assert "Traceback" not in result.stderr
    summary = json.load(open(folder / "run" / "summary.json"))
    assert summary["backend"] == "jax" and summary["steps"] == 8 and summary["export"] is None
    assert summary["compile"]["fused_steps"] == 2
    assert summary["evaluation"]["frechet_distance"] > 0 and summary["evaluation"]["num_samples"] == 1000
    assert (folder / "run" / "samples.png").is_file() and (folder / "run" / "gan.keras").is_file()
    seconds, ratios = eval_curves.curve(str(folder / "run"))  # written without tf.summary
    assert len(seconds) >= 1 and np.all(ratios > 0)
    assert not (folder / "export").exists()


def test_train_py_on_pytorch_exports_through_tensorflow(request):
    needs_other_backends()
    import tensorflow as tf

    folder, result = read(request, "uninterrupted_torch_run")
    finished(result)
    summary = json.load(open(folder / "run" / "summary.json"))
    assert summary["backend"] == "torch" and summary["steps"] == 8
    assert summary["export"] == str(folder / "export" / "1")
    serving = tf.saved_model.load(summary["export"]).signatures["serving_default"]
    images = serving(z=tf.zeros((2, 32)))["images"].numpy()
    assert images.shape == (2, 28, 28, 1) and 0 <= images.min() and images.max() <= 1


@pytest.mark.parametrize("backend", OTHER_BACKENDS)
def test_a_killed_run_resumes_to_the_same_weights(backend, request):
    """`conv_run`, killed in epoch 2 and rerun, ends with the weights of the
    uninterrupted run (the NumPy pipeline, the backups and the restored noise
    and Dropout state together)."""
    needs_other_backends()
    reference = weights_digest(read(request, "uninterrupted_{backend}_run")[1])
    killed, resumed = read(request, "killed_and_resumed_{backend}_runs")
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert "resumed from the backup of epoch 1" in resumed.stdout
    assert weights_digest(resumed) == reference


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


def test_the_backends_benchmark_reports_a_contender_it_cannot_build(monkeypatch, capsys):
    """benchmarks/backends.py on a new machine: a contender that cannot be
    built there (a CUDA-only loop on a CPU) or that fails to build is named,
    with why, in the worker's answer and under the table; the others are kept."""
    needs_other_backends()
    import io

    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    import backends

    cells = {"pytorch-loop|cuda graph loop|mlp|8": ["mlp", 8, {"reference": "cuda graph"}],
             "pytorch-loop|eager loop|nope|8": ["nope", 8, {"reference": "eager"}]}
    commands = [{"do": "build", "cells": cells, "recipe": "paper", "seconds": 0.01}, {"do": "quit"}]
    monkeypatch.setattr(sys, "stdin", io.StringIO("".join(json.dumps(c) + "\n" for c in commands)))
    backends.worker()
    answer = json.loads(capsys.readouterr().out)
    assert answer["skipped"] == [
        ["pytorch-loop|cuda graph loop|mlp|8", "the 'cuda graph' variant needs a CUDA device"],
        ["pytorch-loop|eager loop|nope|8", "failed: KeyError: 'nope'"]]
    args = backends.argparse.Namespace(families=["mlp"], batch_sizes=[8], repeats=1, seconds=1.0, recipe="paper")
    rows = [{"backend": "jax", "contender": "1 step/call", "family": "mlp", "batch_size": 8, "images_per_second": 10.0}]
    skipped = {"pytorch-loop, eager loop, nope, 8": "failed: KeyError: 'nope'"}
    table = backends.markdown(rows, {"jax": "a CPU"}, skipped, args, [])
    assert "| mlp | 8 | jax | 1 step/call | 10 | 1.00 |" in table
    assert table.endswith("Not timed: pytorch-loop, eager loop, nope, 8 (failed: KeyError: 'nope').")
