"""Adam, PyTorch's ``torch.optim.Adam`` (AdamW is Adam with decoupled weight decay)."""

from __future__ import annotations

from .. import _creation
from .._functional import maximum
from .._tensor import Tensor
from . import _multi_tensor
from .optimizer import (
    Optimizer,
    _check_capturable,
    _device_dtype_check_for_fused,
    _fused_checks,
    _get_value,
    _new_step,
    _to_scalar,
    _use_foreach,
    _use_grad_for_differentiable,
    _view_as_real,
)

__all__ = ["Adam"]


class Adam(Optimizer):
    """Adam (Kingma & Ba), with AMSGrad, L2 or decoupled weight decay, maximize.

    Example::

        >>> opt = ember.optim.Adam(model_params, lr=1e-3, betas=(0.9, 0.999))
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        if isinstance(lr, Tensor):
            if foreach and not capturable:
                raise ValueError(
                    "lr as a Tensor is not supported for capturable=False and foreach=True")
            if lr.numel() != 1:
                raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not ((isinstance(betas[0], float) and isinstance(betas[1], float))
                or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))):
            raise ValueError("betas must be either both floats or both Tensors")
        for i in (0, 1):
            if isinstance(betas[i], Tensor):
                if not capturable and foreach:
                    raise ValueError(f"betas[{i}] as a Tensor is not supported for "
                                     "capturable=False and foreach=True")
                if betas[i].numel() != 1:
                    raise ValueError(f"Tensor betas[{i}] must be 1-element")
        betas = tuple(map(_to_scalar, betas))
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)
        _fused_checks(fused, foreach, differentiable)

    def __setstate__(self, state):
        super().__setstate__(state)
        self._setdefaults(amsgrad=False, maximize=False, foreach=None, capturable=False,
                          differentiable=False, decoupled_weight_decay=False, fused=None)

    def _init_group(self, group):
        params, grads, avgs, sqs, maxs, steps = [], [], [], [], [], []
        for p in group["params"]:
            if p.grad is None:
                continue
            params.append(p)
            if p.grad.is_sparse:
                raise RuntimeError("Adam does not support sparse gradients, please consider "
                                   "SparseAdam instead")
            grads.append(p.grad)
            state = self.state[p]
            if len(state) == 0:
                if group["fused"]:
                    _device_dtype_check_for_fused(p)
                state["step"] = _new_step(p, group)
                state["exp_avg"] = _creation.zeros_like(p)
                state["exp_avg_sq"] = _creation.zeros_like(p)
                if group["amsgrad"]:
                    state["max_exp_avg_sq"] = _creation.zeros_like(p)
            avgs.append(state["exp_avg"])
            sqs.append(state["exp_avg_sq"])
            if group["amsgrad"]:
                maxs.append(state["max_exp_avg_sq"])
            if group["differentiable"] and state["step"].requires_grad:
                raise RuntimeError(
                    "`requires_grad` is not supported for `step` in differentiable mode")
            if group["foreach"] and isinstance(group["lr"], Tensor) \
                    and not group["capturable"]:
                raise RuntimeError(
                    "lr as a Tensor is not supported for capturable=False and foreach=True")
            steps.append(state["step"])
        return params, grads, avgs, sqs, maxs, steps

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """One Adam step over every parameter that has a gradient."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            params, grads, avgs, sqs, maxs, steps = self._init_group(group)
            beta1, beta2 = group["betas"]
            if group["capturable"]:
                _check_capturable(params, xla=not _use_foreach(group, params))
            fn = _multi_tensor_adam if _use_foreach(group, params) else _single_tensor_adam
            fn(params, grads, avgs, sqs, maxs, steps, amsgrad=group["amsgrad"],
               beta1=beta1, beta2=beta2, lr=group["lr"], weight_decay=group["weight_decay"],
               eps=group["eps"], maximize=group["maximize"],
               capturable=group["capturable"], differentiable=group["differentiable"],
               decoupled_weight_decay=group["decoupled_weight_decay"])
        return loss


