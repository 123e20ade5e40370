"""The evaluation: each metric against known answers, the classifier, the command."""

import dataclasses
import json
import os
import re

import numpy as np
import pytest

from keras_gan.evaluation import classifier, metrics, parzen, report

RNG = np.random.default_rng(0)


# ------------------------------------------------------------ pure metrics
def test_precision_recall_density_coverage_equal_the_reference_implementation():
    import prdc

    real, fake = RNG.normal(size=(300, 8)), RNG.normal(0.3, 1.2, size=(250, 8))
    ours = metrics.precision_recall_density_coverage(real, fake, k=5)
    theirs = prdc.compute_prdc(real, fake, nearest_k=5)
    for name in ("precision", "recall", "density", "coverage"):
        assert ours[name] == pytest.approx(float(theirs[name]), abs=1e-12), name


def test_frechet_distance_of_gaussians_matches_the_closed_form():
    """For diagonal covariances: |mu1 - mu2|^2 + sum (s1 - s2)^2."""
    a = RNG.normal(0.0, 1.0, size=(200_000, 3))
    b = RNG.normal([1.0, 0.0, 0.0], [1.0, 2.0, 3.0], size=(200_000, 3))
    assert metrics.frechet_distance(a, b) == pytest.approx(1.0 + 0.0 + 1.0 + 4.0, rel=0.02)
    assert metrics.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)


def test_kid_of_two_halves_of_one_set_is_zero_within_its_error():
    features = RNG.normal(size=(4000, 16))
    kid, error = metrics.kernel_inception_distance(features[:2000], features[2000:], subset_size=1000)
    assert abs(kid) < 3 * error + 1e-4
    shifted, shifted_error = metrics.kernel_inception_distance(features[:2000], features[2000:] + 0.5)
    assert shifted > 10 * shifted_error and shifted > 0.01


def random_rotated_covariance(rng, d, scales):
    """R diag(scales^2) R^T with a random rotation R: full rank, far from diagonal."""
    rotation, _ = np.linalg.qr(rng.normal(size=(d, d)))
    return (rotation * np.asarray(scales) ** 2) @ rotation.T


def test_frechet_distance_equals_the_sqrtm_formula_on_rotated_covariances():
    """Against the textbook formula with scipy.linalg.sqrtm of S_a S_b (computed here,
    not by the code under test), on the sample moments of two sets whose covariances
    are full rank and rotated differently: using the covariance diagonals only, or
    pairing sorted eigenvalues, gives a different trace root."""
    from scipy import linalg

    rng = np.random.default_rng(1)
    d = 5
    cov_a = random_rotated_covariance(rng, d, [0.3, 0.7, 1.0, 2.0, 3.5])
    cov_b = random_rotated_covariance(rng, d, [0.5, 0.9, 1.5, 2.5, 4.0])
    a = rng.multivariate_normal(np.zeros(d), cov_a, size=400)
    b = rng.multivariate_normal(np.arange(d) / 2.0, cov_b, size=300)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    trace_root = np.trace(linalg.sqrtm(s_a @ s_b)).real
    expected = np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(s_a) + np.trace(s_b) - 2 * trace_root
    assert metrics.frechet_distance(a, b) == pytest.approx(expected, rel=1e-9, abs=1e-9)
    # the two shortcuts really are different numbers here, by a margin far above the tolerance
    diagonal_only = np.sum(np.sqrt(np.diag(s_a) * np.diag(s_b)))
    sorted_pairs = np.sum(np.sqrt(np.linalg.eigvalsh(s_a) * np.linalg.eigvalsh(s_b)))
    assert abs(diagonal_only - trace_root) > 0.05 and abs(sorted_pairs - trace_root) > 0.05
    assert metrics.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)


def kid_by_loops(x, y):
    """The unbiased MMD^2 of KID written out term by term, with k(u, v) = (u.v / d + 1)^3."""
    m, d = len(x), x.shape[1]

    def k(u, v):
        return (sum(float(p) * float(q) for p, q in zip(u, v)) / d + 1.0) ** 3

    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    return xx + yy - 2.0 * xy


