"""Where the README's main command spends its time and memory, start to export;
and today's default recipe against the one before it, side by side.

    .venv/bin/python benchmarks/time_to_sample.py [--runs-dir DIR] [--json OUT] [-- TRAIN.PY FLAGS]
    .venv/bin/python benchmarks/time_to_sample.py --side-by-side [--seeds 0,1,2] \\
        [--save benchmarks/results/time_to_sample.json] [--doc docs/performance.md] [--readme README.md]
    .venv/bin/python benchmarks/time_to_sample.py --from-json benchmarks/results/time_to_sample.json --doc ...

One run (the first form): `train.py` exactly as the README's main command
runs it, plus `--logdir`/`--export-dir` in a temporary folder, in a child
process; prints its wall time, peak resident memory (the child's own
ru_maxrss) and the phases train.py recorded in summary.json (start-up, data,
classifier, compile trial, build, train steps, monitoring, evaluation,
outputs, export). The caches are the user's own: run it twice to see a first
and a later run.

Side by side: for each seed, `train.py --seed S` with the previous default
recipe (`PREVIOUS`, the default until 2026-12-04) and with today's (no flags),
one after the other, the order alternating from seed to seed so that a
machine's drift hits both alike. Every run is a newcomer's first run: its own
empty compile cache and classifier folder, so each pays for training the
evaluation classifier and for the compile trial where its recipe has one
(on a CPU, lazy R1 takes a rule instead), as a fresh clone does. It
reports each run's wall time, peak memory, phases and final evaluation
(10,000 samples: the Fréchet distance's ratio to the real floor, the
recognisable share), writes a figure of the per-epoch evaluation against
seconds since the command started, and with --doc/--readme the table into
docs/performance.md and the figures into the README.
"""

import argparse
import datetime
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from keras_gan.common.files import replace_marked_block, write_json  # noqa: E402
from keras_gan.common.machine import cpu_description  # noqa: E402
from keras_gan.common.options import UserError  # noqa: E402

# The default recipe until 2026-12-04: 12,000 steps of batch 64 in epochs of
# one pass over the data (on the offline sample, 194 epochs of 62 steps:
# 12,028), Adam 1e-3 with beta_1 0.5, R1 gamma 1 on every D update, EMA
# 0.999. `--epochs` keeps the one-pass epochs, so these flags run it exactly
# as train.py did then, whatever today's defaults are.
PREVIOUS_STEPS = 12_000
PREVIOUS = ["--batch-size", "64", "--learning-rate", "1e-3", "--beta-1", "0.5", "--r1-gamma", "1",
            "--r1-interval", "1", "--ema", "0.999", "--augmentation", "none"]
SIDES = ("previous", "today")
DOC_BEGIN, DOC_END = "<!-- time to sample: begin -->", "<!-- time to sample: end -->"
README_BEGIN, README_END = "<!-- main command cost: begin -->", "<!-- main command cost: end -->"
FIGURE = os.path.join("docs", "images", "performance", "time_to_sample.png")
# Phases shown in the table (the others are a few seconds: their sum is in "other").
SHOWN_PHASES = ("classifier", "compile trial", "train steps", "monitoring", "evaluation")


def previous_flags():
    """PREVIOUS with its length: --epochs as many one-pass epochs as 12,000
    steps needed, on the data the main command trains on here."""
    from keras_gan.common.quiet import tensorflow_start

    with tensorflow_start():
        from keras_gan import data
        from keras_gan.evaluation import reference

    real = data.load_images("mnist", "train", None, True)
    real = reference.without_reference(real, reference.evaluation_data_or_none("mnist", None, True))
    per_pass = data.steps_per_epoch(len(real.images), 64, 1)
    return [*PREVIOUS, "--epochs", str(math.ceil(PREVIOUS_STEPS / per_pass))]


