"""float32 against mixed precision, the GAN's training step side by side.

    .venv/bin/python benchmarks/mixed_precision.py [--repeats 5] [--doc docs/performance.md]

For each model family and batch size, two GANs with train.py's default
recipe (R1 gamma 1, EMA 0.999) and compile settings (XLA, 16 steps per
call) -- one built under float32, one under the mixed policy train.py's
`--mixed-precision` picks on this machine (mixed_bfloat16 without a GPU,
mixed_float16 with loss scaling on one) -- are timed in one process,
interleaved round-robin so machine noise hits both alike. Reports real images
per second (median over repeats) and the ratio mixed / float32: whether this
hardware gains from it. Sample quality under mixed precision is measured by
`python -m keras_gan.experiments --only default+mixed-precision` (docs/results.md).
"""

import argparse
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

from throughput import STEPS, machine, time_steps  # noqa: E402  (starts TensorFlow quietly)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_gan import GAN, build_models  # noqa: E402
from keras_gan.data import make_dataset  # noqa: E402
from keras_gan.common.files import replace_marked_block  # noqa: E402
from keras_gan.model.gan import default_optimizer  # noqa: E402

DOC_BEGIN = "<!-- mixed precision: begin -->"
DOC_END = "<!-- mixed precision: end -->"


def mixed_policy():
    """The policy train.py's --mixed-precision uses here (train.precision_policy)."""
    return "mixed_float16" if tf.config.list_physical_devices("GPU") else "mixed_bfloat16"


def build(family, policy, batch_size):
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(policy)
    try:
        keras.utils.set_random_seed(0)
        gan = GAN(*build_models(family), r1_gamma=1.0, seed=0)
        scale = policy == "mixed_float16"
        gan.compile(d_optimizer=default_optimizer(1e-3, name="d", loss_scale=scale),
                    g_optimizer=default_optimizer(1e-3, name="g", ema=0.999, loss_scale=scale),
                    jit_compile=True, steps_per_execution=16)
    finally:
        keras.mixed_precision.set_global_policy(previous)
    images = np.random.default_rng(0).integers(0, 256, (4096, 28, 28, 1), np.uint8)
    return gan, iter(make_dataset(images, batch_size, seed=0).repeat())


def measure(families, batches, repeats):
    policies = ("float32", mixed_policy())
    rows = []
    for family in families:
        for batch in batches:
            steps = max(16, STEPS[family] * 64 // batch // 16 * 16)
            contenders = {p: build(family, p, batch) for p in policies}
            for gan, iterator in contenders.values():
                time_steps(gan, iterator, 32)  # compile and warm up
            times = {p: [] for p in policies}
            for _ in range(repeats):
                for p, (gan, iterator) in contenders.items():
                    times[p].append(time_steps(gan, iterator, steps))
            rate = {p: steps * batch / statistics.median(t) for p, t in times.items()}
            rows.append((family, batch, rate[policies[0]], rate[policies[1]]))
            print(f"{family} b{batch}: float32 {rate[policies[0]]:.0f}, {policies[1]} "
                  f"{rate[policies[1]]:.0f} images/s, ratio {rate[policies[1]] / rate[policies[0]]:.2f}",
                  flush=True)
    return policies[1], rows


def markdown(policy, rows, repeats, argv):
    lines = [f"Made by `python benchmarks/mixed_precision.py {' '.join(argv)}`".rstrip()
             + f" on {machine()}; median of {repeats} interleaved timings; train.py's recipe and "
             "compile settings.", "",
             f"| model | batch | float32 images/s | {policy} images/s | ratio |",
             "| --- | --- | --- | --- | --- |"]
    lines += [f"| {f} | {b} | {a:,.0f} | {m:,.0f} | {m / a:.2f} |" for f, b, a, m in rows]
    return "\n".join(lines)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--models", default="mlp,conv")
    parser.add_argument("--batches", default="64,256")
    parser.add_argument("--doc", help=f"rewrite the {DOC_BEGIN} block of this file")
    args = parser.parse_args(argv)
    if args.doc and DOC_BEGIN not in open(args.doc).read():
        parser.error(f"--doc {args.doc}: no generated block ({DOC_BEGIN} ... {DOC_END})")
    print(f"machine: {machine()}", flush=True)
    policy, rows = measure(args.models.split(","), [int(b) for b in args.batches.split(",")],
                           args.repeats)
    table = markdown(policy, rows, args.repeats, argv)
    print(table)
    if args.doc:
        replace_marked_block(args.doc, DOC_BEGIN, DOC_END, table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
