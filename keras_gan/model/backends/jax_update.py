"""JAX: stateless. Keras' `fit` threads the state through `train_step(state, data)`.

`stateful_step` opens one `StatelessScope` over that whole state for a
training step: inside it, Algorithm 1 reads and "assigns" variables as on the
other backends, and every assignment (weights, both optimizers' slots and
step counts, the noise seed, BatchNorm statistics, metrics) is recorded in
the scope and handed back to `fit` as the new state. Each `minimize`
differentiates a pure function of the player's variables with
`jax.value_and_grad`: the loss is computed in a nested scope whose values are
the traced ones, and the state it changed (the seed, after drawing z) comes
back as auxiliary output, so the k discriminator updates each see the state
the previous one left.

`GAN.compile(fused_steps=S)` runs S whole steps in one `jax.lax.scan` per
call: one dispatch for S steps, which is what the GPU needs for these small
models (docs/backends.md); the result equals S calls of one step.
"""

import contextlib
import functools

import jax
import keras
from keras import ops

from keras_gan.model.backends.one_device import multi_worker, replica_slice, replicas_in_sync  # noqa: F401

_STEP_VARIABLES = []  # the variables of the step being traced (a stack, for safety)


class OptimizerState:
    """What Keras' JAX `fit` takes for `model.optimizer`: it threads
    `model.optimizer.variables` through the step, and a GAN has two optimizers."""

    def __init__(self, optimizers):
        self.optimizers = list(optimizers)

    @property
    def built(self):  # `GAN.compile` builds both
        return all(optimizer.built for optimizer in self.optimizers)

    @property
    def variables(self):
        return [v for optimizer in self.optimizers for v in optimizer.variables]

    def __repr__(self):
        return f"OptimizerState({', '.join(o.name for o in self.optimizers)})"


def optimizer_state(optimizers):
    return OptimizerState(optimizers)


def _state_lists(model):
    return (
        model.trainable_variables,
        model.non_trainable_variables,
        model.optimizer.variables,
        model.metrics_variables,
    )


def stateful_step(train_step):
    @functools.wraps(train_step)
    def step(model, state, data):
        fused = getattr(model, "fused_steps", 1)
        if fused == 1:
            return _in_scope(train_step, model, state, data)
        # S steps in one jax.lax.scan: the batch holds S steps' data, and each
        # scan iteration is exactly one call of train_step on its share.
        steps = jax.tree_util.tree_map(lambda x: ops.reshape(x, (fused, -1) + tuple(x.shape[1:])), data)

        def one(state, batch):
            logs, state = _in_scope(train_step, model, state, batch)
            return state, logs

        state, logs = jax.lax.scan(one, state, steps)
        # The metrics are running means: the last step's logs are the call's.
        return jax.tree_util.tree_map(lambda x: x[-1], logs), state

    return step


def _in_scope(train_step, model, state, data):
    references = _state_lists(model)
    mapping = [(v, value) for vs, values in zip(references, state) for v, value in zip(vs, values)]
    with keras.StatelessScope(state_mapping=mapping) as scope, _tracing(references):
        logs = train_step(model, data)
    new_state = tuple([scope.get_current_value(v) for v in vs] for vs in references)
    return logs, new_state


@contextlib.contextmanager
def _tracing(references):
    _STEP_VARIABLES.append([v for vs in references for v in vs])
    try:
        yield
    finally:
        _STEP_VARIABLES.pop()


def minimize(optimizer, variables, loss_fn):
    if not _STEP_VARIABLES:
        raise RuntimeError("keras_gan on JAX: minimize() runs inside a train_step (stateful_step).")
    trained = {id(v) for v in variables}
    others = [v for v in _STEP_VARIABLES[-1] if id(v) not in trained]

    def loss_of(values):
        # v.value here reads the enclosing step's scope: the current state.
        mapping = list(zip(variables, values)) + [(v, v.value) for v in others]
        with keras.StatelessScope(state_mapping=mapping) as scope:
            loss, aux = loss_fn()
        return loss, (aux, [scope.get_current_value(v) for v in others])

    (_, (aux, updated)), gradients = jax.value_and_grad(loss_of, has_aux=True)(
        [v.value for v in variables]
    )
    for v, value in zip(others, updated):
        v.assign(value)  # recorded in the step's scope
    # stateless_apply, not apply: a LossScaleOptimizer's skip-or-apply is a
    # jax.lax.cond, whose branches may not assign variables.
    new_weights, new_slots = optimizer.stateless_apply(
        [v.value for v in optimizer.variables], gradients, [v.value for v in variables]
    )
    for v, value in zip(variables + optimizer.variables, new_weights + new_slots):
        v.assign(value)
    return aux


def penalty_when(due, penalised, plain):
    # Not jax.lax.cond: its branches may not assign variables, and D's
    # Dropout assigns its seed. So the penalty is computed on every update
    # (no time saved on JAX) and counts only where it is due.
    logits, penalty = penalised()
    return logits, penalty * ops.cast(due, penalty.dtype)


def input_gradient(fn, x):
    y, pullback = jax.vjp(fn, x)
    (gradient,) = pullback(ops.ones_like(y))
    return y, gradient
