"""Ours against the two reference GAN loops, side by side in one process.

    .venv/bin/python benchmarks/versus_references.py [--repeats 3]
        [--cells mlp-64,mlp-256,conv-64,conv-256] [--steps N] [--sweep] [--rss]
        [--out benchmarks/results/versus_references.json]
        [--doc docs/performance.md] [--plot FILE.png] [--from-json RESULTS.json]

For each cell (model family, batch size m) three contenders train the same
networks on the same in-memory images:
  T     the TensorFlow DCGAN tutorial loop,
  K     the keras.io `train_step` example under `fit`'s compile defaults
        (both in benchmarks/reference_loops.py),
  ours  `keras_gan.GAN` compiled as train.py compiles it by default: XLA or
        not at 16 steps per call, whichever a timed trial on this machine
        finds fastest (keras_gan/training/compile_settings.py; the trial runs here,
        uncached, and its figures are reported).
Each is built and warmed up (its first call, which compiles, is timed), then
all three are timed interleaved round-robin, so machine noise hits them
alike. Reported: the median real images per second (m per step for all three;
ours runs k = 1), ours' ratio to each, compile seconds, and the share of the
machine's float32 matmul peak that Algorithm 1's arithmetic reaches.

`--sweep` also times ours for m = 32..1024 and k = 1, 2, 4; `--rss` runs each
contender alone in a child process and reports its peak resident memory.
Writes a JSON file and prints a Markdown table; `--doc` puts the table into
the generated block of docs/performance.md, `--plot` draws a bar chart;
`--from-json` measures nothing and reports an earlier run's results file.

This file is the command: its flags, and the run that puts the parts
together. The parts, each a module of benchmarks/:
  contenders.py    T, K and ours built for a cell, ours' compile trial,
                   warm-up and interleaved timing;
  versus_cells.py  a cell measured into figures, and ours' m x k sweep;
  arithmetic.py    FLOPs per image and the float32 matmul peak;
  peak_rss.py      --rss: each contender's peak memory, in a child process
                   of this script (the hidden --child flags);
  versus_report.py the results file, the targets judged, the Markdown and
                   the plot.
"""

import argparse
import datetime
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks.arithmetic import flops_per_image, matmul_peak_gflops  # noqa: E402
from benchmarks.contenders import NUM_IMAGES, TRAIN_PY_SPE, VARIANTS, make_images  # noqa: E402
from benchmarks.peak_rss import measure_rss, run_child  # noqa: E402
from benchmarks.versus_cells import (  # noqa: E402
    DEFAULT_CELLS, SWEEP_BATCHES, SWEEP_KS, default_steps, measure_cell, parse_cells, run_sweep)
from benchmarks.versus_report import DOC_BEGIN, DOC_END, read_results, report  # noqa: E402
from keras_gan.common.files import check_writable_file, write_json  # noqa: E402
from keras_gan.common.options import MODEL_FAMILIES, OneLineArgumentParser, UserError  # noqa: E402

USAGE_ERROR = 2
DEFAULT_OUT = os.path.join(ROOT, "benchmarks", "results", "versus_references.json")


# ------------------------------------------------------------------- flags
def parse_ints(text, flag, low, high):
    """"1,2,4" -> (1, 2, 4), each in low..high; UserError otherwise."""
    parts = text.split(",")
    if not all(p.strip().isdigit() and low <= int(p) <= high for p in parts):
        raise UserError(f"{flag} {text}: expected comma-separated integers in {low}..{high}.")
    return tuple(int(p) for p in parts)


