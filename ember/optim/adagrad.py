"""Adagrad, PyTorch's ``torch.optim.Adagrad``."""

from __future__ import annotations

from .. import _creation
from .._sparse import sparse_coo_tensor
from . import _multi_tensor
from .optimizer import (
    Optimizer,
    _check_lr,
    _check_nonneg,
    _device_dtype_check_for_fused,
    _fused_checks,
    _get_value,
    _new_step,
    _to_scalar,
    _use_foreach,
    _use_grad_for_differentiable,
    _view_as_real,
)

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad (Duchi et al.), with learning-rate decay; its state is made for every
    parameter at construction, as in PyTorch.

    Example::

        >>> opt = ember.optim.Adagrad(model_params, lr=1e-2, initial_accumulator_value=0.1)
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0,
                 initial_accumulator_value=0, eps=1e-10, foreach=None, *, maximize=False,
                 differentiable=False, fused=None):
        _check_lr(lr)
        _check_nonneg(lr_decay=lr_decay, weight_decay=weight_decay)
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(
                f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        _check_nonneg(epsilon=eps)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        _fused_checks(fused, foreach, differentiable)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group, self.state[p])

    def __setstate__(self, state):
        super().__setstate__(state)
        self._setdefaults(foreach=None, maximize=False, differentiable=False, fused=None)

    def _init_state(self, p, group, state):
        state["step"] = _new_step(p, group)
        v = self.defaults["initial_accumulator_value"]
        state["sum"] = _creation.full_like(p, complex(v, v) if p.is_complex() else v)

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """One Adagrad step over every parameter that has a gradient."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            params, grads, (sums, steps) = self._collect(group, ("sum", "step"), sparse=True)
            sparse = any(g.is_sparse for g in grads)
            if group["fused"]:
                for p in params:
                    _device_dtype_check_for_fused(p)
                if sparse or any(p.is_complex() for p in params):
                    raise RuntimeError("`fused` does not support sparse grad or complex param")
            # sparse gradients take the for-loop path, as in PyTorch
            fn = (_multi_tensor_adagrad if _use_foreach(group, params) and not sparse
                  else _single_tensor_adagrad)
            fn(params, grads, sums, steps, lr=group["lr"], weight_decay=group["weight_decay"],
               lr_decay=group["lr_decay"], eps=group["eps"], maximize=group["maximize"],
               differentiable=group["differentiable"])
        return loss


def _single_tensor_adagrad(params, grads, state_sums, state_steps, *, lr, weight_decay,
                           lr_decay, eps, maximize, differentiable):
    lr = _to_scalar(lr)
    for param, grad, state_sum, step_t in zip(params, grads, state_sums, state_steps):
        step_t += 1
        step = _get_value(step_t)
        grad = grad if not maximize else -grad
        if weight_decay != 0:
            if grad.is_sparse:
                raise RuntimeError("weight_decay option is not compatible with sparse gradients")
            grad = grad.add(param, alpha=weight_decay)
        clr = _get_value(lr) / (1 + (step - 1) * lr_decay)
        if grad.is_sparse:
            # only the rows present are updated; the update is not linear, so coalesce first
            grad = grad.coalesce()
            indices, values = grad._indices(), grad._values()
            state_sum.add_(sparse_coo_tensor(indices, values.pow(2), grad.shape))
            std_values = state_sum.sparse_mask(grad)._values().sqrt_().add_(eps)
            param.add_(sparse_coo_tensor(indices, values / std_values, grad.shape), alpha=-clr)
            continue
        if param.is_complex():
            grad, state_sum, param = _view_as_real(grad, state_sum, param)
        state_sum.addcmul_(grad, grad, value=1)
        std = state_sum.sqrt() + eps if differentiable else state_sum.sqrt().add_(eps)
        param.addcdiv_(grad, std, value=-clr)


def _multi_tensor_adagrad(params, grads, state_sums, state_steps, *, lr, weight_decay,
                          lr_decay, eps, maximize, differentiable):
    lr = _get_value(lr)
    _multi_tensor.increment(state_steps)

    def kernel(xp, step, arrs, tmps):
        p, g, s = arrs
        t0, t1 = tmps
        if maximize:
            xp.negative(g, out=t0)
            g = t0
        if weight_decay != 0:
            xp.multiply(p, weight_decay, out=t1)
            xp.add(g, t1, out=t0)
            g = t0
        xp.multiply(g, g, out=t1)
        s += t1
        xp.sqrt(s, out=t1)
        t1 += eps
        xp.divide(g, t1, out=t1)
        t1 *= lr / (1 + (step - 1) * lr_decay)
        p -= t1

    _multi_tensor.run(kernel, [params, grads, state_sums], (0, 2),
                      [_get_value(s) for s in state_steps], 2, "adagrad")
