"""What train.py tells its user: the recipe at the start, a line per fact at the end."""

from keras_gan.cli.flags import backup_dir


def describe_recipe(args, precision="float32"):
    """One line: the optimiser, the stabilisers and the precision this run uses."""
    parts = [f"Adam {args.learning_rate:g} (beta_1 {args.beta_1:g}"
             + (", linear decay to 0)" if args.lr_schedule == "linear" else ")"),
             args.generator_loss.replace("_", "-") + " G loss"]
    if args.label_smoothing:
        parts.append(f"label smoothing {args.label_smoothing:g}")
    if args.augmentation != "none":
        parts.append(f"DiffAugment {args.augmentation}")
    if args.r1_gamma:
        parts.append(f"R1 gamma {args.r1_gamma:g}" + (f" every {args.r1_interval} D updates"
                                                        if args.r1_interval > 1 else ""))
    if args.ema:
        parts.append(f"EMA {args.ema:g} of G's weights for samples and export")
    if precision != "float32":
        parts.append(f"{precision} compute"
                     + (" with loss scaling" if precision == "mixed_float16" else ""))
    return ", ".join(parts)


def print_report(summary, plan):
    """What a finished run tells its user, a line per fact."""
    if summary["steps_this_process"]:
        print(f"trained {summary['steps_this_process']} steps in {summary['seconds']:.1f} s "
              f"({summary['real_images_per_second']:.0f} real images/s)")
    else:
        print("training was already complete: outputs written from the last backup")
    print(f"weights sha256: {summary['weights_sha256']}")
    evaluation = summary["evaluation"]
    if evaluation:
        print(f"evaluation: Fréchet distance {evaluation['frechet_distance']:.2f}, "
              f"{evaluation['frechet_ratio_to_real']:.1f}x the real-vs-real "
              f"{evaluation['frechet_distance_real_train_vs_reference']:.2f}; "
              f"{evaluation['modes']['modes']} classes at >= 5%; precision "
              f"{evaluation['prdc']['precision']:.2f}, recall {evaluation['prdc']['recall']:.2f} "
              "(summary.json has every metric)")
        if evaluation.get("conditional"):
            accuracy = evaluation["conditional"]
            print(f"evaluation: the classifier reads the requested class in "
                  f"{accuracy['class_accuracy']:.1%} of the samples (lowest class: "
                  f"{accuracy['lowest_class']}, {accuracy['lowest_class_accuracy']:.1%})")
    if plan.real.notice:
        print(f"NOTE: {plan.real.notice}")
    if not plan.chief:
        print("worker outputs discarded: the chief writes the run's files")
        return
    print(f"samples: {summary['samples']}")
    print(f"checkpoint: {summary['checkpoint']}")
    if summary["export"]:
        print(f"exported generator: {summary['export']}")


def backup_note(args):
    """Where a run stopped by a non-finite loss left its last good epoch."""
    from keras_gan.training.backup import last_epoch

    epoch = last_epoch(backup_dir(args))
    if not epoch:
        return "no epoch had finished, so there is no backup"
    return f"the last good backup (epoch {epoch}) is kept in {backup_dir(args)}"
