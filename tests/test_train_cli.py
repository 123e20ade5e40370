"""train.py and `python -m keras_gan.export` as a user runs them.

The default recipe's lazy R1 takes XLA off on a CPU without a trial (the
rule in keras_gan/training/compile_settings.py), which is what the
end-to-end and conditional runs here train. Runs with R1 on every update too
short for the trial take its static default, XLA on, which compiles for ~5
CPU-seconds: the tests of what XLA plays no part in (step counts, flags
reaching the GAN, the NaN stop) pass `--jit-compile off`. XLA's own path is
trained in tests/test_compile_settings.py."""

import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import pytest

from conftest import ROOT, quiet_environment, tiny_images, write_idx

import train
from keras_gan.train import TRAINING_FAILED


KILL_AT = os.path.join(ROOT, "tests", "kill_at.py")


def cli_command(argv, evaluate=False, kill_at=None, on_cue=False):
    """train.py's command line; with --no-eval unless `evaluate` (the evaluation
    classifier takes ~35 s to train: only the tests about it pay for it);
    `kill_at`: SIGKILLed at that point, `on_cue`: started on a line on stdin (tests/kill_at.py)."""
    program = [KILL_AT, *(["--on-cue"] if on_cue else []), kill_at] if kill_at else [os.path.join(ROOT, "train.py")]
    return [sys.executable, *program, *argv, *([] if evaluate else ["--no-eval"])]


def cli_environment(env=None, quiet=False):
    """`quiet`: the environment a user has (conftest.quiet_environment), so that
    train.py itself must hide TensorFlow's notices; else TF_CPP_MIN_LOG_LEVEL=3."""
    base = quiet_environment() if quiet else dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return dict(base, **(env or {}))


def run_cli(*argv, env=None, timeout=300, cwd=ROOT, evaluate=False, kill_at=None):
    """train.py in a subprocess, to its end (flags: cli_command's)."""
    return subprocess.run(cli_command(argv, evaluate, kill_at), capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, env=cli_environment(env))


class Started:
    """A train.py process running beside the test (`start_cli`, `cue_cli`):
    `result()` waits for it, bounded, and gives its CompletedProcess; leaving
    the `with` block kills it if it still runs (only this process, by its id)."""

    def __init__(self, command, env, cwd, stdin=None):
        self.outputs = [tempfile.TemporaryFile("w+"), tempfile.TemporaryFile("w+")]
        self.proc = subprocess.Popen(command, stdin=stdin, stdout=self.outputs[0],
                                     stderr=self.outputs[1], text=True, cwd=cwd, env=env)

    def result(self, timeout=300):
        try:
            self.proc.wait(timeout=timeout)
        finally:
            self.stop()
        for f in self.outputs:
            f.seek(0)
        stdout, stderr = (f.read() for f in self.outputs)
        return subprocess.CompletedProcess(self.proc.args, self.proc.returncode, stdout, stderr)

    def run(self, timeout=300):
        """A `cue_cli` process: cue it, then wait for it as `result()` does."""
        self.proc.stdin.write("go\n")
        self.proc.stdin.close()
        return self.result(timeout)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        if self.proc.stdin:
            self.proc.stdin.close()
        for f in self.outputs:
            f.close()


def start_cli(*argv, env=None, cwd=ROOT, evaluate=False, quiet=False):
    """train.py started in a subprocess that runs while the test goes on (two
    cores: one process's start-up overlaps another's work); flags as run_cli's,
    `quiet` as cli_environment's."""
    return Started(cli_command(argv, evaluate), cli_environment(env, quiet), cwd)


