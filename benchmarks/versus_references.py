"""Ours against the two reference GAN loops, side by side in one process.

    .venv/bin/python benchmarks/versus_references.py [--repeats 3]
        [--cells mlp-64,mlp-256,conv-64,conv-256] [--steps N] [--sweep] [--rss]
        [--out benchmarks/results/versus_references.json]
        [--doc docs/performance.md] [--plot FILE.png]

For each cell (model family, batch size m) three contenders train the same
networks on the same in-memory images:
  T     the TensorFlow DCGAN tutorial loop,
  K     the keras.io `train_step` example under `fit`'s compile defaults
        (both in benchmarks/reference_loops.py),
  ours  `keras_gan.GAN` compiled as train.py compiles it by default: XLA or
        not, 16 steps per call or 1, whichever a timed trial on this machine
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
the generated block of docs/performance.md, `--plot` draws a bar chart.
"""

import argparse
import dataclasses
import datetime
import functools
import json
import os
import resource
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from keras_gan.training import compile_settings  # noqa: E402
from keras_gan.common.files import atomic_path, check_writable_file, replace_marked_block  # noqa: E402
from keras_gan.common.options import MODEL_FAMILIES, OneLineArgumentParser, UserError  # noqa: E402

USAGE_ERROR = 2
DEFAULT_CELLS = "mlp-64,mlp-256,conv-64,conv-256"
DEFAULT_OUT = os.path.join(ROOT, "benchmarks", "results", "versus_references.json")
DOC_BEGIN = "<!-- versus references: begin -->"
DOC_END = "<!-- versus references: end -->"
VARIANTS = {
    "T": "TF DCGAN tutorial: @tf.function step, one forward pass under two tapes",
    "K": "keras.io `train_step` under `fit`, compile defaults",
    "ours": "keras_gan.GAN as train.py compiles it: XLA on or off, 16 steps per call or 1, "
            "as its timed trial chose on this machine (keras_gan/training/compile_settings.py)",
}
# The sweep's fixed settings, train.py's static default (a trial per setting
# would time 4x as many models), and the multiple every timing's steps are rounded to.
TRAIN_PY_JIT, TRAIN_PY_SPE = compile_settings.STATIC_JIT_COMPILE, compile_settings.STEPS_PER_EXECUTION
# Random images: the pixels' values do not change the arithmetic.
NUM_IMAGES = 4096
# Real images per timing by default: about a second or two per timing on a
# 2-core VM (conv steps cost ~5x MLP steps).
IMAGES_PER_TIMING = {"mlp": 8192, "conv": 2048}
SWEEP_BATCHES = (32, 64, 128, 256, 512, 1024)
SWEEP_KS = (1, 2, 4)
MATMUL_SIZE, MATMUL_REPEATS = 2048, 5


# ------------------------------------------------------------------- flags
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


def default_steps(family, images_per_step, minimum=TRAIN_PY_SPE):
    """Steps that hold about IMAGES_PER_TIMING real images: a multiple of 16
    when that is at least 16 steps, else at least `minimum`."""
    steps = IMAGES_PER_TIMING[family] / images_per_step
    if steps >= TRAIN_PY_SPE:
        return TRAIN_PY_SPE * round(steps / TRAIN_PY_SPE)
    return max(minimum, round(steps))


# ------------------------------------------------------------------- FLOPs
def forward_flops(model):
    """Multiply-add FLOPs (2 per multiply-add) of one example's forward pass
    through the Dense, Conv2D and Conv2DTranspose layers of `model`.

    BatchNorm, activations and bias adds are left out: they are elementwise,
    a few percent of these. A layer with a kernel of another kind is an
    error rather than a silent undercount.
    """
    return sum(layer_forward_flops(layer) for layer in model.layers)


def layer_forward_flops(layer):
    """One example's forward FLOPs through one layer of a built model (0 without a kernel)."""
    import keras

    if isinstance(layer, keras.layers.Dense):
        return 2 * layer.kernel.shape[0] * layer.kernel.shape[1]
    if isinstance(layer, keras.layers.Conv2DTranspose):
        # Every input pixel scatters a kh x kw x c_out patch.
        kh, kw, c_out, c_in = layer.kernel.shape
        h, w = layer.input.shape[1:3]
        return 2 * kh * kw * c_in * c_out * h * w
    if isinstance(layer, keras.layers.Conv2D):
        kh, kw, c_in, c_out = layer.kernel.shape
        h, w = layer.output.shape[1:3]
        return 2 * kh * kw * c_in * c_out * h * w
    if getattr(layer, "kernel", None) is not None:
        raise ValueError(f"forward_flops: no FLOP rule for {type(layer).__name__}.")
    return 0


