"""The reference loops (T, K) of benchmarks/reference_loops.py and the
command that times them against ours, benchmarks/versus_references.py (with
its parts: arithmetic.py, versus_cells.py, versus_report.py).

They train the project's real models (the benchmark's point), so each test
runs the small MLP family for a few steps at batch 8.
"""

import json
import math
import shutil

import keras
import numpy as np
import pytest
import tensorflow as tf

from benchmarks import arithmetic, reference_loops, versus_cells, versus_references, versus_report
from conftest import ROOT
from keras_gan.common.options import UserError

BATCH = 8


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).integers(0, 256, (8 * BATCH, 28, 28, 1), np.uint8)


def snapshot(model):
    return [np.array(w) for w in model.trainable_weights]


def changed(before, model):
    return any(not np.array_equal(b, np.array(w)) for b, w in zip(before, model.trainable_weights))


def all_finite(model):
    return all(np.isfinite(np.array(w)).all() for w in model.weights)


def test_one_tutorial_step_updates_both_players(images):
    loop = reference_loops.tutorial_loop("mlp", BATCH, images)
    model = loop.model
    g_before, d_before = snapshot(model.generator), snapshot(model.discriminator)
    gen_loss, disc_loss = model.train_step(next(loop.iterator))
    assert changed(g_before, model.generator) and changed(d_before, model.discriminator)
    assert np.isfinite(float(gen_loss)) and np.isfinite(float(disc_loss))
    assert all_finite(model.generator) and all_finite(model.discriminator)
    assert loop.run(2) > 0
    assert int(model.generator_optimizer.iterations) == 3
    assert int(model.discriminator_optimizer.iterations) == 3


def test_tutorial_losses_at_a_discriminator_that_outputs_zero(images):
    # D(x) = sigmoid(0) = 1/2 everywhere: each BCE term is log 2, and D's loss
    # sums a real and a fake term.
    loop = reference_loops.tutorial_loop("mlp", BATCH, images)
    logit = loop.model.discriminator.get_layer("logit")
    logit.kernel.assign(tf.zeros_like(logit.kernel))
    logit.bias.assign(tf.zeros_like(logit.bias))
    gen_loss, disc_loss = loop.model.train_step(next(loop.iterator))
    assert float(disc_loss) == pytest.approx(2 * math.log(2), abs=1e-6)
    assert float(gen_loss) == pytest.approx(math.log(2), abs=1e-6)


def test_keras_io_updates_see_the_examples_batches_and_labels(images):
    calls = []
    bce = keras.losses.BinaryCrossentropy(from_logits=True)

    def spy(labels, predictions):
        calls.append((np.array(labels), np.array(predictions)))
        return bce(labels, predictions)

    keras.utils.set_random_seed(0)
    gan = reference_loops.build_keras_io_gan("mlp", loss_fn=spy)
    real = reference_loops.keras_io_dataset(images, BATCH).take(1).get_single_element()
    # The MLP D has no Dropout or BatchNorm: its logits at the real images
    # are known before the step changes it.
    real_logits = np.array(gan.discriminator(real, training=True))
    gan.train_step(real)  # eagerly, so the spy sees values

    (d_labels, d_predictions), (g_labels, g_predictions) = calls
    # D: 2m images, generated first (label 1), then real (label 0), each
    # label plus 0.05 * uniform noise.
    assert d_labels.shape == d_predictions.shape == (2 * BATCH, 1)
    fake_labels, real_labels = d_labels[:BATCH], d_labels[BATCH:]
    assert ((fake_labels >= 1) & (fake_labels < 1.05)).all()
    assert ((real_labels >= 0) & (real_labels < 0.05)).all()
    assert len(np.unique(d_labels)) > 2  # the noise is there
    np.testing.assert_allclose(d_predictions[BATCH:], real_logits, rtol=1e-5, atol=1e-6)
    # G: m fresh images, all labelled "real" (0): the misleading labels.
    assert g_labels.shape == g_predictions.shape == (BATCH, 1)
    assert (g_labels == 0).all()


def test_keras_io_trains_through_fit_with_compile_defaults(images):
    loop = reference_loops.keras_io_loop("mlp", BATCH, images)
    g_before, d_before = snapshot(loop.gan.generator), snapshot(loop.gan.discriminator)
    assert loop.run(3) > 0  # one step through fit, two through its train function
    assert int(loop.gan.d_optimizer.iterations) == int(loop.gan.g_optimizer.iterations) == 3
    assert changed(g_before, loop.gan.generator) and changed(d_before, loop.gan.discriminator)
    assert all_finite(loop.gan.generator) and all_finite(loop.gan.discriminator)
    # Keras 3.15 on TensorFlow: jit_compile="auto" means XLA only with a GPU.
    assert loop.gan.jit_compile == bool(tf.config.list_physical_devices("GPU"))
    assert loop.gan.steps_per_execution == 1


