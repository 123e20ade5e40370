"""The train.py program: resume or start the run, train it, write its outputs.

    flags.parse_args -> plan.plan_run -> compile_choice -> build.build_training
        -> backup.restore -> fit -> outputs.write_outputs

Each step is a function of its own module; `run` is the order they go in.
"""

import contextlib
import os
import time

from keras_gan.cli import build, compile_choice, outputs, plan as planning, runs
from keras_gan.cli.phases import PhaseClock, step_timer
from keras_gan.cli.flags import num_classes
from keras_gan.common import layout


def run(args, process_start):
    """Train (resuming where a killed run stopped), then write every output;
    summary.json's dict, or None for a run that had already finished."""
    from keras_gan.common.files import remove_tree
    from keras_gan.common.quiet import tensorflow_start

    if not args.fresh and runs.is_finished(args.logdir):
        print(f"{args.logdir} is a finished run (its {layout.FINISHED_FILE} is written): nothing "
              "to do; --fresh trains it again")
        return None

    with tensorflow_start():
        from keras_gan.training import backup  # imports Keras, and so TensorFlow
        from keras_gan.training.distribute import make_strategy

        strategy = make_strategy(args.strategy)
    clock = PhaseClock(process_start)
    clock.add("start-up", time.monotonic() - process_start)
    started = time.monotonic()
    plan = planning.plan_run(args, strategy, clock)
    clock.add("data", time.monotonic() - started - clock.seconds["classifier"])
    if args.fresh:  # the run is unfinished again, from its first epoch
        remove_tree(plan.backup_dir)
        # The old run's TensorBoard events and per-epoch grids too: new events
        # appended beside them would draw two runs as one curve.
        for produced in layout.PER_EPOCH_OUTPUTS:
            remove_tree(os.path.join(args.logdir, produced))
        with contextlib.suppress(FileNotFoundError):  # a fresh start chooses its compile settings anew
            os.remove(os.path.join(args.logdir, layout.COMPILE_FILE))
        runs.mark_unfinished(args.logdir)
    import keras

    from keras_gan.common.quiet import hidden_stderr_lines
    from keras_gan.training.monitor import GANMonitor

    # Grappler's harmless "remapper failed" line comes while the step is
    # compiled: in the trial, and in fit's first call (then the filter stops).
    with planning.compute_policy(plan.precision), hidden_stderr_lines() as stderr_filter:
        with clock.phase("compile trial"):  # before the seed is set: the trial draws nothing
            compile_choice.choose_compile_settings(args, plan, strategy)
        with clock.phase("build"):
            gan, dataset, callbacks = build.build_training(args, plan, strategy)
            initial_epoch = backup.restore(gan, plan.backup_dir, strategy)
        timer = step_timer()
        callbacks[:0] = [timer, keras.callbacks.LambdaCallback(
            on_train_batch_end=lambda batch, logs: stderr_filter.stop())]
        if initial_epoch:
            print(f"resumed from the backup of epoch {initial_epoch} in {plan.backup_dir}", flush=True)
        seconds = fit(gan, dataset, plan, callbacks, initial_epoch, args.verbose)
        evaluating = sum(getattr(c, "seconds_measuring", 0.0) for c in callbacks)
        clock.add("train steps", timer.seconds)
        clock.add("evaluation", evaluating)
        clock.add("monitoring", max(seconds - timer.seconds - evaluating, 0.0))
        trained_steps = (plan.epochs - initial_epoch) * plan.steps
        (monitor,) = (c for c in callbacks if isinstance(c, GANMonitor))
        return outputs.write_outputs(args, plan, gan, monitor, trained_steps, seconds, clock)


def fit(gan, dataset, plan, callbacks, initial_epoch, verbose):
    """`gan.fit` from `initial_epoch` to the plan's last epoch; its seconds."""
    start = time.perf_counter()
    gan.fit(
        dataset,
        epochs=plan.epochs,
        initial_epoch=initial_epoch,
        callbacks=callbacks,
        shuffle=False,  # the dataset has its own order (keras_gan.data.pipeline)
        verbose="auto" if verbose is None else verbose,
    )
    return time.perf_counter() - start


def print_summaries(args):
    """--summary: both models' Keras summaries."""
    from keras_gan.common.quiet import tensorflow_start

    with tensorflow_start():
        from keras_gan.model.networks import build_models

    generator, discriminator = build_models(args.model, args.latent_dim, num_classes(args))
    generator.summary()
    discriminator.summary()
