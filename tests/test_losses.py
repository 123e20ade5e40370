"""Losses against closed forms: BCE(y, l) = y log(1 + e^-l) + (1 - y) log(1 + e^l)."""

import math

import numpy as np
import pytest
import tensorflow as tf

from keras_gan.model import losses

REAL = [0.0, 2.0, -3.0]
FAKE = [0.0, -1.0, 4.0]


def softplus(x):
    return math.log1p(math.exp(x))


def test_discriminator_loss_is_bce_real_one_fake_zero():
    got = np.asarray(losses.discriminator_loss(np.array(REAL), np.array(FAKE)))
    want = [softplus(-r) + softplus(f) for r, f in zip(REAL, FAKE)]
    np.testing.assert_allclose(got, want, rtol=1e-6)
    # Both at logit 0 (D = 1/2): log 2 + log 2.
    assert got[0] == pytest.approx(2 * math.log(2.0), rel=1e-6)


def test_one_sided_label_smoothing_changes_only_real_targets():
    s = 0.1
    got = np.asarray(losses.discriminator_loss(np.array(REAL), np.array(FAKE), s))
    want = [
        (1 - s) * softplus(-r) + s * softplus(r) + softplus(f)
        for r, f in zip(REAL, FAKE)
    ]
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_generator_losses_closed_forms():
    ns = np.asarray(losses.generator_loss(np.array(FAKE), "non_saturating"))
    mm = np.asarray(losses.generator_loss(np.array(FAKE), "minimax"))
    np.testing.assert_allclose(ns, [softplus(-f) for f in FAKE], rtol=1e-6)  # -log D
    np.testing.assert_allclose(mm, [-softplus(f) for f in FAKE], rtol=1e-6)  # log(1 - D)


def test_losses_accept_column_logits_and_stay_finite_when_saturated():
    logits = np.array([[-200.0], [200.0]], np.float32)  # sigmoid saturates to 0 and 1
    for value in (
        losses.discriminator_loss(logits, logits),
        losses.generator_loss(logits, "non_saturating"),
        losses.generator_loss(logits, "minimax"),
    ):
        value = np.asarray(value)
        assert value.shape == (2,)
        assert np.all(np.isfinite(value))
    np.testing.assert_allclose(
        np.asarray(losses.generator_loss(logits, "non_saturating")), [200.0, 0.0], atol=1e-4
    )


def test_unknown_generator_loss_is_rejected():
    with pytest.raises(ValueError, match="Unknown generator loss 'wasserstein'"):
        losses.generator_loss(np.zeros(2), "wasserstein")


@pytest.mark.parametrize("logit", [-4.0, -8.0, -12.0])
def test_minimax_gradient_vanishes_where_non_saturating_does_not(logit):
    """When D confidently rejects the fakes, D(G(z)) = sigmoid(l) -> 0.

    d/dl log(1 - sigmoid(l)) = -sigmoid(l) -> 0 (minimax saturates), while
    d/dl -log sigmoid(l) = sigmoid(l) - 1 -> -1 (non-saturating).
    """
    l = tf.Variable([logit])
    with tf.GradientTape(persistent=True) as tape:
        mm = tf.reduce_mean(losses.generator_loss(l, "minimax"))
        ns = tf.reduce_mean(losses.generator_loss(l, "non_saturating"))
    d = 1.0 / (1.0 + math.exp(-logit))
    g_mm = float(tape.gradient(mm, l)[0])
    g_ns = float(tape.gradient(ns, l)[0])
    assert g_mm == pytest.approx(-d, rel=1e-4)
    assert g_ns == pytest.approx(d - 1.0, rel=1e-4)
    assert abs(g_ns) > 0.98
    assert abs(g_mm) < 0.02
