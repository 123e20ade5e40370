"""Train on this process's Keras backend and save; or load what other backends saved.

    python tests/multibackend/portability_job.py save DIR    # DIR/gan-<backend>.keras + .npz
    python tests/multibackend/portability_job.py check DIR   # every other backend's file
    python tests/multibackend/portability_job.py agree DIR   # DIR/agree-<backend>.npz

`check` loads each other backend's `.keras` file here, runs its generator and
discriminator on the inputs stored beside it, and compares with the outputs
that backend computed (tests/test_backends.py runs the chain).
"""

import glob
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from keras_gan.common.lean_start import unused_imports_refused  # noqa: E402

with unused_imports_refused():  # as the programs start Keras
    import keras

from keras_gan.model.gan import GAN, default_optimizer, load_checkpoint  # noqa: E402
from keras_gan.model.networks import build_models  # noqa: E402

BACKEND = keras.backend.backend()


def outputs(gan, z, images):
    fakes = keras.ops.convert_to_numpy(gan.generator(z, training=False))
    logits = keras.ops.convert_to_numpy(gan.discriminator(images, training=False))
    return fakes, logits


def save(folder):
    keras.utils.set_random_seed(0)
    gan = GAN(*build_models("conv"), r1_gamma=1.0, seed=0)  # BatchNorm, Dropout, R1
    gan.compile(d_optimizer=default_optimizer(1e-3, name="d_optimizer"),
                g_optimizer=default_optimizer(1e-3, name="g_optimizer", ema=0.9))
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (32, 28, 28, 1)).astype("float32")
    gan.fit(images, batch_size=16, epochs=1, verbose=0)
    z = rng.normal(size=(4, gan.latent_dim)).astype("float32")
    fakes, logits = outputs(gan, z, images[:4])
    gan.save(os.path.join(folder, f"gan-{BACKEND}.keras"))
    averaged = keras.ops.convert_to_numpy(gan.sampling_generator()(z, training=False))  # what is exported
    np.savez(os.path.join(folder, f"gan-{BACKEND}.npz"), z=z, images=images[:4], fakes=fakes,
             logits=logits, averaged=averaged, steps=int(gan.g_optimizer.iterations))
    print(f"saved {BACKEND}")


def agree(folder):
    """The MLP GAN (BatchNorm in G) from the same weights, on the same data and
    the same noise (`KnownNoiseGAN`), 6 steps of SGD with k = 2 and R1:
    writes the losses and final weights, to compare between backends."""
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from multibackend.backend_helpers import KnownNoiseGAN

    rng = np.random.default_rng(0)
    gan = KnownNoiseGAN(*build_models("mlp"), k=2, r1_gamma=0.5)
    gan.compile(d_optimizer=keras.optimizers.SGD(0.05), g_optimizer=keras.optimizers.SGD(0.05))
    for v in gan.generator.trainable_weights + gan.discriminator.trainable_weights:
        v.assign(rng.normal(0.0, 0.05, v.shape).astype("float32"))
    images = rng.uniform(-1, 1, (6 * 2 * 8, 28, 28, 1)).astype("float32")
    history = gan.fit(images, batch_size=16, epochs=1, shuffle=False, verbose=0).history
    weights = [keras.ops.convert_to_numpy(v) for v in gan.weights]
    np.savez(os.path.join(folder, f"agree-{BACKEND}.npz"), d_loss=history["d_loss"], g_loss=history["g_loss"],
             *weights)
    print(f"agree {BACKEND}")


def check(folder):
    checked = []
    for path in sorted(glob.glob(os.path.join(folder, "gan-*.keras"))):
        source = os.path.basename(path)[len("gan-"):-len(".keras")]
        if source == BACKEND:
            continue
        expected = np.load(path[: -len(".keras")] + ".npz")
        gan = load_checkpoint(path)
        fakes, logits = outputs(gan, expected["z"], expected["images"])
        np.testing.assert_allclose(fakes, expected["fakes"], atol=2e-5, err_msg=source)
        np.testing.assert_allclose(logits, expected["logits"], rtol=1e-4, atol=1e-4, err_msg=source)
        assert int(gan.g_optimizer.iterations) == int(expected["steps"]) == 2
        # It trains on here, from the state the other backend left.
        gan.fit(expected["images"], batch_size=4, epochs=1, verbose=0)
        assert int(gan.g_optimizer.iterations) == 3
        checked.append(source)
    print(f"{BACKEND} checked {','.join(checked)}")
    return checked


if __name__ == "__main__":
    for command in sys.argv[1:-1]:
        {"save": save, "check": check, "agree": agree}[command](sys.argv[-1])
