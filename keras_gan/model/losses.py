"""GAN losses as small pure functions of discriminator logits.

Everything here is backend-neutral `keras.ops`, so the same arithmetic serves
the TensorFlow `train_step` and any other backend's.

Notation: D(x) = sigmoid(l(x)) is the discriminator's probability that x is
real, where l is the logit the discriminator outputs. The paper's value
function (Goodfellow et al. 2014, eq. 1) is

    V(D, G) = E_x[log D(x)] + E_z[log(1 - D(G(z)))].

The discriminator ascends V, i.e. minimises the binary cross-entropy with label
1 for real and 0 for fake images. The generator descends V ("minimax"), or --
the paper's own recommendation for training -- ascends E_z[log D(G(z))]
("non-saturating").

Why logits: computing log(sigmoid(l)) from a probability that has already
saturated to 0.0 or 1.0 in float32 gives -inf/NaN or a zero gradient. The
identities log(sigmoid(l)) = -softplus(-l) and log(1 - sigmoid(l)) =
-softplus(l) are exact and stable for every finite l.

All functions return *per-example* losses (shape [batch]); reducing them to a
scalar is the caller's job, because the right divisor depends on how many
replicas share the global batch (see `GAN.train_step`).
"""

from keras import ops

from keras_gan.common.options import GENERATOR_LOSSES


def _flat(logits):
    return ops.reshape(ops.cast(logits, "float32"), (-1,))


def binary_cross_entropy_from_logits(labels, logits):
    """-[y log sigmoid(l) + (1 - y) log(1 - sigmoid(l))], per example."""
    logits = _flat(logits)
    return labels * ops.softplus(-logits) + (1.0 - labels) * ops.softplus(logits)


def discriminator_loss(real_logits, fake_logits, label_smoothing=0.0):
    """Per-example BCE on real (label 1) plus fake (label 0) images.

    `label_smoothing` > 0 is *one-sided* label smoothing (Salimans et al. 2016):
    real targets become 1 - label_smoothing, fake targets stay 0, so D is
    discouraged from over-confidence on real data without rewarding G's
    samples for sitting where no data is.

    Returns a vector of length batch: loss(real_i) + loss(fake_i). Its mean is
    -(mean log D(x) + mean log(1 - D(G(z)))) = -V(D, G) for the batch.
    """
    real_loss = binary_cross_entropy_from_logits(1.0 - label_smoothing, real_logits)
    fake_loss = binary_cross_entropy_from_logits(0.0, fake_logits)
    return real_loss + fake_loss


def minimax_generator_loss(fake_logits):
    """log(1 - D(G(z))) per example: the paper's value function, which G minimises.

    d/dl log(1 - sigmoid(l)) = -sigmoid(l): when D confidently rejects the
    samples (D(G(z)) -> 0, early in training) the gradient vanishes.
    """
    return -ops.softplus(_flat(fake_logits))


def non_saturating_generator_loss(fake_logits):
    """-log D(G(z)) per example: the paper's practical alternative.

    d/dl -log sigmoid(l) = sigmoid(l) - 1 -> -1 when D(G(z)) -> 0, so G gets a
    strong gradient exactly when its samples are worst. Same fixed point as
    minimax.
    """
    return ops.softplus(-_flat(fake_logits))


def generator_loss(fake_logits, kind="non_saturating"):
    """Dispatch on `kind`: "non_saturating" (default) or "minimax"."""
    if kind == "non_saturating":
        return non_saturating_generator_loss(fake_logits)
    if kind == "minimax":
        return minimax_generator_loss(fake_logits)
    raise ValueError(
        f"Unknown generator loss {kind!r}: expected one of {GENERATOR_LOSSES}."
    )