def cue_cli(*argv, kill_at="never", env=None, cwd=ROOT):
    """The next run_cli process of a sequence, started now: it imports the
    program (TensorFlow included) while the one before it still runs, then
    waits (tests/kill_at.py --on-cue); `.run()` starts the run and waits for
    it. TensorFlow starts as in train.py (tests/kill_at.py imports it inside
    tensorflow_start), only earlier."""
    return Started(cli_command(argv, kill_at=kill_at, on_cue=True), cli_environment(env), cwd,
                   stdin=subprocess.PIPE)


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--k", "0"], "argument --k: must be >= 1, got 0"),
        (["--batch-size", "0"], "argument --batch-size: must be >= 1, got 0"),
        (["--batch-size", "many"], "argument --batch-size: expected an integer, got 'many'"),
        (["--model", "resnet"], "argument --model: invalid choice: 'resnet'"),
        (["--dataset", "cifar10"], "argument --dataset: invalid choice: 'cifar10'"),
        (["--generator-loss", "hinge"], "argument --generator-loss: invalid choice"),
        (["--label-smoothing", "1"], "argument --label-smoothing: must be < 1.0"),
        (["--learning-rate", "0"], "argument --learning-rate: must be > 0.0"),
        (["--data-dir", "/no/such/dir"], "--data-dir /no/such/dir: no such directory"),
        (["--epochs"], "argument --epochs: expected one argument"),
        (["--strategy", "tpu"], "argument --strategy: invalid choice: 'tpu'"),
        (["--strategy", "multi_worker"], "--strategy multi_worker needs --seed"),
        (["--seed", str(2**32)], "argument --seed: must be <= 2147483647, got 4294967296"),
        (["--seed", "-1"], "argument --seed: must be >= 0, got -1"),
        (["--learning-rate", "inf"], "argument --learning-rate: expected a finite number, got 'inf'"),
        (["--beta-1", "nan"], "argument --beta-1: expected a finite number, got 'nan'"),
        (["--samples", "10001"], "argument --samples: must be <= 10000, got 10001"),
        (["--latent-dim", "100000"], "argument --latent-dim: must be <= 4096, got 100000"),
        (["--augmentation", "blur"], "--augmentation blur: unknown augmentation 'blur'"),
        (["--ema", "1"], "argument --ema: must be < 1.0, got 1"),
        (["--r1-gamma", "-1"], "argument --r1-gamma: must be >= 0.0, got -1"),
        (["--steps", "10", "--epochs", "2"], "--epochs and --steps both set the training length"),
    ],
)
def test_bad_flags_exit_2_with_one_line(argv, message, tmp_path):
    result = run_cli(*argv, "--logdir", str(tmp_path / "run"))
    assert result.returncode == 2
    assert result.stderr.startswith("train.py: error: ")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert message in result.stderr
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("argv,steps_per_epoch", [
    ([], 500),  # the default 7,000 steps: 14 epochs of 500
    (["--steps", "750"], 375),  # 2 equal epochs, not 500 + 250
    (["--steps", "1002"], 334),  # 3 epochs: 1,002 steps
    (["--steps", "1003"], 335),  # 3 epochs: 1,005 steps, two more than asked
    (["--steps", "4"], 4),
    (["--steps", "700", "--steps-per-epoch", "7"], 7),  # given: kept
    (["--epochs", "3"], None),  # --epochs: passes over the data, sized by plan_run
])
def test_a_run_set_by_steps_has_epochs_of_at_most_500_steps(argv, steps_per_epoch, tmp_path):
    """Each epoch ends with grids, a backup and the evaluation: a run's epochs
    are sized by its steps, not by the data (the offline sample's pass is 62
    steps at batch 64), and the size is recorded in run.json's settings."""
    from keras_gan.cli import flags, runs

    args = flags.parse_args([*argv, "--logdir", str(tmp_path / "run"), "--no-eval"])
    assert args.steps_per_epoch == steps_per_epoch
    assert runs.settings_of(args)["steps_per_epoch"] == steps_per_epoch
    if args.steps is not None:
        epochs = -(-args.steps // args.steps_per_epoch)
        assert 0 <= epochs * args.steps_per_epoch - args.steps < epochs


def test_data_errors_exit_2_naming_the_file_and_write_nothing(tmp_path, capsys):
    """In-process (train.main, which train.py returns as its exit code): the
    subprocess contract of one line and exit 2 is test_bad_flags_exit_2_with_one_line's."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    bad = write_idx(data_dir / "train-images-idx3-ubyte.gz", tiny_images(3), magic=0x12345678)
    assert train.main(["--data-dir", str(data_dir), "--logdir", str(tmp_path / "run"),
                       "--export-dir", str(tmp_path / "export"), "--no-eval"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"train.py: error: {bad}: bad magic number 0x12345678, expected 0x00000803 "
        "(IDX 3-D unsigned-byte images)."
    ]
    assert not (tmp_path / "run").exists() and not (tmp_path / "export").exists()


def test_multi_worker_needs_tf_config_and_single_steps(tmp_path, capsys, monkeypatch):
    base = ["--strategy", "multi_worker", "--seed", "1", "--no-eval", "--logdir", str(tmp_path / "run")]
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert train.main(base) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "train.py: error: --strategy multi_worker: TF_CONFIG is not set (see docs/distributed.md)."
    ]
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {"worker": ["127.0.0.1:1"]}, '
                                    '"task": {"type": "worker", "index": 0}}')
    assert train.main(base + ["--steps-per-execution", "4"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--steps-per-execution must be 1 with --strategy multi_worker" in err[0], err
    assert not (tmp_path / "run").exists()


def test_multi_worker_refuses_a_global_batch_the_workers_cannot_share(tmp_path, capsys, monkeypatch):
    """Every worker, before TensorFlow starts: the chief and the workers of
    TF_CONFIG each hold a replica or more, so the batch must divide among them."""
    from keras_gan.cli import flags

    cluster = {"chief": ["127.0.0.1:1"], "worker": ["127.0.0.1:2", "127.0.0.1:3"]}
    for task in ({"type": "chief", "index": 0}, {"type": "worker", "index": 1}):
        monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": task}))
        argv = ["--strategy", "multi_worker", "--seed", "1", "--no-download", "--logdir", str(tmp_path / "run")]
        assert train.main(argv + ["--batch-size", "16"]) == 2
        assert capsys.readouterr().err.strip().splitlines() == [
            "train.py: error: --batch-size 16 is the global batch: it must be divisible by the replicas "
            "in sync, a multiple of the 3 workers in TF_CONFIG."]
        assert flags.parse_args(argv + ["--batch-size", "15"]).batch_size == 15
    assert not (tmp_path / "run").exists()


def test_main_reports_user_errors_in_process(tmp_path, capsys, mnist_dir):
    """The same contract without a subprocess, for errors found after parsing.
    Every output path is checked before training, and none is left behind."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    run = str(tmp_path / "deep" / "run")
    cases = [
        (["--data-dir", mnist_dir, "--split", "train"], "--split 'train': Unknown split 'train'"),
        (["--data-dir", mnist_dir, "--split", "test", "--logdir", str(blocker / "run")],
         f"--logdir {blocker / 'run'}: not writable"),
        (["--data-dir", mnist_dir, "--split", "test", "--backup-dir", str(blocker / "b")],
         f"--backup-dir {blocker / 'b'}: not writable"),
        (["--data-dir", mnist_dir, "--split", "test", "--export-dir", str(blocker / "e")],
         f"--export-dir {blocker / 'e'}: not writable"),
        (["--data-dir", mnist_dir, "--split", "test[:10]", "--batch-size", "8", "--k", "2"],
         "--batch-size 8 x --k 2 = 16 images per step, but MNIST test[:10]: 10 images"),
    ]
    for argv, message in cases:
        argv = ["--logdir", run, "--export-dir", str(tmp_path / "export")] + argv
        assert train.main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err
    assert sorted(os.listdir(tmp_path)) == ["a-file"]  # no run, backup or export folder


def test_exactly_the_steps_asked_for_whatever_steps_per_execution(tmp_path, capsys, mnist_dir):
    """20 steps an epoch, 16 steps per compiled call: 2 x 20 updates, not 2 x 32.
    Rerun with --fresh it trains again to the same weights (same seed, same
    weights); with another seed, to other weights."""
    import keras

    def command(seed, run):
        return ["--model", "mlp", "--data-dir", mnist_dir, "--split", "test", "--k", "2",
                "--epochs", "2", "--steps-per-epoch", "20", "--steps-per-execution", "16",
                "--batch-size", "8", "--seed", str(seed), "--no-export", "--verbose", "0", "--no-eval",
                "--jit-compile", "off", "--logdir", str(tmp_path / run)]

    argv = command(1, "run")
    assert train.main(argv) == 0
    assert "trained 40 steps in" in capsys.readouterr().out
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["steps"] == summary["steps_this_process"] == 40
    gan = keras.saving.load_model(str(tmp_path / "run" / "gan.keras"))
    assert int(gan.g_optimizer.iterations) == 40 and int(gan.d_optimizer.iterations) == 80
    assert not (tmp_path / "run" / "backup").exists()  # a finished run drops its backup

    assert train.main(argv) == 0  # the same command again: finished, nothing to do
    assert "is a finished run" in capsys.readouterr().out
    events = sorted(os.listdir(tmp_path / "run" / "train"))
    (tmp_path / "run" / "samples" / "epoch_099.png").write_bytes(b"an old run's grid")
    assert train.main(argv + ["--fresh"]) == 0  # trains it again, from the start
    assert "trained 40 steps in" in capsys.readouterr().out
    again = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert again["weights_sha256"] == summary["weights_sha256"]
    # ... and TensorBoard sees one run, not the old one's events beside the new.
    assert not set(events) & set(os.listdir(tmp_path / "run" / "train"))
    assert not (tmp_path / "run" / "samples" / "epoch_099.png").exists()

    assert train.main(command(2, "other-seed")) == 0
    other = json.loads((tmp_path / "other-seed" / "summary.json").read_text())
    assert other["steps"] == 40 and other["weights_sha256"] != summary["weights_sha256"]


def test_stabiliser_flags_reach_the_gan_and_the_export_holds_the_averaged_generator(
        tmp_path, capsys, mnist_dir):
    """--augmentation, --r1-gamma, --ema and --lr-schedule linear, end to end:
    the saved GAN has them, both learning rates reached 0 at the last step
    (D's after k times as many updates), and the SavedModel is the averaged G.
    (The MLP: the model family plays no part in any of this.)"""
    import keras
    import tensorflow as tf

    argv = ["--model", "mlp", "--data-dir", mnist_dir, "--split", "test", "--k", "2",
            "--epochs", "2", "--steps-per-epoch", "3", "--batch-size", "8", "--seed", "2",
            "--augmentation", "translation,cutout", "--r1-gamma", "0.5", "--r1-interval", "3", "--ema", "0.5",
            "--lr-schedule", "linear", "--learning-rate", "1e-3", "--verbose", "0", "--no-eval",
            "--jit-compile", "off", "--logdir", str(tmp_path / "run"), "--export-dir", str(tmp_path / "export")]
    assert train.main(argv) == 0
    gan = keras.saving.load_model(str(tmp_path / "run" / "gan.keras"))
    assert gan.augmentation == ("translation", "cutout") and gan.r1_gamma == 0.5 and gan.r1_interval == 3
    assert gan.g_optimizer.use_ema and gan.g_optimizer.ema_momentum == 0.5
    assert int(gan.g_optimizer.iterations) == 6 and int(gan.d_optimizer.iterations) == 12
    assert float(gan.g_optimizer.learning_rate) == float(gan.d_optimizer.learning_rate) == 0.0
    schedule = gan.d_optimizer._learning_rate
    assert float(schedule(6)) == pytest.approx(5e-4)  # halfway through D's 12 updates
    served = tf.saved_model.load(str(tmp_path / "export" / "1")).signatures["serving_default"]
    z = gan.latent_vectors(4, seed=1)
    images = served(z=tf.constant(z))["images"].numpy()
    np.testing.assert_allclose(images, gan.generate(4, seed=1), atol=1e-6)
    raw = keras.ops.convert_to_numpy((gan.generator(z) + 1) / 2)
    assert np.abs(images - raw).max() > 1e-3  # the averaged weights, not G's own


def test_a_nan_stops_training_with_one_line_and_exports_nothing(tmp_path, capsys, mnist_dir):
    argv = ["--model", "mlp", "--data-dir", mnist_dir, "--split", "test", "--learning-rate", "1e30",
            "--epochs", "3", "--steps-per-epoch", "4", "--batch-size", "8", "--seed", "1",
            "--verbose", "0", "--no-eval", "--jit-compile", "off", "--logdir", str(tmp_path / "run"),
            "--export-dir", str(tmp_path / "export")]
    assert train.main(argv) == TRAINING_FAILED == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert re.fullmatch(
        r"train\.py: error: training stopped at step \d+: (d_loss|g_loss|d_loss, g_loss) not finite; "
        r"(no epoch had finished, so there is no backup|the last good backup \(epoch \d\) is kept in .*); "
        r"nothing exported\.", err[0]), err[0]
    assert not (tmp_path / "export").exists()
    assert not (tmp_path / "run" / "summary.json").exists() and not (tmp_path / "run" / "gan.keras").exists()


def test_summary_prints_both_models(capsys):
    for model, totals in (("mlp", ("574,608", "566,273")), ("conv", ("260,737", "93,825"))):
        assert train.main(["--model", model, "--summary"]) == 0
        out = capsys.readouterr().out
        for total in totals:
            assert f"Total params: {total}" in out


@pytest.fixture(scope="module", autouse=True)
def started_ahead(request):
    """Starts this module's train.py processes as the module begins, those
    that a selected test reads: they run on the second core while the
    in-process tests run on the first. Not the end-to-end run: it needs the
    evaluation classifier, which the other pytest-xdist worker may be
    training as the run begins (~35 s, 1.7 of the 2 cores); started here it
    kept this worker waiting for it. It starts when its first test comes,
    after the in-process tests above it."""
    wanted = {name for item in request.session.items if item.module is request.module
              for name in item.fixturenames}
    for name in ("real_training", "real_start"):
        if name in wanted:
            request.getfixturevalue(name)


@pytest.fixture(scope="module")
def real_start():
    """`train.py --model mlp --summary` as a user starts it (no TF_CPP_MIN_LOG_LEVEL:
    train.py hides TensorFlow's notices itself)."""
    with start_cli("--model", "mlp", "--summary", quiet=True) as started:
        yield started


@pytest.fixture(scope="module")
def real_training(tmp_path_factory, mnist_dir):
    """A short conv run as a user starts it: a multi-step step without XLA,
    whose compilation makes grappler log its harmless "remapper failed" error."""
    tmp = tmp_path_factory.mktemp("real-training")
    with start_cli("--model", "conv", "--data-dir", mnist_dir, "--split", "test", "--steps", "4",
                   "--steps-per-epoch", "2", "--batch-size", "8", "--jit-compile", "off", "--seed", "1",
                   "--no-export", "--verbose", "0", "--logdir", str(tmp / "run"), quiet=True) as started:
        yield started


@pytest.fixture(scope="module")
def e2e_started(tmp_path_factory, mnist_dir, evaluation):
    """One real run of train.py on real MNIST digits, as a user runs it, with
    the evaluation (its classifier already trained by the session fixture)."""
    tmp = tmp_path_factory.mktemp("e2e")
    with start_cli(*e2e_args(mnist_dir, tmp), "--classifier-dir", evaluation[2], evaluate=True) as started:
        yield tmp, started


@pytest.fixture(scope="module")
def e2e_run(e2e_started):
    """(its folder, its CompletedProcess): the end-to-end run, finished."""
    tmp, started = e2e_started
    return tmp, started.result()


def e2e_args(mnist_dir, tmp):
    return ["--model", "conv", "--data-dir", mnist_dir, "--split", "test",
            "--epochs", "2", "--steps-per-epoch", "3", "--batch-size", "16",
            "--seed", "7", "--samples", "16", "--verbose", "2",
            "--logdir", str(tmp / "run"), "--export-dir", str(tmp / "export")]


def test_end_to_end_run_writes_samples_checkpoint_and_export(e2e_run):
    from PIL import Image

    tmp, result = e2e_run
    assert result.returncode == 0, result.stderr[-2000:]
    assert "data: MNIST test: 5,000 images from" in result.stdout
    # One split only: its held-out fifth is the evaluation's, and not trained on.
    assert "; 1,000 held out as the evaluation's reference, 4,000 trained on" in result.stdout
    assert "Epoch 2/2" in result.stdout and "d_loss" in result.stdout
    assert ("training: Adam 0.002 (beta_1 0), non-saturating G loss, R1 gamma 1 every 16 D updates, "
            "EMA 0.995 of G's weights for samples and export") in result.stdout  # train.py's recipe
    run = tmp / "run"
    with Image.open(run / "samples.png") as png:
        assert png.format == "PNG" and png.size == (2 * (4 * 30 + 2),) * 2
    summary = json.loads((run / "summary.json").read_text())
    assert summary["steps"] == 6 and summary["fallback"] is None
    assert 0 < summary["seconds"] < summary["wall_seconds"]  # fit, within the whole command
    assert set(summary["final_metrics"]) == {"d_loss", "g_loss", "d_real", "d_fake"}
    assert summary["export"] == str(tmp / "export" / "1")
    assert os.listdir(run / "train")  # TensorBoard event files
    for name in ("progress.gif", "loss_curves.png", "interpolation.png",
                 "samples/epoch_001.png", "samples/epoch_002.png"):
        assert (run / name).is_file(), name
    assert not [n for n in os.listdir(run) if n.startswith(".")]  # no temp leftovers


def test_a_run_records_where_its_seconds_went(e2e_run):
    """summary.json's phases: every phase named, none negative, the training
    steps and the evaluation nonzero (this run trains and evaluates), their
    sum within the whole command; and the same breakdown printed last."""
    from keras_gan.cli.phases import PHASES

    tmp, result = e2e_run
    summary = json.loads((tmp / "run" / "summary.json").read_text())
    phases = summary["phases"]
    assert list(phases) == list(PHASES)
    assert all(seconds >= 0 for seconds in phases.values())
    assert phases["train steps"] > 0 and phases["evaluation"] > 0 and phases["start-up"] > 0
    assert phases["train steps"] + phases["monitoring"] + phases["evaluation"] >= 0.9 * summary["seconds"]
    assert sum(phases.values()) <= summary["wall_seconds"] + 1
    last = result.stdout.strip().splitlines()[-1]
    match = re.fullmatch(r"time: \d+ s in all: start-up \d+ s, .*train steps \d+ s.*; peak memory ([\d,]+) MB", last)
    assert match, last
    # Memory: the peak so far as each phase ended, TensorFlow's ~0.5 GB and more from the start.
    peaks = summary["peak_memory_mb"]
    assert list(peaks) == list(PHASES) and all(peaks[name] >= 300 for name in ("start-up", "train steps", "export"))
    assert peaks["start-up"] <= peaks["train steps"] <= int(match[1].replace(",", ""))


def test_end_to_end_run_is_evaluated_every_epoch_and_at_the_end(e2e_run):
    from tensorboard.backend.event_processing import event_accumulator

    tmp, result = e2e_run
    assert result.returncode == 0, result.stderr[-2000:]
    assert "evaluation classifier: training" not in result.stdout  # the stored one was reused
    evaluation = json.loads((tmp / "run" / "summary.json").read_text())["evaluation"]
    assert evaluation["num_samples"] == 10_000 and "held out" in evaluation["reference"]
    assert evaluation["frechet_distance"] > evaluation["frechet_distance_real_train_vs_reference"] > 0
    assert {"precision", "recall", "density", "coverage"} <= set(evaluation["prdc"])
    assert "parzen" in evaluation and "memorisation" in evaluation
    line = next(l for l in result.stdout.splitlines() if l.startswith("evaluation: "))
    assert f"Fréchet distance {evaluation['frechet_distance']:.2f}" in line
    events = event_accumulator.EventAccumulator(str(tmp / "run" / "train"),
                                                size_guidance={event_accumulator.TENSORS: 0})
    events.Reload()
    for tag in ("eval/frechet_distance", "eval/frechet_ratio_to_real", "eval/modes",
                "eval/precision", "eval/recall", "eval/kl_to_uniform", "eval/recognisable"):
        assert [e.step for e in events.Tensors(tag)] == [0, 1], tag


def test_exported_generator_loads_without_keras_gan_and_matches(e2e_run):
    import keras
    import tensorflow as tf

    tmp, result = e2e_run
    assert result.returncode == 0, result.stderr[-2000:]
    gan = keras.saving.load_model(str(tmp / "run" / "gan.keras"))
    assert int(gan.g_optimizer.iterations) == 6
    served = tf.saved_model.load(str(tmp / "export" / "1")).signatures["serving_default"]
    z = gan.latent_vectors(5, seed=1)
    images = served(z=tf.constant(z))["images"].numpy()
    assert images.shape == (5, 28, 28, 1)
    assert images.min() >= 0.0 and images.max() <= 1.0
    np.testing.assert_allclose(images, gan.generate(5, seed=1), atol=1e-6)


def test_export_command_adds_the_next_version(e2e_run, capsys):
    from keras_gan import export

    tmp, result = e2e_run
    assert result.returncode == 0, result.stderr[-2000:]
    argv = ["--checkpoint", str(tmp / "run" / "gan.keras"), "--export-dir", str(tmp / "export")]
    assert export.main(argv) == 0
    assert capsys.readouterr().out.strip() == str(tmp / "export" / "2")
    assert sorted(os.listdir(tmp / "export")) == ["1", "2"]
    assert export.main(["--checkpoint", str(tmp / "missing.keras")]) == 2
    assert "--checkpoint" in capsys.readouterr().err


NOTICES = [
    b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
    b"I0000 00:00:1795910768.744862    2315 port.cc:153] oneDNN custom operations are on. You may "
    b"see slightly different numerical results.\n",
    b"I0000 00:00:1795910768.745230    2315 cudart_stub.cc:31] Could not find cuda drivers on your "
    b"machine, GPU will not be used.\n",
    b"E0000 00:00:1795910771.390053    2315 cuda_platform.cc:52] failed call to cuInit: INTERNAL: "
    b"CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)\n",
]


def test_start_up_notices_are_hidden_unless_the_user_set_the_log_level(monkeypatch, capfd):
    from keras_gan.common import quiet

    other = b"E0000 00:00:1795910771.5 2315 some_kernel.cc:7] a real error is still shown\n"
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    with quiet.tensorflow_start():
        for line in NOTICES + [other]:
            os.write(2, line)
    assert capfd.readouterr().err == other.decode()
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "2"  # and C++ INFO/WARNING lines from then on

    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")  # the user's choice wins
    with quiet.tensorflow_start():
        for line in NOTICES:
            os.write(2, line)
    assert capfd.readouterr().err == b"".join(NOTICES).decode()


def test_the_programs_start_keras_without_the_packages_they_never_use(monkeypatch):
    """tensorflow_start, which every command starts TensorFlow in, refuses
    scikit-learn, pandas and (on TensorFlow) JAX for its block: Keras then
    starts without its scikit-learn wrappers and pandas input. A package
    imported before is left as it is, and after the block nothing is refused."""
    import importlib

    from keras_gan.common import lean_start, quiet

    assert lean_start.unused_packages("tensorflow") == ("sklearn", "pandas", "jax")
    assert lean_start.unused_packages("jax") == ("sklearn", "pandas")
    pandas = importlib.import_module("pandas")  # Keras imported it in this test process
    monkeypatch.delitem(sys.modules, "sklearn", raising=False)  # as in a fresh process
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    with quiet.tensorflow_start():
        with pytest.raises(ImportError):
            importlib.import_module("sklearn")
        assert importlib.import_module("pandas") is pandas
    assert "sklearn" not in sys.modules  # no marker left behind: a later import would load it


def test_a_real_start_prints_nothing_on_stderr(real_start):
    result = real_start.result()
    assert result.returncode == 0
    assert "Total params: 574,608" in result.stdout
    assert result.stderr == ""


def test_rerunning_a_finished_run_does_nothing_and_other_settings_are_refused(
        e2e_run, capsys, mnist_dir):
    tmp, result = e2e_run
    assert result.returncode == 0, result.stderr[-2000:]
    same = e2e_args(mnist_dir, tmp)
    before = (tmp / "run" / "summary.json").stat().st_mtime_ns
    assert train.main(same) == 0
    out = capsys.readouterr().out
    assert out.strip() == (f"{tmp / 'run'} is a finished run (its summary.json is written): "
                           "nothing to do; --fresh trains it again")
    assert (tmp / "run" / "summary.json").stat().st_mtime_ns == before

    assert train.main(same + ["--k", "2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"train.py: error: --logdir {tmp / 'run'} holds a run with other settings "
                   "(--k 1 there, 2 now); pass another --logdir, or --fresh to start that run over."]


def test_keras_files_load_in_safe_mode(e2e_run):
    import keras

    from keras_gan import GAN

    tmp, result = e2e_run
    assert result.returncode == 0, result.stderr[-2000:]
    gan = keras.saving.load_model(str(tmp / "run" / "gan.keras"), safe_mode=True)
    assert isinstance(gan, GAN)


def test_conditional_run_end_to_end(tmp_path, capsys, mnist_dir, evaluation):
    """--conditional: the labelled data reach a conditional GAN; grids have a
    row per class; the evaluation says how often the class asked for is drawn;
    the export takes labels; TensorBoard has eval/class_accuracy."""
    import keras
    import tensorflow as tf
    from PIL import Image
    from tensorboard.backend.event_processing import event_accumulator

    run, export = tmp_path / "run", tmp_path / "export"
    argv = ["--conditional", "--model", "mlp", "--data-dir", mnist_dir, "--split", "test",
            "--epochs", "2", "--steps-per-epoch", "3", "--batch-size", "16", "--seed", "5",
            "--verbose", "0", "--logdir", str(run), "--export-dir", str(export),
            "--classifier-dir", evaluation[2], "--eval-samples", "1000"]
    assert train.main(argv) == 0
    out = capsys.readouterr().out
    assert "model: conditional mlp GAN, k=1" in out
    gan = keras.saving.load_model(str(run / "gan.keras"))
    assert gan.num_classes == 10 and len(gan.generator.inputs) == 2
    for png in (run / "samples.png", run / "samples" / "epoch_002.png"):
        with Image.open(png) as image:  # --samples defaults to 100 here: 10 x 10, a row per class
            assert image.size == (2 * (10 * 30 + 2),) * 2
    with Image.open(run / "interpolation.png") as image:  # a row per class, 10 steps
        assert image.size == (2 * (10 * 30 + 2),) * 2
    summary = json.loads((run / "summary.json").read_text())
    assert summary["args"]["conditional"] is True and summary["args"]["samples"] == 100
    accuracy = summary["evaluation"]["conditional"]
    per_class = accuracy["per_class_accuracy"]
    assert summary["evaluation"]["num_samples"] == 1000  # --eval-samples
    assert sorted(per_class) == [str(c) for c in range(10)]  # JSON keys; 100 samples each
    assert accuracy["class_accuracy"] == pytest.approx(np.mean(list(per_class.values())), abs=1e-4)
    assert f"requested class in {accuracy['class_accuracy']:.1%}" in out
    loaded = tf.saved_model.load(str(export / "1"))
    assert "sample_class" in loaded.signatures
    images = loaded.signatures["sample_class"](labels=tf.constant([4, 2]), seed=tf.constant(3))["images"]
    np.testing.assert_allclose(images.numpy(), gan.generate(2, seed=3, labels=[4, 2]), atol=1e-6)
    events = event_accumulator.EventAccumulator(str(run / "train"),
                                                size_guidance={event_accumulator.TENSORS: 0})
    events.Reload()
    assert [e.step for e in events.Tensors("eval/class_accuracy")] == [0, 1]


def test_conditional_needs_labels_and_says_so(tmp_path, capsys):
    data_dir = tmp_path / "images-only"
    data_dir.mkdir()
    write_idx(data_dir / "train-images-idx3-ubyte.gz", tiny_images(64))
    argv = ["--conditional", "--data-dir", str(data_dir), "--batch-size", "8", "--no-eval",
            "--logdir", str(tmp_path / "run"), "--export-dir", str(tmp_path / "export")]
    assert train.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"train.py: error: --conditional needs class labels, and MNIST train: 64 images "
                   f"from {data_dir} has none (no *-labels-idx1-ubyte files beside the images)"]
    assert not (tmp_path / "export").exists() and not (tmp_path / "run" / "gan.keras").exists()


def test_data_the_evaluation_cannot_use_is_refused_before_anything_is_written(tmp_path, capsys):
    """A --data-dir without labels, with the evaluation on (the default): one
    line naming the folder, exit 2, and no run directory left behind; with
    --no-eval the same data would train (the labels are the evaluation's)."""
    data_dir = tmp_path / "images-only"
    data_dir.mkdir()
    write_idx(data_dir / "train-images-idx3-ubyte.gz", tiny_images(64))
    argv = ["--data-dir", str(data_dir), "--batch-size", "8", "--classifier-dir", str(tmp_path / "cls"),
            "--logdir", str(tmp_path / "run"), "--export-dir", str(tmp_path / "export")]
    assert train.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"train.py: error: --data-dir {data_dir}: "), err
    assert "label" in err[0]
    for made in ("run", "export", "cls"):
        assert not (tmp_path / made).exists(), made


