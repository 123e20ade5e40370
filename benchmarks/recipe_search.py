"""The runs that chose today's default recipe, as one table.

    .venv/bin/python benchmarks/recipe_search.py RUN_DIR [RUN_DIR ...] --save benchmarks/results/recipe_search.json
    .venv/bin/python benchmarks/recipe_search.py --from-json benchmarks/results/recipe_search.json --doc docs/performance.md

Each RUN_DIR is a finished `train.py --no-export` run. The table shows the
settings that differ between the runs (read from run.json), the per-epoch
evaluation (Fréchet distance ÷ the real floor, 2,000 samples, read back from
TensorBoard) after 2,000, 4,000, 6,000 and 8,000 steps, and the closing
evaluation (10,000 samples, summary.json). The first form saves what it read;
the second writes the table into the doc's generated block. Speed is not
compared here (the runs ran two at a time): the side-by-side of
benchmarks/time_to_sample.py is the measure of seconds.
"""

import argparse
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from keras_gan.common.files import replace_marked_block, write_json  # noqa: E402
from keras_gan.common.options import UserError  # noqa: E402

BEGIN, END = "<!-- recipe search: begin -->", "<!-- recipe search: end -->"
MARKS = (2000, 4000, 6000, 8000)  # steps at which the per-epoch curve is shown
SETTINGS = ("seed", "steps", "learning_rate", "beta_1", "ema", "r1_interval")


def read_run(run_dir):
    """What the table needs from one finished run."""
    from keras_gan.evaluation import curves

    paths = {name: os.path.join(run_dir, f"{name}.json") for name in ("run", "summary")}
    for path in paths.values():
        if not os.path.isfile(path):
            raise UserError(f"{run_dir}: no {os.path.basename(path)} (not a finished train.py run)")
    with open(paths["run"]) as f:
        settings = json.load(f)
    with open(paths["summary"]) as f:
        summary = json.load(f)
    _, values = curves.curve(run_dir)
    per_epoch = settings["steps_per_epoch"]
    at = {str(mark): float(values[mark // per_epoch - 1])
          for mark in MARKS if mark % per_epoch == 0 and mark // per_epoch <= len(values)}
    evaluation = summary["evaluation"]
    return {"run": os.path.basename(os.path.normpath(run_dir)),
            "settings": {key: settings[key] for key in SETTINGS}, "per_epoch": at,
            "frechet_ratio": evaluation["frechet_ratio_to_real"],
            "recognisable": evaluation["recognisable"]["samples"]}


def markdown(runs):
    head = ["run", "seed", "steps", "Adam lr", "β₁", "EMA", "R1 every"]
    lines = ["| " + " | ".join(head) + " | " + " | ".join(f"per-epoch at {m:,}" for m in MARKS)
             + " | Fréchet ÷ floor | recognisable |",
             "| --- " * (len(head) + len(MARKS) + 2) + "|"]
    for run in runs:
        s = run["settings"]
        cells = [run["run"], str(s["seed"]), f"{s['steps']:,}", f"{s['learning_rate']:g}", f"{s['beta_1']:g}",
                 f"{s['ema']:g}", str(s["r1_interval"])]
        cells += [f"{run['per_epoch'][str(m)]:.2f}" if str(m) in run["per_epoch"] else "—" for m in MARKS]
        cells += [f"{run['frechet_ratio']:.2f}", f"{run['recognisable']:.3f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="*", help="finished train.py runs (their --logdir)")
    parser.add_argument("--save", help="write what was read to this JSON file")
    parser.add_argument("--from-json", help="read the runs from this JSON file instead")
    parser.add_argument("--doc", help="write the table into this file's generated block")
    args = parser.parse_args(argv)
    if bool(args.runs) == bool(args.from_json):
        parser.error("give run folders or --from-json, not both")
    try:
        if args.from_json:
            with open(args.from_json) as f:
                runs = json.load(f)["runs"]
        else:
            from keras_gan.common.quiet import tensorflow_start

            with tensorflow_start():  # TensorBoard's event reader imports TensorFlow
                import tensorflow  # noqa: F401
            runs = [read_run(run_dir) for run_dir in args.runs]
        table = markdown(runs)
        print(table)
        if args.save:
            write_json(args.save, {"runs": runs})
        if args.doc:
            replace_marked_block(args.doc, BEGIN, END, table)
    except (UserError, OSError) as e:
        parser.error(str(e))
    return 0


if __name__ == "__main__":
    sys.exit(main())
