"""Resilient backpropagation, PyTorch's ``torch.optim.Rprop``."""

from __future__ import annotations

from .. import _creation
from .._functional import where
from . import _multi_tensor
from .optimizer import (
    Optimizer,
    _check_capturable,
    _check_lr,
    _get_value,
    _new_step,
    _to_scalar,
    _use_foreach,
    _use_grad_for_differentiable,
    _view_as_real,
)

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """Rprop (Riedmiller & Braun): per-element step sizes grown by ``etas[1]`` while the
    gradient keeps its sign and shrunk by ``etas[0]`` when it flips.

    Example::

        >>> opt = ember.optim.Rprop(model_params, lr=1e-2, etas=(0.5, 1.2))
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        _check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach,
                        maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        self._setdefaults(foreach=None, maximize=False, differentiable=False,
                          capturable=False)

    def _init_state(self, p, group, state):
        lr = _get_value(_to_scalar(group["lr"]))
        state["step"] = _new_step(p, group)
        state["prev"] = _creation.zeros_like(p)
        state["step_size"] = _creation.full_like(p, complex(lr, lr) if p.is_complex() else lr)

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """One Rprop step over every parameter that has a gradient."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            params, grads, (prevs, sizes, steps) = self._collect(
                group, ("prev", "step_size", "step"))
            if group["capturable"]:
                _check_capturable(params)
            etaminus, etaplus = group["etas"]
            lo, hi = group["step_sizes"]
            fn = _multi_tensor_rprop if _use_foreach(group, params) else _single_tensor_rprop
            fn(params, grads, prevs, sizes, steps, step_size_min=lo, step_size_max=hi,
               etaminus=etaminus, etaplus=etaplus, maximize=group["maximize"],
               differentiable=group["differentiable"])
        return loss


def _single_tensor_rprop(params, grads, prevs, step_sizes, state_steps, *, step_size_min,
                         step_size_max, etaminus, etaplus, maximize, differentiable):
    for i, param in enumerate(params):
        grad = grads[i] if not maximize else -grads[i]
        prev, step_size = prevs[i], step_sizes[i]
        state_steps[i] += 1
        if param.is_complex():
            grad, prev, param, step_size = _view_as_real(grad, prev, param, step_size)
        sign = grad.mul(prev.clone() if differentiable else prev).sign()
        sign = where(sign.gt(0), etaplus, where(sign.lt(0), etaminus, _creation.ones_like(sign)))
        step_size.mul_(sign).clamp_(step_size_min, step_size_max)
        grad = where(sign.eq(etaminus), 0.0, grad)
        # (a clone when recorded: ember's addcmul saves its inputs whether or not backward
        # needs them, and step_size is updated in place at the next step)
        param.addcmul_(grad.sign(), step_size.clone() if differentiable else step_size,
                       value=-1)
        prev.copy_(grad)


def _multi_tensor_rprop(params, grads, prevs, step_sizes, state_steps, *, step_size_min,
                        step_size_max, etaminus, etaplus, maximize, differentiable):
    _multi_tensor.increment(state_steps)

    def kernel(xp, key, arrs, tmps):
        p, g, prev, size = arrs
        t0, t1 = tmps
        xp.multiply(g, prev, out=t0)
        if maximize:
            xp.negative(t0, out=t0)
            xp.negative(g, out=prev)
        else:
            xp.copyto(prev, g)
        xp.sign(t0, out=t0)
        t1.fill(1.0)
        t1[t0 > 0] = etaplus
        t1[t0 < 0] = etaminus
        size *= t1
        xp.clip(size, step_size_min, step_size_max, out=size)
        prev[t1 == etaminus] = 0
        xp.sign(prev, out=t0)
        t0 *= size
        p -= t0

    _multi_tensor.run(kernel, [params, grads, prevs, step_sizes], (0, 2, 3),
                      [None] * len(params), 2, "rprop")
