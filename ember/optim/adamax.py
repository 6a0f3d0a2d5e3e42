"""Adamax, PyTorch's ``torch.optim.Adamax``: Adam with the infinity norm."""

from __future__ import annotations

from .. import _creation
from .._functional import maximum
from . import _multi_tensor
from .optimizer import (
    Optimizer,
    _check_betas,
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

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Adamax (Kingma & Ba, section 7).

    Example::

        >>> opt = ember.optim.Adamax(model_params, lr=2e-3)
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        _check_lr(lr)
        _check_nonneg(epsilon=eps)
        _check_betas(betas)
        _check_nonneg(weight_decay=weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        self._setdefaults(foreach=None, maximize=False, differentiable=False,
                          capturable=False)

    def _init_state(self, p, group, state):
        state["step"] = _new_step(p, group)
        state["exp_avg"] = _creation.zeros_like(p)
        state["exp_inf"] = _creation.zeros_like(p)

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """One Adamax step over every parameter that has a gradient."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            params, grads, (avgs, infs, steps) = self._collect(
                group, ("exp_avg", "exp_inf", "step"))
            if group["capturable"]:
                _check_capturable(params, xla=not _use_foreach(group, params))
            beta1, beta2 = group["betas"]
            fn = _multi_tensor_adamax if _use_foreach(group, params) else _single_tensor_adamax
            fn(params, grads, avgs, infs, steps, eps=group["eps"], beta1=beta1, beta2=beta2,
               lr=group["lr"], weight_decay=group["weight_decay"], maximize=group["maximize"],
               differentiable=group["differentiable"])
        return loss


def _single_tensor_adamax(params, grads, exp_avgs, exp_infs, state_steps, *, eps, beta1, beta2,
                          lr, weight_decay, maximize, differentiable):
    lr = _to_scalar(lr)
    for i, param in enumerate(params):
        grad = grads[i] if not maximize else -grads[i]
        exp_avg, exp_inf, step_t = exp_avgs[i], exp_infs[i], state_steps[i]
        step_t += 1
        if weight_decay != 0:
            grad = grad.add(param, alpha=weight_decay)
        if param.is_complex():
            param, grad, exp_avg, exp_inf = _view_as_real(param, grad, exp_avg, exp_inf)
        exp_avg.lerp_(grad, 1 - beta1)
        exp_inf.copy_(maximum(exp_inf.mul_(beta2), grad.abs().add_(eps)))
        clr = lr / (1 - beta1 ** _get_value(step_t))
        if differentiable and hasattr(clr, "requires_grad"):
            param.addcdiv_(exp_avg, exp_inf / -clr)
        else:
            param.addcdiv_(exp_avg, exp_inf, value=-_get_value(clr))


def _multi_tensor_adamax(params, grads, exp_avgs, exp_infs, state_steps, *, eps, beta1, beta2,
                         lr, weight_decay, maximize, differentiable):
    lr = _get_value(lr)
    _multi_tensor.increment(state_steps)

    def kernel(xp, step, arrs, tmps):
        p, g, m, u = arrs
        t0, t1 = tmps
        if maximize:
            xp.negative(g, out=t0)
            g = t0
        if weight_decay != 0:
            xp.multiply(p, weight_decay, out=t1)
            xp.add(g, t1, out=t0)
            g = t0
        _multi_tensor.lerp_(xp, m, g, 1 - beta1, t1)
        u *= beta2
        xp.absolute(g, out=t1)
        t1 += eps
        xp.maximum(u, t1, out=u)
        xp.divide(m, u, out=t1)
        t1 *= lr / (1 - beta1 ** step)
        p -= t1

    _multi_tensor.run(kernel, [params, grads, exp_avgs, exp_infs], (0, 2, 3),
                      [_get_value(s) for s in state_steps], 2, "adamax")
