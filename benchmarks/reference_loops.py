"""The two GAN training loops everybody copies, on this project's models.

T -- the TensorFlow DCGAN tutorial,
     https://www.tensorflow.org/tutorials/generative/dcgan :
     a Python loop over a `tf.data` dataset calling a `@tf.function`
     `train_step(images)`, in which ONE forward pass (G once, D on real and
     on generated images) is recorded by two tapes, `gen_tape` and
     `disc_tape`, and each player is updated from its own tape.
K -- the keras.io example "DCGAN overriding `Model.train_step`",
     https://keras.io/examples/generative/dcgan_overriding_train_step/ :
     a `keras.Model` whose `train_step` updates D on generated + real images
     concatenated (labels 1 = fake, 0 = real, plus label noise), then G on
     fresh noise with "misleading" labels, trained with `fit`.

Both are written as their sources write them, with three changes that make
them comparable with `keras_gan.GAN` (the benchmark's "ours"):
- the networks come from `keras_gan.model.networks.build_models(family)`, so all
  three train exactly the same layer tables; D outputs a logit, so both use
  `BinaryCrossentropy(from_logits=True)`;
- both use this project's optimizers, two `Adam(2e-4, beta_1=0.5)` (the
  tutorial uses Adam(1e-4), the keras.io example Adam(1e-4) and a sigmoid D);
- each dataset drops the last partial batch and repeats, so a timed run
  never includes a retrace for an odd-sized batch.

`tutorial_loop(...)` and `keras_io_loop(...)` build one for (family,
batch size, uint8 images) and return an object whose `run(steps)` trains that
many steps and returns the seconds they took. benchmarks/versus_references.py
times them against train.py's defaults.
"""

import time

import keras
import tensorflow as tf
from keras import ops

from keras_gan.data.pipeline import scale_images
from keras_gan.model.networks import build_models
from keras_gan.common.options import LATENT_DIM


def reference_optimizer():
    """Adam(2e-4, beta_1=0.5): what `keras_gan.default_optimizer` uses too."""
    return keras.optimizers.Adam(2e-4, beta_1=0.5)


# ----------------------------------------------------------------------- T
class TutorialDCGAN:
    """The tutorial's globals (models, loss, optimizers) and `train_step`.

    `train_step` returns the two losses, which the tutorial discards; that
    costs nothing and lets tests check them.
    """

    def __init__(self, generator, discriminator, batch_size):
        self.generator = generator
        self.discriminator = discriminator
        self.batch_size = batch_size
        self.noise_dim = int(generator.inputs[0].shape[-1])
        self.cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)
        self.generator_optimizer = reference_optimizer()
        self.discriminator_optimizer = reference_optimizer()
        self.train_step = tf.function(self._train_step)

    def discriminator_loss(self, real_output, fake_output):
        real_loss = self.cross_entropy(tf.ones_like(real_output), real_output)
        fake_loss = self.cross_entropy(tf.zeros_like(fake_output), fake_output)
        return real_loss + fake_loss

    def generator_loss(self, fake_output):
        return self.cross_entropy(tf.ones_like(fake_output), fake_output)

    def _train_step(self, images):
        noise = tf.random.normal([self.batch_size, self.noise_dim])

        # One forward pass, seen by both tapes: G's loss reuses D's outputs
        # on these generated images, and D's update uses the same images.
        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            generated_images = self.generator(noise, training=True)

            real_output = self.discriminator(images, training=True)
            fake_output = self.discriminator(generated_images, training=True)

            gen_loss = self.generator_loss(fake_output)
            disc_loss = self.discriminator_loss(real_output, fake_output)

        gradients_of_generator = gen_tape.gradient(gen_loss, self.generator.trainable_variables)
        gradients_of_discriminator = disc_tape.gradient(
            disc_loss, self.discriminator.trainable_variables
        )

        self.generator_optimizer.apply_gradients(
            zip(gradients_of_generator, self.generator.trainable_variables)
        )
        self.discriminator_optimizer.apply_gradients(
            zip(gradients_of_discriminator, self.discriminator.trainable_variables)
        )
        return gen_loss, disc_loss


def tutorial_dataset(images, batch_size):
    """The tutorial's input: the whole array scaled to [-1, 1] up front, then
    `from_tensor_slices(...).shuffle(BUFFER_SIZE).batch(BATCH_SIZE)` with the
    buffer as large as the data (60,000 there, all of MNIST)."""
    train_images = (images.astype("float32") - 127.5) / 127.5
    dataset = tf.data.Dataset.from_tensor_slices(train_images)
    return dataset.shuffle(len(images)).batch(batch_size, drop_remainder=True).repeat()


class TutorialRun:
    """T ready to train: the tutorial's `for image_batch in dataset:
    train_step(image_batch)`, on one iterator of the repeated dataset."""

    def __init__(self, model, dataset):
        self.model = model
        self.iterator = iter(dataset)

    def run(self, steps):
        """Train `steps` steps; the seconds they took, up to the last result."""
        start = time.perf_counter()
        for _ in range(steps):
            gen_loss, disc_loss = self.model.train_step(next(self.iterator))
        float(disc_loss)  # wait for the last step
        return time.perf_counter() - start


def tutorial_loop(family, batch_size, images, latent_dim=LATENT_DIM):
    """T for one model family and batch size, on uint8 `images` [N, 28, 28, 1]."""
    generator, discriminator = build_models(family, latent_dim)
    model = TutorialDCGAN(generator, discriminator, batch_size)
    return TutorialRun(model, tutorial_dataset(images, batch_size))


