"""The compiled GAN of a run's flags, its dataset and its callbacks."""

import math

from keras_gan.cli import report
from keras_gan.cli.flags import num_classes
from keras_gan.common.options import PER_EPOCH_EVALUATION_SAMPLES
from keras_gan.training import compile_settings

# The most per-epoch evaluations (TensorBoard eval/*) in one run.
EVALUATIONS = 50


def build_training(args, plan, strategy):
    """The compiled GAN, its dataset and its callbacks (the backup last)."""
    import keras

    from keras_gan import data
    from keras_gan.training.backup import EpochBackup
    from keras_gan.training.guard import NonFiniteGuard
    from keras_gan.training.monitor import GANMonitor
    from keras_gan.training.summaries import epoch_scalars_callback

    keras.utils.set_random_seed(args.seed)
    epoch_counter = data.EpochCounter()
    dataset = data.make_dataset(
        plan.real.images, args.batch_size, args.k, seed=args.seed,
        steps_per_epoch=plan.steps, epoch_counter=epoch_counter,
        labels=plan.real.labels if args.conditional else None,
        steps_per_call=execution(plan.steps_per_execution, plan.steps).get("fused_steps", 1),
    )
    with strategy.scope():
        gan = make_gan(args, plan, plan.jit_compile, plan.steps_per_execution)
    callbacks = [
        epoch_counter,
        NonFiniteGuard(),
        epoch_scalars_callback(args.logdir),  # Keras' TensorBoard callback on TensorFlow
        GANMonitor(
            args.logdir,
            real_images=data.scale_images(plan.real.images[:256]),
            real_labels=plan.real.labels[:256] if args.conditional else None,
            num_images=args.samples,
            seed=args.seed,
            log_every_n_steps=args.log_every_n_steps,
            flags=vars(args),
        ),
    ]
    if plan.evaluation:
        from keras_gan.training.quality_monitor import QualityMonitor

        evaluation_data, classifier = plan.evaluation
        # About 0.5 s per evaluation: at most EVALUATIONS per run, so that a
        # run of many short epochs does not spend minutes on them.
        every = math.ceil(plan.epochs / EVALUATIONS)
        samples = min(args.eval_samples, PER_EPOCH_EVALUATION_SAMPLES)
        callbacks.append(QualityMonitor(args.logdir, classifier, evaluation_data, seed=args.seed,
                                        samples=samples, every=every))
    # Last, so that an epoch is backed up only when every other callback is done with it.
    callbacks.append(EpochBackup(plan.backup_dir))

    print(f"data: {plan.real.source}", flush=True)
    print(
        f"model: {'conditional ' * args.conditional}{args.model} GAN, k={args.k}, "
        f"batch {args.batch_size} over "
        f"{strategy.num_replicas_in_sync} replica(s), "
        f"{plan.steps} steps/epoch x {plan.epochs} epochs, seed {args.seed}, Keras on {keras.backend.backend()}",
        flush=True,
    )
    print(f"training: {report.describe_recipe(args, plan.precision)}", flush=True)
    return gan, dataset, callbacks


def make_gan(args, plan, jit_compile, steps_per_execution):
    """The GAN of this run's flags, compiled with these settings (in the
    caller's strategy scope): the one trained, and the compile trial's copies."""
    from keras_gan.model.gan import GAN, default_optimizer
    from keras_gan.model.networks import build_models

    generator, discriminator = build_models(args.model, args.latent_dim, num_classes(args))
    gan = GAN(
        generator,
        discriminator,
        k=args.k,
        generator_loss=args.generator_loss,
        label_smoothing=args.label_smoothing,
        augmentation=args.augmentation,
        r1_gamma=args.r1_gamma,
        r1_interval=args.r1_interval,
        num_classes=num_classes(args),
        seed=args.seed,
    )
    total_steps = plan.epochs * plan.steps
    loss_scale = plan.precision == "mixed_float16"
    gan.compile(
        d_optimizer=default_optimizer(
            learning_rate(args, total_steps * args.k), args.beta_1, "d_optimizer",
            loss_scale=loss_scale),
        g_optimizer=default_optimizer(
            learning_rate(args, total_steps), args.beta_1, "g_optimizer", ema=args.ema or None,
            loss_scale=loss_scale),
        jit_compile=jit_compile,
        **execution(steps_per_execution, plan.steps),
    )
    return gan


def execution(steps_per_execution, steps):
    """compile()'s arguments for running several steps per call: Keras'
    steps_per_execution, or on JAX the GAN's own fused steps (one scan)."""
    import keras

    if keras.backend.backend() == "jax":
        return {"fused_steps": steps_per_execution}
    return {"steps_per_execution": compile_settings.steps_per_call_cap(steps, steps_per_execution)}


def learning_rate(args, updates):
    """--learning-rate, or with --lr-schedule linear a schedule from it down
    to 0 over `updates` optimizer steps (D makes k per generator step). A
    function of the optimizer's step count, so a resumed run continues it."""
    import keras

    if args.lr_schedule == "constant":
        return args.learning_rate
    return keras.optimizers.schedules.PolynomialDecay(args.learning_rate, updates, 0.0, power=1.0)


