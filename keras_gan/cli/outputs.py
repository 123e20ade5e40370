"""A trained run's files, each written whole (temp path, then rename), in an
order that a kill at any point leaves resumable: samples, the `.keras` GAN,
the TF Serving export, then `summary.json`, which marks the run finished;
only then is the backup dropped. Each step is a function of its own."""

import json
import os
import time

from keras_gan.cli.report import print_report
from keras_gan.common import layout
from keras_gan.common.files import atomic_path, remove_tree


def write_outputs(args, plan, gan, monitor, trained_steps, seconds, clock):
    """Samples, .keras, export and summary; then, and only then, drop the backup.
    `clock` (a cli.phases.PhaseClock) times each, and goes into the summary."""
    with clock.phase("outputs"):
        samples = write_samples(args, gan, monitor)
        checkpoint = write_checkpoint(args, gan)
        digest = weights_digest(gan)
    with clock.phase("export"):
        exported = None if args.no_export else export_generator(args, gan, checkpoint, digest)
    with clock.phase("evaluation"):
        evaluation = evaluate(args, plan, gan)
    with clock.phase("outputs"):
        summary = summarize(args, plan, gan, monitor, trained_steps, seconds, clock.process_start)
    summary.update(weights_sha256=digest, evaluation=evaluation, samples=samples,
                   checkpoint=checkpoint, export=exported, phases=clock.as_dict(),
                   peak_memory_mb=clock.peak_mb)
    with atomic_path(os.path.join(args.logdir, layout.FINISHED_FILE)) as tmp:
        with open(tmp, "w") as f:
            json.dump(summary, f, indent=2)
    remove_tree(plan.backup_dir)  # everything is in place: the run is finished
    print_report(summary, plan)
    print(clock.line(), flush=True)
    return summary


def write_samples(args, gan, monitor):
    """`samples.png`: the run's grid of generated images (a row per class if conditional)."""
    from keras_gan.outputs.images import save_grid_png

    labels, cols = monitor.grid_labels(args.samples)
    return save_grid_png(os.path.join(args.logdir, "samples.png"),
                         gan.generate(args.samples, seed=args.seed, labels=labels), cols=cols)


def write_checkpoint(args, gan):
    """`gan.keras`: the whole GAN, both optimizers included."""
    checkpoint = os.path.join(args.logdir, "gan.keras")
    with atomic_path(checkpoint) as tmp:
        gan.save(tmp)
    return checkpoint


def export_generator(args, gan, checkpoint, digest):
    """The next SavedModel version under --export-dir, tagged with the
    weights' digest: a rerun after a kill finds this version instead of
    adding a copy."""
    from keras_gan.outputs import saved_model

    return saved_model.export_saved_gan(gan, checkpoint, args.export_dir, digest)


def evaluate(args, plan, gan):
    """The evaluation of --eval-samples samples (docs/evaluation.md), or None without one."""
    if not plan.evaluation:
        return None
    from keras_gan.evaluation.report import evaluate as evaluate_samples

    data, classifier = plan.evaluation
    labels = gan.check_labels(None, args.eval_samples)  # conditional: each class alike
    samples = gan.generate(args.eval_samples, seed=args.seed, labels=labels)
    return evaluate_samples(samples, data, classifier, labels=labels)


def summarize(args, plan, gan, monitor, trained_steps, seconds, process_start):
    """summary.json's record of the run, less what the output steps add."""
    import keras

    history = monitor.history_so_far()
    return {
        "data": plan.real.source,
        "training_images": len(plan.real.images),
        "fallback": plan.real.notice or None,
        "args": vars(args),
        "epochs": plan.epochs,
        "steps_per_epoch": plan.steps,
        "steps": int(keras.ops.convert_to_numpy(gan.g_optimizer.iterations)),
        "discriminator_updates": int(keras.ops.convert_to_numpy(gan.d_optimizer.iterations)),
        "steps_this_process": trained_steps,
        "precision": plan.precision,
        "backend": keras.backend.backend(),
        # What the step was compiled with (the flags, or the compile trial's choice).
        "compile": {"jit_compile": bool(gan.jit_compile),
                    "steps_per_execution": int(gan.steps_per_execution),
                    "fused_steps": int(getattr(gan, "fused_steps", 1))},
        "seconds": round(seconds, 2),
        # This process, start to summary: data, classifier, training, evaluation, export.
        "wall_seconds": round(time.monotonic() - process_start, 1),
        "real_images_per_second": (
            round(trained_steps * args.k * args.batch_size / seconds, 1) if trained_steps else None
        ),
        "final_metrics": {name: values[-1] for name, values in history.items()},
    }


def weights_digest(gan):
    """SHA-256 of all of the GAN's weights (and of the averaged generator's,
    with EMA): equal digests, bit-identical models."""
    import hashlib

    import numpy as np

    digest = hashlib.sha256()
    sampling = gan.sampling_generator()
    averaged = sampling.weights if sampling is not gan.generator else []
    for weight in gan.weights + averaged:
        digest.update(np.ascontiguousarray(weight.numpy()).tobytes())
    return digest.hexdigest()
