"""Sample-quality metrics on feature vectors: pure NumPy/SciPy functions.

Features are rows of a 2-D array (here: the penultimate layer of the
project's MNIST classifier, see `classifier.py`), one row per image.
"""

import numpy as np
from scipy import linalg


def frechet_distance(a, b):
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)): the Fréchet
    (2-Wasserstein) distance between Gaussians fitted to two feature sets.

    Tr((S_a S_b)^(1/2)) is computed as the sum of the square roots of the
    eigenvalues of the symmetric S_a^(1/2) S_b S_a^(1/2), which is stable
    for the singular covariances of ReLU features (units that never fire).
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    values, vectors = linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T
    middle = linalg.eigvalsh(root_a @ cov_b @ root_a)
    trace_root = np.sum(np.sqrt(np.clip(middle, 0.0, None)))
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2.0 * trace_root)


def kernel_inception_distance(a, b, subsets=50, subset_size=1000, seed=0):
    """KID: the unbiased MMD^2 with the kernel k(x, y) = (x.y / d + 1)^3,
    averaged over random subsets; returns (mean, standard error), the error NaN
    for a single subset (it has no spread to measure)."""
    if subsets < 1:
        raise ValueError(f"subsets must be at least 1, got {subsets}")
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    rng = np.random.default_rng(seed)
    m = min(subset_size, len(a), len(b))
    d = a.shape[1]
    values = []
    for _ in range(subsets):
        x = a[rng.choice(len(a), m, replace=False)]
        y = b[rng.choice(len(b), m, replace=False)]
        kxx, kyy, kxy = ((p @ q.T / d + 1.0) ** 3 for p, q in ((x, x), (y, y), (x, y)))
        off_diagonal = (kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1))
        values.append(off_diagonal - 2.0 * kxy.mean())
    values = np.asarray(values)
    if len(values) == 1:
        return float(values[0]), float("nan")
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(len(values)))


def pairwise_distances(a, b):
    """Euclidean distances [len(a), len(b)], without a [n, m, d] temporary."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    squared = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.sqrt(np.maximum(squared, 0.0))


def kth_neighbour_radii(features, k):
    """Distance from each row to its k-th nearest other row."""
    distances = pairwise_distances(features, features)
    return np.partition(distances, k, axis=1)[:, k]  # column 0 is the row itself


def precision_recall_density_coverage(real, fake, k=5):
    """Kynkäänniemi et al. 2019 (precision, recall) and Naeem et al. 2020
    (density, coverage), with k-nearest-neighbour balls around each sample.

    precision: share of fakes inside some real ball; recall: share of reals
    inside some fake ball; density: mean count of real balls containing each
    fake, divided by k; coverage: share of real balls that contain a fake.
    """
    real_radii = kth_neighbour_radii(real, k)
    fake_radii = kth_neighbour_radii(fake, k)
    distances = pairwise_distances(real, fake)  # [real, fake]
    inside_real = distances < real_radii[:, None]
    return {
        "precision": float(inside_real.any(axis=0).mean()),
        "recall": float((distances < fake_radii[None, :]).any(axis=1).mean()),
        "density": float(inside_real.sum(axis=0).mean() / k),
        "coverage": float((distances.min(axis=1) < real_radii).mean()),
    }


def mode_statistics(probabilities, min_share=0.05):
    """Class histogram of samples from a classifier's p(y|x), and what it says.

    Returns the share of samples per predicted class, the classes with at
    least `min_share` of them, KL(histogram || uniform) in nats, and the
    classifier score exp(E_x KL(p(y|x) || p(y))) (the Inception Score's
    analogue: up to the number of classes for sharp, balanced predictions).
    """
    p = np.asarray(probabilities, np.float64)
    classes = p.shape[1]
    share = np.bincount(p.argmax(1), minlength=classes) / len(p)
    nonzero = share > 0
    kl_uniform = float(np.sum(share[nonzero] * np.log(share[nonzero] * classes)))
    marginal = p.mean(0)
    eps = 1e-12
    score = float(np.exp(np.mean(np.sum(p * (np.log(p + eps) - np.log(marginal + eps)), axis=1))))
    return {
        "class_share": [round(float(s), 4) for s in share],
        "modes": int(np.sum(share >= min_share)),
        "kl_to_uniform": kl_uniform,
        "classifier_score": score,
    }


RECOGNISABLE_CONFIDENCE = 0.9


def recognisable_share(probabilities, confidence=RECOGNISABLE_CONFIDENCE):
    """The share of images the classifier assigns to one class with
    probability >= `confidence`. Real digits score high (most are
    unmistakable); an unconditional generator's in-between shapes, half one
    digit and half another, score low, and they are what a class histogram
    cannot see (they still count towards some class there)."""
    p = np.asarray(probabilities)
    return float(np.mean(p.max(axis=1) >= confidence))


def class_accuracy(probabilities, labels):
    """How often a conditional generator drew the class it was asked for, as
    the classifier reads it: per requested class, the share of its samples
    classified as that class; their mean; and the lowest class."""
    predicted = np.asarray(probabilities).argmax(1)
    labels = np.asarray(labels)
    classes = np.unique(labels)
    per_class = [float(np.mean(predicted[labels == c] == c)) for c in classes]
    lowest = int(np.argmin(per_class))
    return {
        "class_accuracy": float(np.mean(per_class)),
        "per_class_accuracy": {int(c): round(a, 4) for c, a in zip(classes, per_class)},
        "lowest_class": int(classes[lowest]),
        "lowest_class_accuracy": per_class[lowest],
    }


def nearest_distances(queries, references, batch=1000):
    """Euclidean distance from each query row to its nearest reference row."""
    out = []
    for start in range(0, len(queries), batch):
        out.append(pairwise_distances(queries[start:start + batch], references).min(axis=1))
    return np.concatenate(out)
