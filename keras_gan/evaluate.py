"""Evaluate generated digits: one JSON object of metrics (and a table with --markdown).

    python -m keras_gan.evaluate --generator saved_models/generator/3
    python -m keras_gan.evaluate --checkpoint logs/RUN/gan.keras --markdown
    python -m keras_gan.evaluate --samples images.npy --data-dir ~/mnist

The metrics are measured in the feature space of a classifier the project
trains on the real training images (keras_gan/evaluation/classifier.py), so
they are comparable between runs of this project, not with Inception-based
FID figures from elsewhere (docs/evaluation.md). A conditional generator
(--generator or --checkpoint) draws the classes in equal shares, and the
result also says how often the classifier reads the class asked for.
"""

import json
import os
import sys

import numpy as np

from keras_gan.common.files import check_writable_dir
from keras_gan.common.options import (
    DATASETS, EVALUATION_SAMPLES, IMAGE_SHAPE, OneLineArgumentParser, UserError, check_sample_request,
)
from keras_gan.common.quiet import tensorflow_start

DEFAULT_CLASSIFIER_DIR = os.path.join("saved_models", "classifier")


def build_parser():
    p = OneLineArgumentParser(prog="python -m keras_gan.evaluate",
                              description=__doc__.splitlines()[0])
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--generator", help="an exported SavedModel, or a folder of versions")
    source.add_argument("--checkpoint", help="a GAN saved as .keras (a run's gan.keras)")
    source.add_argument("--samples", help="a .npy of images [n, 28, 28(, 1)], uint8 or in [0, 1]")
    p.add_argument("--num-samples", type=int, default=EVALUATION_SAMPLES,
                   help=f"images to generate (default: {EVALUATION_SAMPLES:,})")
    p.add_argument("--seed", type=int, default=0, help="seed of the generated images (default: 0)")
    p.add_argument("--dataset", choices=DATASETS, default="mnist")
    p.add_argument("--data-dir", help="IDX images and labels (offline use)")
    p.add_argument("--no-download", action="store_true", help="never download the dataset")
    p.add_argument("--classifier-dir", default=DEFAULT_CLASSIFIER_DIR,
                   help="where the evaluation classifier is kept (default: %(default)s/<dataset>)")
    p.add_argument("--train-classifier", action="store_true", help="retrain the classifier")
    p.add_argument("--no-parzen", action="store_true", help="skip the Parzen-window estimate")
    p.add_argument("--markdown", action="store_true", help="also print a Markdown table")
    return p


def parse_args(argv):
    args = build_parser().parse_args(argv)
    check_sample_request(args.num_samples, args.seed)
    if args.data_dir is not None and not os.path.isdir(args.data_dir):
        raise UserError(f"--data-dir {args.data_dir}: no such directory.")
    for flag, path in (("--checkpoint", args.checkpoint), ("--samples", args.samples)):
        if path is not None and not os.path.isfile(path):
            raise UserError(f"{flag} {path}: no such file.")
    args.classifier_dir = os.path.join(args.classifier_dir, args.dataset)
    check_writable_dir(args.classifier_dir, "--classifier-dir")
    return args


def check_images(images, where):
    """float32 [n, 28, 28, 1] in [0, 1], or UserError naming `where`."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[1:] != IMAGE_SHAPE:
        raise UserError(f"{where}: images of shape {images.shape[1:]}, expected 28x28x1.")
    if images.dtype == np.uint8:
        return images.astype(np.float32) / 255.0
    if not np.issubdtype(images.dtype, np.floating):
        raise UserError(f"{where}: images of dtype {images.dtype}, expected uint8 or floats in [0, 1].")
    if not np.all(np.isfinite(images)) or images.min() < 0.0 or images.max() > 1.0:
        raise UserError(f"{where}: pixel values outside [0, 1].")
    return images.astype(np.float32)


def generated_images(args):
    """(images, labels) to evaluate, checked, from whichever source was given;
    labels are the classes a conditional generator was asked for, else None."""
    if args.samples:
        try:
            images = np.load(args.samples, allow_pickle=False)
        except (OSError, ValueError) as e:
            raise UserError(f"--samples {args.samples}: cannot read ({e}).") from None
        return check_images(images, f"--samples {args.samples}"), None
    import tensorflow as tf

    if args.generator:
        from keras_gan.outputs.saved_model import resolve_version

        path = resolve_version(args.generator, "--generator")
        try:
            signatures = tf.saved_model.load(path).signatures
            outputs = signatures["sample"](num_samples=tf.constant(args.num_samples, tf.int32),
                                           seed=tf.constant(args.seed, tf.int32))
        except (OSError, KeyError, ValueError) as e:
            raise UserError(f"--generator {path}: no 'sample' signature ({type(e).__name__}).") from None
        labels = outputs["labels"].numpy() if "labels" in outputs else None  # conditional
        return check_images(outputs["images"].numpy(), f"--generator {path}"), labels
    from keras_gan.model.gan import load_checkpoint

    gan = load_checkpoint(args.checkpoint)
    images = gan.generate(1, seed=args.seed)
    check_images(images, f"--checkpoint {args.checkpoint}")  # before generating thousands
    labels = gan.check_labels(None, args.num_samples)  # conditional: equal shares, else None
    images = gan.generate(args.num_samples, seed=args.seed, labels=labels)
    return check_images(images, f"--checkpoint {args.checkpoint}"), labels


def run(args):
    from keras_gan.common.quiet import keras_backend

    if keras_backend() == "tensorflow" or args.generator:  # a SavedModel needs TensorFlow
        with tensorflow_start():  # start TensorFlow quietly, before anything imports it
            import tensorflow  # noqa: F401
    from keras_gan.evaluation import classifier, reference, report

    images, labels = generated_images(args)
    data = reference.load_evaluation_data(args.dataset, args.data_dir, not args.no_download)
    model = classifier.load_or_train(
        args.classifier_dir, data.train_images, data.train_labels, data.reference_images,
        data.reference_labels, data.train_source,
        retrain=args.train_classifier, log=lambda line: print(line, file=sys.stderr),
    )
    result = report.evaluate(images, data, model, parzen=not args.no_parzen, labels=labels)
    result["samples_from"] = args.generator or args.checkpoint or args.samples
    return result


def main(argv=None):
    try:
        args = parse_args(argv)
        result = run(args)
    except UserError as e:
        print(f"python -m keras_gan.evaluate: error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    if args.markdown:
        from keras_gan.evaluation.report import markdown

        print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