def parse_args(argv):
    p = OneLineArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3, help="interleaved timings per contender")
    p.add_argument("--cells", default=DEFAULT_CELLS, help="FAMILY-BATCH, comma-separated")
    p.add_argument("--steps", type=int, default=None,
                   help="steps per timing for every cell: 1..16 or a multiple of 16 (default: "
                        "8,192 real images' worth for MLP, 2,048 for conv, at least 16 steps)")
    p.add_argument("--sweep", action="store_true", help="also time ours over batch sizes and k")
    p.add_argument("--sweep-batches", default=",".join(map(str, SWEEP_BATCHES)))
    p.add_argument("--sweep-ks", default=",".join(map(str, SWEEP_KS)))
    p.add_argument("--rss", action="store_true",
                   help="also measure each contender's peak RSS, alone in a child process")
    p.add_argument("--out", default=DEFAULT_OUT,
                   help="the JSON results file "
                        "(default: benchmarks/results/versus_references.json)")
    p.add_argument("--doc", default=None, help=f"rewrite the {DOC_BEGIN} block of this file")
    p.add_argument("--plot", default=None, help="write a bar chart of images/s (PNG)")
    p.add_argument("--from-json", default=None,
                   help="measure nothing: write the table, --doc and --plot from this results "
                        "file of an earlier run (e.g. after the report's format changed)")
    # How --rss starts its child processes; not for users.
    p.add_argument("--child", choices=tuple(VARIANTS), default=None, help=argparse.SUPPRESS)
    p.add_argument("--child-settings", default=None, help=argparse.SUPPRESS)  # ours: "on,16"
    args = p.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    if args.repeats < 1:
        raise UserError(f"--repeats {args.repeats}: expected at least 1.")
    if args.steps is not None and not (
        1 <= args.steps <= TRAIN_PY_SPE or (args.steps > 0 and args.steps % TRAIN_PY_SPE == 0)
    ):
        raise UserError(f"--steps {args.steps}: expected 1..{TRAIN_PY_SPE} or a multiple of "
                        f"{TRAIN_PY_SPE} (ours runs {TRAIN_PY_SPE} steps per call).")
    args.cells = parse_cells(args.cells)
    args.sweep_batches = parse_ints(args.sweep_batches, "--sweep-batches", 1, NUM_IMAGES)
    args.sweep_ks = parse_ints(args.sweep_ks, "--sweep-ks", 1, 64)
    if args.sweep:
        too_big = [(m, k) for m in args.sweep_batches for k in args.sweep_ks if m * k > NUM_IMAGES]
        if too_big:
            m, k = too_big[0]
            raise UserError(f"--sweep-batches/--sweep-ks: m {m} x k {k} is more than the "
                            f"{NUM_IMAGES} images a step may use.")
    if args.child and len(args.cells) != 1:
        raise UserError("--child: needs exactly one cell.")
    if args.from_json:
        args.earlier = read_results(args.from_json)
    check_outputs(args)
    return args


def check_outputs(args):
    """Fail before minutes of timing, not after, on an output that cannot be written."""
    if args.child:
        return
    check_writable_file(args.out, "--out")
    if args.plot:
        check_writable_file(args.plot, "--plot")
    if args.doc:
        try:
            with open(args.doc) as f:
                text = f.read()
        except OSError as e:
            raise UserError(f"--doc {args.doc}: cannot read ({e.strerror}).") from None
        if DOC_BEGIN not in text or DOC_END not in text:
            raise UserError(f"--doc {args.doc}: no generated block ({DOC_BEGIN} ... {DOC_END}).")
        check_writable_file(args.doc, "--doc")


# -------------------------------------------------------------------- main
def log(message):
    print(message, file=sys.stderr, flush=True)


def run(args):
    if args.from_json:
        report(args, args.earlier)
        return
    from keras_gan.common.quiet import tensorflow_start

    with tensorflow_start():
        from benchmarks import throughput  # imports TensorFlow
    if args.child:
        run_child(args)
        return
    peak = matmul_peak_gflops()
    log(f"float32 matmul peak: {peak:,.0f} GFLOP/s")
    images = make_images()
    flops = {family: flops_per_image(family) for family in MODEL_FAMILIES}
    cell_steps = {f"{f}-{m}": args.steps or default_steps(f, m) for f, m in args.cells}
    results = {
        "command": " ".join([os.path.relpath(__file__, ROOT)] + args.argv),
        "date": datetime.date.today().isoformat(),
        "machine": throughput.machine(),
        "matmul_peak_gflops": peak,
        "repeats": args.repeats,
        "flops_per_image": flops,
        "variants": VARIANTS,
        "cells": [
            measure_cell(f, m, cell_steps[f"{f}-{m}"], args.repeats, images, flops[f], peak, log)
            for f, m in args.cells
        ],
        "sweep": run_sweep(args, images, peak, log) if args.sweep else None,
    }
    if args.rss:
        chosen = {c["cell"]: (c["variants"]["ours"]["jit_compile"],
                              c["variants"]["ours"]["steps_per_execution"]) for c in results["cells"]}
        rss = measure_rss(__file__, args.cells, cell_steps, chosen, log)
        for cell, by_variant in rss.items():
            entry = next(c for c in results["cells"] if c["cell"] == cell)
            for variant in VARIANTS:
                entry["variants"][variant]["peak_rss_mb"] = by_variant[variant]
            entry["variants"]["ours"]["peak_rss_mb_cached"] = by_variant["ours_cached"]
    write_json(args.out, results, indent=2)
    report(args, results)


def main(argv=None):
    try:
        run(parse_args(argv))
    except UserError as e:
        print(f"versus_references.py: error: {e}", file=sys.stderr)
        return USAGE_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())
