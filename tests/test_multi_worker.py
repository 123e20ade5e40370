"""MultiWorkerMirroredStrategy with two real worker processes on 127.0.0.1."""

import json
import os
import re
import subprocess
import sys
import time

import pytest


from conftest import ROOT, free_port
from keras_gan.training.backup import last_epoch


def run_cluster(command, tmp_path, timeout=300, extra_env=None):
    """Start one process per worker with its TF_CONFIG; wait, bounded; kill only ours."""
    cluster = {"worker": [f"127.0.0.1:{free_port()}" for _ in range(2)]}
    procs, logs = [], []
    try:
        for index in range(2):
            env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **(extra_env or {}), TF_CONFIG=json.dumps(
                {"cluster": cluster, "task": {"type": "worker", "index": index}}))
            log = open(tmp_path / f"worker{index}.log", "w+")
            logs.append(log)
            procs.append(subprocess.Popen(command(index), stdout=log, stderr=subprocess.STDOUT,
                                          env=env, cwd=ROOT))
        for proc in procs:
            proc.wait(timeout=timeout)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    outputs = []
    for log in logs:
        log.seek(0)
        outputs.append(log.read())
        log.close()
    return [p.returncode for p in procs], outputs


def mlp_worker(mnist_dir, tmp_path, seed, epochs, steps, *flags, kill_at=None):
    """Each worker's command: a small MLP run under multi_worker, the same on
    every worker; `kill_at`: SIGKILLed at that point (tests/kill_at.py)."""
    program = [os.path.join(ROOT, "tests", "kill_at.py"), kill_at] if kill_at else [os.path.join(ROOT, "train.py")]
    return lambda index: [
        sys.executable, *program, "--strategy", "multi_worker", "--model", "mlp",
        "--seed", str(seed), "--data-dir", mnist_dir, "--split", "test[:1024]", "--batch-size", "16",
        "--epochs", str(epochs), "--steps-per-epoch", str(steps), "--verbose", "2",
        "--logdir", str(tmp_path / "run"), *flags]


SEED, EPOCHS, STEPS = 5, 4, 2  # the uninterrupted run, and the killed one it is compared with


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, mnist_dir):
    """(run directory's parent, outputs) of a two-worker run that nothing interrupts."""
    tmp_path = tmp_path_factory.mktemp("cluster")
    command = mlp_worker(mnist_dir, tmp_path, SEED, EPOCHS, STEPS, "--samples", "4",
                         "--export-dir", str(tmp_path / "export"))
    codes, outputs = run_cluster(command, tmp_path)
    assert codes == [0, 0], outputs[0][-3000:] + outputs[1][-3000:]
    return tmp_path, outputs


def test_two_workers_train_identically_and_only_the_chief_writes(uninterrupted):
    tmp_path, outputs = uninterrupted
    digests = [re.search(r"weights sha256: ([0-9a-f]{64})", out).group(1) for out in outputs]
    assert digests[0] == digests[1]
    assert "replica(s)" in outputs[0] and "over 2 replica(s)" in outputs[0]
    assert "exported generator: " in outputs[0]
    assert "worker outputs discarded" in outputs[1]
    assert sorted(os.listdir(tmp_path / "export")) == ["1"]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["weights_sha256"] == digests[0]
    assert summary["steps"] == EPOCHS * STEPS


def test_each_example_is_seen_once_per_epoch_across_workers(tmp_path):
    codes, outputs = run_cluster(
        lambda index: [sys.executable, os.path.join(ROOT, "tests", "shard_job.py"),
                       str(tmp_path / f"seen{index}.json")],
        tmp_path,
    )
    assert codes == [0, 0], outputs[0][-3000:] + outputs[1][-3000:]
    seen = [json.loads((tmp_path / f"seen{i}.json").read_text()) for i in range(2)]
    assert all(len(batches) == 6 and all(len(b) == 4 for b in batches) for batches in seen)
    flat = [set(i for b in batches for i in b) for batches in seen]
    assert not flat[0] & flat[1]
    assert flat[0] | flat[1] == set(range(48))


