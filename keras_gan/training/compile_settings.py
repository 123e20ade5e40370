"""How train.py compiles the train step: XLA or not, and steps per call.

Neither setting wins everywhere. On one 2-core CPU, XLA made the MLP GAN
1.3x faster but the conv GAN at batch 256 8-15% slower; another machine
measured the opposite for conv (docs/performance.md). A fixed default is
wrong somewhere. So with `--jit-compile auto`, a long enough run on one
TensorFlow replica first times XLA on and off (at its steps per call) on
this machine: throwaway copies of its own GAN, on its own batches, a few
calls each, interleaved round-robin so that noise hits every candidate
alike. It then trains with the fastest. The trial costs
(2 + TRIAL_ROUNDS) * TRIAL_STEPS steps per candidate plus their compilation
(14-59 s on a 2-core VM), once per machine and configuration; uncached runs
shorter than `MIN_RUN_STEPS` skip it.

The choice is cached per machine and configuration in `cache_path()`
(`$KERAS_GAN_CACHE_DIR`, default `~/.cache/keras-gan`). Later runs reuse it,
so on one machine a seed gives the same weights run after run. XLA and
TensorFlow's own kernels round differently, so for bit-identical runs
*across* machines pass `--jit-compile on|off` and `--steps-per-execution`.
"""

import contextlib
import dataclasses
import datetime
import hashlib
import json
import os
import statistics
import sys
import time

from keras_gan.common.files import atomic_path

# Keras' multi-step loop: steps per call into the compiled graph when more than one.
STEPS_PER_EXECUTION = 16
# The static default, for runs too short for a trial (the benchmarks' winner on most cells).
STATIC_JIT_COMPILE = True
TRIAL_ROUNDS = 3  # timed rounds per candidate; the median counts
TRIAL_STEPS = STEPS_PER_EXECUTION  # steps per candidate per round
# Two candidates cost 2 * (2 + TRIAL_ROUNDS) * TRIAL_STEPS = 160 steps plus
# their compilation: below this many steps a trial would cost more than the
# few tens of percent it can save. Paid once: later runs read the cache.
MIN_RUN_STEPS = 2000
# Lazy R1 (r1_interval > 1) puts a tf.cond in the step. On a CPU, XLA ran
# that step 2-3x slower than TensorFlow's own kernels, and its compilation
# was most of a first run's 26-31 s trial (benchmarks/lazy_r1.py, a 2-core
# AMD EPYC VM). So without a GPU such a step is not timed under XLA: a rule
# from one kind of machine, said where it applies. On a GPU (never
# measured) the trial decides as for any step.
CONDITIONAL_STEP_ON_CPU = ("rule: XLA ran lazy R1's conditional step 2-3x slower on a CPU "
                           "(docs/performance.md); no trial")
CACHE_ENV = "KERAS_GAN_CACHE_DIR"
CACHE_FILE = "compile_settings.json"


@dataclasses.dataclass(frozen=True)
class Choice:
    """The settings a run compiles with, and why (one line)."""

    jit_compile: bool
    steps_per_execution: int
    reason: str


def describe(jit_compile, steps_per_execution, backend="tensorflow"):
    """"XLA on, 16 step(s) per call": what `compile(jit_compile, steps_per_execution)`
    means on this Keras backend (PyTorch compiles with torch.compile; JAX fuses steps)."""
    compiler = "torch.compile" if backend == "torch" else "XLA"
    steps = "fused step(s) per call" if backend == "jax" else "step(s) per call"
    return f"{compiler} {'on' if jit_compile else 'off'}, {steps_per_execution} {steps}"


def valid_settings(jit_compile, steps_per_execution):
    """Whether a stored (jit_compile, steps_per_execution) pair is one compile() takes."""
    return (isinstance(jit_compile, bool) and isinstance(steps_per_execution, int)
            and not isinstance(steps_per_execution, bool) and steps_per_execution >= 1)


def steps_per_call_cap(steps_per_epoch, steps_per_execution=STEPS_PER_EXECUTION):
    """Steps per call as Keras runs them: no more than an epoch holds."""
    return min(steps_per_execution, steps_per_epoch)


def candidates(jit_flag, spe_flag, steps_per_epoch):
    """[(jit_compile, steps_per_execution)] worth timing: the flags a user
    gave are fixed; "auto" offers XLA on and off. Steps per call are not
    timed: --steps-per-execution, or STEPS_PER_EXECUTION (capped at an
    epoch's steps). The trial times bare calls, but in `fit` every call also
    runs the callbacks (about 5-9 ms a call on a 2-core VM), so one step per
    call, which the bare trial sometimes rated a little faster, ran a default
    run 1.15x slower there (docs/performance.md)."""
    jits = (True, False) if jit_flag == "auto" else (jit_flag == "on",)
    return [(jit, steps_per_call_cap(steps_per_epoch, spe_flag or STEPS_PER_EXECUTION)) for jit in jits]


