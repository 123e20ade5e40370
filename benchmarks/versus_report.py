"""The report of versus_references.py: its results file, targets judged, Markdown, bar chart.

`markdown` renders a results dict (as the JSON file holds it) into the
cells' table, its notes, the performance issue's targets met or missed
(`targets_markdown`) and the sweep's table; `report` prints it and writes it
into the generated block of --doc (docs/performance.md, between DOC_BEGIN
and DOC_END) and a bar chart into --plot. `read_results` reads the results
file (versus_references.py writes it with keras_gan.common.files.write_json),
so --from-json re-renders an earlier run without measuring anything. Needs
neither TensorFlow nor Keras.
"""

import json
import textwrap

from benchmarks.arithmetic import MATMUL_REPEATS, MATMUL_SIZE
from benchmarks.contenders import TRAIN_PY_JIT, TRAIN_PY_SPE, VARIANTS
from keras_gan.common.files import replace_marked_block
from keras_gan.common.options import UserError
from keras_gan.training import compile_settings

DOC_BEGIN = "<!-- versus references: begin -->"
DOC_END = "<!-- versus references: end -->"


def markdown(results):
    """The report as Markdown: the cells' table, then the sweep's if run."""
    peak = results["matmul_peak_gflops"]
    lines = [
        f"{results['date']}, {results['machine']}; float32 matmul peak {peak:,.0f} GFLOP/s "
        f"({MATMUL_SIZE}x{MATMUL_SIZE} `tf.matmul`, median of {MATMUL_REPEATS}). Real images "
        f"per second (m per step for all three), median of {results['repeats']} interleaved "
        "repeats.",
        "",
    ]
    with_rss = any("peak_rss_mb" in v for c in results["cells"] for v in c["variants"].values())
    header = ("| cell | T images/s | K images/s | ours images/s | ours / T | ours / K "
              "| ours' settings (trial s) | compile s (T / K / ours) | % of peak (T / K / ours) "
              "| GFLOP/s of own work (T / K / ours) |")
    rule = "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |"
    if with_rss:
        header += " peak RSS MB (T / K / ours, first run / later) |"
        rule += " ---: |"
    lines += [header, rule]
    for cell in results["cells"]:
        v = cell["variants"]
        row = (f"| {cell['family']}, m {cell['batch_size']} ({cell['steps_per_timing']} steps) "
               + "".join(f"| {v[n]['images_per_second']:,.0f} " for n in VARIANTS)
               + f"| {cell['ours_over_T']:.2f} | {cell['ours_over_K']:.2f} "
               + f"| {settings_label(v['ours'])} ({v['ours']['trial']['seconds']:.0f}) "
               + "| " + " / ".join(f"{v[n]['compile_seconds']:.1f}" for n in VARIANTS) + " "
               + "| " + " / ".join(f"{100 * v[n]['peak_share']:.0f}" for n in VARIANTS) + " "
               + "| " + " / ".join(f"{v[n]['own_gflops']:.0f}" for n in VARIANTS) + " |")
        if with_rss:
            cached = v["ours"].get("peak_rss_mb_cached", float("nan"))
            row += " " + " / ".join(f"{v[n].get('peak_rss_mb', float('nan')):,.0f}"
                                    for n in VARIANTS) + f", {cached:,.0f} |"
        lines.append(row)
    flops = results["flops_per_image"]
    k_jit = results["cells"][0]["variants"]["K"]["jit_compile"] if results["cells"] else False
    lines += [
        "",
        f"- T: {VARIANTS['T']}. K: {VARIANTS['K']} (here `jit_compile` resolved to "
        f"{k_jit}, 1 step per call). ours: {VARIANTS['ours']}. Same networks, "
        "Adam(2e-4, beta_1=0.5) for all (benchmarks/reference_loops.py).",
        "- compile s: the first call less its steps at the steady rate. % of peak counts "
        "Algorithm 1's FLOPs per real image for all three (backward = 2x forward; conv "
        f"{flops['conv']['algorithm_1'] / 1e6:.2f} M, "
        f"MLP {flops['mlp']['algorithm_1'] / 1e6:.2f} M); "
        f"T's shared forward pass does only {flops['conv']['tutorial'] / 1e6:.1f} M / "
        f"{flops['mlp']['tutorial'] / 1e6:.1f} M of arithmetic.",
        "- GFLOP/s of own work: each contender's images/s times the FLOPs it really does per "
        "image (T its shared pass, K and ours Algorithm 1). At T's rate, ours would reach only "
        f"{flops['conv']['tutorial'] / flops['conv']['algorithm_1']:.2f}x T's images/s (conv) and "
        f"{flops['mlp']['tutorial'] / flops['mlp']['algorithm_1']:.2f}x (MLP): ours/T above that "
        "means ours runs its arithmetic faster than T runs its own.",
        "- ours' settings: what train.py's compile trial chose for the cell (XLA on/off, steps "
        "per call), and the trial's seconds, compilation included.",
    ]
    if with_rss:
        lines.append("- peak RSS: each contender alone in a child process (`--rss`), "
                     "MB = 10^6 bytes. Ours twice: its first run, which compiles the step, and a "
                     "later one, which loads it from train.py's XLA cache (no XLA: the same).")
    lines += ["", *targets_markdown(results)]
    if results.get("sweep"):
        lines += ["", *sweep_markdown(results["sweep"])]
    return "\n".join(lines)


