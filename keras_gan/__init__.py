"""keras-gan: the GAN of Goodfellow et al. (2014) in Keras 3 / TensorFlow.

    from keras_gan import GAN, build_models
    generator, discriminator = build_models("conv")
    gan = GAN(generator, discriminator, k=1)
    gan.compile()
    gan.fit(dataset, epochs=30)   # dataset: keras_gan.data.make_dataset(...)

Names are imported lazily, so `keras_gan.common.options` and `keras_gan.data` load
without TensorFlow.

A saved GAN reloads after `import keras_gan` alone:
`keras.saving.load_model("logs/RUN/gan.keras")`. A `.keras` file names its
custom classes ("keras_gan>GAN"), and Keras finds a custom class only in its
registry (`keras.saving.get_custom_objects()`; it imports the module a file
names for Keras' own packages alone), where a class's decorator
`register_keras_serializable` puts it when its module is imported. So once
Keras is imported, the registry holds a stand-in for each class in
`_SERIALIZABLE`, whose first use (Keras calling its `from_config`) imports
the class's module; the decorator there then puts the class in its place.
Keras' import is only watched (a `sys.meta_path` finder adds the stand-ins
after it): `import keras_gan` imports neither Keras nor TensorFlow.
"""

import importlib
import sys

_EXPORTS = {
    "GAN": "keras_gan.model.gan",
    "default_optimizer": "keras_gan.model.gan",
    "to_unit_range": "keras_gan.model.gan",
    "build_models": "keras_gan.model.networks",
    "export_generator": "keras_gan.outputs.saved_model",
}

__all__ = sorted(_EXPORTS)

# Registered name -> the module whose decorator registers it: every class
# decorated with register_keras_serializable(package="keras_gan")
# (tests/test_saved_files.py checks the sources against this table).
_SERIALIZABLE = {
    "keras_gan>GAN": "keras_gan.model.gan",
    "keras_gan>GlobalBatchNormalization": "keras_gan.model.networks",
}


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'keras_gan' has no attribute {name!r}")


class _Deferred:
    """Keras' registry entry for a class whose module is not imported yet:
    any attribute (`from_config`, ...) or call is the class's own, imported
    on first use. Its module's decorator then replaces this entry."""

    def __init__(self, registered_name, module):
        self.registered_name, self.module = registered_name, module

    def resolve(self):
        return getattr(importlib.import_module(self.module), self.registered_name.split(">")[1])

    def __getattr__(self, name):
        if name.startswith("__"):  # copy, pickle, repr: not the class's
            raise AttributeError(name)
        return getattr(self.resolve(), name)

    def __call__(self, *args, **kwargs):
        return self.resolve()(*args, **kwargs)

    def __repr__(self):
        return f"<{self.registered_name}: registered when {self.module} is imported>"


def _add_to_registry(keras):
    """The stand-ins, for the classes whose module has not registered them yet."""
    registry = keras.saving.get_custom_objects()
    for registered_name, module in _SERIALIZABLE.items():
        registry.setdefault(registered_name, _Deferred(registered_name, module))


class _AfterKerasImport:
    """A `sys.meta_path` finder that finds nothing itself: when Keras is
    imported (not merely looked up, as TensorFlow's import does), it lets the
    real finder's loader run, then adds the stand-ins and leaves
    `sys.meta_path`."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "keras":
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        run = loader.exec_module  # this spec's own loader: patched for this import only

        def exec_module(module):
            run(module)
            if module.__name__ == "keras":
                _add_to_registry(module)
                if self in sys.meta_path:
                    sys.meta_path.remove(self)

        loader.exec_module = exec_module
        return spec


def _register_with_keras():
    """Now if Keras is imported, else once it is."""
    keras = sys.modules.get("keras")
    if keras is not None and hasattr(keras, "saving"):
        _add_to_registry(keras)
    elif not any(type(f).__name__ == "_AfterKerasImport" for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterKerasImport())


_register_with_keras()
