"""Where a training step's time goes: its passes and its layers, timed alone.

    .venv/bin/python benchmarks/passes.py [--cell conv-256] [--repeats 5]
        [--doc docs/performance.md]

A profile of one cell (model family, batch size m), in two tables:

1. The passes one step of Algorithm 1 is made of (ours and K make the same
   ones for k = 1), and the one pass of T's shared step, each compiled on
   its own as a `tf.function` with TensorFlow's kernels (no XLA: XLA
   compiles a pass alone into another program than inside the whole step,
   so its pass times do not add up to its step's): milliseconds, GFLOP/s of
   the pass's arithmetic, and its share of the machine's float32 matmul
   peak. Summing a loop's passes gives the time its step needs when nothing
   else (optimizer updates, metrics, the loop) costs anything.
2. Each layer with a kernel, forward alone at batch m: what the kernels
   that do the arithmetic reach on these shapes.

It answers two questions of docs/performance.md: whether ours can beat T
without skipping work (only if its passes run faster than T's, and they are
the same kernels), and how close to the matmul peak the step's kernels can
get at all.
"""

import datetime
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from keras_gan.common.files import replace_marked_block  # noqa: E402
from keras_gan.common.options import OneLineArgumentParser, UserError  # noqa: E402

DOC_BEGIN = "<!-- passes: begin -->"
DOC_END = "<!-- passes: end -->"
CALLS_PER_TIMING = 10


def parse_args(argv):
    p = OneLineArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cell", default="conv-256", help="FAMILY-BATCH (default: conv-256)")
    p.add_argument("--repeats", type=int, default=5, help="timings per pass; the median counts")
    p.add_argument("--doc", default=None, help=f"rewrite the {DOC_BEGIN} block of this file")
    args = p.parse_args(argv)
    from benchmarks.versus_cells import parse_cells

    cells = parse_cells(args.cell)
    if len(cells) != 1:
        raise UserError(f"--cell {args.cell}: expected one cell, e.g. conv-256.")
    (args.family, args.batch_size), = cells
    if args.repeats < 1:
        raise UserError(f"--repeats {args.repeats}: expected at least 1.")
    return args


def median_ms(function, repeats):
    """Median milliseconds of one call of `function` (results fetched)."""
    import tensorflow as tf

    def timing(calls):
        start = time.perf_counter()
        for _ in range(calls):
            out = function()
        tf.nest.map_structure(lambda t: t.numpy(), out)
        return (time.perf_counter() - start) / calls

    timing(2)  # trace, compile, settle
    return 1e3 * statistics.median(timing(CALLS_PER_TIMING) for _ in range(repeats))


def step_passes(generator, discriminator, m):
    """{name: (function, forward-equivalents (G, D) it does, loops using it)}."""
    import tensorflow as tf

    from keras_gan.model import losses

    z = tf.random.normal([m, int(generator.inputs[0].shape[-1])])
    real = tf.random.uniform([m, 28, 28, 1], -1.0, 1.0)
    fake = tf.random.uniform([m, 28, 28, 1], -1.0, 1.0)
    g_vars, d_vars = generator.trainable_variables, discriminator.trainable_variables

    def fakes():
        return generator(z, training=True)

    # The GAN's own losses: their gradients depend on the logits, as in training
    # (a plain mean would hand XLA a constant gradient to fold, and time another program).
    def d_update_gradients():
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(losses.discriminator_loss(
                discriminator(real, training=True), discriminator(fake, training=True)))
        return tape.gradient(loss, d_vars)

    def g_update_gradients():
        with tf.GradientTape() as tape:
            logits = discriminator(generator(z, training=True), training=True)
            loss = tf.reduce_mean(losses.generator_loss(logits))
        return tape.gradient(loss, g_vars)

    def tutorial_gradients():
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            images = generator(z, training=True)
            real_out = discriminator(real, training=True)
            fake_out = discriminator(images, training=True)
            g_loss = tf.reduce_mean(losses.generator_loss(fake_out))
            d_loss = tf.reduce_mean(losses.discriminator_loss(real_out, fake_out))
        return g_tape.gradient(g_loss, g_vars), d_tape.gradient(d_loss, d_vars)

    # Forward-pass equivalents (backward = 2 forward), as benchmarks/arithmetic.py counts them.
    return {
        "G forward (the D update's m fakes)": (fakes, (1, 0), "ours"),
        "D forward + backward, m real + m fake": (d_update_gradients, (0, 6), "ours"),
        "G update: G and D forward, backward to G": (g_update_gradients, (3, 3), "ours"),
        "T: shared forward, both tapes' gradients": (tutorial_gradients, (3, 8), "T"),
    }


