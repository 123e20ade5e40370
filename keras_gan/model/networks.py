"""The two model families, layer for layer as in the tables of docs/gan.md.

Both generators map a latent vector z (size `latent_dim`, 32 by default) to a
28x28x1 image in [-1, 1] (tanh), and both discriminators map an image to one
*logit* -- no sigmoid -- because the losses take logits (see `losses.py`).

| model              | params  | trainable |
| ------------------ | ------- | --------- |
| MLP discriminator  | 566,273 | 566,273   |
| MLP generator      | 574,608 | 572,816   |
| conv discriminator |  93,825 |  93,825   |
| conv generator     | 260,737 | 260,353   |

(The non-trainable parameters are the BatchNorm moving statistics.)

With `num_classes` (`--conditional`, Mirza & Osindero 2014), each model also
takes the class label, an int32 per example, learned as an embedding:
G joins a 10-d label embedding to z; the MLP D joins one to the flattened
image; the conv D, whose convolutions would otherwise never see the label,
joins a 28x28 label plane to the image as a second channel.

| conditional model  | params  | trainable |
| ------------------ | ------- | --------- |
| MLP discriminator  | 571,493 | 571,493   |
| MLP generator      | 575,988 | 574,196   |
| conv discriminator | 101,953 | 101,953   |
| conv generator     | 272,357 | 271,973   |
"""

import random

import keras
from keras import layers

from keras_gan.common.options import IMAGE_SHAPE, LATENT_DIM, MODEL_FAMILIES

# LeakyReLU slope used by every hidden layer (Keras' default is 0.3; 0.2 is
# the value DCGAN and most GAN references use).
LEAKY_SLOPE = 0.2

# Under mixed precision (`--mixed-precision`), every layer computes in
# bfloat16 or float16 except the last of each network: G's tanh image and D's
# logit are float32 (dtype="float32"), so the losses and the samples are
# computed at full precision. Under the default policy that changes nothing.



@keras.saving.register_keras_serializable(package="keras_gan")
class GlobalBatchNormalization(layers.BatchNormalization):
    """BatchNormalization whose batch statistics are those of the *global* batch.

    Under tf.distribute that takes an all-reduce per layer (`synchronized`),
    so N replicas train exactly like one device. On JAX the step sees global
    (sharded) arrays and on PyTorch one device, so plain BatchNorm already is
    global there, and Keras refuses `synchronized` on them. The flag is set
    by the backend that loads the model, not saved, so a `.keras` file moves
    between backends.
    """

    def __init__(self, **kwargs):
        kwargs.pop("synchronized", None)
        super().__init__(synchronized=keras.backend.backend() == "tensorflow", **kwargs)

    def get_config(self):
        config = super().get_config()
        config.pop("synchronized")
        return config

# Size of the learned label embedding joined to z, and to the MLP D's pixels.
LABEL_EMBEDDING = 10


def _image_input(num_classes, flatten):
    """The discriminator's inputs, and its image joined to the label (if any)."""
    image = keras.Input(IMAGE_SHAPE, name="image")
    x = layers.Flatten()(image) if flatten else image
    if num_classes is None:
        return image, x
    labels = keras.Input((), dtype="int32", name="labels")
    if flatten:
        label = layers.Embedding(num_classes, LABEL_EMBEDDING, name="label_embedding")(labels)
    else:  # one 28x28 plane per class, a second input channel
        plane = layers.Embedding(num_classes, IMAGE_SHAPE[0] * IMAGE_SHAPE[1],
                                 name="label_embedding")(labels)
        label = layers.Reshape(IMAGE_SHAPE[:2] + (1,), name="label_plane")(plane)
    return [image, labels], layers.Concatenate(name="image_and_label")([x, label])


def _latent_input(latent_dim, num_classes):
    """The generator's inputs, and z joined to the label's embedding (if any)."""
    z = keras.Input((latent_dim,), name="z")
    if num_classes is None:
        return z, z
    labels = keras.Input((), dtype="int32", name="labels")
    label = layers.Embedding(num_classes, LABEL_EMBEDDING, name="label_embedding")(labels)
    return [z, labels], layers.Concatenate(name="z_and_label")([z, label])


