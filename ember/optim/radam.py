"""RAdam, PyTorch's ``torch.optim.RAdam``: Adam with a rectified adaptive learning rate."""

from __future__ import annotations

from .. import _creation
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

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """RAdam (Liu et al.), with optional decoupled weight decay.

    Example::

        >>> opt = ember.optim.RAdam(model_params, lr=1e-3)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        _check_lr(lr)
        _check_nonneg(epsilon=eps)
        _check_betas(betas)
        _check_nonneg(weight_decay=weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        self._setdefaults(foreach=None, maximize=False, differentiable=False,
                          decoupled_weight_decay=False, capturable=False)

    def _init_state(self, p, group, state):
        state["step"] = _new_step(p, group)
        state["exp_avg"] = _creation.zeros_like(p)
        state["exp_avg_sq"] = _creation.zeros_like(p)

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """One RAdam step over every parameter that has a gradient."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            params, grads, (avgs, sqs, steps) = self._collect(
                group, ("exp_avg", "exp_avg_sq", "step"))
            if group["capturable"]:
                _check_capturable(params, xla=not _use_foreach(group, params))
            beta1, beta2 = group["betas"]
            fn = _multi_tensor_radam if _use_foreach(group, params) else _single_tensor_radam
            fn(params, grads, avgs, sqs, steps, beta1=beta1, beta2=beta2, lr=group["lr"],
               weight_decay=group["weight_decay"], eps=group["eps"],
               maximize=group["maximize"], differentiable=group["differentiable"],
               decoupled_weight_decay=group["decoupled_weight_decay"])
        return loss


def _rho(step, beta2):
    """``rho_t`` and the rectification term (None when rho_t <= 5: no adaptive step)."""
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * step * (beta2 ** step) / (1 - beta2 ** step)
    if rho_t <= 5.0:
        return None
    return ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5


def _single_tensor_radam(params, grads, exp_avgs, exp_avg_sqs, state_steps, *, beta1, beta2,
                         lr, weight_decay, eps, maximize, differentiable,
                         decoupled_weight_decay):
    lr = _to_scalar(lr)
    for i, param in enumerate(params):
        grad = grads[i] if not maximize else -grads[i]
        exp_avg, exp_avg_sq, step_t = exp_avgs[i], exp_avg_sqs[i], state_steps[i]
        if param.is_complex():
            param, grad, exp_avg, exp_avg_sq = _view_as_real(param, grad, exp_avg, exp_avg_sq)
        step_t += 1
        step = _get_value(step_t)
        if weight_decay != 0:
            if decoupled_weight_decay:
                param.mul_(1 - lr * weight_decay)
            else:
                grad = grad.add(param, alpha=weight_decay)
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        bias_correction2 = 1 - beta2 ** step
        bias_corrected_exp_avg = exp_avg / (1 - beta1 ** step)
        rect = _rho(step, beta2)
        if rect is not None:
            sq = exp_avg_sq.sqrt()
            sq = sq.add(eps) if differentiable else sq.add_(eps)
            adaptive_lr = (bias_correction2 ** 0.5) / sq
            param.add_(bias_corrected_exp_avg * lr * adaptive_lr * rect, alpha=-1.0)
        else:
            param.add_(bias_corrected_exp_avg * lr, alpha=-1.0)


def _multi_tensor_radam(params, grads, exp_avgs, exp_avg_sqs, state_steps, *, beta1, beta2,
                        lr, weight_decay, eps, maximize, differentiable,
                        decoupled_weight_decay):
    lr = _get_value(lr)
    _multi_tensor.increment(state_steps)

    def kernel(xp, step, arrs, tmps):
        p, g, m, v = arrs
        t0, t1 = tmps
        if maximize:
            xp.negative(g, out=t0)
            g = t0
        if weight_decay != 0:
            if decoupled_weight_decay:
                p *= 1 - lr * weight_decay
            else:
                xp.multiply(p, weight_decay, out=t1)
                xp.add(g, t1, out=t0)
                g = t0
        _multi_tensor.lerp_(xp, m, g, 1 - beta1, t1)
        v *= beta2
        xp.multiply(g, g, out=t1)
        t1 *= 1 - beta2
        v += t1
        rect = _rho(step, beta2)
        scale = lr / (1 - beta1 ** step)
        if rect is None:
            xp.multiply(m, scale, out=t1)
        else:
            xp.sqrt(v, out=t1)
            t1 += eps
            xp.divide(m, t1, out=t1)
            t1 *= scale * (1 - beta2 ** step) ** 0.5 * rect
        p -= t1

    _multi_tensor.run(kernel, [params, grads, exp_avgs, exp_avg_sqs], (0, 2, 3),
                      [_get_value(s) for s in state_steps], 2, "radam")
