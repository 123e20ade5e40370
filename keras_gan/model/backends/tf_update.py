"""TensorFlow: gradients from a `tf.GradientTape`; replicas from `tf.distribute`."""

import tensorflow as tf


def minimize(optimizer, variables, loss_fn):
    with tf.GradientTape() as tape:
        loss, aux = loss_fn()
    optimizer.apply(tape.gradient(loss, variables), variables)
    return aux


def input_gradient(fn, x):
    # Taped inside the caller's tape, so the gradient is itself differentiable.
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
        total = tf.reduce_sum(tf.cast(y, "float32"))
    return y, tape.gradient(total, x)


def penalty_when(due, penalised, plain):
    return tf.cond(due, penalised, plain)


def stateful_step(train_step):
    return train_step


def replicas_in_sync():
    # In a replica context, each replica's gradients are *summed* by the
    # optimizer, so each replica's loss must be its share of the global mean.
    return tf.distribute.get_replica_context().num_replicas_in_sync


def replica_slice(values, n):
    context = tf.distribute.get_replica_context()
    if context.num_replicas_in_sync == 1:
        return values
    start = context.replica_id_in_sync_group * n
    return values[start : start + n]


def multi_worker():
    return isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy)


def optimizer_state(optimizers):
    return None  # TensorFlow's fit keeps the variables themselves