def mlp_discriminator(num_classes=None, name="mlp_discriminator"):
    """Flatten 784 -> Dense 512 -> Dense 256 -> Dense 128 -> Dense 1 (logit)."""
    inputs, x = _image_input(num_classes, flatten=True)
    for units in (512, 256, 128):
        x = layers.Dense(units)(x)
        x = layers.LeakyReLU(LEAKY_SLOPE)(x)
    logit = layers.Dense(1, name="logit", dtype="float32")(x)
    return keras.Model(inputs, logit, name=name)


def mlp_generator(latent_dim=LATENT_DIM, num_classes=None, name="mlp_generator"):
    """z -> Dense 128/256/512 (BatchNorm, LeakyReLU) -> Dense 784 tanh -> 28x28x1."""
    inputs, x = _latent_input(latent_dim, num_classes)
    for units in (128, 256, 512):
        x = layers.Dense(units)(x)
        x = GlobalBatchNormalization()(x)
        x = layers.LeakyReLU(LEAKY_SLOPE)(x)
    x = layers.Dense(784, activation="tanh", dtype="float32")(x)
    images = layers.Reshape(IMAGE_SHAPE, name="image", dtype="float32")(x)
    return keras.Model(inputs, images, name=name)


def conv_discriminator(dropout=0.3, num_classes=None, name="conv_discriminator"):
    """Strided 3x3 convs 32/64/128 (14x14, 7x7, 3x3) -> Flatten 1152 -> Dropout -> Dense 1."""
    inputs, x = _image_input(num_classes, flatten=False)
    for filters, padding in ((32, "same"), (64, "same"), (128, "valid")):
        x = layers.Conv2D(filters, 3, strides=2, padding=padding)(x)
        x = layers.LeakyReLU(LEAKY_SLOPE)(x)
    x = layers.Flatten()(x)
    # An explicit seed, drawn as Keras draws a default one (the same draw from
    # Python's random stream, so the same masks on TensorFlow and JAX): without
    # one, Keras on PyTorch takes Dropout's masks from torch's global RNG, which
    # no backup holds, and a resumed run would draw other masks than an
    # uninterrupted one (tests/test_backends.py).
    x = layers.Dropout(dropout, seed=random.randint(1, int(1e9)))(x)
    logit = layers.Dense(1, name="logit", dtype="float32")(x)
    return keras.Model(inputs, logit, name=name)


def conv_generator(latent_dim=LATENT_DIM, num_classes=None, name="conv_generator"):
    """z -> Dense 1152 -> 3x3x128 -> Conv2DTranspose 128/64/1 (7x7, 14x14, 28x28, tanh)."""
    inputs, x = _latent_input(latent_dim, num_classes)
    x = layers.Dense(3 * 3 * 128)(x)
    x = layers.LeakyReLU(LEAKY_SLOPE)(x)
    x = layers.Reshape((3, 3, 128))(x)
    for filters, padding in ((128, "valid"), (64, "same")):
        x = layers.Conv2DTranspose(filters, 3, strides=2, padding=padding)(x)
        x = GlobalBatchNormalization()(x)
        x = layers.LeakyReLU(LEAKY_SLOPE)(x)
    images = layers.Conv2DTranspose(
        1, 3, strides=2, padding="same", activation="tanh", dtype="float32",
        name="image",
    )(x)
    return keras.Model(inputs, images, name=name)


def build_models(family, latent_dim=LATENT_DIM, num_classes=None):
    """Return `(generator, discriminator)` of one family: "mlp" or "conv";
    with `num_classes`, the conditional pair (both take the label too)."""
    if family == "mlp":
        return mlp_generator(latent_dim, num_classes), mlp_discriminator(num_classes)
    if family == "conv":
        return (conv_generator(latent_dim, num_classes),
                conv_discriminator(num_classes=num_classes))
    raise ValueError(
        f"Unknown model family {family!r}: expected one of {MODEL_FAMILIES}."
    )