def test_killed_worker_resumes_from_the_last_backup(tmp_path, mnist_dir):
    """Kill one worker mid-run, restart both with the same command: training
    continues from the last per-epoch backup instead of starting over."""
    epochs, steps = 30, 2
    command = mlp_worker(mnist_dir, tmp_path, 4, epochs, steps, "--samples", "4", "--no-export")

    cluster = {"worker": [f"127.0.0.1:{free_port()}" for _ in range(2)]}
    envs = [dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", TF_CONFIG=json.dumps(
        {"cluster": cluster, "task": {"type": "worker", "index": i}})) for i in range(2)]
    backups = [tmp_path / "run" / "backup", tmp_path / "run" / "backup-worker-1"]
    first = [subprocess.Popen(command(i), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env=envs[i], cwd=ROOT) for i in range(2)]
    try:
        deadline = time.monotonic() + 240
        while not all(last_epoch(str(b)) for b in backups):
            assert time.monotonic() < deadline, "no backup was written"
            assert all(p.poll() is None for p in first), "a worker ended before its first backup"
            time.sleep(0.2)
        first[1].kill()  # one worker dies mid-run ...
        first[1].wait()
    finally:
        for proc in first:  # ... and the other, blocked on it, is stopped too
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    codes, outputs = run_cluster(command, tmp_path)
    assert codes == [0, 0], outputs[0][-3000:] + outputs[1][-3000:]
    resumed_at = [int(m) for m in re.findall(rf"Epoch (\d+)/{epochs}", outputs[0])]
    assert resumed_at[0] > 1 and resumed_at[-1] == epochs
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["steps"] == epochs * steps  # the generator's update count, restored
    assert not any(b.exists() for b in backups)  # a finished run removes its backups


def test_global_batch_not_divisible_by_replicas_exits_2_on_every_worker(tmp_path):
    def command(index):
        return [sys.executable, os.path.join(ROOT, "train.py"), "--strategy", "multi_worker",
                "--seed", "1", "--batch-size", "15", "--no-download", "--logdir", str(tmp_path / "run")]

    codes, outputs = run_cluster(command, tmp_path, timeout=120)
    assert codes == [2, 2]
    for out in outputs:
        assert out.strip().splitlines()[-1] == (
            "train.py: error: --batch-size 15 is the global batch: it must be divisible by the "
            "2 replicas in sync."
        )
    assert not (tmp_path / "run").exists()


def test_workers_whose_backups_differ_by_an_epoch_agree_on_where_to_resume(tmp_path, mnist_dir,
                                                                        uninterrupted):
    """A worker killed while writing its last backup is one epoch behind the
    others: all resume from the newest epoch every worker has, and end with
    the weights of the uninterrupted run."""
    epochs, steps = EPOCHS, STEPS
    command = mlp_worker(mnist_dir, tmp_path, SEED, epochs, steps, "--samples", "4", "--no-export")
    killed = mlp_worker(mnist_dir, tmp_path, SEED, epochs, steps, "--samples", "4", "--no-export",
                        kill_at="after_fit")

    backups = [tmp_path / "run" / "backup", tmp_path / "run" / "backup-worker-1"]
    codes, outputs = run_cluster(killed, tmp_path)
    assert codes == [-9, -9], outputs
    assert [last_epoch(str(b)) for b in backups] == [epochs, epochs]
    os.remove(backups[1] / f"epoch-{epochs:05d}.weights.h5")  # worker 1 lost its last one

    codes, outputs = run_cluster(command, tmp_path)
    assert codes == [0, 0], outputs[0][-3000:] + outputs[1][-3000:]
    for out in outputs:
        assert f"resumed from the backup of epoch {epochs - 1}" in out
        assert f"trained {steps} steps" in out
    digests = [re.search(r"weights sha256: ([0-9a-f]{64})", out).group(1) for out in outputs]
    assert digests[0] == digests[1]
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["steps"] == epochs * steps
    reference = json.loads((uninterrupted[0] / "run" / "summary.json").read_text())["weights_sha256"]
    assert digests[0] == reference