def test_flops_per_image_are_the_anchor_figures():
    conv, mlp = (arithmetic.flops_per_image(f) for f in ("conv", "mlp"))
    assert (conv["algorithm_1"], conv["tutorial"]) == (69_954_048, 56_526_336)
    assert (mlp["algorithm_1"], mlp["tutorial"]) == (14_731_520, 12_462_080)
    # k D updates per G update: the G update is shared by k m real images.
    g, d = arithmetic.family_forward_flops("conv")
    four = arithmetic.flops_per_image("conv", k=4)["algorithm_1"]
    assert four == g + 6 * d + (3 * g + 3 * d) / 4


@pytest.mark.parametrize(
    "cells", ["gan-64", "mlp-0", "mlp-x", "mlp64", "mlp-64,mlp-64", "mlp-99999"]
)
def test_bad_cells_are_refused(cells):
    with pytest.raises(UserError, match="--cells"):
        versus_cells.parse_cells(cells)


def test_bad_cell_on_the_command_line_is_one_line(capsys):
    assert versus_references.main(["--cells", "mlp-64,gan-64"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("versus_references.py: error: --cells: bad cell 'gan-64'")


def test_the_command_end_to_end(tmp_path, capsys):
    doc = tmp_path / "performance.md"
    shutil.copy(f"{ROOT}/docs/performance.md", doc)
    before = doc.read_text()
    out = tmp_path / "results" / "versus.json"
    argv = ["--cells", "mlp-8", "--steps", "2", "--repeats", "1", "--out", str(out),
            "--doc", str(doc), "--plot", str(tmp_path / "bars.png")]
    assert versus_references.main(argv) == 0

    results = json.loads(out.read_text())
    (cell,) = results["cells"]
    assert cell["cell"] == "mlp-8" and set(cell["variants"]) == {"T", "K", "ours"}
    for figures in cell["variants"].values():
        assert figures["images_per_second"] > 0 and figures["first_call_seconds"] > 0
        assert len(figures["seconds"]) == 1 and 0 < figures["peak_share"] < 1
    ours = cell["variants"]["ours"]
    # Ours runs what train.py's compile trial found fastest among its candidates.
    trial = ours["trial"]["images_per_second"]
    assert set(trial) == {"XLA on/2", "XLA off/2"}
    assert versus_report.settings_label(ours) == max(trial, key=trial.get)
    flops = arithmetic.flops_per_image("mlp")
    assert ours["own_gflops"] == pytest.approx(ours["images_per_second"] * flops["algorithm_1"] / 1e9)
    assert cell["variants"]["T"]["own_gflops"] == pytest.approx(
        cell["variants"]["T"]["images_per_second"] * flops["tutorial"] / 1e9)
    assert cell["ours_over_T"] == pytest.approx(
        ours["images_per_second"] / cell["variants"]["T"]["images_per_second"])
    assert results["matmul_peak_gflops"] > 0 and results["sweep"] is None

    table = capsys.readouterr().out
    assert "| mlp, m 8 (2 steps) |" in table
    after = doc.read_text()
    begin, end = versus_report.DOC_BEGIN, versus_report.DOC_END
    assert table.strip() in after
    # Only the block changed.
    assert after.split(begin)[0] == before.split(begin)[0]
    assert after.split(end)[1] == before.split(end)[1]
    assert (tmp_path / "bars.png").read_bytes().startswith(b"\x89PNG")
    # The same report again from the results file alone, measuring nothing.
    doc.write_text(before)
    assert versus_references.main(["--from-json", str(out), "--doc", str(doc),
                                   "--out", str(tmp_path / "unused.json")]) == 0
    assert capsys.readouterr().out == table
    assert table.strip() in doc.read_text() and not (tmp_path / "unused.json").exists()
    assert versus_references.main(["--from-json", str(doc)]) == 2
    assert "not a results file of this script" in capsys.readouterr().err


def test_targets_are_judged_on_the_measured_figures():
    def cell(name, over_t, over_k, ours_rss, t_rss, share):
        return {"cell": name, "ours_over_T": over_t, "ours_over_K": over_k,
                "variants": {"ours": {"peak_rss_mb": ours_rss, "peak_rss_mb_cached": ours_rss - 2,
                                      "peak_share": share},
                             "T": {"peak_rss_mb": t_rss}}}

    results = {"cells": [cell("mlp-64", 1.0, 1.29, 900.0, 900.0, 0.9),
                         cell("conv-256", 0.99, 1.3, 1000.0, 999.0, 0.6)]}
    lines = versus_report.targets_markdown(results)
    assert "| ours ≥ 1.0× T | **met** (1.00) | missed (0.99) |" in lines
    assert "| ours ≥ 1.3× K | missed (1.29) | **met** (1.30) |" in lines
    assert "| peak RSS ≤ T's, ours' first run | **met** (+0 MB) | missed (+1 MB) |" in lines
    assert "| peak RSS ≤ T's, ours' later runs | **met** (-2 MB) | **met** (-1 MB) |" in lines
    # The share of the peak is a target of conv at batch 256 only.
    assert "| ≥ 60% of the matmul peak (conv-256) |  | **met** (60%) |" in lines
