"""Adadelta, PyTorch's ``torch.optim.Adadelta``."""

from __future__ import annotations

from .. import _creation
from . import _multi_tensor
from .optimizer import (
    Optimizer,
    _check_capturable,
    _check_lr,
    _check_nonneg,
    _get_value,
    _new_step,
    _to_scalar,
    _use_foreach,
    _use_grad_for_differentiable,
    _view_as_real,
)

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta (Zeiler).

    Example::

        >>> opt = ember.optim.Adadelta(model_params, lr=1.0, rho=0.9)
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        _check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check_nonneg(epsilon=eps, weight_decay=weight_decay)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                        maximize=maximize, capturable=capturable, foreach=foreach,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        self._setdefaults(foreach=None, maximize=False, differentiable=False,
                          capturable=False)

    def _init_state(self, p, group, state):
        state["step"] = _new_step(p, group)
        state["square_avg"] = _creation.zeros_like(p)
        state["acc_delta"] = _creation.zeros_like(p)

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """One Adadelta step over every parameter that has a gradient."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            params, grads, (sqs, accs, steps) = self._collect(
                group, ("square_avg", "acc_delta", "step"))
            if group["capturable"]:
                _check_capturable(params, xla=False)
            fn = (_multi_tensor_adadelta if _use_foreach(group, params)
                  else _single_tensor_adadelta)
            fn(params, grads, sqs, accs, steps, lr=group["lr"], rho=group["rho"],
               eps=group["eps"], weight_decay=group["weight_decay"],
               maximize=group["maximize"], differentiable=group["differentiable"])
        return loss


def _single_tensor_adadelta(params, grads, square_avgs, acc_deltas, state_steps, *, lr, rho,
                            eps, weight_decay, maximize, differentiable):
    lr = _to_scalar(lr)
    for param, grad, square_avg, acc_delta, step in zip(params, grads, square_avgs,
                                                        acc_deltas, state_steps):
        step += 1
        grad = grad if not maximize else -grad
        if weight_decay != 0:
            grad = grad.add(param, alpha=weight_decay)
        if param.is_complex():
            square_avg, acc_delta, grad, param = _view_as_real(square_avg, acc_delta, grad,
                                                               param)
        square_avg.mul_(rho).addcmul_(grad, grad, value=1 - rho)
        std = square_avg.add(eps).sqrt_()
        delta = acc_delta.add(eps).sqrt_()
        if differentiable:
            delta = delta.clone()
        delta.div_(std).mul_(grad)
        acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho)
        param.add_(delta, alpha=-_get_value(lr))


def _multi_tensor_adadelta(params, grads, square_avgs, acc_deltas, state_steps, *, lr, rho,
                           eps, weight_decay, maximize, differentiable):
    lr = _get_value(lr)
    _multi_tensor.increment(state_steps)

    def kernel(xp, key, arrs, tmps):
        p, g, sq, acc = arrs
        t0, t1, t2 = tmps
        if maximize:
            xp.negative(g, out=t0)
            g = t0
        if weight_decay != 0:
            xp.multiply(p, weight_decay, out=t1)
            xp.add(g, t1, out=t0)
            g = t0
        sq *= rho
        xp.multiply(g, g, out=t1)
        t1 *= 1 - rho
        sq += t1
        xp.add(sq, eps, out=t1)
        xp.sqrt(t1, out=t1)
        xp.add(acc, eps, out=t2)
        xp.sqrt(t2, out=t2)
        t2 /= t1
        t2 *= g
        acc *= rho
        xp.multiply(t2, t2, out=t1)
        t1 *= 1 - rho
        acc += t1
        t2 *= lr
        p -= t2

    _multi_tensor.run(kernel, [params, grads, square_avgs, acc_deltas], (0, 2, 3),
                      [None] * len(params), 3, "adadelta")