def test_every_flag_has_a_row_in_the_readmes_flag_table():
    from keras_gan.cli import flags

    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    rows = [line for line in readme.split("### Flags", 1)[1].splitlines() if line.startswith("| `--")]
    documented = {flag for row in rows for flag in re.findall(r"`(--[a-z0-9-]+)", row.split(" | ")[0])}
    offered = {option for action in flags.build_parser()._actions for option in action.option_strings
               if option.startswith("--") and option != "--help"}
    assert offered - documented == set() and documented - offered == set()
    # The recipe's numbers in the default column are the parser's defaults.
    defaults = {action.option_strings[0]: action.default for action in flags.build_parser()._actions}
    defaults["--steps"] = flags.DEFAULT_STEPS  # None in the parser: --epochs may be given instead
    checked = 0
    for row in rows:
        names = re.findall(r"`(--[a-z0-9-]+)", row.split(" | ")[0])
        cell = row.split(" | ")[1].replace(",", "").split()
        numbers = [float(part) for part in cell if re.fullmatch(r"[0-9.e+-]+", part)]
        if len(numbers) == len(names) and all(isinstance(defaults[n], (int, float)) for n in names):
            assert numbers == [float(defaults[n]) for n in names], row
            checked += len(names)
    assert checked >= 7  # --steps, --batch-size, --learning-rate, --beta-1, --r1-gamma, --r1-interval, --ema


