"""keras-gan: the GAN of Goodfellow et al. (2014) in Keras 3 / TensorFlow.

    from keras_gan import GAN, build_models
    generator, discriminator = build_models("conv")
    gan = GAN(generator, discriminator, k=1)
    gan.compile()
    gan.fit(dataset, epochs=30)   # dataset: keras_gan.data.make_dataset(...)

Names are imported lazily, so `keras_gan.common.options` and `keras_gan.data` load
without TensorFlow.
"""

import importlib

_EXPORTS = {
    "GAN": "keras_gan.model.gan",
    "default_optimizer": "keras_gan.model.gan",
    "to_unit_range": "keras_gan.model.gan",
    "build_models": "keras_gan.model.networks",
    "export_generator": "keras_gan.outputs.saved_model",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'keras_gan' has no attribute {name!r}")
