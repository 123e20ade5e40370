"""PyTorch: gradients from autograd (`torch.autograd.grad`, no `.grad` left behind)."""

import torch

from keras_gan.model.backends.one_device import multi_worker, replica_slice, replicas_in_sync  # noqa: F401


def minimize(optimizer, variables, loss_fn):
    loss, aux = loss_fn()
    gradients = torch.autograd.grad(loss, [v.value for v in variables])
    with torch.no_grad():
        optimizer.apply(gradients, variables)
    return _detached(aux)


def input_gradient(fn, x):
    x = x.detach().requires_grad_(True)
    y = fn(x)
    # create_graph: the penalty built from this gradient is differentiated again.
    (gradient,) = torch.autograd.grad(y.float().sum(), x, create_graph=True)
    return y, gradient


def penalty_when(due, penalised, plain):
    return penalised() if bool(due) else plain()


def _detached(values):
    if isinstance(values, torch.Tensor):
        return values.detach()
    if isinstance(values, (tuple, list)):
        return type(values)(_detached(v) for v in values)
    return values


def stateful_step(train_step):
    return train_step


def optimizer_state(optimizers):
    return None  # PyTorch's fit keeps the variables themselves