def test_kid_is_the_unbiased_mmd_with_the_cubic_kernel_written_out_by_loops():
    """One subset of the whole set (subset_size = n): KID is exactly the loop-written
    estimator, so a kernel of another degree, a missing `/ d` or a biased estimator
    (diagonal kept) fails. Features of size ~3 make those variants differ widely."""
    rng = np.random.default_rng(2)
    x, y = rng.normal(0.0, 3.0, size=(12, 4)), rng.normal(0.5, 2.0, size=(12, 4))
    expected = kid_by_loops(x, y)
    for subsets in (1, 3):  # every subset is the whole set, in some order: the same value
        kid, error = metrics.kernel_inception_distance(x, y, subsets=subsets, subset_size=len(x))
        assert kid == pytest.approx(expected, rel=1e-9)
        # One subset has no spread; three copies of the same value have none either.
        assert np.isnan(error) if subsets == 1 else error == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError, match="subsets must be at least 1, got 0"):
        metrics.kernel_inception_distance(x, y, subsets=0)


def test_kid_on_two_points_a_side_by_hand():
    """d = 2; x = (2, 2), (2, 0); y = (0, 0), (2, -2). Dot products /d + 1, cubed:
    x0.x1 = 4 -> 3^3 = 27; y0.y1 = 0 -> 1; x.y = 0, 0, 0, 4 -> 1, 1, 1, 27 (mean 7.5).
    MMD^2 = 27 + 1 - 2 * 7.5 = 13 (degree 2 gives 4, no / d gives 62)."""
    x, y = np.array([[2.0, 2.0], [2.0, 0.0]]), np.array([[0.0, 0.0], [2.0, -2.0]])
    kid, _ = metrics.kernel_inception_distance(x, y, subsets=2, subset_size=2)
    assert kid == pytest.approx(13.0, rel=1e-12)


def test_mode_statistics_on_known_predictions():
    balanced = np.eye(10)[np.arange(1000) % 10]
    stats = metrics.mode_statistics(balanced)
    assert stats["modes"] == 10 and stats["kl_to_uniform"] == pytest.approx(0.0, abs=1e-12)
    assert stats["classifier_score"] == pytest.approx(10.0, rel=1e-6)
    one_class = metrics.mode_statistics(np.eye(10)[np.zeros(500, int)])
    assert one_class["modes"] == 1 and one_class["kl_to_uniform"] == pytest.approx(np.log(10))
    assert one_class["classifier_score"] == pytest.approx(1.0, rel=1e-6)
    blurred = metrics.mode_statistics(np.full((100, 10), 0.1))  # no confident prediction
    assert blurred["classifier_score"] == pytest.approx(1.0, rel=1e-6)


def test_parzen_on_a_known_gaussian_matches_the_analytic_log_likelihood():
    """The Parzen estimate of N(0, I) with bandwidth s is, for many samples,
    N(0, (1 + s^2) I): E log p(x) = -d/2 log(2 pi (1 + s^2)) - d / (2 (1 + s^2))."""
    d, s = 2, 0.3
    # 10,000 kernels, 2,000 points: 0.6 CPU-s (40,000 and 4,000 took 7). The
    # tolerance is then 0.10; a kernel of variance s instead of s^2 is 0.32 off.
    samples, test = RNG.normal(size=(10_000, d)), RNG.normal(size=(2000, d))
    got = parzen.log_likelihoods(test, samples, [s])[0]
    analytic = -d / 2 * np.log(2 * np.pi * (1 + s**2)) - d / (2 * (1 + s**2))
    assert got.mean() == pytest.approx(analytic, abs=4 * got.std() / np.sqrt(len(got)) + 0.01)
    chosen = parzen.parzen_log_likelihood(samples[:5000], RNG.normal(size=(500, d)), test,
                                          sigmas=[0.01, s, 5.0])
    assert chosen["sigma"] == s  # too narrow and too wide lose on validation
    assert chosen["standard_error"] > 0


# ------------------------------------------------------ in classifier space
def test_fallback_reference_is_a_stratified_held_out_fifth(evaluation):
    data, _, _ = evaluation
    assert data.held_out and len(data.reference_images) == 1000 and len(data.train_images) == 4000
    assert np.bincount(data.reference_labels).tolist() == [100] * 10
    assert "held out" in data.description


