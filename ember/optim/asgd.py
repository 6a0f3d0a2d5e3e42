"""Averaged SGD, PyTorch's ``torch.optim.ASGD``."""

from __future__ import annotations

from .. import _creation
from . import _multi_tensor
from .optimizer import (
    Optimizer,
    _check_capturable,
    _check_lr,
    _check_nonneg,
    _get_scalar_dtype,
    _get_value,
    _to_scalar,
    _use_foreach,
    _use_grad_for_differentiable,
    _view_as_real,
)

__all__ = ["ASGD"]


class ASGD(Optimizer):
    """Averaged SGD (Polyak & Juditsky): ``state["ax"]`` holds the running average of the
    parameter from step ``t0`` on.

    Example::

        >>> opt = ember.optim.ASGD(model_params, lr=1e-2, t0=100)
    """

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        _check_lr(lr)
        _check_nonneg(weight_decay=weight_decay)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, capturable=capturable,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        self._setdefaults(foreach=None, maximize=False, differentiable=False,
                          capturable=False)
        for s in self.state.values():
            for k in ("eta", "mu"):
                if len(s) != 0 and not hasattr(s[k], "item"):
                    s[k] = _creation.tensor(float(s[k]), dtype=_get_scalar_dtype())

    def _init_state(self, p, group, state):
        dt = _get_scalar_dtype()
        state["step"] = _creation.zeros((), dtype=dt, device=p.device)
        state["eta"] = _creation.tensor(_get_value(_to_scalar(group["lr"])), dtype=dt,
                                        device=p.device)
        state["mu"] = _creation.ones((), dtype=dt, device=p.device)
        state["ax"] = _creation.zeros_like(p)

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """One ASGD step over every parameter that has a gradient."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            params, grads, (mus, axs, etas, steps) = self._collect(
                group, ("mu", "ax", "eta", "step"))
            foreach = _use_foreach(group, params)
            if group["capturable"]:
                _check_capturable(params, "params, mus, etas, and state_steps",
                                  xla=not foreach)
            fn = _multi_tensor_asgd if foreach else _single_tensor_asgd
            fn(params, grads, axs, mus, etas, steps, lambd=group["lambd"], lr=group["lr"],
               t0=group["t0"], alpha=group["alpha"], weight_decay=group["weight_decay"],
               maximize=group["maximize"])
        return loss


def _single_tensor_asgd(params, grads, axs, mus, etas, state_steps, *, lambd, lr, t0, alpha,
                        weight_decay, maximize):
    lr = _get_value(_to_scalar(lr))
    for i, param in enumerate(params):
        grad = grads[i] if not maximize else -grads[i]
        mu, ax, eta, step_t = mus[i], axs[i], etas[i], state_steps[i]
        if param.is_complex():
            grad, param, ax = _view_as_real(grad, param, ax)
        step_t += 1
        if weight_decay != 0:
            grad = grad.add(param, alpha=weight_decay)
        eta_value = _get_value(eta)
        param.mul_(1 - lambd * eta_value)
        param.add_(grad, alpha=-eta_value)
        if mu.item() != 1:
            ax.add_(param.sub(ax).mul_(mu))
        else:
            ax.copy_(param)
        step = _get_value(step_t)
        eta.fill_(lr / ((1 + lambd * lr * step) ** alpha))
        mu.fill_(1 / max(1, step - t0))


def _multi_tensor_asgd(params, grads, axs, mus, etas, state_steps, *, lambd, lr, t0, alpha,
                       weight_decay, maximize):
    lr = _get_value(_to_scalar(lr))
    _multi_tensor.increment(state_steps)

    def kernel(xp, key, arrs, tmps):
        eta, mu = key
        p, g, ax = arrs
        t0_, t1 = tmps
        if maximize:
            xp.negative(g, out=t0_)
            g = t0_
        if weight_decay != 0:
            xp.multiply(p, weight_decay, out=t1)
            xp.add(g, t1, out=t0_)
            g = t0_
        xp.multiply(p, lambd, out=t1)
        t1 += g
        t1 *= eta
        p -= t1
        xp.subtract(p, ax, out=t1)
        t1 *= mu
        ax += t1

    _multi_tensor.run(kernel, [params, grads, axs], (0, 2),
                      [(_get_value(e), _get_value(m)) for e, m in zip(etas, mus)], 2, "asgd")
    # PyTorch's foreach path computes the new eta from the step tensor in its dtype, and
    # ``lr / t`` as ``t.reciprocal() * lr``
    for eta, mu, step in zip(etas, mus, state_steps):
        s = step._data
        eta._data[...] = (1 / _pow(1 + lambd * lr * s, alpha)) * lr
        mu._data[...] = 1 / max(1, _get_value(step) - t0)
        eta._bump_version("copy_")
        mu._bump_version("copy_")


def _pow(x, e):
    """``x ** e`` for a float tensor's array as PyTorch's pow with a scalar exponent computes
    it (special cases for 0.5, 2, -0.5, -1, -2)."""
    special = {0.5: lambda: x ** 0.5, 2: lambda: x * x, -0.5: lambda: 1 / x ** 0.5,
               -1: lambda: 1 / x, -2: lambda: 1 / (x * x)}
    return special[e]() if e in special else x ** e
