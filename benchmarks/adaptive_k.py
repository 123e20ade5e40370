"""The cost of a `--k auto` step (skippable D updates, `ops.cond`) beside k = 1 and 2.

    .venv/bin/python benchmarks/adaptive_k.py [--steps 160]

The conv GAN with train.py's recipe (R1, EMA, Adam 1e-3), batch 64, 16 steps
per call, with and without XLA; --k auto with its rule at k = 1 (as a run
starts) and held at k = 2 (its second update then runs inside a taken
branch). Prints milliseconds per generator step. This chose train.py's
`--jit-compile auto` for --k auto (off) and is quoted in docs/algorithm.md.
"""

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

from throughput import machine, time_steps  # noqa: E402  (starts TensorFlow quietly)

import numpy as np  # noqa: E402

from keras_gan import GAN, build_models  # noqa: E402
from keras_gan.adaptive_k import K_MAX  # noqa: E402
from keras_gan.data import make_dataset  # noqa: E402
from keras_gan.gan import default_optimizer  # noqa: E402


def milliseconds_per_step(k, jit, steps, auto_at=None):
    gan = GAN(*build_models("conv"), k=k, r1_gamma=1.0, seed=0)
    if auto_at:
        gan.adaptive_k.k.assign(auto_at)
    gan.compile(d_optimizer=default_optimizer(1e-3, name="d"),
                g_optimizer=default_optimizer(1e-3, name="g", ema=0.999),
                jit_compile=jit, steps_per_execution=16)
    images = np.random.default_rng(0).integers(0, 256, (4096, 28, 28, 1), np.uint8)
    iterator = iter(make_dataset(images, 64, k=K_MAX if k == "auto" else k).repeat())
    time_steps(gan, iterator, 32)  # compile and warm up
    return 1000 * time_steps(gan, iterator, steps) / steps


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=160)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    for jit in (True, False):
        for label, k, auto_at in (("1", 1, None), ("2", 2, None), ("auto at 1", "auto", 1),
                                  ("auto at 2", "auto", 2)):
            print(f"k={label:<9} XLA {'on ' if jit else 'off'}: "
                  f"{milliseconds_per_step(k, jit, args.steps, auto_at):6.1f} ms/step", flush=True)


if __name__ == "__main__":
    main()
