"""The paper's theory, checked numerically with keras_gan.GAN on 1-D data."""

import inspect
import os
import re
import shutil

import numpy as np
import pytest
from PIL import Image

from keras_gan.toy import experiments
from keras_gan.toy.densities import (
    LOG_4, Gaussian, grid, jsd, kl, optimal_discriminator, virtual_training_criterion,
)

from conftest import ROOT


def test_kl_and_jsd_against_closed_forms():
    x = grid(-30, 30, 20001)
    p, q = Gaussian(0.5, 1.0), Gaussian(-1.0, 2.0)
    closed = np.log(2.0 / 1.0) + (1.0 + 1.5**2) / (2 * 2.0**2) - 0.5  # KL(N(m1,s1) || N(m2,s2))
    assert kl(p.pdf(x), q.pdf(x), x) == pytest.approx(closed, rel=1e-6)
    assert jsd(p.pdf(x), p.pdf(x), x) == pytest.approx(0.0, abs=1e-12)
    assert jsd(p.pdf(x), q.pdf(x), x) == pytest.approx(jsd(q.pdf(x), p.pdf(x), x), rel=1e-9)
    far = Gaussian(20.0, 1.0).pdf(x), Gaussian(-20.0, 1.0).pdf(x)  # disjoint supports
    assert jsd(*far, x) == pytest.approx(np.log(2.0), rel=1e-6)
    assert virtual_training_criterion(*far, x) == pytest.approx(-LOG_4 + 2 * np.log(2.0), abs=1e-6)


def test_optimal_discriminator_closed_form():
    np.testing.assert_allclose(optimal_discriminator([1.0, 3.0, 0.0, 0.0], [1.0, 1.0, 2.0, 0.0]),
                               [0.5, 0.75, 0.0, 0.5])


@pytest.fixture(scope="module")
def doc_runs():
    """The four experiments behind docs/theory.md's numbers, at the settings of
    `python -m keras_gan.toy` (checked by test_docs_numbers_are_the_commands_output),
    run once for the tests below (~35 s on 2 cores)."""
    return {
        "convergence": experiments.d_approaches_d_star(checkpoints=(10, 50, 200, 1000, 3000)),
        "equilibrium": experiments.value_at_equilibrium(steps=1500),
        "run": experiments.training_run(steps=3000, every=3000),  # `every` only adds snapshots
        "rejected": experiments.rejected_gradients(d_steps=1500),
    }


@pytest.fixture(scope="module")
def frozen_generator(doc_runs):
    """D trained alone against a frozen affine G (p_g = N(-1, 0.8^2))."""
    return doc_runs["convergence"]


def test_discriminator_approaches_the_optimal_discriminator(frozen_generator):
    """Proposition 1: with G fixed, D -> D* = p_data / (p_data + p_g), here
    within 0.05 wherever p_data or p_g exceeds 0.05."""
    early, late = frozen_generator["rows"][0], frozen_generator["rows"][-1]  # 10 and 3,000 steps
    assert early["max_error"] > 0.2  # far from D* at first: the check below is not vacuous
    assert late["max_error"] < 0.05


def test_value_at_that_discriminator_is_minus_log_4_plus_twice_the_jsd(frozen_generator):
    """Theorem 1: V(D*, G) = C(G) = -log 4 + 2 JSD(p_data || p_g); V by Monte
    Carlo (100,000 samples each), the JSD by numerical integration."""
    criterion = frozen_generator["criterion"]
    assert criterion > -1.0  # p_g is far from p_data: C(G) well above -log 4
    assert frozen_generator["rows"][-1]["value"] == pytest.approx(criterion, abs=0.01)


def test_value_is_minus_log_4_when_p_g_equals_p_data(doc_runs):
    result = doc_runs["equilibrium"]
    assert result["value"] == pytest.approx(-LOG_4, abs=0.005)
    assert result["max_d_deviation"] < 0.05  # D = 1/2 where the data are


def test_training_moves_p_g_to_p_data(doc_runs):
    """Algorithm 1 through fit, fixed seed: the JSD falls at least 100-fold in
    3,000 iterations (from 0.54 nats), and V approaches -log 4."""
    rows = doc_runs["run"]
    assert [r["step"] for r in rows] == [0, 3000]
    assert rows[0]["jsd"] > 0.5
    assert rows[-1]["jsd"] < rows[0]["jsd"] / 100
    assert rows[-1]["value"] == pytest.approx(-LOG_4, abs=0.01)


def test_generator_gradient_at_confidently_rejected_samples(doc_runs):
    """d loss / d logit is -D(G(z)) ~ 0 for minimax and D(G(z)) - 1 ~ -1 for
    the non-saturating loss, per sample, when D rejects G's samples."""
    result = doc_runs["rejected"]
    d = result["d_of_g"]
    assert d.mean() < 1e-2
    minimax, non_saturating = result["minimax"], result["non_saturating"]
    np.testing.assert_allclose(minimax["per_logit"], -d, rtol=1e-3, atol=1e-7)
    assert np.abs(minimax["per_logit"]).mean() < 0.01
    np.testing.assert_allclose(non_saturating["per_logit"], d - 1.0, rtol=1e-3, atol=1e-6)
    assert np.abs(non_saturating["per_logit"] + 1.0).mean() < 0.01
    assert minimax["weight_grad_norm"] < non_saturating["weight_grad_norm"] / 100


