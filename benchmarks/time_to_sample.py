"""Where the README's main command spends its time and memory, start to export.

    .venv/bin/python benchmarks/time_to_sample.py [--runs-dir DIR] [-- TRAIN.PY FLAGS]

Runs `train.py` (by default exactly as the README's main command does, plus
`--logdir` in a fresh temporary run directory and `--export-dir` beside it)
in a child process, and prints: the wall time of the whole command, its
peak resident memory (the child's ru_maxrss), and the phases train.py
recorded in summary.json (`phases`: start-up, data, classifier, compile
trial, build, train steps, monitoring, evaluation, outputs, export). With
`--json OUT` the same as JSON. The classifier and compile-trial caches are
the user's own (~/.cache/keras-gan, saved_models/classifier): run it twice to
see a first and a later run.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from keras_gan.common.machine import cpu_description  # noqa: E402


def run_train(flags, run_dir):
    """(wall seconds, peak RSS in MB, summary.json) of one train.py run."""
    command = [sys.executable, os.path.join(ROOT, "train.py"), *flags,
               "--logdir", os.path.join(run_dir, "run"), "--export-dir", os.path.join(run_dir, "export")]
    start = time.monotonic()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    seconds = time.monotonic() - start
    if result.returncode:
        tail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise SystemExit(f"time_to_sample.py: train.py failed: {tail}")
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # Linux: KiB
    with open(os.path.join(run_dir, "run", "summary.json")) as f:
        return seconds, peak_mb, json.load(f)


def report(flags, seconds, peak_mb, summary):
    lines = [f"machine: {cpu_description()}",
             f"command: train.py {' '.join(flags)}".rstrip(),
             f"wall time, start to export: {seconds:.0f} s; peak RSS {peak_mb:,.0f} MB; "
             f"{summary['steps']:,} steps at {summary['real_images_per_second'] or 0:,.0f} real images/s",
             "| phase | seconds | share |", "| --- | --- | --- |"]
    lines += [f"| {name} | {value:.1f} | {value / seconds:.0%} |" for name, value in summary["phases"].items()]
    return "\n".join(lines)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    split = argv.index("--") if "--" in argv else len(argv)
    ours, flags = argv[:split], argv[split + 1:]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs-dir", help="keep the run here (default: a temporary folder, removed)")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args(ours)
    with tempfile.TemporaryDirectory(prefix="time-to-sample-") as tmp:
        run_dir = args.runs_dir or tmp
        seconds, peak_mb, summary = run_train(flags, run_dir)
    print(report(flags, seconds, peak_mb, summary))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": cpu_description(), "flags": flags, "wall_seconds": seconds,
                       "peak_rss_mb": peak_mb, "phases": summary["phases"], "steps": summary["steps"]},
                      f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
