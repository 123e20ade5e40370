"""Stop training at the first NaN or infinite loss.

A GAN whose losses went non-finite never recovers: its weights are NaN from
the next update on, and so would be every later backup and the export. The
guard stops `fit` inside the epoch in which it happens -- before that epoch's
backup -- so the last backup on disk is the last good state.
"""

import keras

from keras_gan.common.options import NonFiniteLoss


class NonFiniteGuard(keras.callbacks.Callback):
    """Raise `NonFiniteLoss` after the first compiled call with a bad step.

    The GAN records the first bad generator step itself, inside the compiled
    step (`GAN.first_nonfinite_step`), so the step is exact even when many
    steps run per call.
    """

    def on_train_batch_end(self, batch, logs=None):
        problem = self.model.first_nonfinite_step.describe()
        if problem:
            raise NonFiniteLoss(problem)