def flops_per_image(family, k=1):
    """FLOPs per real image of one step, with backward = 2x forward.

    Algorithm 1 (ours, and K, which makes the same passes for k = 1), per m
    images: each of the k D updates runs G forward on m (G) and D forward and
    backward on m real + m fake (6 D); the G update runs G and D forward and
    backward on m (3 G + 3 D). Per real image (k m of them):
        G + 6 D + (3 G + 3 D) / k,  i.e. 4 G + 9 D for k = 1.
    T's shared forward pass: G forward and backward (3 G), D forward on 2 m
    (2 D), D backward for D's tape on 2 m (4 D) and for G's tape on m (2 D):
        3 G + 8 D.
    With G, D the forward FLOPs per example, conv: G 10.18 M, D 3.25 M ->
    69.95 M (T: 56.5 M); MLP: G 1.14 M, D 1.13 M -> 14.73 M (T: 12.5 M), the
    figures of ../shared/notes/anchors.md.
    """
    g, d = family_forward_flops(family)
    return {"algorithm_1": g + 6 * d + (3 * g + 3 * d) / k, "tutorial": 3 * g + 8 * d}


@functools.lru_cache(maxsize=None)
def family_forward_flops(family):
    """(G, D): forward FLOPs per example of the family's two networks."""
    from keras_gan.model.networks import build_models

    generator, discriminator = build_models(family)
    return forward_flops(generator), forward_flops(discriminator)


def matmul_peak_gflops(n=MATMUL_SIZE, repeats=MATMUL_REPEATS):
    """Median GFLOP/s of an n x n float32 `tf.matmul`: what this machine's
    dense kernels reach, the yardstick for the models' arithmetic."""
    import tensorflow as tf

    a, b = tf.random.normal([n, n]), tf.random.normal([n, n])
    float(tf.matmul(a, b)[0, 0])  # warm-up: thread pools, kernel choice
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        float(tf.matmul(a, b)[0, 0])
        rates.append(2 * n**3 / (time.perf_counter() - start) / 1e9)
    return statistics.median(rates)


# -------------------------------------------------------------- contenders
@dataclasses.dataclass
class Contender:
    """One way to train: `run(steps)` trains and returns the seconds taken.

    `unit` is the steps one call runs (ours: steps_per_execution): the first
    call's size, and what every step count must be a multiple of.
    """

    run: Callable[[int], float]
    unit: int
    settings: dict


def make_images():
    """NUM_IMAGES random uint8 images, as benchmarks/throughput.py trains on."""
    import numpy as np

    return np.random.default_rng(0).integers(0, 256, (NUM_IMAGES, 28, 28, 1), np.uint8)


def build_ours(family, batch_size, images, steps, k=1, settings=None):
    """Ours compiled with `settings` (jit_compile, steps_per_execution);
    by default train.py's static ones (XLA, 16 steps per call, or `steps`
    if fewer, as train.py caps steps_per_execution at the run's steps)."""
    from benchmarks import throughput
    from keras_gan import GAN, build_models
    from keras_gan.data import make_dataset

    jit, spe = settings or (TRAIN_PY_JIT, min(TRAIN_PY_SPE, steps))
    gan = GAN(*build_models(family), k=k, seed=0)
    gan.compile(jit_compile=jit, steps_per_execution=spe)
    iterator = iter(make_dataset(images, batch_size, k=k, seed=0).repeat())
    chosen = {"jit_compile": bool(gan.jit_compile), "steps_per_execution": spe, "k": k}
    return Contender(lambda n: throughput.time_steps(gan, iterator, n), spe, chosen)


def trial_settings(family, batch_size, images, steps, log):
    """train.py's choice for this cell: its timed trial of XLA on/off x 16
    steps per call or 1 (uncached, on throwaway models), as
    ((jit_compile, steps_per_execution), {label: images/s}, seconds)."""
    import keras

    from keras_gan import GAN, build_models
    from keras_gan.training import compile_settings
    from keras_gan.data import make_dataset

    def build(jit, spe):
        gan = GAN(*build_models(family), seed=0)
        gan.compile(jit_compile=jit, steps_per_execution=spe)
        return gan

    options = compile_settings.candidates("auto", None, steps)
    log(f"  ours: train.py's compile trial of {len(options)} settings")
    keras.utils.set_random_seed(0)
    start = time.perf_counter()
    dataset = make_dataset(images, batch_size, seed=0).repeat()
    with compile_settings.suppress_retracing_warnings():
        rates = compile_settings.run_trial(options, build, dataset, batch_size)
    seconds = time.perf_counter() - start
    labelled = {compile_settings.label(*o): r for o, r in rates.items()}
    return compile_settings.fastest(rates), labelled, seconds