def test_the_gan_never_trains_on_a_held_out_reference(evaluation):
    from keras_gan.data import Images
    from keras_gan.evaluation.reference import without_reference

    data, _, _ = evaluation
    everything = np.concatenate([data.reference_images[:300], data.train_images[:700]])
    labels = np.concatenate([data.reference_labels[:300], data.train_labels[:700]])
    order = RNG.permutation(len(everything))  # matched by content, in any order
    real = Images(everything[order], "some split", notice="a fallback.", labels=labels[order])
    kept = without_reference(real, data)
    assert len(kept.images) == len(kept.labels) == 700
    reference = {image.tobytes() for image in data.reference_images}
    assert not any(image.tobytes() in reference for image in kept.images)
    for image, label in zip(kept.images, kept.labels):  # labels stay with their images
        match = np.flatnonzero((data.train_images[:700] == image).all(axis=(1, 2, 3)))[0]
        assert data.train_labels[match] == label
    assert kept.source == "some split; 300 held out as the evaluation's reference, 700 trained on"
    assert kept.notice == "a fallback. Of those, 300 held out as the evaluation's reference, 700 trained on."
    test_split = dataclasses.replace(data, held_out=False)  # a real test split: nothing to remove
    assert without_reference(real, test_split) is real


def test_classifier_is_accurate_and_records_what_it_was_trained_on(evaluation):
    data, model, folder = evaluation
    assert model.record["test_accuracy"] >= 0.98  # the bar for the 5,000-image sample
    assert model.record["train_images"] == 4000 and model.record["test_images"] == 1000
    record = json.load(open(os.path.join(folder, "mnist", classifier.RECORD_FILE)))
    assert record["fingerprint"] == classifier.fingerprint(data.train_images, data.train_labels)


def features(model, images):
    return model.features(images)


def test_real_against_held_out_real_is_close_and_noise_is_far(evaluation):
    data, model, _ = evaluation
    train, held = features(model, data.train_images[::4]), features(model, data.reference_images)
    noise = features(model, RNG.uniform(0, 1, size=(1000, 28, 28, 1)).astype(np.float32))
    real_fd, noise_fd = metrics.frechet_distance(train, held), metrics.frechet_distance(noise, held)
    assert noise_fd > 5 * real_fd
    close = metrics.precision_recall_density_coverage(held, train)
    assert close["precision"] > 0.85 and close["recall"] > 0.85 and close["coverage"] > 0.85
    far = metrics.precision_recall_density_coverage(held, noise)
    assert far["precision"] < 0.05 and far["coverage"] < 0.05


def test_frechet_distance_grows_with_added_noise(evaluation):
    data, model, _ = evaluation
    held = features(model, data.reference_images)
    clean = data.train_images[::4].astype(np.float32) / 255.0
    noise = RNG.normal(size=clean.shape).astype(np.float32)
    distances = [metrics.frechet_distance(features(model, np.clip(clean + s * noise, 0, 1)), held)
                 for s in (0.0, 0.1, 0.2, 0.4, 0.8)]
    assert all(a < b for a, b in zip(distances, distances[1:])), distances


def test_one_class_samples_have_one_mode_and_low_coverage(evaluation):
    data, model, _ = evaluation
    ones = data.train_images[data.train_labels == 1][:300]
    held = features(model, data.reference_images)
    stats = metrics.mode_statistics(model.probabilities(ones))
    assert stats["modes"] == 1 and stats["class_share"][1] > 0.95
    assert metrics.precision_recall_density_coverage(held, features(model, ones))["coverage"] < 0.2


def test_the_report_of_real_images_is_near_the_floor(evaluation):
    data, model, _ = evaluation
    result = report.evaluate(data.train_images[::4], data, model, parzen=False)
    assert result["frechet_ratio_to_real"] < 2.0
    assert result["modes"]["modes"] == 10
    memo = result["memorisation"]
    assert memo["median_sample_to_nearest_train"] < 1e-3  # they *are* training images
    assert memo["median_reference_to_nearest_train"] > 3.0
    assert "| Fréchet distance (classifier features) |" in report.markdown(result)


