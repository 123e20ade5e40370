"""Real images -> the `tf.data` pipeline `GAN.fit` trains on.

One element is one training step: k * m real images in [-1, 1] (the
generator's tanh range); the k discriminator updates each take m of them.

The order is a pure function of (seed, pass, position), not of how many
times the dataset has been iterated in this process. Pass q over the data
is the permutation `index_shuffle(., seed=(seed, q))` of all N images, cut
into P = N // (k*m) steps (the last N mod k*m images of each pass are left
out, a different few each pass). Training step g (counted from 0 over the
whole run) reads step g mod P of pass g // P. Hence:

- an epoch of `steps_per_epoch` steps holds exactly that many elements, so
  Keras ends its multi-step loop (`steps_per_execution`) at the epoch's end
  instead of running into the next epoch: a run makes exactly the steps it
  reports;
- a run resumed at epoch e sees exactly the batches an uninterrupted run sees
  there, which makes resuming bit-exact (see `EpochCounter`).

On JAX and PyTorch the same steps come from `keras_gan/data/arrays.py`, a
NumPy `PyDataset` that needs no TensorFlow (its permutation is NumPy's, so
the order differs from TensorFlow's; the properties above are the same).
"""

import keras

from keras_gan.data.idx import DataError


def steps_per_epoch(num_images, batch_size, k=1):
    """Training steps in one pass over the data (each step uses k * m images)."""
    return num_images // (batch_size * k)


def scale_images(images):
    """uint8 [0, 255] -> float32 [-1, 1] (a tensor of the Keras backend)."""
    from keras import ops

    return ops.cast(images, "float32") / 127.5 - 1.0


def check_enough_images(num_images, batch_size, k, where=None):
    """DataError unless the data fill at least one step of k * m images."""
    per_step = batch_size * k
    if num_images < per_step:
        where = where or f"the data has only {num_images}"
        raise DataError(
            f"--batch-size {batch_size} x --k {k} = {per_step} images per step, but {where}."
        )


class EpochCounter(keras.callbacks.Callback):
    """Which epoch the dataset of `make_dataset` serves next.

    The dataset reads the counter when an iteration starts and then
    advances it, so plain `fit(dataset, epochs=n)` walks through epochs
    0, 1, 2, ... by itself. As a callback (pass the same object to `fit`),
    it also sets the counter to Keras' own epoch number at the start of
    every epoch, so a run that `BackupAndRestore` resumes at epoch e reads
    epoch e's batches, not epoch 0's.
    """

    def __init__(self):
        super().__init__()
        self.epoch = 0  # the NumPy pipeline's (keras_gan/data/arrays.py)
        self._variable = None

    @property
    def variable(self):
        if self._variable is None:
            import tensorflow as tf

            # A plain TF variable on the host, where the input pipeline runs.
            with tf.device("/cpu:0"):
                self._variable = tf.Variable(self.epoch, dtype=tf.int64, trainable=False, name="data_epoch")
        return self._variable

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        if self._variable is not None:
            self._variable.assign(epoch)

    def take(self):
        """Read the epoch and advance the counter (runs inside tf.data)."""
        return self.variable.assign_add(1) - 1


def make_dataset(images, batch_size, k=1, seed=0, steps_per_epoch=None, epoch_counter=None,
                 labels=None, steps_per_call=1):
    """Steps of k * batch_size real images in [-1, 1]; see the module docstring.

    Args:
        images: uint8 [N, 28, 28, 1].
        batch_size: m, the images of one D (or G) update.
        k: discriminator updates per step.
        seed: the data order's seed (an int).
        steps_per_epoch: elements per iteration (default: one pass, N // (k*m)).
        epoch_counter: an `EpochCounter`, to be passed to `fit` as a callback
            too when runs are resumed; by default a private one.
        labels: the images' class labels [N] (a conditional GAN's data), or None.
        steps_per_call: S > 1 (JAX's fused steps, `GAN.compile(fused_steps=S)`):
            each element holds S consecutive steps, and an epoch steps / S elements.

    Returns a `tf.data.Dataset` of `steps_per_epoch` elements, each
    [k * batch_size, 28, 28, 1] float32 (with `labels`: a pair of those
    images and their int32 [k * batch_size] labels); iterating it again gives
    the next epoch's batches. On JAX and PyTorch, a `keras.utils.PyDataset`
    of the same steps (keras_gan/data/arrays.py).
    """
    num_images = len(images)
    check_enough_images(num_images, batch_size, k)
    if labels is not None and len(labels) != num_images:
        raise ValueError(f"{len(labels)} labels for {num_images} images.")
    if keras.backend.backend() != "tensorflow":
        from keras_gan.data.arrays import StepSequence

        return StepSequence(images, batch_size, k, seed, steps_per_epoch, epoch_counter or EpochCounter(),
                            labels, steps_per_call)
    if steps_per_call != 1:
        raise ValueError("steps_per_call > 1 is for JAX's fused steps.")
    import tensorflow as tf

    per_step = batch_size * k
    steps_per_pass = num_images // per_step
    steps = steps_per_epoch or steps_per_pass
    counter = epoch_counter or EpochCounter()
    pixels = tf.constant(images)
    if labels is not None:
        classes = tf.constant(labels, tf.int32)

    def step_images(epoch, j):
        step = epoch * steps + j  # the step's index within the whole run
        pass_index, step_in_pass = step // steps_per_pass, step % steps_per_pass
        positions = step_in_pass * per_step + tf.range(per_step, dtype=tf.int64)
        indices = tf.random.experimental.index_shuffle(
            positions, seed=tf.stack([tf.constant(seed, tf.int64), pass_index]),
            max_index=num_images - 1,
        )
        batch = scale_images(tf.gather(pixels, indices))
        return batch if labels is None else (batch, tf.gather(classes, indices))

    epochs = tf.data.Dataset.range(1).map(lambda _: counter.take())
    ds = epochs.flat_map(
        lambda epoch: tf.data.Dataset.range(steps).map(lambda j: step_images(epoch, j))
    )
    # flat_map hides the length; Keras needs it to end an epoch exactly.
    ds = ds.apply(tf.data.experimental.assert_cardinality(steps))
    # A fixed prefetch and tf.data's autotuning off: Keras makes a new
    # iterator every epoch, and deleting the old one could wait for a
    # background thread of the autotuning: on the developers' VM the main
    # thread stood idle, the CPU too, for 30-38 s at the start of some epochs
    # (4 of the default run's 12, ~2 min in all; py-spy showed it waiting in
    # ~RootDataset::Iterator). Without autotuning no epoch stalled, and
    # prefetch 2 trained as fast as AUTOTUNE within the runs' spread
    # (docs/performance.md): a step is a gather of pixels already in memory.
    options = tf.data.Options()
    options.autotune.enabled = False
    return ds.prefetch(2).with_options(options)