def run_train(flags, run_dir, env=None):
    """(wall seconds, peak RSS in MB, summary.json) of one train.py run in `run_dir`."""
    command = [sys.executable, os.path.join(ROOT, "train.py"), *flags,
               "--logdir", os.path.join(run_dir, "run"), "--export-dir", os.path.join(run_dir, "export")]
    start = time.monotonic()
    with tempfile.TemporaryFile("w+") as stderr:
        child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr,
                                 env={**os.environ, **(env or {})})
        _, status, usage = os.wait4(child.pid, 0)  # this child's own peak, not the largest so far
        child.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - start
        if child.returncode:
            stderr.seek(0)
            tail = (stderr.read().strip().splitlines() or ["no output"])[-1]
            raise SystemExit(f"time_to_sample.py: train.py {' '.join(flags)} failed: {tail}")
    with open(os.path.join(run_dir, "run", "summary.json")) as f:
        return seconds, usage.ru_maxrss / 1024, json.load(f)  # Linux: ru_maxrss in KiB


def first_run(side, flags, seed, parent):
    """One side's run as on a fresh clone (empty caches), and what the report needs."""
    from keras_gan.evaluation import curves

    run_dir = tempfile.mkdtemp(prefix=f"{side}-s{seed}-", dir=parent)
    flags = [*flags, "--seed", str(seed), "--classifier-dir", os.path.join(run_dir, "classifier")]
    seconds, peak_mb, summary = run_train(flags, run_dir, {"KERAS_GAN_CACHE_DIR": os.path.join(run_dir, "cache")})
    phases = summary["phases"]
    # The curve's clock starts with fit; the command's, with the process.
    before_fit = sum(phases[name] for name in ("start-up", "data", "classifier", "compile trial", "build"))
    fit_seconds, ratios = curves.curve(os.path.join(run_dir, "run"))
    evaluation = summary["evaluation"]
    return {"side": side, "seed": seed, "flags": flags, "wall_seconds": round(seconds, 1),
            "peak_rss_mb": round(peak_mb), "steps": summary["steps"], "epochs": summary["epochs"],
            "phases": phases, "frechet_ratio": evaluation["frechet_ratio_to_real"],
            "recognisable": evaluation["recognisable"]["samples"],
            "curve": [[round(before_fit + s, 1), round(float(r), 3)] for s, r in zip(fit_seconds, ratios)]}


def side_by_side(seeds, save=None, keep_dir=None):
    """Both recipes for each seed; with `save`, the results file is rewritten
    after every run, and the runs it already holds (of this machine) are not
    run again: a script stopped part way goes on where it stopped, and
    `--seeds 2` adds seed 2 to the seeds it holds rather than replacing them."""
    results = {"machine": cpu_description(), "date": datetime.date.today().isoformat(),
               "seeds": list(seeds), "runs": []}
    if save and os.path.isfile(save):
        with open(save) as f:
            earlier = json.load(f)
        if earlier.get("machine") == results["machine"]:
            results["runs"] = earlier["runs"]
            results["seeds"] = sorted(set(earlier["seeds"]) | set(seeds))
            results["date"] = earlier["date"]
    done = {(r["side"], r["seed"]) for r in results["runs"]}
    flags = {"previous": previous_flags(), "today": []}
    parent = keep_dir or tempfile.mkdtemp(prefix="time-to-sample-")
    os.makedirs(parent, exist_ok=True)  # --runs-dir may name a folder not made yet
    for i, seed in enumerate(seeds):
        for side in (SIDES if i % 2 == 0 else SIDES[::-1]):
            if (side, seed) in done:
                continue
            results["runs"].append(first_run(side, flags[side], seed, parent))
            print(run_line(results["runs"][-1]), flush=True)
            if save:
                write_json(save, results)
    if keep_dir is None:
        from keras_gan.common.files import remove_tree

        remove_tree(parent)
    return results


def run_line(run):
    return (f"{run['side']} seed {run['seed']}: {run['wall_seconds']:.0f} s, {run['peak_rss_mb']:,} MB, "
            f"{run['steps']:,} steps, Fréchet ÷ floor {run['frechet_ratio']:.2f}, "
            f"recognisable {run['recognisable']:.3f}")


def by_side(results):
    return {side: [r for r in results["runs"] if r["side"] == side] for side in SIDES}