def test_recognisable_share_on_known_predictions():
    sure, torn = np.eye(10)[[3]] * 0.95 + 0.005, np.full((1, 10), 0.1)
    at_the_bar = np.eye(10)[[7]] * 0.9 + 0.1 / 9 * (1 - np.eye(10)[[7]])
    probabilities = np.concatenate([sure, sure, torn, at_the_bar])
    assert metrics.recognisable_share(probabilities) == pytest.approx(0.75)  # >= the bar counts
    assert metrics.recognisable_share(probabilities, confidence=0.99) == 0.0


def test_blends_of_two_digits_are_not_recognisable_and_real_digits_are(evaluation):
    """Half one digit, half another: the in-between shapes an unconditional
    generator draws, which the class histogram counts as some class."""
    data, model, _ = evaluation
    threes = data.train_images[data.train_labels == 3][:200].astype(np.float32) / 255.0
    eights = data.train_images[data.train_labels == 8][:200].astype(np.float32) / 255.0
    real = metrics.recognisable_share(model.probabilities(data.reference_images))
    blends = metrics.recognisable_share(model.probabilities(0.5 * threes + 0.5 * eights))
    assert real > 0.9 and blends < real - 0.3, (real, blends)
    result = report.evaluate(0.5 * threes + 0.5 * eights, data, model, parzen=False)
    assert result["recognisable"]["samples"] == pytest.approx(blends)
    assert result["recognisable"]["reference"] == pytest.approx(real)
    assert "| recognisable: one class at p ≥ 0.9, samples / reference |" in report.markdown(result)


def test_class_accuracy_on_known_predictions():
    # Class 0 asked for 4 times, read as 0 three times; class 2 asked twice, read once.
    predicted = [0, 0, 0, 1, 2, 5]
    probabilities = np.eye(10)[predicted] * 0.9 + 0.01
    result = metrics.class_accuracy(probabilities, [0, 0, 0, 0, 2, 2])
    assert result["per_class_accuracy"] == {0: 0.75, 2: 0.5}
    assert result["class_accuracy"] == pytest.approx(0.625)  # the mean over classes, not samples
    assert (result["lowest_class"], result["lowest_class_accuracy"]) == (2, 0.5)


def test_the_report_reads_the_labels_of_real_digits_and_not_wrong_ones(evaluation):
    data, model, _ = evaluation
    images, labels = data.train_images[::5], data.train_labels[::5]
    result = report.evaluate(images, data, model, parzen=False, labels=labels)
    right = result["conditional"]
    wrong = report.evaluate(images, data, model, parzen=False, labels=(labels + 1) % 10)["conditional"]
    assert right["class_accuracy"] > 0.97 and right["lowest_class_accuracy"] > 0.9
    assert wrong["class_accuracy"] < 0.05
    assert "conditional" not in report.evaluate(images, data, model, parzen=False)
    assert "| conditional: samples classified as the class asked for | " in report.markdown(result)


def test_command_on_a_conditional_checkpoint_and_export(evaluation, mnist_dir, tmp_path, capsys):
    """Both sources of a conditional generator draw the classes in equal shares,
    and the result holds the class accuracy of each."""
    from keras_gan import GAN, build_models
    from keras_gan.outputs.saved_model import export_generator

    gan = GAN(*build_models("mlp", num_classes=10), num_classes=10, seed=0)
    gan.compile()
    gan.save(str(tmp_path / "gan.keras"))
    export = export_generator(gan.generator, str(tmp_path / "export"))
    results = []
    for source in (["--checkpoint", str(tmp_path / "gan.keras")], ["--generator", export]):
        code, out, err = run_evaluate(*source, "--num-samples", "300", "--no-parzen", "--data-dir",
                                      mnist_dir, "--classifier-dir", evaluation[2], capsys=capsys)
        assert code == 0, err
        results.append(json.loads(out)["conditional"])
    assert sorted(results[0]["per_class_accuracy"]) == [str(c) for c in range(10)]
    assert results[0] == results[1]  # the same generator, the same draws


