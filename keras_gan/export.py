"""Export the generator as a versioned SavedModel that TF Serving can load.

Layout (the one TF Serving watches): `<export_dir>/<version>/saved_model.pb`
plus `variables/`, where version is the next integer after those present.
A version is written under a temporary name and renamed into place, so a
server never sees a half-written model and an existing version is never
overwritten.

Signature `serving_default`: input `z` float32 [None, latent_dim] -> output
`images` float32 [None, 28, 28, 1] in [0, 1]. The SavedModel needs neither
Keras nor this package to load: `tf.saved_model.load(path).signatures[...]`.

Command line, for an existing run's `gan.keras`:

    python -m keras_gan.export --checkpoint logs/RUN/gan.keras \
        --export-dir saved_models/generator
"""

import argparse
import os
import re
import sys

VERSION_PATTERN = re.compile(r"^[0-9]+$")


def existing_versions(export_dir):
    """Sorted integer versions already present in `export_dir`."""
    if not os.path.isdir(export_dir):
        return []
    return sorted(int(n) for n in os.listdir(export_dir) if VERSION_PATTERN.match(n))


def next_version(export_dir):
    return (existing_versions(export_dir) or [0])[-1] + 1


def export_generator(generator, export_dir):
    """Write `generator` as the next version under `export_dir`; return its path."""
    import keras
    import tensorflow as tf

    from keras_gan.files import remove_tree
    from keras_gan.gan import to_unit_range

    latent_dim = int(generator.inputs[0].shape[-1])
    archive = keras.export.ExportArchive()
    archive.track(generator)

    def serve(z):
        return {"images": to_unit_range(generator(z, training=False))}

    archive.add_endpoint(
        "serving_default",
        serve,
        input_signature=[tf.TensorSpec([None, latent_dim], tf.float32, name="z")],
    )
    os.makedirs(export_dir, exist_ok=True)
    tmp = os.path.join(export_dir, f".tmp-export-{os.getpid()}")
    remove_tree(tmp)
    try:
        archive.write_out(tmp, verbose=False)
        while True:
            final = os.path.join(export_dir, str(next_version(export_dir)))
            try:
                os.rename(tmp, final)  # refuses to replace a non-empty version
                return final
            except OSError:
                if not os.path.exists(final):
                    raise
                # Another writer took this version number meanwhile: take the next.
    finally:
        remove_tree(tmp)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m keras_gan.export",
        description="Export the generator of a saved GAN (.keras) for TF Serving.",
    )
    parser.add_argument("--checkpoint", required=True, help="a GAN saved as .keras")
    parser.add_argument("--export-dir", default="saved_models/generator")
    args = parser.parse_args(argv)
    if not os.path.isfile(args.checkpoint):
        print(f"error: --checkpoint {args.checkpoint}: no such file.", file=sys.stderr)
        return 2
    import keras

    import keras_gan  # noqa: F401  (registers GAN for deserialization)

    try:
        gan = keras.saving.load_model(args.checkpoint)
    except Exception as e:
        print(f"error: --checkpoint {args.checkpoint}: cannot load ({e}).", file=sys.stderr)
        return 2
    print(export_generator(gan.generator, args.export_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
