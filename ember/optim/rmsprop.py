"""RMSprop, PyTorch's ``torch.optim.RMSprop``."""

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

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop (Hinton), optionally centered and with momentum.

    Example::

        >>> opt = ember.optim.RMSprop(model_params, lr=1e-2, alpha=0.99, momentum=0.9)
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        _check_lr(lr)
        _check_nonneg(epsilon=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        self._setdefaults(momentum=0, centered=False, foreach=None, maximize=False,
                          differentiable=False, capturable=False)

    def _init_state(self, p, group, state):
        state["step"] = _new_step(p, group)
        state["square_avg"] = _creation.zeros_like(p)
        if group["momentum"] > 0:
            state["momentum_buffer"] = _creation.zeros_like(p)
        if group["centered"]:
            state["grad_avg"] = _creation.zeros_like(p)

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """One RMSprop step over every parameter that has a gradient."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            names = ("square_avg", "step") + (("momentum_buffer",) if group["momentum"] > 0
                                              else ()) + (("grad_avg",) if group["centered"]
                                                          else ())
            params, grads, lists = self._collect(group, names)
            if group["capturable"]:
                _check_capturable(params)
            bufs = lists[2] if group["momentum"] > 0 else []
            grad_avgs = lists[-1] if group["centered"] else []
            fn = (_multi_tensor_rmsprop if _use_foreach(group, params)
                  else _single_tensor_rmsprop)
            fn(params, grads, lists[0], grad_avgs, bufs, lists[1], lr=group["lr"],
               alpha=group["alpha"], eps=group["eps"], weight_decay=group["weight_decay"],
               momentum=group["momentum"], centered=group["centered"],
               maximize=group["maximize"], differentiable=group["differentiable"])
        return loss


def _single_tensor_rmsprop(params, grads, square_avgs, grad_avgs, bufs, state_steps, *, lr,
                           alpha, eps, weight_decay, momentum, centered, maximize,
                           differentiable):
    lr = _to_scalar(lr)
    for i, param in enumerate(params):
        state_steps[i] += 1
        grad = grads[i] if not maximize else -grads[i]
        square_avg = square_avgs[i]
        if weight_decay != 0:
            grad = grad.add(param, alpha=weight_decay)
        if param.is_complex():
            param, grad, square_avg = _view_as_real(param, grad, square_avg)
        square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
        if centered:
            grad_avg = _view_as_real(grad_avgs[i])[0]
            grad_avg.lerp_(grad, 1 - alpha)
            avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
        else:
            avg = square_avg.sqrt()
        avg = avg.add(eps) if differentiable else avg.add_(eps)
        if momentum > 0:
            buf = _view_as_real(bufs[i])[0]
            buf.mul_(momentum).addcdiv_(grad, avg)
            param.add_(buf, alpha=-_get_value(lr))
        else:
            param.addcdiv_(grad, avg, value=-_get_value(lr))


def _multi_tensor_rmsprop(params, grads, square_avgs, grad_avgs, bufs, state_steps, *, lr,
                          alpha, eps, weight_decay, momentum, centered, maximize,
                          differentiable):
    lr = _get_value(lr)
    _multi_tensor.increment(state_steps)
    operands = [params, grads, square_avgs] + ([bufs] if momentum > 0 else []) + (
        [grad_avgs] if centered else [])

    def kernel(xp, key, arrs, tmps):
        p, g, sq = arrs[:3]
        t0, t1, t2 = tmps
        if maximize:
            xp.negative(g, out=t0)
            g = t0
        if weight_decay != 0:
            xp.multiply(p, weight_decay, out=t1)
            xp.add(g, t1, out=t0)
            g = t0
        sq *= alpha
        xp.multiply(g, g, out=t1)
        t1 *= 1 - alpha
        sq += t1
        if centered:
            ga = arrs[-1]
            _multi_tensor.lerp_(xp, ga, g, 1 - alpha, t1)
            xp.multiply(ga, ga, out=t1)
            xp.subtract(sq, t1, out=t2)
            xp.sqrt(t2, out=t2)
        else:
            xp.sqrt(sq, out=t2)
        t2 += eps
        xp.divide(g, t2, out=t1)
        if momentum > 0:
            buf = arrs[3]
            buf *= momentum
            buf += t1
            xp.multiply(buf, lr, out=t1)
        else:
            t1 *= lr
        p -= t1

    _multi_tensor.run(kernel, operands, (0,) + tuple(range(2, len(operands))),
                      [None] * len(params), 3, "rmsprop")
