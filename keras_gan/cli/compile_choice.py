"""XLA or not, and steps per call, for this run: the flags, a static rule, or
a timed trial on this machine (keras_gan/training/compile_settings.py)."""

from keras_gan.cli import runs
from keras_gan.cli.build import make_gan
from keras_gan.common import layout
from keras_gan.training import compile_settings


def choose_compile_settings(args, plan, strategy):
    """XLA or not and steps per call: the flags, the static rules (other
    backends, several replicas), or on one TensorFlow replica a timed trial
    on this machine, cached (keras_gan/training/compile_settings.py). Prints the choice."""
    import keras

    from keras_gan import data
    from keras_gan.training.distribute import has_gpu, is_multi_worker

    backend = keras.backend.backend()
    recorded = runs.read_compile_choice(args.logdir) if plan.chief else None
    if backend != "tensorflow":
        choice = compile_settings.Choice(plan.jit_compile, plan.steps_per_execution,
                                         f"the flags, or the rule of Keras on {backend}")
    elif strategy.num_replicas_in_sync > 1 or is_multi_worker(strategy):
        choice = compile_settings.Choice(plan.jit_compile, plan.steps_per_execution,
                                         "the flags, or the rule for several replicas")
    elif recorded:
        # A resumed run (its flags match: run.json): the same compiled step as
        # its first part, for the same weights, whatever the cache says now.
        choice = compile_settings.Choice(*recorded, f"as this run chose before ({layout.COMPILE_FILE})")
    elif compile_settings.xla_ruled_out(args.jit_compile, lazy_r1(args), has_gpu()):
        (_, spe), = compile_settings.candidates("off", args.steps_per_execution, plan.steps)
        choice = compile_settings.Choice(False, spe, compile_settings.CONDITIONAL_STEP_ON_CPU)
    else:
        labels = plan.real.labels if args.conditional else None
        trial_data = data.make_dataset(plan.real.images, args.batch_size, args.k, seed=0,
                                       labels=labels).repeat()
        # In the strategy's scope, as the run's own GAN: the trial times what will run.
        with compile_settings.suppress_retracing_warnings(), strategy.scope():
            choice = compile_settings.choose(
                args.jit_compile, args.steps_per_execution, plan.epochs * plan.steps, plan.steps,
                compile_config(args, plan), lambda jit, spe: make_gan(args, plan, jit, spe),
                trial_data, args.batch_size * args.k,
                log=lambda line: print(line, flush=True))
    plan.jit_compile, plan.steps_per_execution = choice.jit_compile, choice.steps_per_execution
    if plan.chief:
        runs.write_compile_choice(args.logdir, choice.jit_compile, choice.steps_per_execution)
    spe = compile_settings.steps_per_call_cap(plan.steps, choice.steps_per_execution)
    print(f"compile: {compile_settings.describe(choice.jit_compile, spe, backend)}"
          f" ({choice.reason})", flush=True)


def lazy_r1(args):
    """Whether the step holds lazy R1's tf.cond (R1 on, not on every update)."""
    return args.r1_gamma > 0 and args.r1_interval > 1


def compile_config(args, plan):
    """What the compile trial's cache is keyed by: everything that changes a step's speed."""
    import keras
    import tensorflow as tf

    from keras_gan.common.machine import cpu_description

    gpus = [tf.config.experimental.get_device_details(d).get("device_name", d.name)
            for d in tf.config.list_physical_devices("GPU")]
    return {
        "machine": cpu_description(), "gpus": gpus, "tensorflow": tf.__version__,
        "keras": keras.__version__, "model": args.model, "conditional": args.conditional,
        "latent_dim": args.latent_dim, "batch_size": args.batch_size, "k": args.k,
        "r1": args.r1_gamma > 0, "augmentation": args.augmentation, "ema": bool(args.ema),
        "precision": plan.precision, "steps_per_call_cap": compile_settings.steps_per_call_cap(plan.steps),
        # Lazy R1 changes a step's cost; keyed only when on, so earlier choices stay valid.
        **({"r1_interval": args.r1_interval} if lazy_r1(args) else {}),
    }