# The performance issue's targets: ours/T, ours/K, peak RSS against T's, and
# the share of the matmul peak at conv, batch 256.
TARGET_OVER_T, TARGET_OVER_K, TARGET_PEAK_SHARE, PEAK_SHARE_CELL = 1.0, 1.3, 0.60, "conv-256"


def targets_markdown(results):
    """Each target, met or missed, per cell, with the measured figure."""
    cells = results["cells"]

    def verdict(met, figure):
        return f"{'**met**' if met else 'missed'} ({figure})"

    rows = {
        f"ours ≥ {TARGET_OVER_T:.1f}× T": [
            verdict(c["ours_over_T"] >= TARGET_OVER_T, f"{c['ours_over_T']:.2f}") for c in cells],
        f"ours ≥ {TARGET_OVER_K:.1f}× K": [
            verdict(c["ours_over_K"] >= TARGET_OVER_K, f"{c['ours_over_K']:.2f}") for c in cells],
    }
    if all("peak_rss_mb" in c["variants"]["ours"] for c in cells):
        for name, key in (("peak RSS ≤ T's, ours' first run", "peak_rss_mb"),
                          ("peak RSS ≤ T's, ours' later runs", "peak_rss_mb_cached")):
            rows[name] = []
            for c in cells:
                extra = c["variants"]["ours"].get(key, float("nan")) - c["variants"]["T"]["peak_rss_mb"]
                rows[name].append(verdict(extra <= 0, f"{extra:+,.0f} MB"))
    rows[f"≥ {TARGET_PEAK_SHARE:.0%} of the matmul peak ({PEAK_SHARE_CELL})"] = [
        verdict(c["variants"]["ours"]["peak_share"] >= TARGET_PEAK_SHARE,
                f"{c['variants']['ours']['peak_share']:.0%}") if c["cell"] == PEAK_SHARE_CELL else ""
        for c in cells]
    lines = ["Targets of the performance issue:", "",
             "| target | " + " | ".join(c["cell"] for c in cells) + " |",
             "| --- | " + " | ".join("---" for _ in cells) + " |"]
    lines += [f"| {name} | " + " | ".join(values) + " |" for name, values in rows.items()]
    return lines


def settings_label(variant):
    """"XLA off/16": a contender's jit_compile and steps per call."""
    return compile_settings.label(variant["jit_compile"], variant["steps_per_execution"])


def sweep_markdown(rows):
    """Ours by m (rows) and k (columns): images/s and % of the matmul peak."""
    ks = sorted({r["k"] for r in rows})
    lines = [
        f"Ours (fixed: XLA {'on' if TRAIN_PY_JIT else 'off'}, {TRAIN_PY_SPE} steps per call) by "
        "batch size m and k: real images/s (k·m per step) and, "
        "in brackets, % of the matmul peak at Algorithm 1's FLOPs for that k.",
        "",
        "| model | m | " + " | ".join(f"k = {k}" for k in ks) + " |",
        "| --- | ---: | " + " | ".join("---:" for _ in ks) + " |",
    ]
    by_key = {(r["family"], r["batch_size"], r["k"]): r for r in rows}
    for family, m in dict.fromkeys((r["family"], r["batch_size"]) for r in rows):
        cells = []
        for k in ks:
            r = by_key.get((family, m, k))
            cells.append("" if r is None else
                         f"{r['images_per_second']:,.0f} ({100 * r['peak_share']:.0f} %)")
        lines.append(f"| {family} | {m} | " + " | ".join(cells) + " |")
    return lines


def read_results(path):
    """The results of an earlier run (--from-json), or UserError naming the file."""
    try:
        with open(path) as f:
            results = json.load(f)
        for cell in results["cells"]:  # what the report reads, written since the compile trial
            cell["variants"]["ours"]["trial"]["seconds"]
            cell["variants"]["T"]["own_gflops"]
        results["command"], results["flops_per_image"]  # noqa: B018
    except OSError as e:
        raise UserError(f"--from-json {path}: cannot read ({e.strerror}).") from None
    except (ValueError, KeyError, TypeError):
        raise UserError(f"--from-json {path}: not a results file of this script.") from None
    return results


def write_plot(path, results):
    """Grouped bars: images/s per cell, one bar per contender."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from keras_gan.outputs.images import save_figure_png

    cells = results["cells"]
    fig, ax = plt.subplots(figsize=(3.5 + 1.2 * len(cells), 3.8))
    width = 0.8 / len(VARIANTS)
    for i, name in enumerate(VARIANTS):
        xs = [j + (i - (len(VARIANTS) - 1) / 2) * width for j in range(len(cells))]
        ax.bar(xs, [c["variants"][name]["images_per_second"] for c in cells], width, label=name)
    ax.set_xticks(range(len(cells)), [c["cell"] for c in cells])
    ax.set_ylabel("real images / s")
    ax.set_title(textwrap.fill(f"{results['date']}, {results['machine']}", 70), fontsize=7)
    ax.legend(frameon=False, ncol=len(VARIANTS), loc="upper center", bbox_to_anchor=(0.5, -0.1))
    save_figure_png(fig, path)


def report(args, results):
    """The table printed, and written into --doc and --plot."""
    table = markdown(results)
    if args.doc:
        note = f"Generated by `.venv/bin/python {results['command']}`."
        replace_marked_block(args.doc, DOC_BEGIN, DOC_END, f"{note}\n\n{table}")
    if args.plot:
        write_plot(args.plot, results)
    print(table)
