"""A saved GAN reloads as the README says: in a fresh process, `import keras_gan`,
then `keras.saving.load_model(path)` -- no other keras_gan import first."""

import ast
import json
import os
import subprocess
import sys

import numpy as np

from keras_gan import GAN, build_models
import keras_gan
from keras_gan.data import make_dataset

from conftest import ROOT, tiny_images

CLASSES = 10
KINDS = [(family, num_classes) for family in ("mlp", "conv") for num_classes in (None, CLASSES)]

# The user's flow, from a directory that is not the repository (the package is
# found through PYTHONPATH, as an installed one would be).
LOAD = """
import json, sys
import numpy as np
import keras_gan
lazy = not {"keras", "tensorflow"} & set(sys.modules)
import keras
out = {"lazy": lazy, "models": {}}
for name, path in json.loads(sys.argv[1]).items():
    gan = keras.saving.load_model(path)
    inputs = dict(np.load(path + ".inputs.npz"))
    z = inputs["z"] if "labels" not in inputs else [inputs["z"], inputs["labels"]]
    out["models"][name] = {"class": type(gan).__module__ + "." + type(gan).__name__,
                           "num_classes": gan.num_classes,
                           "compiled": gan.compiled,
                           "images": gan.generator(z, training=False).numpy().tolist()}
print(json.dumps(out))
"""


def save_trained(tmp_path, family, num_classes):
    """A GAN trained for two steps and saved; the inputs and the images its
    generator makes of them beside it."""
    generator, discriminator = build_models(family, num_classes=num_classes)
    gan = GAN(generator, discriminator, num_classes=num_classes, seed=0)
    gan.compile(jit_compile=False)
    labels = None if num_classes is None else np.arange(32) % num_classes
    gan.fit(make_dataset(tiny_images(32), batch_size=8, labels=labels), epochs=1,
            steps_per_epoch=2, verbose=0)
    path = str(tmp_path / f"{family}-{num_classes}.keras")
    gan.save(path)
    inputs = {"z": np.random.default_rng(1).normal(size=(3, gan.latent_dim)).astype("float32")}
    if num_classes is not None:
        inputs["labels"] = np.array([0, 4, 9], "int32")
    np.savez(path + ".inputs.npz", **inputs)
    z = inputs["z"] if num_classes is None else [inputs["z"], inputs["labels"]]
    return path, gan.generator(z, training=False).numpy()


def test_a_fresh_process_loads_each_saved_gan_after_import_keras_gan(tmp_path):
    saved = {f"{family}-{num_classes}": save_trained(tmp_path, family, num_classes)
             for family, num_classes in KINDS}
    env = {**os.environ, "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run(
        [sys.executable, "-c", LOAD, json.dumps({name: path for name, (path, _) in saved.items()})],
        cwd="/tmp", env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["lazy"], "import keras_gan imported Keras or TensorFlow"
    for (family, num_classes), (name, (_, images)) in zip(KINDS, saved.items()):
        loaded = out["models"][name]
        assert loaded["class"] == "keras_gan.model.gan.GAN"
        assert loaded["num_classes"] == num_classes and loaded["compiled"]
        np.testing.assert_allclose(loaded["images"], images, atol=1e-6, err_msg=name)


def registered_in_sources():
    """{"keras_gan>Name": module} for every definition in the package decorated
    with register_keras_serializable(package="keras_gan")."""
    found = {}
    package = os.path.join(ROOT, "keras_gan")
    for folder, _, files in os.walk(package):
        for file in files:
            if not file.endswith(".py"):
                continue
            path = os.path.join(folder, file)
            module = os.path.relpath(path[:-3], ROOT).replace(os.sep, ".").removesuffix(".__init__")
            with open(path) as f:
                tree = ast.parse(f.read())
            for node in ast.walk(tree):
                for decorator in getattr(node, "decorator_list", []):
                    if (isinstance(decorator, ast.Call)
                            and ast.unparse(decorator.func).endswith("register_keras_serializable")):
                        keywords = {k.arg: ast.literal_eval(k.value) for k in decorator.keywords}
                        args = [ast.literal_eval(a) for a in decorator.args]
                        package_name = keywords.get("package", args[0] if args else "Custom")
                        name = keywords.get("name", args[1] if len(args) > 1 else node.name)
                        found[f"{package_name}>{name}"] = module
    return found


def test_every_serializable_class_of_the_package_is_registered_by_import_keras_gan():
    assert registered_in_sources() == keras_gan._SERIALIZABLE


def test_a_stand_in_gives_way_to_the_class_and_leaves_registered_classes_alone():
    import keras

    registry = keras.saving.get_custom_objects()
    saved = dict(registry)
    try:
        registry.pop("keras_gan>GAN")
        keras_gan._add_to_registry(keras)
        stand_in = registry["keras_gan>GAN"]
        assert isinstance(stand_in, keras_gan._Deferred)
        assert stand_in.from_config == GAN.from_config  # the class's own, imported on use
        assert registry["keras_gan>GlobalBatchNormalization"] is saved["keras_gan>GlobalBatchNormalization"]
    finally:
        registry.clear()
        registry.update(saved)