def markdown(results, command):
    """The side-by-side table, its summary and the figure's link."""
    sides = by_side(results)
    lines = [f"Generated by `{command}` on {results['machine']}, {results['date']}. Each run is a "
             "first run on a fresh clone (its own evaluation classifier, and compile trial where "
             "one runs: on a CPU today's lazy R1 skips it); the "
             "two recipes alternate seed by seed. Seconds are wall time from the command's start.",
             "",
             "| recipe | seed | start to export s | peak memory MB | steps | "
             + " | ".join(f"{name} s" for name in SHOWN_PHASES) + " | other s | Fréchet ÷ floor | recognisable |",
             "| --- | ---: | ---: | ---: | ---: | " + "---: | " * len(SHOWN_PHASES) + "---: | ---: | ---: |"]
    for run in sorted(results["runs"], key=lambda r: (SIDES.index(r["side"]), r["seed"])):
        shown = [run["phases"][name] for name in SHOWN_PHASES]
        lines.append(f"| {run['side']} | {run['seed']} | {run['wall_seconds']:,.0f} | {run['peak_rss_mb']:,} | "
                     f"{run['steps']:,} | " + " | ".join(f"{s:.0f}" for s in shown)
                     + f" | {run['wall_seconds'] - sum(shown):.0f} | {run['frechet_ratio']:.2f} | "
                     f"{run['recognisable']:.3f} |")
    missing = [f"{side} seed {seed}" for seed in results["seeds"] for side in SIDES
               if not any(r["side"] == side and r["seed"] == seed for r in results["runs"])]
    if missing:
        lines += ["", f"Not run yet: {', '.join(missing)} (the same command runs them, keeping the runs "
                  "above); the figures below are over the runs above only."]
    summary = summarize(results)
    lines += ["", "| over the seeds | previous | today | today ÷ previous |", "| --- | ---: | ---: | ---: |",
              "| start to export, mean | {0:,.0f} s | {1:,.0f} s | {2:.2f} |".format(*summary["wall"]),
              "| peak memory, largest | {0:,.0f} MB | {1:,.0f} MB | {2:.2f} |".format(*summary["memory"]),
              "| Fréchet ÷ floor, mean (lower is better) | {0:.2f} | {1:.2f} | {2:.2f} |".format(*summary["frechet"]),
              "| recognisable share, mean | {0:.3f} | {1:.3f} | {2:.2f} |".format(*summary["recognisable"]),
              "", f"![Fréchet ÷ floor against seconds since the command started](images/performance/"
              f"{os.path.basename(FIGURE)})"]
    return "\n".join(lines)


def summarize(results):
    """{figure: (previous, today, today / previous)} over the seeds."""
    sides = by_side(results)
    for side, runs in sides.items():
        if not runs:
            raise UserError(f"the results hold no {side} run")

    def both(values):
        previous, today = (values(sides[side]) for side in SIDES)
        return previous, today, today / previous

    return {"wall": both(lambda runs: statistics.mean(r["wall_seconds"] for r in runs)),
            "memory": both(lambda runs: max(r["peak_rss_mb"] for r in runs)),
            "frechet": both(lambda runs: statistics.mean(r["frechet_ratio"] for r in runs)),
            "recognisable": both(lambda runs: statistics.mean(r["recognisable"] for r in runs))}


def readme_line(results):
    """The README's figures for the main command, from today's runs, and how
    they compare with the previous default's."""
    today = by_side(results)["today"]
    minutes = statistics.mean(r["wall_seconds"] for r in today) / 60
    peak_gb = max(r["peak_rss_mb"] for r in today) / 1000
    summary = summarize(results)
    seeds = len(today)
    return (f"trains and exports in about {minutes:.0f} minutes with at most {peak_gb:.1f} GB of memory "
            f"on {results['machine']} ({results['date']}, a first run: the evaluation classifier "
            f"included; `benchmarks/time_to_sample.py --side-by-side`: "
            f"{summary['wall'][2]:.2f} of the previous default's wall time, with a mean Fréchet ratio of "
            f"{summary['frechet'][1]:.2f} against its {summary['frechet'][0]:.2f} and a recognisable share of "
            f"{summary['recognisable'][1]:.3f} against {summary['recognisable'][0]:.3f} over {seeds} "
            f"seed{'s' * (seeds != 1)})")


