"""`GAN(k="auto")`: the number of D updates per G update, adapted to the game.

The paper treats k as a hyperparameter (it used k = 1) and asks that D be
"maintained near its optimal solution" while G changes slowly. This is one
bounded rule that tries to do that, and docs/results.md measures whether it
helps (it did not, against k = 1 and 2 at equal training time, so
train.py does not offer it; docs/algorithm.md, "An adaptive k"):

- After every discriminator update, D's accuracy on the fakes it was just
  shown -- the share with D(G(z)) < 1/2, computed before the update --
  enters an exponential moving average (momentum 0.99, about
  the last 100 updates). It starts at the middle of the band below.
- Every `PERIOD` generator steps, k moves by one: up if that average is below
  `LOW` (D barely tells fakes from reals: it needs more updates to stay near
  D*), down if it is above `HIGH` (D is ahead: the time is better spent on G),
  always within 1..`K_MAX`. A run starts at k = 1.

The data pipeline serves K_MAX * m real images per step, so that every
possible D update has its own batch; the columns beyond this step's k are
left unused (an epoch then shows each image to D at most once).

One replica only: a D update that may be skipped is a branch (`ops.cond`),
and tf.distribute cannot all-reduce gradients inside one ("merge_call ...
control flow" in TensorFlow 2.21); `GAN.train_step` says so instead.
"""

import keras
from keras import ops

K_MAX = 3
LOW, HIGH = 0.6, 0.8
PERIOD = 100  # generator steps between two changes of k
MOMENTUM = 0.99


def next_k(k, accuracy, k_max=K_MAX, low=LOW, high=HIGH):
    """The rule: k + 1 below `low`, k - 1 above `high`, within 1..k_max."""
    step = ops.where(accuracy < low, 1, ops.where(accuracy > high, -1, 0))
    return ops.clip(k + ops.cast(step, k.dtype), 1, k_max)


class AdaptiveK(keras.layers.Layer):
    """The state of the rule: this step's k and the accuracy average. Both
    are (non-trainable) weights, so `.keras` files and backups keep them and a
    resumed run continues with the same k."""

    def __init__(self, k_max=K_MAX, **kwargs):
        super().__init__(**kwargs)
        self.k_max = k_max
        self.k = self.add_weight(shape=(), dtype="int32", initializer="ones", trainable=False,
                                 name="k")
        self.accuracy = self.add_weight(
            shape=(), initializer=keras.initializers.Constant((LOW + HIGH) / 2), trainable=False,
            name="d_fake_accuracy")
        self.built = True  # all its state is above; nothing to build from inputs

    def record(self, fake_logits):
        """Add one D update's accuracy on its fakes (logits, before the update)."""
        accuracy = ops.mean(ops.cast(ops.cast(fake_logits, "float32") < 0.0, "float32"))
        self.accuracy.assign(MOMENTUM * self.accuracy + (1.0 - MOMENTUM) * accuracy)

    def update(self, generator_steps):
        """After a generator step: apply the rule every PERIOD steps."""
        due = ops.equal(ops.mod(ops.cast(generator_steps, "int64"), PERIOD), 0)
        self.k.assign(ops.where(due, next_k(self.k.value, self.accuracy.value, self.k_max),
                                self.k.value))

    def call(self, inputs=None):  # a holder of state, never called as a layer
        raise NotImplementedError("AdaptiveK is not called; GAN.train_step uses its methods.")

    def get_config(self):
        return {**super().get_config(), "k_max": self.k_max}