# ----------------------------------------------------------------------- K
class KerasIoGAN(keras.Model):
    """The keras.io example's `GAN(keras.Model)`, `train_step` as written there
    but for `training=True` on every call of G and D.

    The example calls `self.generator(z)` and `self.discriminator(x)` with no
    `training` argument. Inside `train_step` nothing sets it, and Keras 3
    then runs the layers in inference mode (`Layer.__call__` falls back to
    False): Dropout is off and BatchNormalization normalises with its moving
    statistics, which never update. The example's own models have no
    BatchNorm, only a Dropout that silently never drops; this project's
    generators have BatchNorm, so K passes `training=True` as T and ours do,
    and all three do the same arithmetic.
    """

    def __init__(self, discriminator, generator, latent_dim, seed=1337):
        super().__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim
        self.seed_generator = keras.random.SeedGenerator(seed)

    def compile(self, d_optimizer, g_optimizer, loss_fn, **kwargs):
        # No arguments beyond the example's by default, so `fit` runs with
        # Keras' compile defaults: steps_per_execution=1 and
        # jit_compile="auto". On the TensorFlow backend Keras 3.15 resolves
        # "auto" to False on a machine with no GPU (and under tf.distribute),
        # else to True (keras/src/trainers/trainer.py,
        # `_resolve_auto_jit_compile`): K runs without XLA on CPU and with it
        # on a GPU.
        super().compile(**kwargs)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn
        self.d_loss_metric = keras.metrics.Mean(name="d_loss")
        self.g_loss_metric = keras.metrics.Mean(name="g_loss")

    @property
    def metrics(self):
        return [self.d_loss_metric, self.g_loss_metric]

    def train_step(self, real_images):
        # Sample random points in the latent space
        batch_size = ops.shape(real_images)[0]
        random_latent_vectors = keras.random.normal(
            shape=(batch_size, self.latent_dim), seed=self.seed_generator
        )

        # Decode them to fake images
        generated_images = self.generator(random_latent_vectors, training=True)

        # Combine them with real images
        combined_images = ops.concatenate([generated_images, real_images], axis=0)

        # Assemble labels discriminating real from fake images
        labels = ops.concatenate(
            [ops.ones((batch_size, 1)), ops.zeros((batch_size, 1))], axis=0
        )
        # Add random noise to the labels - important trick!
        labels += 0.05 * tf.random.uniform(tf.shape(labels))

        # Train the discriminator
        with tf.GradientTape() as tape:
            predictions = self.discriminator(combined_images, training=True)
            d_loss = self.loss_fn(labels, predictions)
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))

        # Sample random points in the latent space
        random_latent_vectors = keras.random.normal(
            shape=(batch_size, self.latent_dim), seed=self.seed_generator
        )

        # Assemble labels that say "all real images"
        misleading_labels = ops.zeros((batch_size, 1))

        # Train the generator (note that we should *not* update the weights
        # of the discriminator)!
        with tf.GradientTape() as tape:
            predictions = self.discriminator(
                self.generator(random_latent_vectors, training=True), training=True
            )
            g_loss = self.loss_fn(misleading_labels, predictions)
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))

        # Update metrics
        self.d_loss_metric.update_state(d_loss)
        self.g_loss_metric.update_state(g_loss)
        return {
            "d_loss": self.d_loss_metric.result(),
            "g_loss": self.g_loss_metric.result(),
        }


def keras_io_dataset(images, batch_size):
    """The example's input, in memory: it reads a shuffled, batched, prefetched
    `image_dataset_from_directory` and maps it into the model's range."""
    dataset = tf.data.Dataset.from_tensor_slices(images).shuffle(len(images))
    dataset = dataset.batch(batch_size, drop_remainder=True).map(scale_images)
    return dataset.repeat().prefetch(tf.data.AUTOTUNE)


def build_keras_io_gan(family, latent_dim=LATENT_DIM, loss_fn=None):
    """K compiled as the example compiles it (optimizers and loss aside)."""
    generator, discriminator = build_models(family, latent_dim)
    gan = KerasIoGAN(discriminator=discriminator, generator=generator, latent_dim=latent_dim)
    gan.compile(
        d_optimizer=reference_optimizer(),
        g_optimizer=reference_optimizer(),
        loss_fn=loss_fn or keras.losses.BinaryCrossentropy(from_logits=True),
    )
    return gan


class KerasIoRun:
    """K ready to train: `fit` for the first step (which builds and compiles
    fit's train function), then that same function called directly, one step
    per call as `steps_per_execution=1` makes `fit` call it.

    Timing the function rather than whole `fit` calls leaves out fit's
    callback loop, as benchmarks/throughput.py does for ours.
    """

    def __init__(self, gan, dataset):
        self.gan = gan
        self.dataset = dataset
        self.iterator = None

    def run(self, steps):
        """Train `steps` steps; the seconds they took, up to the last result."""
        start = time.perf_counter()
        if self.iterator is None:
            # shuffle=False only hushes fit's warning that it cannot shuffle
            # a tf.data dataset; the dataset shuffles itself.
            self.gan.fit(self.dataset, epochs=1, steps_per_epoch=1, shuffle=False, verbose=0)
            self.iterator = iter(self.dataset)
            steps -= 1
        for _ in range(steps):
            logs = self.gan.train_function(self.iterator)
        if steps:
            float(logs["d_loss"])  # wait for the last step
        return time.perf_counter() - start


def keras_io_loop(family, batch_size, images, latent_dim=LATENT_DIM):
    """K for one model family and batch size, on uint8 `images` [N, 28, 28, 1]."""
    gan = build_keras_io_gan(family, latent_dim)
    return KerasIoRun(gan, keras_io_dataset(images, batch_size))
