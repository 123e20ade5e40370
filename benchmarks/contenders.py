"""The three contenders of benchmarks/versus_references.py, built and timed.

T and K are the reference loops of benchmarks/reference_loops.py; ours is
`keras_gan.GAN` compiled as train.py compiles it, with the settings its
timed compile trial (keras_gan/training/compile_settings.py, run here
uncached by `trial_settings`) finds fastest for the cell. Each is a
`Contender` whose `run(steps)` trains and returns the seconds taken; ours is
timed through fit's own train function (benchmarks/throughput.time_steps).
`warm_up` makes every first call (tracing, compiling) before any is timed,
`time_interleaved` times them round-robin so machine noise hits all alike.
TensorFlow and Keras are imported only when a contender is built.
"""

import dataclasses
import time
from collections.abc import Callable

from keras_gan.training import compile_settings

VARIANTS = {
    "T": "TF DCGAN tutorial: @tf.function step, one forward pass under two tapes",
    "K": "keras.io `train_step` under `fit`, compile defaults",
    "ours": "keras_gan.GAN as train.py compiles it: XLA on or off at 16 steps per call, "
            "as its timed trial chose on this machine (keras_gan/training/compile_settings.py)",
}
# The sweep's fixed settings, train.py's static default (a trial per setting
# would time 4x as many models), and the multiple every timing's steps are rounded to.
TRAIN_PY_JIT, TRAIN_PY_SPE = compile_settings.STATIC_JIT_COMPILE, compile_settings.STEPS_PER_EXECUTION
# Random images: the pixels' values do not change the arithmetic.
NUM_IMAGES = 4096


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
    by default train.py's static ones: XLA and 16 steps per call, capped
    as train.py caps them (compile_settings.steps_per_call_cap), here at
    the timing's `steps`."""
    from benchmarks import throughput
    from keras_gan import GAN, build_models
    from keras_gan.data import make_dataset

    jit, spe = settings or (TRAIN_PY_JIT, compile_settings.steps_per_call_cap(steps))
    gan = GAN(*build_models(family), k=k, seed=0)
    gan.compile(jit_compile=jit, steps_per_execution=spe)
    iterator = iter(make_dataset(images, batch_size, k=k, seed=0).repeat())
    chosen = {"jit_compile": bool(gan.jit_compile), "steps_per_execution": spe, "k": k}
    return Contender(lambda n: throughput.time_steps(gan, iterator, n), spe, chosen)


def trial_settings(family, batch_size, images, steps, log):
    """train.py's choice for this cell: its timed trial of XLA on or off at
    16 steps per call (uncached, on throwaway models), as
    ((jit_compile, steps_per_execution), {label: images/s}, seconds)."""
    import keras

    from keras_gan import GAN, build_models
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