def plot(results, path):
    """Each run's per-epoch Fréchet ÷ floor (2,000 samples) against seconds since its start."""
    from keras_gan.evaluation.curves import plot as plot_curves

    curves = {f"{side} recipe": [tuple(zip(*run["curve"])) for run in runs]
              for side, runs in by_side(results).items()}
    budget = statistics.mean(r["wall_seconds"] for r in by_side(results)["today"])
    plot_curves(curves, budget, path, "The main command: quality against seconds since it started")


def one_run(flags, args):
    with tempfile.TemporaryDirectory(prefix="time-to-sample-") as tmp:
        seconds, peak_mb, summary = run_train(flags, args.runs_dir or tmp)
    lines = [f"machine: {cpu_description()}",
             f"command: train.py {' '.join(flags)}".rstrip(),
             f"wall time, start to export: {seconds:.0f} s; peak RSS {peak_mb:,.0f} MB; "
             f"{summary['steps']:,} steps at {summary['real_images_per_second'] or 0:,.0f} real images/s",
             "| phase | seconds | share |", "| --- | --- | --- |"]
    lines += [f"| {name} | {value:.1f} | {value / seconds:.0%} |" for name, value in summary["phases"].items()]
    print("\n".join(lines))
    if args.json:
        write_json(args.json, {"machine": cpu_description(), "flags": flags, "wall_seconds": seconds,
                               "peak_rss_mb": peak_mb, "phases": summary["phases"], "steps": summary["steps"]},
                   indent=2)


def parse_seeds(text):
    try:
        seeds = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seeds like 0,1,2, got {text!r}") from None
    if not seeds or min(seeds) < 0 or len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"expected distinct seeds >= 0, got {text!r}")
    return seeds


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    split = argv.index("--") if "--" in argv else len(argv)
    ours, flags = argv[:split], argv[split + 1:]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs-dir", help="keep the runs here (default: a temporary folder, removed)")
    parser.add_argument("--json", help="one run: also write its figures to this JSON file")
    parser.add_argument("--side-by-side", action="store_true",
                        help="the previous default recipe against today's, a first run each per seed")
    parser.add_argument("--seeds", type=parse_seeds, default=[0, 1, 2], help="side by side: (default: 0,1,2)")
    parser.add_argument("--save", help="side by side: write the results to this JSON file after each run "
                                       "(and skip the runs it already holds)")
    parser.add_argument("--from-json", help="report the side-by-side results of this file (trains nothing)")
    parser.add_argument("--doc", help="write the table into this file's generated block (docs/performance.md)")
    parser.add_argument("--readme", help="write the main command's figures into this file's block (README.md)")
    args = parser.parse_args(ours)
    for path in (args.doc, args.readme):
        if path and not os.path.isfile(path):
            parser.error(f"--doc/--readme {path}: no such file")
    if not (args.side_by_side or args.from_json):
        one_run(flags, args)
        return 0
    if flags:
        parser.error("side by side runs the two recipes as they are: no train.py flags after --")
    if args.from_json:
        with open(args.from_json) as f:
            results = json.load(f)
    else:
        results = side_by_side(args.seeds, args.save, args.runs_dir)
    command = "python benchmarks/time_to_sample.py --side-by-side"
    table = markdown(results, command)
    print(table)
    print("README:", readme_line(results))
    try:
        if args.doc:
            plot(results, os.path.join(os.path.dirname(os.path.abspath(args.doc)), "images", "performance",
                                       os.path.basename(FIGURE)))
            replace_marked_block(args.doc, DOC_BEGIN, DOC_END, table)
        if args.readme:
            replace_marked_block(args.readme, README_BEGIN, README_END, readme_line(results))
    except UserError as e:
        parser.error(str(e))
    return 0


if __name__ == "__main__":
    sys.exit(main())