def xla_ruled_out(jit_flag, conditional_step, gpus):
    """Whether "auto" leaves XLA out untimed: a step with a tf.cond (lazy R1)
    on a machine without a GPU (CONDITIONAL_STEP_ON_CPU)."""
    return jit_flag == "auto" and conditional_step and not gpus


def fastest(rates):
    """The candidate with the most images per second; ties go to the first listed."""
    return max(rates, key=lambda c: (rates[c], -list(rates).index(c)))


# --------------------------------------------------------------------- cache
def cache_path():
    root = os.environ.get(CACHE_ENV) or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "keras-gan",
    )
    return os.path.join(root, CACHE_FILE)


XLA_CACHE_FLAG = "--tf_xla_persistent_cache_directory"
XLA_CACHE_DEVICES_FLAG = "--tf_xla_persistent_cache_device_types"
# Programs compiled for the CPU only: the benefit is measured there
# (docs/performance.md), and where a GPU runs Keras' "auto" XLA (predict,
# the evaluation's classifier) outside the stderr filter's span, its loads'
# harmless lines would be shown.
XLA_CACHE_DEVICES = "CPU"


def xla_cache_key():
    """This CPU (its instruction sets) and TensorFlow's version, in 16 hex digits."""
    from importlib import metadata

    from keras_gan.common.machine import cpu_identity

    versions = {}
    for name in ("tensorflow", "tensorflow-cpu", "tf-nightly"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[name] = metadata.version(name)
    return cache_key({"cpu": cpu_identity(), "tensorflow": versions})


def xla_cache_dir():
    """A folder per CPU and TensorFlow version. TensorFlow keys a program by
    its graph alone, and XLA loads one compiled for another CPU with only a
    warning ("This could lead to execution errors such as SIGILL"): a cache
    shared by several machines (a home directory on a cluster) or copied to
    another must never hand one over."""
    return os.path.join(os.path.dirname(cache_path()), "xla", xla_cache_key())


def enable_xla_cache():
    """Keep TensorFlow's XLA-compiled CPU programs on disk (beside the
    choices, `xla_cache_dir()`), so that a later run of the same step loads
    its program instead of compiling it: measured, about 170 MB less peak
    memory (the compiler's) and the compile seconds saved. Before TensorFlow
    starts, which reads TF_XLA_FLAGS once; a cache directory the user set is
    kept.

    Each load prints harmless lines at ERROR level (TensorFlow 2.21: a text
    parser's complaint, and a feature "mismatch" that is XLA's own tuning
    flags), which train.py's stderr filter hides (HARMLESS_DURING_TRAINING
    in keras_gan/common/quiet.py): it spans the compile trial and fit's
    first call, where a training run on the CPU compiles or loads every XLA
    program it runs."""
    flags = os.environ.get("TF_XLA_FLAGS", "")
    if XLA_CACHE_FLAG in flags:
        return
    added = f"{XLA_CACHE_FLAG}={xla_cache_dir()}"
    if XLA_CACHE_DEVICES_FLAG not in flags:
        added += f" {XLA_CACHE_DEVICES_FLAG}={XLA_CACHE_DEVICES}"
    os.environ["TF_XLA_FLAGS"] = f"{flags} {added}".strip()


def cache_key(config):
    """A short stable name for everything that changes a step's speed (the
    entry keeps `config` itself, readable)."""
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]


def read_cache(path):
    """{key: entry}; an unreadable or malformed cache counts as empty."""
    try:
        with open(path) as f:
            cache = json.load(f)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        warn(f"{path}: unreadable compile-settings cache ({e}); timing again")
        return {}
    return cache if isinstance(cache, dict) else {}


def cached_choice(entry):
    """A Choice from a cache entry, or None if the entry is not one."""
    try:
        jit, spe = entry["jit_compile"], entry["steps_per_execution"]
        rates = entry["images_per_second"]
        if not valid_settings(jit, spe) or not isinstance(rates, dict):
            return None
        return Choice(jit, spe, f"cached trial of {entry['date']} ({format_rates(rates)})")
    except (KeyError, TypeError, ValueError):
        return None


def write_cache(path, key, entry):
    """Add `entry` under `key`; a cache that cannot be written costs a warning only."""
    cache = read_cache(path)
    cache[key] = entry
    try:
        with atomic_path(path) as tmp:
            with open(tmp, "w") as f:
                json.dump(cache, f, indent=1, sort_keys=True)
    except OSError as e:
        warn(f"{path}: cannot write the compile-settings cache ({e.strerror}); "
             "the next run times again")


def warn(message):
    print(f"WARNING: {message}", file=sys.stderr, flush=True)