def test_toy_command_regenerates_every_figure_and_the_numbers(tmp_path, capsys):
    from keras_gan.toy.__main__ import main
    from keras_gan.toy.report import BEGIN, END

    doc = tmp_path / "theory.md"
    shutil.copy(os.path.join(ROOT, "docs", "theory.md"), doc)
    before = doc.read_text()
    assert main(["--out", str(tmp_path / "figures"), "--doc", str(doc), "--quick"]) == 0
    names = sorted(os.listdir(tmp_path / "figures"))
    assert names == ["d_star.png", "figure1.png", "gradients.png", "mixture.png", "value.png"]
    for name in names:
        with Image.open(tmp_path / "figures" / name) as png:
            assert png.format == "PNG" and png.width > 500
    after = doc.read_text()
    outside = lambda text: re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), "", text, flags=re.S)  # noqa: E731
    assert outside(after) == outside(before)  # only the numbers block changes
    block = after[after.index(BEGIN):after.index(END)]
    assert len(re.findall(r"^\| .* \| -?[0-9]", block, re.M)) == 11
    assert "(run the command)" not in block

    assert main(["--doc", str(tmp_path / "missing.md")]) == 2
    assert capsys.readouterr().err.strip().endswith("--doc " + str(tmp_path / "missing.md") + ": no such file.")


def test_docs_figures_are_the_commands_output():
    """docs/theory.md links the figures the command writes, and they are there."""
    text = open(os.path.join(ROOT, "docs", "theory.md")).read()
    for name in ("figure1", "d_star", "value", "gradients", "mixture"):
        assert f"(images/theory/{name}.png)" in text
        assert os.path.isfile(os.path.join(ROOT, "docs", "images", "theory", f"{name}.png"))
    assert "(run the command)" not in text


def printed_numbers(cell):
    """The numbers in a table cell, as (value, half a unit of its last printed digit)."""
    numbers = []
    for mantissa, exponent in re.findall(r"(-?\d+\.\d+)(?:e([-+]\d+))?", cell):
        decimals = len(mantissa.split(".")[1])
        scale = 10.0 ** int(exponent or 0)
        numbers.append((float(mantissa) * scale, 0.5 * 10.0 ** -decimals * scale))
    return numbers


def test_docs_numbers_are_the_commands_output(doc_runs, monkeypatch, tmp_path):
    """docs/theory.md's numbers block is what `python -m keras_gan.toy` measures:
    (1) the command runs its experiments with the settings `doc_runs` used;
    (2) given those results, it writes exactly the block the page holds;
    (3) each number in the page's block is the measured value, rounded as printed."""
    from keras_gan.toy import figures, report

    text = open(os.path.join(ROOT, "docs", "theory.md")).read()
    block = text[text.index(report.BEGIN):text.index(report.END)]

    calls = {}
    names = {"d_approaches_d_star": "convergence", "value_at_equilibrium": "equilibrium",
             "training_run": "run", "rejected_gradients": "rejected"}
    for name in ("figure_1", "mixture_run", *names):
        original = getattr(experiments, name)

        def record(*args, name=name, original=original, **kwargs):
            bound = inspect.signature(original).bind(*args, **kwargs)
            bound.apply_defaults()
            calls[name] = dict(bound.arguments)
            return doc_runs.get(names.get(name))

        monkeypatch.setattr(experiments, name, record)
    for name in ("figure_1", "d_star", "value", "gradients", "mixture"):
        monkeypatch.setattr(figures, name, lambda *args: args[-1])
    doc = tmp_path / "theory.md"
    doc.write_text(text)
    report.make_all(str(tmp_path / "figures"), str(doc), scale=1.0)  # the command's own scale
    assert calls["d_approaches_d_star"] == {"checkpoints": (10, 50, 200, 1000, 3000), "seed": 0}
    assert calls["value_at_equilibrium"] == {"steps": 1500, "seed": 0}
    assert {k: v for k, v in calls["training_run"].items() if k != "every"} == {
        "steps": 3000, "seed": 0, "generator_loss": "non_saturating"}
    assert calls["rejected_gradients"] == {"d_steps": 1500, "seed": 0}
    written = doc.read_text()
    assert written[written.index(report.BEGIN):written.index(report.END)] == block

    convergence, equilibrium = doc_runs["convergence"], doc_runs["equilibrium"]
    run, rejected = doc_runs["run"], doc_runs["rejected"]
    measured = [
        [convergence["rows"][-1]["max_error"]],
        [convergence["rows"][-1]["value"]],
        [convergence["criterion"]],
        [equilibrium["value"], -LOG_4],
        [equilibrium["max_d_deviation"]],
        [run[0]["jsd"], run[-1]["jsd"]],
        [run[-1]["value"]],
        [np.mean(rejected["d_of_g"])],
        [np.mean(rejected["minimax"]["per_logit"])],
        [np.mean(rejected["non_saturating"]["per_logit"])],
        [rejected["minimax"]["weight_grad_norm"], rejected["non_saturating"]["weight_grad_norm"]],
    ]
    rows = re.findall(r"^\| .* \| (\S[^|]*) \|$", block, re.M)[2:]  # the value column, no header
    assert len(rows) == len(measured)
    for row, values in zip(rows, measured):
        printed = printed_numbers(row)
        assert len(printed) == len(values), row
        for (number, half_unit), value in zip(printed, values):
            assert abs(number - value) <= half_unit * (1 + 1e-9), (row, value)


def test_algorithm_page_quotes_the_real_code():
    """Every code block of docs/algorithm.md marked as gan.py is in gan.py, verbatim."""
    page = open(os.path.join(ROOT, "docs", "algorithm.md")).read()
    source = open(os.path.join(ROOT, "keras_gan", "model", "gan.py")).read()
    blocks = re.findall(r"<!-- code: keras_gan/model/gan.py -->\n```python\n(.*?)```", page, re.S)
    assert len(blocks) >= 6
    for block in blocks:
        assert block in source, block
