"""Killed at any point and rerun with the same command, a run ends bit-identical
to an uninterrupted one (tests/kill_at.py sends the SIGKILL, from outside the shipped code)."""

import json
import os
import re
import signal

import pytest
from PIL import Image

from test_train_cli import run_cli

EPOCHS, STEPS = 3, 7


def command(mnist_dir, tmp, name):
    # conv: its D has Dropout, whose random state must be restored too;
    # 7 steps an epoch in calls of 3 steps: epochs end mid-call. train.py's
    # default R1 and EMA, plus augmentation and a schedule: their state too.
    return ["--model", "conv", "--data-dir", mnist_dir, "--split", "test", "--batch-size", "16",
            "--augmentation", "translation,cutout", "--lr-schedule", "linear",
            "--epochs", str(EPOCHS), "--steps-per-epoch", str(STEPS), "--steps-per-execution", "3",
            "--seed", "2", "--samples", "9", "--verbose", "2",
            "--logdir", str(tmp / name), "--export-dir", str(tmp / f"export-{name}")]


def digest(result):
    assert result.returncode == 0, result.stderr[-3000:]
    return re.search(r"weights sha256: ([0-9a-f]{64})", result.stdout).group(1)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, mnist_dir):
    tmp = tmp_path_factory.mktemp("resume")
    result = run_cli(*command(mnist_dir, tmp, "reference"))
    summary = json.loads((tmp / "reference" / "summary.json").read_text())
    return tmp, digest(result), summary


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


def test_a_run_killed_at_every_point_in_turn_ends_bit_identical(uninterrupted, mnist_dir):
    """SIGKILL at each point in turn, the same command again each time: the
    run ends with the weights, metrics and files of an uninterrupted run."""
    tmp, reference, reference_summary = uninterrupted
    argv = command(mnist_dir, tmp, "killed")
    run = tmp / "killed"
    for point, resumed_from in KILL_POINTS:
        killed = run_cli(*argv, kill_at=point)
        assert killed.returncode == -signal.SIGKILL, (point, killed.stderr[-2000:])
        assert not (run / "summary.json").exists(), point
        if resumed_from:
            assert resumed_from in killed.stdout, (point, killed.stdout[-2000:])
        else:
            assert "resumed from" not in killed.stdout, point

    resumed = run_cli(*argv)
    assert digest(resumed) == reference
    assert "resumed from the backup of epoch 3" in resumed.stdout
    assert "training was already complete" in resumed.stdout
    summary = json.loads((run / "summary.json").read_text())
    assert summary["steps"] == EPOCHS * STEPS
    assert summary["final_metrics"] == reference_summary["final_metrics"]
    # One export, though a killed process had already written it.
    assert os.listdir(tmp / "export-killed") == ["1"]
    assert not (run / "backup").exists()
    # The monitoring files cover the whole run, not only the last process.
    with Image.open(run / "progress.gif") as gif:
        assert gif.n_frames == EPOCHS
    history = json.loads((run / "history.json").read_text())
    assert all(len(values) == EPOCHS for values in history.values())


def test_the_readme_command_resumes_the_newest_unfinished_run(tmp_path):
    """No --logdir and no --seed, as in the README: a rerun finds the killed
    run under logs/ by its settings, says so, and takes its seed."""
    argv = ["--model", "mlp", "--no-download", "--epochs", "2", "--steps-per-epoch", "2",
            "--no-export", "--verbose", "0"]
    env = {"TFDS_DATA_DIR": str(tmp_path / "tfds")}
    killed = run_cli(*argv, cwd=str(tmp_path), env=env, kill_at="after_fit")
    assert killed.returncode == -signal.SIGKILL
    (run_name,) = os.listdir(tmp_path / "logs")
    seed = json.loads((tmp_path / "logs" / run_name / "run.json").read_text())["seed"]

    other = run_cli(*argv, "--k", "2", cwd=str(tmp_path), env=env)  # other settings: a new run
    assert other.returncode == 0, other.stderr[-2000:]
    assert "resuming" not in other.stdout
    assert len(os.listdir(tmp_path / "logs")) == 2

    resumed = run_cli(*argv, cwd=str(tmp_path), env=env)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    first_line = resumed.stdout.splitlines()[0]
    assert first_line == (f"resuming the unfinished run {os.path.join('logs', run_name)} "
                          "(same settings; --fresh starts a new run)")
    assert "training was already complete" in resumed.stdout
    summary = json.loads((tmp_path / "logs" / run_name / "summary.json").read_text())
    assert summary["args"]["seed"] == seed
    assert len(os.listdir(tmp_path / "logs")) == 2


def test_the_same_command_with_logdir_and_no_seed_resumes_after_sigkill(tmp_path, mnist_dir):
    """The common way to name a run: --logdir DIR, no --seed. Killed and run
    again with the very same command, it resumes with the seed it drew, to
    the weights of an uninterrupted run with that seed."""
    argv = ["--model", "mlp", "--data-dir", mnist_dir, "--split", "test", "--batch-size", "16",
            "--epochs", "2", "--steps-per-epoch", "3", "--no-export", "--verbose", "0",
            "--logdir", str(tmp_path / "named")]
    killed = run_cli(*argv, kill_at="step:4")
    assert killed.returncode == -signal.SIGKILL
    seed = json.loads((tmp_path / "named" / "run.json").read_text())["seed"]

    resumed = run_cli(*argv)
    assert "resumed from the backup of epoch 1" in resumed.stdout, resumed.stderr[-2000:]
    assert json.loads((tmp_path / "named" / "summary.json").read_text())["args"]["seed"] == seed
    reference = run_cli(*argv[:-1], str(tmp_path / "reference"), "--seed", str(seed))
    assert digest(resumed) == digest(reference)


def test_run_json_written_before_newer_flags_still_matches(tmp_path):
    """Such a run trained 5,000 steps without stabilisers: it resumes under the
    flags that say so, and is refused under any others."""
    from keras_gan.cli import runs
    from keras_gan.common.options import UserError

    old = {"model": "conv", "k": 1, "epochs": None, "seed": 3}
    (tmp_path / "run.json").write_text(json.dumps(old))
    now = dict(old, steps=5000, augmentation="none", r1_gamma=0.0, ema=0.0, lr_schedule="constant",
               conditional=False, mixed_precision=False)
    runs.check_same_run(str(tmp_path), now)
    for changed in ({"steps": 15000}, {"ema": 0.999}, {"augmentation": "translation"},
                    {"conditional": True}, {"mixed_precision": True}):
        with pytest.raises(UserError, match="--" + next(iter(changed)).replace("_", "-")):
            runs.check_same_run(str(tmp_path), dict(now, **changed))
    (tmp_path / "run.json").write_text(json.dumps(dict(old, epochs=4)))
    runs.check_same_run(str(tmp_path), dict(now, epochs=4, steps=None))
    # Written after --steps but before --conditional: an unconditional run.
    (tmp_path / "run.json").write_text(json.dumps(dict(old, steps=12000)))
    runs.check_same_run(str(tmp_path), dict(now, steps=12000))
    with pytest.raises(UserError, match="--conditional False there, True now"):
        runs.check_same_run(str(tmp_path), dict(now, steps=12000, conditional=True))