def layer_rows(model, m):
    """[(name, forward FLOPs per example, function)] for each layer with a kernel."""
    import tensorflow as tf

    from benchmarks.arithmetic import layer_forward_flops

    rows = []
    for layer in model.layers:
        if getattr(layer, "kernel", None) is None:
            continue
        x = tf.random.normal([m, *layer.input.shape[1:]])
        flops = layer_forward_flops(layer)
        kind = type(layer).__name__
        shape = "x".join(str(d) for d in layer.output.shape[1:])
        rows.append((f"{model.name}: {kind} -> {shape}", flops,
                     lambda layer=layer, x=x: layer(x, training=True)))
    return rows


def profile(args, log):
    import tensorflow as tf

    from benchmarks.throughput import machine
    from benchmarks.arithmetic import family_forward_flops, matmul_peak_gflops
    from keras_gan.model.networks import build_models

    peak = matmul_peak_gflops()
    m = args.batch_size
    generator, discriminator = build_models(args.family)
    g_flops, d_flops = family_forward_flops(args.family)
    passes, layers = [], []
    for name, (function, (g, d), loop) in step_passes(generator, discriminator, m).items():
        flops = (g * g_flops + d * d_flops) * m
        log(f"pass: {name}")
        ms = median_ms(tf.function(function), args.repeats)
        passes.append({"pass": name, "loop": loop, "gflop": flops / 1e9, "ms": ms})
    for model in (generator, discriminator):
        for name, flops, function in layer_rows(model, m):
            log(f"layer: {name}")
            ms = median_ms(tf.function(function), args.repeats)
            layers.append({"layer": name, "gflop": flops * m / 1e9, "ms": ms})
    return {"date": datetime.date.today().isoformat(), "machine": machine(), "peak": peak,
            "cell": args.cell, "repeats": args.repeats, "passes": passes, "layers": layers}


def markdown(r):
    peak = r["peak"]

    def rate(gflop, ms):
        return f"{gflop / ms * 1e3:,.0f} ({100 * gflop / ms * 1e3 / peak:.0f} %)"

    lines = [
        f"{r['date']}, {r['machine']}; cell {r['cell']}; float32 matmul peak {peak:,.0f} GFLOP/s; "
        f"median of {r['repeats']} timings of {CALLS_PER_TIMING} calls.",
        "",
        "| pass (one step's worth) | in | GFLOP | ms | GFLOP/s (% of peak) |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for p in r["passes"]:
        lines.append(f"| {p['pass']} | {p['loop']} | {p['gflop']:.2f} "
                     f"| {p['ms']:.1f} | {rate(p['gflop'], p['ms'])} |")
    for loop in ("ours", "T"):
        mine = [p for p in r["passes"] if p["loop"] == loop]
        gflop, ms = sum(p["gflop"] for p in mine), sum(p["ms"] for p in mine)
        lines.append(f"| **sum for {loop}** | {loop} | {gflop:.2f} | {ms:.1f} | {rate(gflop, ms)} |")
    lines += ["", "| layer, forward alone | GFLOP | ms | GFLOP/s (% of peak) |",
              "| --- | ---: | ---: | ---: |"]
    for layer in r["layers"]:
        lines.append(f"| {layer['layer']} | {layer['gflop']:.3f} | {layer['ms']:.2f} "
                     f"| {rate(layer['gflop'], layer['ms'])} |")
    return "\n".join(lines)


def main(argv=None):
    try:
        args = parse_args(argv)
        from keras_gan.common.quiet import tensorflow_start

        with tensorflow_start():
            import tensorflow  # noqa: F401
        results = profile(args, lambda line: print(line, file=sys.stderr, flush=True))
        table = markdown(results)
        if args.doc:
            command = " ".join(["benchmarks/passes.py"] + list(sys.argv[1:] if argv is None else argv))
            replace_marked_block(args.doc, DOC_BEGIN, DOC_END,
                                 f"Generated by `.venv/bin/python {command}`.\n\n{table}")
        print(table)
    except UserError as e:
        print(f"passes.py: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
