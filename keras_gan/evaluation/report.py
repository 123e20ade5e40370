"""All the metrics of one set of generated images, as one dict (JSON-ready)."""

import numpy as np

from keras_gan.evaluation import metrics
from keras_gan.evaluation.classifier import to_unit
from keras_gan.evaluation.parzen import parzen_log_likelihood

PARZEN_VALIDATION = 1000


def evaluate(samples, data, classifier, parzen=True, seed=0, labels=None):
    """Metrics of `samples` (images in [0, 1] or uint8) against `data`
    (an EvaluationData) in `classifier`'s feature space; with `labels` (the
    classes a conditional generator was asked for), also how often the
    classifier reads that class (`result["conditional"]`)."""
    samples = to_unit(samples)
    reference = to_unit(data.reference_images)
    train = to_unit(data.train_images)
    rng = np.random.default_rng(seed)
    fake_features, fake_probabilities = classifier.features_and_probabilities(samples)
    reference_features, reference_probabilities, train_features = classifier.real_features(data)

    fd = metrics.frechet_distance(fake_features, reference_features)
    floor = metrics.frechet_distance(train_features, reference_features)
    kid, kid_error = metrics.kernel_inception_distance(fake_features, reference_features)
    n_prdc = min(5000, len(fake_features), len(reference_features))
    prdc = metrics.precision_recall_density_coverage(
        reference_features[rng.permutation(len(reference_features))[:n_prdc]],
        fake_features[rng.permutation(len(fake_features))[:n_prdc]],
    )
    result = {
        "reference": data.description,
        "num_samples": int(len(samples)),
        "num_reference": int(len(reference)),
        "frechet_distance": fd,
        "frechet_distance_real_train_vs_reference": floor,
        "frechet_ratio_to_real": fd / floor if floor > 0 else None,
        "kid": kid,
        "kid_standard_error": kid_error,
        "prdc": dict(prdc, nearest_k=5, images_each=n_prdc),
        "modes": metrics.mode_statistics(fake_probabilities),
        "recognisable": {
            "samples": metrics.recognisable_share(fake_probabilities),
            "reference": metrics.recognisable_share(reference_probabilities),
            "confidence": metrics.RECOGNISABLE_CONFIDENCE,
        },
        "memorisation": {
            "median_sample_to_nearest_train": float(np.median(
                metrics.nearest_distances(samples.reshape(len(samples), -1)[:2000],
                                          train.reshape(len(train), -1)))),
            "median_reference_to_nearest_train": float(np.median(
                metrics.nearest_distances(reference.reshape(len(reference), -1)[:2000],
                                          train.reshape(len(train), -1)))),
            "pixels": "Euclidean distance in [0, 1] pixel space, 2,000 images at most",
        },
        "classifier": dict(classifier.record),
    }
    if labels is not None:
        result["conditional"] = metrics.class_accuracy(fake_probabilities, labels)
    if parzen:
        validation = train[rng.permutation(len(train))[:PARZEN_VALIDATION]]
        result["parzen"] = dict(
            parzen_log_likelihood(samples, validation, reference),
            validation=f"{len(validation):,} real training images", test="the reference images",
        )
    return result


def markdown(result):
    """The headline numbers as a Markdown table."""
    rows = [
        ("reference", result["reference"]),
        ("samples / reference images", f"{result['num_samples']:,} / {result['num_reference']:,}"),
        ("Fréchet distance (classifier features)", f"{result['frechet_distance']:.3f}"),
        ("… real training vs reference images (the floor)",
         f"{result['frechet_distance_real_train_vs_reference']:.3f}"),
        ("… ratio to the floor", _fmt(result["frechet_ratio_to_real"], ".2f")),
        ("KID", f"{result['kid']:.5f} ± {result['kid_standard_error']:.5f}"),
    ]
    rows += [(name, f"{result['prdc'][name]:.3f}") for name in ("precision", "recall", "density", "coverage")]
    modes = result["modes"]
    rows += [
        ("classes with ≥ 5% of samples", f"{modes['modes']} of {len(modes['class_share'])}"),
        ("KL(class histogram ‖ uniform)", f"{modes['kl_to_uniform']:.4f}"),
        ("classifier score", f"{modes['classifier_score']:.3f}"),
        (f"recognisable: one class at p ≥ {result['recognisable']['confidence']:g}, samples / reference",
         f"{result['recognisable']['samples']:.3f} / {result['recognisable']['reference']:.3f}"),
        ("median distance sample → nearest training image",
         f"{result['memorisation']['median_sample_to_nearest_train']:.3f}"),
        ("median distance reference → nearest training image",
         f"{result['memorisation']['median_reference_to_nearest_train']:.3f}"),
        ("classifier accuracy on the reference images", f"{result['classifier']['test_accuracy']:.4f}"),
    ]
    if "conditional" in result:
        c = result["conditional"]
        rows += [
            ("conditional: samples classified as the class asked for", f"{c['class_accuracy']:.4f}"),
            ("… the lowest class", f"{c['lowest_class']}: {c['lowest_class_accuracy']:.4f}"),
        ]
    if "parzen" in result:
        p = result["parzen"]
        rows.append(("Parzen log-likelihood (σ by validation)",
                     f"{p['mean']:.1f} ± {p['standard_error']:.1f} (σ = {p['sigma']:.3f})"))
    lines = ["| metric | value |", "| --- | --- |"]
    lines += [f"| {a} | {str(b).replace('|', chr(92) + '|')} |" for a, b in rows]
    return "\n".join(lines)


def _fmt(value, spec):
    return "—" if value is None else format(value, spec)