def test_classifier_is_reused_and_retrained_when_the_data_change(tmp_path):
    images = RNG.integers(0, 256, (60, 28, 28, 1), dtype=np.uint8)
    labels = np.arange(60) % 10
    logged = []
    first = classifier.load_or_train(str(tmp_path), images, labels, images[:10], labels[:10], "a",
                                     log=logged.append)
    assert logged[0] == "evaluation classifier: training (once per data set)"
    accuracy = first.record["test_accuracy"]
    assert re.fullmatch(rf"evaluation classifier: trained in \d+ s, {accuracy:.1%} right on the 10 "
                        r"reference images", logged[1]), logged
    again = classifier.load_or_train(str(tmp_path), images, labels, images[:10], labels[:10], "a",
                                     log=logged.append)
    assert len(logged) == 2 and again.record == first.record  # loaded, not retrained
    classifier.load_or_train(str(tmp_path), images[1:], labels[1:], images[:10], labels[:10], "b",
                             log=logged.append)
    assert "the data changed" in logged[2] and logged[3].startswith("evaluation classifier: trained in")


# ------------------------------------------------------------------ the command
def run_evaluate(*argv, capsys=None):
    from keras_gan import evaluate

    code = evaluate.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_command_on_a_samples_file_prints_one_json_object_and_a_table(evaluation, mnist_dir,
                                                                       tmp_path, capsys):
    data, _, folder = evaluation
    np.save(tmp_path / "real.npy", data.train_images[:500])
    code, out, err = run_evaluate("--samples", str(tmp_path / "real.npy"), "--data-dir", mnist_dir,
                                  "--classifier-dir", folder, "--markdown", capsys=capsys)
    assert code == 0, err
    assert "training" not in err  # the stored classifier was reused
    first, table = out.split("\n", 1)
    result = json.loads(first)
    assert result["num_samples"] == 500 and result["samples_from"] == str(tmp_path / "real.npy")
    assert "held out" in result["reference"] and result["parzen"]["sigma"] in parzen.SIGMAS
    assert table.startswith("| metric | value |")


@pytest.mark.parametrize("shape,dtype,message", [
    ((5, 32, 32, 1), np.float32, "images of shape (32, 32, 1), expected 28x28x1"),
    ((5, 28, 28, 3), np.uint8, "images of shape (28, 28, 3), expected 28x28x1"),
    ((5, 28, 28), np.int64, "images of dtype int64, expected uint8 or floats in [0, 1]"),
    ((5, 28, 28, 1), np.float32, "pixel values outside [0, 1]"),
])
def test_command_refuses_images_that_are_not_mnist_shaped(tmp_path, capsys, shape, dtype, message):
    images = np.full(shape, 2, dtype)
    np.save(tmp_path / "x.npy", images)
    code, _, err = run_evaluate("--samples", str(tmp_path / "x.npy"), "--classifier-dir",
                                str(tmp_path / "c"), capsys=capsys)
    assert code == 2
    assert err.strip().splitlines() == [f"python -m keras_gan.evaluate: error: --samples {tmp_path / 'x.npy'}: {message}."]


def test_command_refuses_a_generator_that_does_not_draw_28x28x1(tmp_path, capsys):
    """A GAN for 1-D data (keras_gan.toy), as a checkpoint and as an export."""
    from keras_gan.outputs.saved_model import export_generator
    from keras_gan.toy import game

    gan = game.make_gan(game.affine_generator(0.0, 1.0))
    gan.save(str(tmp_path / "toy.keras"))
    export = export_generator(gan.generator, str(tmp_path / "export"))
    for flag, path in (("--checkpoint", str(tmp_path / "toy.keras")), ("--generator", export)):
        code, _, err = run_evaluate(flag, path, "--classifier-dir", str(tmp_path / "c"), capsys=capsys)
        assert code == 2
        assert err.strip().splitlines() == [
            f"python -m keras_gan.evaluate: error: {flag} {path}: images of shape (1,), expected 28x28x1."]
    assert not os.path.exists(tmp_path / "c")  # refused before any classifier work


