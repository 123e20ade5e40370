"""Peak resident memory of each contender, alone in a child process (versus_references.py --rss).

`measure_rss` starts benchmarks/versus_references.py once per contender and
cell with the hidden flags `--child VARIANT --child-settings JIT,SPE`; that
child runs `run_child`: it builds the contender (benchmarks/contenders.py),
warms it up, trains one timing's steps and prints one JSON line with its
own peak RSS (`peak_rss_bytes`, VmHWM), which the parent reads back. Ours is
measured twice, its first run (compiling) and a later one (loading the step
from a fresh XLA cache).
"""

import json
import os
import resource
import subprocess
import sys
import tempfile

from benchmarks.contenders import build, make_images, warm_up
from benchmarks.versus_cells import default_steps
from keras_gan.training import compile_settings


def measure_rss(script, cells, cell_steps, ours_settings, log):
    """{cell: {variant: peak RSS in MB}}, each contender alone in a child
    process of `script` (benchmarks/versus_references.py) that builds it,
    warms it up and runs one timing's steps.

    Ours twice, as train.py runs it: its first run on a machine compiles the
    step (with XLA, the compiler's memory counts), later runs load the
    program from train.py's XLA cache (compile_settings.enable_xla_cache),
    here a fresh temporary one: "ours" and "ours_cached".
    """
    script = os.path.abspath(script)
    root = os.path.dirname(os.path.dirname(script))  # the children's working directory
    rss = {}
    for family, batch_size in cells:
        cell = f"{family}-{batch_size}"
        rss[cell] = {}
        jit, spe = ours_settings[cell]
        with tempfile.TemporaryDirectory(prefix="xla-cache-") as xla_cache:
            env = dict(os.environ, TF_XLA_FLAGS=f"{compile_settings.XLA_CACHE_FLAG}={xla_cache}")
            for key, variant in (("T", "T"), ("K", "K"), ("ours", "ours"), ("ours_cached", "ours")):
                log(f"{cell}: peak RSS of {key}, in a child process")
                command = [sys.executable, script, "--child", variant,
                           "--cells", cell, "--steps", str(cell_steps[cell]),
                           "--child-settings", f"{'on' if jit else 'off'},{spe}"]
                result = subprocess.run(command, capture_output=True, text=True, cwd=root, env=env)
                lines = result.stdout.strip().splitlines()
                if result.returncode != 0 or not lines:
                    tail = (result.stderr.strip().splitlines() or ["no output"])[-1]
                    raise RuntimeError(f"--rss child for {key} {cell} failed: {tail}")
                rss[cell][key] = json.loads(lines[-1])["peak_rss_mb"]
    return rss


def run_child(args):
    """The --child process: one contender, a short run, then its own peak RSS."""
    family, batch_size = args.cells[0]
    steps = args.steps or default_steps(family, batch_size)
    settings = None  # train.py's static default
    if args.child_settings:
        jit, spe = args.child_settings.split(",")
        settings = (jit == "on", int(spe))
    contender = build(args.child, family, batch_size, make_images(), steps, settings)
    warm_up({args.child: contender}, {args.child: steps}, lambda _: None)
    contender.run(steps)
    peak = peak_rss_bytes() / 1e6
    cell = f"{family}-{batch_size}"
    print(json.dumps({"variant": args.child, "cell": cell, "peak_rss_mb": peak}))


def peak_rss_bytes():
    """This process's peak resident memory since it exec'd.

    Not `ru_maxrss`: Linux carries it across exec, so every child of a big
    parent reports at least the parent's size at fork (smoke runs: 2,056 MB
    for all three children of a 2 GB parent). VmHWM is the high-water mark
    of the current address space, which exec replaces.
    """
    try:
        with open("/proc/self/status") as f:
            line = next(line for line in f if line.startswith("VmHWM:"))
        return int(line.split()[1]) * 1024  # kB
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