def format_rates(rates):
    """"XLA on/16 2,554, XLA off/16 2,971 images/s"."""
    return ", ".join(f"{label} {rate:,.0f}" for label, rate in rates.items()) + " images/s"


def label(jit_compile, steps_per_execution):
    return f"XLA {'on' if jit_compile else 'off'}/{steps_per_execution}"


# --------------------------------------------------------------------- trial
def time_calls(model, iterator, calls):
    """Seconds for `calls` calls of fit's own compiled train function
    (steps_per_execution steps each), up to the last step's result."""
    start = time.perf_counter()
    for _ in range(calls):
        logs = model.train_function(iterator)
    float(next(iter(logs.values())))  # wait for the last step
    return time.perf_counter() - start


@contextlib.contextmanager
def names_unchanged():
    """Keras' automatic layer names ("dense_3") count every layer built; the
    trial's throwaway models must not shift the run's own names, so the
    counters are put back as they were."""
    from keras.src.backend.common import global_state

    uids = global_state.get_global_attribute("object_name_uids")
    saved = None if uids is None else dict(uids)
    try:
        yield
    finally:
        if saved is None:
            global_state.set_global_attribute("object_name_uids", None)
        else:
            uids.clear()
            uids.update(saved)


def run_trial(options, build, dataset, images_per_step):
    """{(jit, spe): images/s}: each candidate built by `build(jit, spe)`
    (a compiled keras.Model), compiled and settled by two untimed rounds,
    then TRIAL_ROUNDS timed rounds of about TRIAL_STEPS steps (whole calls),
    round-robin."""
    with names_unchanged():
        return _run_trial(options, build, dataset, images_per_step)


def _run_trial(options, build, dataset, images_per_step):
    contenders = {}
    for jit, spe in options:
        model = build(jit, spe)
        model.make_train_function()
        iterator = iter(dataset)
        calls = max(1, TRIAL_STEPS // spe)
        time_calls(model, iterator, 2 * calls)  # compile, then settle
        contenders[(jit, spe)] = (model, iterator, calls, [])
    for _ in range(TRIAL_ROUNDS):
        for model, iterator, calls, times in contenders.values():
            times.append(time_calls(model, iterator, calls))
    return {(jit, spe): calls * spe * images_per_step / statistics.median(times)
            for (jit, spe), (_, _, calls, times) in contenders.items()}


def choose(jit_flag, spe_flag, run_steps, steps_per_epoch, config, build, dataset,
           images_per_step, log=print):
    """The Choice for a run on one TensorFlow replica.

    `jit_flag`: "auto", "on" or "off"; `spe_flag`: an int or None (auto).
    `run_steps`: the steps this run will train; `config`: what the cache is
    keyed by (machine, versions, model, batch, ...). `build(jit, spe)`
    returns a compiled throwaway GAN, `dataset` repeats training batches.
    """
    options = candidates(jit_flag, spe_flag, steps_per_epoch)
    if len(options) == 1:
        (jit, spe), = options
        return Choice(jit, spe, "as the flags say")
    path = cache_path()
    # The candidates are part of the key: a trial narrowed by a flag answers only that flag.
    key = cache_key({**config, "candidates": [label(*o) for o in options]})
    cached = cached_choice(read_cache(path).get(key, {}))
    if cached and (cached.jit_compile, cached.steps_per_execution) in options:
        return cached
    if run_steps < MIN_RUN_STEPS:
        jit = STATIC_JIT_COMPILE if jit_flag == "auto" else jit_flag == "on"
        spe = steps_per_call_cap(steps_per_epoch, spe_flag or STEPS_PER_EXECUTION)
        return Choice(jit, spe, f"static default: no timed trial for a run of {run_steps:,} steps "
                                f"(fewer than {MIN_RUN_STEPS:,})")
    log(f"compile: timing {len(options)} settings on this machine "
        f"({', '.join(label(*o) for o in options)}) ...")
    start = time.perf_counter()
    rates = run_trial(options, build, dataset, images_per_step)
    jit, spe = fastest(rates)
    labelled = {label(*o): round(r, 1) for o, r in rates.items()}
    write_cache(path, key, {
        "jit_compile": jit, "steps_per_execution": spe, "images_per_second": labelled,
        "date": datetime.date.today().isoformat(), "config": config,
    })
    return Choice(jit, spe, f"timed trial, {time.perf_counter() - start:.0f} s "
                            f"({format_rates(labelled)}); cached in {path}")


@contextlib.contextmanager
def suppress_retracing_warnings():
    """TensorFlow warns of "retracing" when several models of one class each
    trace their own train function, as the trial's candidates do."""
    import tensorflow as tf

    level = tf.get_logger().level
    tf.get_logger().setLevel("ERROR")
    try:
        yield
    finally:
        tf.get_logger().setLevel(level)