@pytest.mark.parametrize("argv,message", [
    ([], "one of the arguments --generator --checkpoint --samples is required"),
    (["--samples", "a.npy", "--checkpoint", "b.keras"], "not allowed with argument"),
    (["--samples", "missing.npy"], "--samples missing.npy: no such file."),
    (["--generator", "nowhere"], "--generator nowhere: no such directory."),
    (["--samples", "x.npy", "--num-samples", "0"], "--num-samples 0: expected 1..10000."),
])
def test_command_usage_errors_are_one_line(tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    np.save(tmp_path / "x.npy", np.zeros((2, 28, 28), np.uint8))
    code, _, err = run_evaluate(*argv, capsys=capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("python -m keras_gan.evaluate: error: ")
    assert message in lines[0]


# ------------------------------------------------------------ during training
def constant_generator(image, latent_dim=8):
    """G(z) = one fixed image for every z: a generator collapsed to one mode."""
    import keras

    z = keras.Input((latent_dim,))
    target = np.arctanh(np.clip(image.reshape(-1).astype(np.float32) / 127.5 - 1.0, -0.999, 0.999))
    dense = keras.layers.Dense(784, activation="tanh", kernel_initializer="zeros",
                               bias_initializer=keras.initializers.Constant(target))
    return keras.Model(z, keras.layers.Reshape((28, 28, 1))(dense(z)))


def test_quality_monitor_logs_eval_scalars_and_warns_once_on_collapse(evaluation, tmp_path, capsys):
    from tensorboard.backend.event_processing import event_accumulator

    from keras_gan import GAN
    from keras_gan.training.quality_monitor import QualityMonitor
    from test_gan import small_models

    data, model, _ = evaluation
    one = data.train_images[data.train_labels == 1][0]
    gan = GAN(constant_generator(one), small_models()[1])
    gan.compile()
    monitor = QualityMonitor(str(tmp_path), model, data, samples=1000)
    monitor.set_model(gan)
    monitor.on_train_begin()
    for epoch in range(3):
        monitor.on_epoch_end(epoch)
    monitor.on_train_end()
    # One real digit copied 1,000 times: one class, and a sample set whose
    # manifold (k-NN balls of radius 0) holds almost none of the real images.
    # (Its precision depends on where this digit lies among the reference's
    # features, which the classifier's training decides: not asserted.)
    assert monitor.last["modes"] == 1.0 and monitor.last["recall"] < 0.05
    assert monitor.last["frechet_ratio_to_real"] > 10
    warnings = [l for l in capsys.readouterr().err.splitlines() if l.startswith("WARNING")]
    assert warnings == ["WARNING: epoch 1: the generator's samples cover only 1 of 10 classes at "
                        ">= 5% (mode collapse?); see docs/algorithm.md"]
    events = event_accumulator.EventAccumulator(str(tmp_path / "train"),
                                                size_guidance={event_accumulator.TENSORS: 0})
    events.Reload()
    assert [e.step for e in events.Tensors("eval/modes")] == [0, 1, 2]


def test_quality_monitor_every_n_epochs_and_always_after_the_last(evaluation, tmp_path):
    from tensorboard.backend.event_processing import event_accumulator

    from keras_gan import GAN
    from keras_gan.training.quality_monitor import QualityMonitor
    from test_gan import small_models

    data, model, _ = evaluation
    gan = GAN(*small_models())
    gan.compile()
    monitor = QualityMonitor(str(tmp_path), model, data, samples=500, every=2)
    monitor.set_model(gan)
    monitor.set_params({"epochs": 5})
    monitor.on_train_begin()
    for epoch in range(5):
        monitor.on_epoch_end(epoch)
    monitor.on_train_end()
    events = event_accumulator.EventAccumulator(str(tmp_path / "train"),
                                                size_guidance={event_accumulator.TENSORS: 0})
    events.Reload()
    assert [e.step for e in events.Tensors("eval/frechet_distance")] == [1, 3, 4]


def test_gan_monitor_warns_when_the_discriminator_wins_outright(tmp_path, capsys):
    from keras_gan.training.monitor import GANMonitor

    monitor = GANMonitor(str(tmp_path), real_images=None)
    for epoch, d_loss in enumerate([0.9, 0.05, 0.02, 0.5, 0.01]):
        monitor._warn_if_d_wins(epoch, {"d_loss": d_loss, "d_real": 0.99, "d_fake": 0.01})
    warnings = capsys.readouterr().err.strip().splitlines()
    assert [w.split(":")[1] for w in warnings] == [" epoch 2", " epoch 5"]  # when it starts, again after a recovery
    assert warnings[0] == ("WARNING: epoch 2: the discriminator wins outright (d_loss 0.050, d_real "
                           "0.990, d_fake 0.010): the generator learns little from here; see docs/algorithm.md")


def test_the_classifier_schedule_benchmark_reads_its_curves_and_refuses_bad_flags(capsys, tmp_path):
    """benchmarks/classifier.py's table: each row's last accuracy and the first
    epochs at 90% and 98% come from that row's own curve ('-' when never
    reached); the row of the shipped (widths, momentum, epochs) alone is marked; bad
    flags are one line, exit 2."""
    import sys

    from conftest import ROOT

    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    import classifier as schedule

    rows = [{"widths": (8, 16), "momentum": 0.99, "epochs": 3, "seconds": 12.4, "curve": [0.1, 0.95, 0.97]},
            {"widths": (8, 16), "momentum": 0.9, "epochs": 4, "seconds": 20.0, "curve": [0.5, 0.85, 0.981, 0.99]},
            {"widths": (8, 16), "momentum": 0.9, "epochs": 3, "seconds": 15.0, "curve": [0.5, 0.85, 0.97]},
            {"widths": (16, 8), "momentum": 0.9, "epochs": 3, "seconds": 9.0, "curve": [0.2, 0.3, 0.4]}]
    lines = schedule.markdown(rows, "some images", "a CPU", shipped=((8, 16), 0.9, 3)).splitlines()
    assert lines[0].endswith("on a CPU; data: some images.")
    assert lines[-4] == "| 8, 16 | 0.99 | 3 | 12 | 97.0% | 2 | - | 0.10 0.95 0.97 |"
    assert lines[-3] == "| 8, 16 | 0.9 | 4 | 20 | 99.0% | 3 | 3 | 0.50 0.85 0.98 0.99 |"
    assert lines[-2] == "| 8, 16 | 0.9 | 3 (shipped) | 15 | 97.0% | 3 | - | 0.50 0.85 0.97 |"
    assert lines[-1] == "| 16, 8 | 0.9 | 3 | 9 | 40.0% | - | - | 0.20 0.30 0.40 |"
    assert schedule.parse_args(["--widths", "24,48", "32,64"]).widths == [(24, 48), (32, 64)]
    unmarked = tmp_path / "page.md"
    unmarked.write_text("# a page without the block\n")
    for argv, flag in ((["--epochs", "0"], "--epochs 0"), (["--momentum", "1"], "--momentum 1.0"),
                       (["--widths", "24"], "argument --widths: expected two filter counts"),
                       (["--doc", "/nonexistent.md"], "--doc /nonexistent.md: no such file"),
                       (["--doc", str(unmarked)], f"--doc {unmarked}: no generated block")):
        assert schedule.main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"error: {flag}" in err, err


def test_real_features_are_measured_once_per_data_set_and_shared_read_only(evaluation):
    """A run's per-epoch evaluation and the one after training read the real
    images' features from one measurement; other data are measured anew."""
    data, trained, _ = evaluation
    model = classifier.Classifier(trained.model, trained.record)  # its own, empty, store
    small = dataclasses.replace(data, train_images=data.train_images[:40], train_labels=data.train_labels[:40],
                                reference_images=data.reference_images[:30],
                                reference_labels=data.reference_labels[:30])
    passes = []
    measure = model.features_and_probabilities
    model.features_and_probabilities = lambda images: passes.append(len(images)) or measure(images)
    reference, probabilities, train = model.real_features(small)
    assert passes == [30, 40]
    direct = measure(small.reference_images)
    np.testing.assert_array_equal(reference, direct[0])
    np.testing.assert_array_equal(probabilities, direct[1])
    np.testing.assert_array_equal(train, measure(small.train_images)[0])
    assert all(a is b for a, b in zip(model.real_features(small), (reference, probabilities, train)))
    assert passes == [30, 40]  # kept
    with pytest.raises(ValueError, match="read-only"):
        reference[0, 0] = 1.0
    other = dataclasses.replace(small, train_images=small.train_images[:20], train_labels=small.train_labels[:20])
    assert model.real_features(other)[2].shape[0] == 20 and passes == [30, 40, 30, 20]