def build(variant, family, batch_size, images, steps, settings=None):
    """Contender `variant` ("T", "K" or "ours", with its compile `settings`)
    for one cell, from seed 0."""
    import keras

    from benchmarks import reference_loops

    keras.utils.set_random_seed(0)
    if variant == "T":
        loop = reference_loops.tutorial_loop(family, batch_size, images)
        return Contender(loop.run, 1, {"jit_compile": False, "steps_per_execution": 1})
    if variant == "K":
        loop = reference_loops.keras_io_loop(family, batch_size, images)
        settings = {"jit_compile": bool(loop.gan.jit_compile),
                    "steps_per_execution": loop.gan.steps_per_execution}
        return Contender(loop.run, 1, settings)
    return build_ours(family, batch_size, images, steps, settings=settings)


def warm_up(contenders, steps, log):
    """{key: seconds of its first call}: tracing, compiling, one call's steps.

    Every first call comes before any contender settles: in smoke runs, the
    first call of a compiled T or K function after ours' XLA compilation
    (and of one XLA function after another's compilation) took 0.2-0.3 s
    more, once, however long it had been idle. So all compile first, then
    each runs `min(16, its steps)` untimed steps (whole calls) to settle.
    """
    first_calls = {}
    for key, contender in contenders.items():
        log(f"  first call of {key}")
        first_calls[key] = contender.run(contender.unit)
    for key, contender in contenders.items():
        settle = min(TRAIN_PY_SPE, steps[key])
        contender.run(max(contender.unit, settle - settle % contender.unit))
    return first_calls


def time_interleaved(contenders, steps, repeats, log):
    """{key: [seconds per timing]}: each contender `steps[key]` steps,
    `repeats` times, round-robin."""
    times = {key: [] for key in contenders}
    for repeat in range(repeats):
        for key, contender in contenders.items():
            times[key].append(contender.run(steps[key]))
        log(f"  repeat {repeat + 1}/{repeats} timed")
    return times


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


# ------------------------------------------------------------------ memory
def measure_rss(args, cell_steps, ours_settings, log):
    """{cell: {variant: peak RSS in MB}}, each contender alone in a child
    process that builds it, warms it up and runs one timing's steps.

    Ours twice, as train.py runs it: its first run on a machine compiles the
    step (with XLA, the compiler's memory counts), later runs load the
    program from train.py's XLA cache (compile_settings.enable_xla_cache),
    here a fresh temporary one: "ours" and "ours_cached".
    """
    import tempfile

    from keras_gan.training import compile_settings

    rss = {}
    for family, batch_size in args.cells:
        cell = f"{family}-{batch_size}"
        rss[cell] = {}
        jit, spe = ours_settings[cell]
        with tempfile.TemporaryDirectory(prefix="xla-cache-") as xla_cache:
            env = dict(os.environ, TF_XLA_FLAGS=f"{compile_settings.XLA_CACHE_FLAG}={xla_cache}")
            for key, variant in (("T", "T"), ("K", "K"), ("ours", "ours"), ("ours_cached", "ours")):
                log(f"{cell}: peak RSS of {key}, in a child process")
                command = [sys.executable, os.path.abspath(__file__), "--child", variant,
                           "--cells", cell, "--steps", str(cell_steps[cell]),
                           "--child-settings", f"{'on' if jit else 'off'},{spe}"]
                result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env)
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


# ------------------------------------------------------------------ output
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


def write_json(path, results):
    with atomic_path(path) as tmp:
        with open(tmp, "w") as f:
            json.dump(results, f, indent=2)
            f.write("\n")


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


# -------------------------------------------------------------------- main
def log(message):
    print(message, file=sys.stderr, flush=True)


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


def report(args, results):
    """The table printed, and written into --doc and --plot."""
    table = markdown(results)
    if args.doc:
        note = f"Generated by `.venv/bin/python {results['command']}`."
        replace_marked_block(args.doc, DOC_BEGIN, DOC_END, f"{note}\n\n{table}")
    if args.plot:
        write_plot(args.plot, results)
    print(table)


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
        for cell, by_variant in measure_rss(args, cell_steps, chosen, log).items():
            entry = next(c for c in results["cells"] if c["cell"] == cell)
            for variant in VARIANTS:
                entry["variants"][variant]["peak_rss_mb"] = by_variant[variant]
            entry["variants"]["ours"]["peak_rss_mb_cached"] = by_variant["ours_cached"]
    write_json(args.out, results)
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
