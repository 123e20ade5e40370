"""keras-gan: the GAN of Goodfellow et al. (2014) in Keras 3 / TensorFlow."""

from keras_gan.gan import GAN, default_optimizer, to_unit_range
from keras_gan.models import build_models

__all__ = ["GAN", "build_models", "default_optimizer", "to_unit_range"]