def test_summary_prints_the_conditional_models(capsys):
    assert train.main(["--model", "conv", "--conditional", "--summary"]) == 0
    out = capsys.readouterr().out
    for total in ("272,357", "101,953"):
        assert f"Total params: {total}" in out
    assert "label_embedding" in out


def test_the_evaluation_curve_against_training_seconds(e2e_run):
    """keras_gan.evaluation.curves reads the per-epoch evaluation back with the time
    each was measured at, counted from the start of fit."""
    from keras_gan.evaluation import curves as eval_curves

    tmp, result = e2e_run
    assert result.returncode == 0, result.stderr[-2000:]
    seconds, values = eval_curves.curve(str(tmp / "run"))
    summary = json.loads((tmp / "run" / "summary.json").read_text())
    assert len(values) == 2 and 0 < seconds[0] < seconds[1] <= summary["seconds"] + 1.0
    assert all(v > 5.0 for v in values)  # ratios to the floor after 6 steps: far from 1
    assert eval_curves.value_at(seconds, values, seconds[1]) == values[1]
    assert eval_curves.value_at(seconds, values, (seconds[0] + seconds[1]) / 2) == values[0]
    assert eval_curves.value_at(seconds, values, seconds[0] / 2) is None


def test_a_real_training_run_prints_nothing_on_stderr(real_training):
    """Neither TensorFlow's start-up notices (Keras, and so TensorFlow, must
    be imported inside quiet.tensorflow_start) nor grappler's harmless
    "remapper failed" error of a multi-step conv step without XLA."""
    result = real_training.result()
    assert result.returncode == 0, result.stderr
    assert "compile: XLA off, 2 step(s) per call" in result.stdout
    assert result.stderr == ""
