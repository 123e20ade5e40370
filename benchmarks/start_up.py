"""What the programs' start costs: `import keras` in fresh processes, as
Keras starts by itself and as the command-line programs start it, with the
optional packages it would import for features they never use refused
(keras_gan/common/lean_start.py); the two alternate, so a machine's drift
hits both alike.

    .venv/bin/python benchmarks/start_up.py [--rounds 5]

Prints, for Keras' backend (KERAS_BACKEND), which of those packages are
installed, and the median CPU seconds (user + system) and wall seconds of
each way, and their ratio.
"""

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from keras_gan.common.lean_start import unused_packages  # noqa: E402
from keras_gan.common.options import OneLineArgumentParser, UserError  # noqa: E402

WAYS = {
    "plain": "import keras",
    "refused": "from keras_gan.common.lean_start import unused_imports_refused\n"
               "with unused_imports_refused():\n    import keras",
}


def one_start(code):
    """(CPU seconds, wall seconds) of a fresh Python process running `code`."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT)
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    error = process.stderr.read().decode()
    process.stderr.close()
    if process.returncode != 0:
        raise UserError(f"{code!r} failed: {(error.strip().splitlines() or ['no output'])[-1]}")
    return usage.ru_utime + usage.ru_stime, wall


def main(argv=None):
    parser = OneLineArgumentParser(prog="start_up.py", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="starts of each way (default: 5)")
    try:
        args = parser.parse_args(argv)
        if args.rounds < 1:
            raise UserError(f"--rounds {args.rounds}: expected at least 1")
        report(measure(args.rounds))
    except UserError as e:
        print(f"start_up.py: error: {e}", file=sys.stderr)
        return 2
    return 0


def measure(rounds):
    """{way: [(CPU s, wall s) of each start]}, the ways alternating."""
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    installed = [name for name in unused_packages(backend) if importlib.util.find_spec(name)]
    print(f"Keras on {backend}; refused where installed: {', '.join(unused_packages(backend))} "
          f"(installed here: {', '.join(installed) or 'none'})")
    times = {way: [] for way in WAYS}
    for _ in range(rounds):
        for way, code in WAYS.items():
            times[way].append(one_start(code))
    return times


def report(times):
    medians = {way: [statistics.median(t[i] for t in runs) for i in (0, 1)] for way, runs in times.items()}
    print("| way | CPU s (median) | wall s (median) |")
    print("| --- | ---: | ---: |")
    for way, (cpu, wall) in medians.items():
        print(f"| {way} | {cpu:.2f} | {wall:.2f} |")
    ratio = medians["refused"][0] / medians["plain"][0]
    print(f"refused / plain, CPU: {ratio:.2f}")


if __name__ == "__main__":
    sys.exit(main())
