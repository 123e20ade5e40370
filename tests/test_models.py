import pytest

from keras_gan.model.networks import build_models

# (family, generator total, generator trainable, discriminator total) from the README's layer tables.
EXPECTED = [
    ("mlp", 574_608, 572_816, 566_273),
    ("conv", 260_737, 260_353, 93_825),
]


def _count(variables):
    return sum(int(v.numpy().size) for v in variables)


@pytest.mark.parametrize("family,g_total,g_trainable,d_total", EXPECTED)
def test_parameter_counts_match_the_layer_tables(family, g_total, g_trainable, d_total):
    generator, discriminator = build_models(family)
    assert generator.count_params() == g_total
    assert _count(generator.trainable_weights) == g_trainable
    assert discriminator.count_params() == d_total
    assert _count(discriminator.trainable_weights) == d_total


@pytest.mark.parametrize("family", ["mlp", "conv"])
def test_shapes_and_output_range(family):
    import numpy as np

    generator, discriminator = build_models(family, latent_dim=32)
    assert generator.input_shape == (None, 32)
    assert generator.output_shape == (None, 28, 28, 1)
    assert discriminator.output_shape == (None, 1)
    images = generator(np.random.normal(size=(5, 32)).astype("float32") * 10)
    assert float(np.max(np.abs(images))) <= 1.0  # tanh


def test_conv_shapes_follow_the_table():
    generator, discriminator = build_models("conv")
    g_shapes = [tuple(l.output.shape[1:]) for l in generator.layers if "conv2d_transpose" in l.name or l.name == "image"]
    assert g_shapes == [(7, 7, 128), (14, 14, 64), (28, 28, 1)]
    d_shapes = [tuple(l.output.shape[1:]) for l in discriminator.layers if l.name.startswith("conv2d")]
    assert d_shapes == [(14, 14, 32), (7, 7, 64), (3, 3, 128)]


def test_unknown_family_is_rejected():
    with pytest.raises(ValueError, match="Unknown model family 'gru'"):
        build_models("gru")


@pytest.mark.parametrize("family", ["mlp", "conv"])
def test_discriminator_outputs_a_logit_not_a_probability(family):
    """The losses take logits: a sigmoid (or any squashing) on D's output would
    apply twice. With a zero kernel, D's output must be its bias, any real number."""
    import numpy as np

    _, discriminator = build_models(family)
    logit = discriminator.get_layer("logit")
    kernel, _ = logit.get_weights()
    images = np.random.default_rng(0).uniform(-1, 1, (3, 28, 28, 1)).astype("float32")
    for bias in (-7.5, 0.0, 12.0):
        logit.set_weights([np.zeros_like(kernel), np.array([bias], np.float32)])
        np.testing.assert_array_equal(np.asarray(discriminator(images)), np.full((3, 1), bias, np.float32))
