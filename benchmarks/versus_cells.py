"""The cells of benchmarks/versus_references.py, and ours' sweep, measured into figures.

A cell is a model family and a batch size m, named "FAMILY-BATCH" on the
command line (`parse_cells`, which benchmarks/passes.py reads its --cell
with too). `measure_cell` runs ours' compile trial, builds T, K and ours
(benchmarks/contenders.py), warms them up, times them interleaved and
`summarise`s each: images/s, compile seconds, share of the matmul peak and
GFLOP/s of its own work (benchmarks/arithmetic.py's FLOPs). `run_sweep`
times ours alone over m x k at train.py's static compile settings.
`default_steps` sizes a timing to about a second or two.
"""

import statistics

from benchmarks.arithmetic import flops_per_image
from benchmarks.contenders import (NUM_IMAGES, TRAIN_PY_SPE, VARIANTS, build, build_ours,
                                   time_interleaved, trial_settings, warm_up)
from keras_gan.common.options import MODEL_FAMILIES, UserError

DEFAULT_CELLS = "mlp-64,mlp-256,conv-64,conv-256"
# Real images per timing by default: about a second or two per timing on a
# 2-core VM (conv steps cost ~5x MLP steps).
IMAGES_PER_TIMING = {"mlp": 8192, "conv": 2048}
SWEEP_BATCHES = (32, 64, 128, 256, 512, 1024)
SWEEP_KS = (1, 2, 4)


def parse_cells(text):
    """"mlp-64,conv-256" -> [("mlp", 64), ("conv", 256)]; UserError otherwise."""
    cells = []
    for name in text.split(","):
        family, _, batch = name.strip().partition("-")
        if family not in MODEL_FAMILIES or not batch.isdigit() or not 1 <= int(batch) <= NUM_IMAGES:
            raise UserError(
                f"--cells: bad cell {name.strip()!r}: expected FAMILY-BATCH with FAMILY in "
                f"{', '.join(MODEL_FAMILIES)} and BATCH in 1..{NUM_IMAGES}, e.g. {DEFAULT_CELLS}."
            )
        cells.append((family, int(batch)))
    if len(set(cells)) != len(cells):
        raise UserError(f"--cells {text}: names a cell twice.")
    return cells


def default_steps(family, images_per_step, minimum=TRAIN_PY_SPE):
    """Steps that hold about IMAGES_PER_TIMING real images: a multiple of 16
    when that is at least 16 steps, else at least `minimum`."""
    steps = IMAGES_PER_TIMING[family] / images_per_step
    if steps >= TRAIN_PY_SPE:
        return TRAIN_PY_SPE * round(steps / TRAIN_PY_SPE)
    return max(minimum, round(steps))


def summarise(contender, first_call, times, steps, batch_size, flops, peak_gflops):
    """The figures of one contender in one cell."""
    per_step = statistics.median(times) / steps
    rate = batch_size / per_step
    return {
        **contender.settings,
        "steps_per_timing": steps,
        "seconds": [round(t, 4) for t in times],
        "images_per_second": rate,
        "first_call_seconds": first_call,
        # The first call less what its steps cost once warm: tracing and
        # compiling, mostly.
        "compile_seconds": max(0.0, first_call - contender.unit * per_step),
        "peak_share": rate * flops / (peak_gflops * 1e9),
    }


def measure_cell(family, batch_size, steps, repeats, images, flops, peak_gflops, log):
    """T, K and ours in one cell: built, warmed up, timed interleaved."""
    log(f"{family}-{batch_size}: building T, K and ours")
    settings, trial_rates, trial_seconds = trial_settings(family, batch_size, images, steps, log)
    contenders = {v: build(v, family, batch_size, images, steps, settings) for v in VARIANTS}
    steps_of = dict.fromkeys(contenders, steps)
    first_calls = warm_up(contenders, steps_of, log)
    times = time_interleaved(contenders, steps_of, repeats, log)
    variants = {
        name: summarise(c, first_calls[name], times[name], steps, batch_size,
                        flops["algorithm_1"], peak_gflops)
        for name, c in contenders.items()
    }
    ours = variants["ours"]["images_per_second"]
    variants["ours"]["trial"] = {"images_per_second": trial_rates, "seconds": trial_seconds}
    for name, contender_flops in (("T", flops["tutorial"]), ("K", flops["algorithm_1"]),
                                  ("ours", flops["algorithm_1"])):
        # The arithmetic each really does, per second: how well it runs its own work.
        variants[name]["own_gflops"] = variants[name]["images_per_second"] * contender_flops / 1e9
    return {
        "cell": f"{family}-{batch_size}",
        "family": family,
        "batch_size": batch_size,
        "steps_per_timing": steps,
        "variants": variants,
        "ours_over_T": ours / variants["T"]["images_per_second"],
        "ours_over_K": ours / variants["K"]["images_per_second"],
    }


def run_sweep(args, images, peak_gflops, log):
    """Ours over m x k for each family, each family's settings interleaved."""
    import tensorflow as tf

    # Each setting is its own model with its own train function, traced once;
    # TensorFlow still warns that "5 out of the last N calls" retraced,
    # because all of them come from the same Keras code.
    level = tf.get_logger().level
    tf.get_logger().setLevel("ERROR")
    try:
        return [row for family in MODEL_FAMILIES
                for row in sweep_family(family, args, images, peak_gflops, log)]
    finally:
        tf.get_logger().setLevel(level)


def sweep_family(family, args, images, peak_gflops, log):
    """The sweep's rows for one model family: built, warmed up, timed interleaved."""
    import keras

    log(f"sweep {family}: building m x k = {args.sweep_batches} x {args.sweep_ks}")
    contenders, steps = {}, {}
    for m in args.sweep_batches:
        for k in args.sweep_ks:
            steps[(m, k)] = args.steps or default_steps(family, m * k, minimum=1)
            keras.utils.set_random_seed(0)
            contenders[(m, k)] = build_ours(family, m, images, steps[(m, k)], k=k)
    first_calls = warm_up(contenders, steps, log)
    times = time_interleaved(contenders, steps, args.repeats, log)
    rows = []
    for (m, k), contender in contenders.items():
        flops = flops_per_image(family, k)["algorithm_1"]
        row = summarise(contender, first_calls[(m, k)], times[(m, k)], steps[(m, k)],
                        m * k, flops, peak_gflops)
        rows.append({"family": family, "batch_size": m, "flops_per_image": flops, **row})
    return rows
