"""The backend-specific part of training: how one player's update gets its gradients.

Algorithm 1 (`keras_gan/model/gan.py`), the losses, the models, the data and the
callbacks are shared by the three Keras 3 backends; only these differ
(docs/backends.md puts them side by side):

- `minimize(optimizer, variables, loss_fn)`: one gradient step on
  `loss_fn() -> (loss, aux)`, returning `aux`. TensorFlow records a
  `GradientTape`, PyTorch runs autograd, JAX differentiates a pure function
  of the variables' values (`jax.value_and_grad`).
- `input_gradient(fn, x)`: fn(x) and d sum(fn(x)) / dx, itself
  differentiable (the R1 penalty).
- `penalty_when(due, penalised, plain)`: lazy R1's (logits, penalty) of
  `penalised()` where the boolean tensor `due` holds, else of `plain()`.
  TensorFlow branches with `tf.cond` and PyTorch with `if`, so only one
  runs; JAX computes the penalty and counts it only when due (a
  `jax.lax.cond` branch may not assign variables, and D's Dropout does).
- `stateful_step(train_step)`: JAX's `fit` calls `train_step(state, data)`
  and expects `(logs, state)` back; this decorator runs the stateful
  Algorithm 1 inside a `StatelessScope` over that state (identity elsewhere).
- `replicas_in_sync()`, `replica_slice(values, n)`, `multi_worker()`:
  `tf.distribute`'s replica context (JAX's `DataParallel` shards global
  arrays, so there the step sees one "replica").
"""

import keras

BACKEND = keras.backend.backend()

if BACKEND == "jax":
    from keras_gan.model.backends import jax_update as _update
elif BACKEND == "torch":
    from keras_gan.model.backends import torch_update as _update
elif BACKEND == "tensorflow":
    from keras_gan.model.backends import tf_update as _update
else:
    raise ImportError(
        f"keras_gan trains on the tensorflow, jax and torch backends; KERAS_BACKEND is {BACKEND!r}."
    )

minimize = _update.minimize
input_gradient = _update.input_gradient
penalty_when = _update.penalty_when
stateful_step = _update.stateful_step
replicas_in_sync = _update.replicas_in_sync
replica_slice = _update.replica_slice
multi_worker = _update.multi_worker
optimizer_state = _update.optimizer_state
