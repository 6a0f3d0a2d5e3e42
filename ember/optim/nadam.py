"""NAdam, PyTorch's ``torch.optim.NAdam``: Adam with Nesterov momentum."""

from __future__ import annotations

from .. import _creation
from . import _multi_tensor
from .optimizer import (
    Optimizer,
    _check_betas,
    _check_capturable,
    _check_lr,
    _check_nonneg,
    _get_scalar_dtype,
    _get_value,
    _new_step,
    _to_scalar,
    _use_foreach,
    _use_grad_for_differentiable,
    _view_as_real,
)

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """NAdam (Dozat), with momentum decay and optional decoupled weight decay (NAdamW).

    Example::

        >>> opt = ember.optim.NAdam(model_params, lr=2e-3, momentum_decay=4e-3)
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        _check_lr(lr)
        _check_nonneg(epsilon=eps)
        _check_betas(betas)
        _check_nonneg(weight_decay=weight_decay, momentum_decay=momentum_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        self._setdefaults(maximize=False, foreach=None, capturable=False,
                          differentiable=False, decoupled_weight_decay=False)
        for s in self.state.values():
            if len(s) != 0 and not hasattr(s["mu_product"], "item"):
                s["mu_product"] = _creation.tensor(float(s["mu_product"]),
                                                   dtype=_get_scalar_dtype())

    def _init_state(self, p, group, state):
        state["step"] = _new_step(p, group)
        state["mu_product"] = _new_step(p, group).fill_(1.0)
        state["exp_avg"] = _creation.zeros_like(p)
        state["exp_avg_sq"] = _creation.zeros_like(p)

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """One NAdam step over every parameter that has a gradient."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            params, grads, (avgs, sqs, mus, steps) = self._collect(
                group, ("exp_avg", "exp_avg_sq", "mu_product", "step"))
            if group["capturable"]:
                foreach = _use_foreach(group, params)
                _check_capturable(params, "params, mu_products, and state_steps" if foreach
                                  else "params, mu_products and state_steps", xla=not foreach)
            beta1, beta2 = group["betas"]
            fn = _multi_tensor_nadam if _use_foreach(group, params) else _single_tensor_nadam
            fn(params, grads, avgs, sqs, mus, steps, beta1=beta1, beta2=beta2, lr=group["lr"],
               weight_decay=group["weight_decay"], momentum_decay=group["momentum_decay"],
               eps=group["eps"], decoupled_weight_decay=group["decoupled_weight_decay"],
               maximize=group["maximize"], differentiable=group["differentiable"])
        return loss


def _mus(step, beta1, momentum_decay):
    mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
    mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
    return mu, mu_next


def _single_tensor_nadam(params, grads, exp_avgs, exp_avg_sqs, mu_products, state_steps, *,
                         beta1, beta2, lr, weight_decay, momentum_decay, eps,
                         decoupled_weight_decay, maximize, differentiable):
    lr = _to_scalar(lr)
    for i, param in enumerate(params):
        grad = grads[i] if not maximize else -grads[i]
        exp_avg, exp_avg_sq, mu_product, step_t = (exp_avgs[i], exp_avg_sqs[i], mu_products[i],
                                                   state_steps[i])
        if param.is_complex():
            param, grad, exp_avg, exp_avg_sq = _view_as_real(param, grad, exp_avg, exp_avg_sq)
        step_t += 1
        step = _get_value(step_t)
        bias_correction2 = 1 - beta2 ** step
        if weight_decay != 0:
            if decoupled_weight_decay:
                param.mul_(1 - lr * weight_decay)
            else:
                grad = grad.add(param, alpha=weight_decay)
        mu, mu_next = _mus(step, beta1, momentum_decay)
        mu_product *= mu
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        denom = exp_avg_sq.div(bias_correction2).sqrt()
        if differentiable:
            denom = denom.add(eps)
            mu_product_next = mu_product * mu_next
            grad = grad * (-lr * (1.0 - mu) / (1.0 - mu_product))
            exp_avg = exp_avg * (-lr * mu_next / (1.0 - mu_product_next))
            param.addcdiv_(grad, denom)
            param.addcdiv_(exp_avg, denom)
        else:
            lr_ = _get_value(lr)
            mu_product_next = _get_value(mu_product) * mu_next
            denom.add_(eps)
            param.addcdiv_(grad, denom,
                           value=(-lr_ * (1.0 - mu) / (1.0 - _get_value(mu_product))))
            param.addcdiv_(exp_avg, denom, value=(-lr_ * mu_next) / (1.0 - mu_product_next))


def _multi_tensor_nadam(params, grads, exp_avgs, exp_avg_sqs, mu_products, state_steps, *,
                        beta1, beta2, lr, weight_decay, momentum_decay, eps,
                        decoupled_weight_decay, maximize, differentiable):
    lr = _get_value(lr)
    _multi_tensor.increment(state_steps)
    keys = []
    for step_t, mu_product in zip(state_steps, mu_products):
        step = _get_value(step_t)
        mu, mu_next = _mus(step, beta1, momentum_decay)
        mu_product._data *= mu
        mu_product._bump_version("mul_")
        keys.append((step, mu, mu_next, _get_value(mu_product)))

    def kernel(xp, key, arrs, tmps):
        step, mu, mu_next, mu_product = key
        p, g, m, v = arrs
        t0, t1, t2 = tmps
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
        xp.divide(v, 1 - beta2 ** step, out=t2)
        xp.sqrt(t2, out=t2)
        t2 += eps
        xp.divide(g, t2, out=t1)
        t1 *= -lr * (1.0 - mu) / (1.0 - mu_product)
        p += t1
        xp.divide(m, t2, out=t1)
        t1 *= (-lr * mu_next) / (1.0 - mu_product * mu_next)
        p += t1

    _multi_tensor.run(kernel, [params, grads, exp_avgs, exp_avg_sqs], (0, 2, 3), keys, 3,
                      "nadam")
