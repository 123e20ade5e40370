"""Training throughput of the GAN under fit's speed settings, side by side.

    .venv/bin/python benchmarks/throughput.py [--batch-size 64] [--repeats 3]

For each model family, GANs compiled with different (jit_compile,
steps_per_execution) settings are trained on the same in-memory data in one
process, interleaved round-robin so machine noise hits all of them alike.
Reports real images per second (k * m per step) as the median over repeats,
and each setting's ratio to Keras' defaults (no XLA, one step per call). The
ratios, not the absolute numbers, are what transfers between machines.
These numbers chose train.py's defaults (--jit-compile auto, --steps-per-execution).
"""

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from keras_gan.common.quiet import tensorflow_start  # noqa: E402

with tensorflow_start():
    import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_gan import GAN, build_models
from keras_gan.training import compile_settings  # noqa: E402
from keras_gan.data import make_dataset  # noqa: E402

SETTINGS = [  # (label, jit_compile, steps_per_execution)
    ("fit defaults", False, 1),
    ("spe 16", False, 16),
    ("jit", True, 1),
    ("jit + spe 16", True, 16),
]
STEPS = {"mlp": 256, "conv": 64}


def build(family, jit, spe, batch_size):
    keras.utils.set_random_seed(0)
    gan = GAN(*build_models(family), seed=0)
    gan.compile(jit_compile=jit, steps_per_execution=spe)
    images = np.random.default_rng(0).integers(0, 256, (4096, 28, 28, 1), np.uint8)
    return gan, make_dataset(images, batch_size, seed=0).repeat()


def time_steps(gan, iterator, steps):
    """Seconds for `steps` training steps through fit's own compiled function.

    `fit` calls this same function (`make_train_function`), `steps_per_execution`
    steps per call; timing it directly leaves out fit's callbacks, which on
    these VMs sometimes stretched whole runs to multiples of 40 ms per step.
    """
    gan.make_train_function()
    return compile_settings.time_calls(gan, iterator, steps // gan.steps_per_execution)


def machine():
    """One line that says where the figures come from: they differ by machine."""
    import tensorflow as tf

    from keras_gan.common.machine import cpu_description

    gpus = len(tf.config.list_physical_devices("GPU"))
    return (f"{cpu_description()}, {gpus} GPU(s), TensorFlow {tf.__version__}, "
            f"Keras {keras.__version__}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--models", default="mlp,conv")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(f"batch {args.batch_size}, median of {args.repeats} interleaved repeats")
    for family in args.models.split(","):
        steps = STEPS[family]
        runs = {}
        for label, jit, spe in SETTINGS:
            gan, ds = build(family, jit, spe, args.batch_size)
            iterator = iter(ds)
            time_steps(gan, iterator, 2 * spe)  # compile and warm up
            runs[label] = (gan, iterator, [])
        for _ in range(args.repeats):
            for label, (gan, iterator, times) in runs.items():
                times.append(time_steps(gan, iterator, steps))
        rate = {
            label: steps * args.batch_size / statistics.median(times)
            for label, (_, _, times) in runs.items()
        }
        base = rate["fit defaults"]
        print(f"\n{family} GAN ({steps} steps per timing)")
        print(f"  {'setting':<14} {'images/s':>9} {'ratio':>6}")
        for label, value in rate.items():
            print(f"  {label:<14} {value:>9.0f} {value / base:>6.2f}")


if __name__ == "__main__":
    main()
