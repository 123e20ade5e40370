"""Real images -> the steps `GAN.fit` trains on, in NumPy (JAX and PyTorch).

The same contract as the `tf.data` pipeline (keras_gan/data/pipeline.py):
element j of epoch e is training step g = e * steps + j of the run; pass
q = g // P over the data is a permutation of all N images drawn from
(seed, q), cut into P = N // (k*m) steps. So an epoch holds exactly `steps`
elements, and a run resumed at epoch e (the `EpochCounter`, also given to
`fit` as a callback, says which) reads exactly the batches an uninterrupted
run reads there. No TensorFlow is needed. For JAX's fused steps an element
holds S consecutive steps (`steps_per_call`).
"""

import numpy as np
from keras.utils import PyDataset


class StepSequence(PyDataset):
    """`steps_per_epoch` steps of k * batch_size images in [-1, 1] (and their labels)."""

    def __init__(self, images, batch_size, k, seed, steps_per_epoch, epoch_counter, labels=None,
                 steps_per_call=1):
        super().__init__()
        self.images = images
        self.labels = None if labels is None else np.asarray(labels, np.int32)  # checked by make_dataset
        self.per_step = batch_size * k
        self.steps_per_pass = len(images) // self.per_step
        self.steps = steps_per_epoch or self.steps_per_pass
        self.seed = seed
        self.counter = epoch_counter
        if self.steps % steps_per_call:
            raise ValueError(f"steps_per_call {steps_per_call} does not divide {self.steps} steps per epoch.")
        self.steps_per_call = steps_per_call
        self._permutation = (None, None)  # (pass, permutation): one pass at a time

    def __len__(self):
        return self.steps // self.steps_per_call

    def permutation(self, pass_index):
        if self._permutation[0] != pass_index:
            rng = np.random.default_rng([self.seed, pass_index])
            self._permutation = (pass_index, rng.permutation(len(self.images)))
        return self._permutation[1]

    def __getitem__(self, i):
        """Element i: step i, or with S steps per call, steps i*S .. i*S + S - 1 in one batch."""
        if not 0 <= i < len(self):
            raise IndexError(i)
        parts = [self.step(i * self.steps_per_call + j) for j in range(self.steps_per_call)]
        if self.steps_per_call == 1:
            return parts[0]
        if self.labels is None:
            return np.concatenate(parts)
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def step(self, j):
        """Step j of the current epoch."""
        step = self.counter.epoch * self.steps + j  # the step's index within the whole run
        pass_index, step_in_pass = divmod(step, self.steps_per_pass)
        indices = self.permutation(pass_index)[step_in_pass * self.per_step:(step_in_pass + 1) * self.per_step]
        batch = self.images[indices].astype(np.float32) / 127.5 - 1.0
        return batch if self.labels is None else (batch, self.labels[indices])

    def on_epoch_end(self):
        # Plain `fit(dataset, epochs=n)` walks through epochs 0, 1, ... by
        # itself; as a callback, the counter also sets Keras' own epoch number.
        self.counter.epoch += 1