def _single_tensor_adam(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps,
                        *, amsgrad, beta1, beta2, lr, weight_decay, eps, maximize, capturable,
                        differentiable, decoupled_weight_decay):
    lr, beta1, beta2 = _to_scalar(lr), _to_scalar(beta1), _to_scalar(beta2)
    for i, param in enumerate(params):
        grad = grads[i] if not maximize else -grads[i]
        exp_avg, exp_avg_sq, step_t = exp_avgs[i], exp_avg_sqs[i], state_steps[i]
        step_t += 1
        if weight_decay != 0:
            if decoupled_weight_decay:
                param.mul_(1 - lr * weight_decay)
            else:
                grad = grad.add(param, alpha=weight_decay)
        if param.is_complex():
            grad, exp_avg, exp_avg_sq, param = _view_as_real(grad, exp_avg, exp_avg_sq, param)
        max_sq = _view_as_real(max_exp_avg_sqs[i])[0] if amsgrad else None
        exp_avg.lerp_(grad, 1 - beta1)
        if differentiable and isinstance(beta2, Tensor) and beta2.requires_grad:
            exp_avg_sq.lerp_(grad.square(), weight=1 - beta2)
        else:
            exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=_get_value(1 - beta2))
        if capturable or differentiable:
            step = step_t
            b1 = beta1 ** (step.clone() if isinstance(beta1, Tensor) else step)
            b2 = beta2 ** (step.clone() if isinstance(beta2, Tensor) else step)
            step_size_neg = (lr / (1 - b1)).neg()
            bias_correction2_sqrt = (1 - b2).sqrt()
            if amsgrad:
                old = max_sq.clone() if differentiable else max_sq
                max_sq.copy_(maximum(old, exp_avg_sq))
                src = max_sq
            else:
                src = exp_avg_sq
            denom = (src.sqrt() / (bias_correction2_sqrt * step_size_neg)).add_(
                eps / step_size_neg)
            param.addcdiv_(exp_avg.clone() if differentiable else exp_avg, denom)
        else:
            step = _get_value(step_t)
            bias_correction1 = 1 - beta1 ** step
            bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
            step_size = _get_value(lr) / bias_correction1
            if amsgrad:
                max_sq.copy_(maximum(max_sq, exp_avg_sq))
                src = max_sq
            else:
                src = exp_avg_sq
            denom = (src.sqrt() / bias_correction2_sqrt).add_(eps)
            param.addcdiv_(exp_avg, denom, value=-step_size)


def _multi_tensor_adam(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps,
                       *, amsgrad, beta1, beta2, lr, weight_decay, eps, maximize, capturable,
                       differentiable, decoupled_weight_decay):
    lr, beta1, beta2 = _get_value(lr), _get_value(beta1), _get_value(beta2)
    _multi_tensor.increment(state_steps)
    w1 = 1 - beta1

    def kernel(xp, step, arrs, tmps):
        p, g, m, v = arrs[:4]
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
        _multi_tensor.lerp_(xp, m, g, w1, t1)
        v *= beta2
        xp.multiply(g, g, out=t1)
        t1 *= 1 - beta2
        v += t1
        if amsgrad:
            xp.maximum(arrs[4], v, out=arrs[4])
            v = arrs[4]
        # lr / bc1 * m / (sqrt(v) / bc2_sqrt + eps), with bc2_sqrt moved to the scalars
        bc2_sqrt = (1 - beta2 ** step) ** 0.5
        xp.sqrt(v, out=t1)
        t1 += eps * bc2_sqrt
        xp.divide(m, t1, out=t1)
        t1 *= lr / (1 - beta1 ** step) * bc2_sqrt
        p -= t1

    operands = [params, grads, exp_avgs, exp_avg_sqs] + ([max_exp_avg_sqs] if amsgrad else [])
    _multi_tensor.run(kernel, operands, (0, 2, 3, 4)[:3 + amsgrad],
                      [_get_value(s) for s in state_steps], 2, "adam")
