"""Stochastic gradient descent with momentum, PyTorch's ``torch.optim.SGD``; sparse gradients
(NOTE [ Sparse COO tensors ]) are applied as PyTorch does, through sparse ops."""

from __future__ import annotations

from .. import _creation
from . import _multi_tensor
from .optimizer import (
    Optimizer,
    _device_dtype_check_for_fused,
    _fused_checks,
    _get_value,
    _to_scalar,
    _use_foreach,
    _use_grad_for_differentiable,
)

__all__ = ["SGD"]


class SGD(Optimizer):
    """SGD with optional (Nesterov) momentum, dampening and weight decay.

    Example::

        >>> opt = ember.optim.SGD([w], lr=0.1, momentum=0.9)
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        if hasattr(lr, "numel") and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach, differentiable=differentiable, fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)
        _fused_checks(fused, foreach, differentiable)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            for k, v in (("nesterov", False), ("maximize", False), ("foreach", None),
                         ("differentiable", False), ("fused", False)):
                group.setdefault(k, v)

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """One SGD step over every parameter that has a gradient."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            sparse = any(p.grad.is_sparse for p in params)
            if group["fused"]:
                for p in params:
                    _device_dtype_check_for_fused(p)
                if sparse:
                    raise RuntimeError("`_fused_sgd` does not support sparse gradients")
            bufs = [self.state[p].get("momentum_buffer") for p in params] \
                if group["momentum"] != 0 else []
            # sparse gradients take the for-loop path (PyTorch's foreach one is the same ops)
            fn = _multi_tensor_sgd if _use_foreach(group, params) and not sparse \
                else _single_tensor_sgd
            fn(params, [p.grad for p in params], bufs, weight_decay=group["weight_decay"],
               momentum=group["momentum"], lr=group["lr"], dampening=group["dampening"],
               nesterov=group["nesterov"], maximize=group["maximize"])
            if group["momentum"] != 0:
                for p, buf in zip(params, bufs):
                    self.state[p]["momentum_buffer"] = buf
        return loss


def _single_tensor_sgd(params, grads, bufs, *, weight_decay, momentum, lr, dampening,
                       nesterov, maximize):
    lr = _to_scalar(lr)
    for i, param in enumerate(params):
        grad = grads[i] if not maximize else -grads[i]
        if weight_decay != 0:
            if hasattr(weight_decay, "requires_grad") and weight_decay.requires_grad:
                grad = grad.addcmul_(param.clone(), weight_decay)
            else:
                grad = grad.add(param, alpha=_get_value(weight_decay))
        if momentum != 0:
            buf = bufs[i]
            if buf is None:
                buf = bufs[i] = grad.detach().clone()
            else:
                buf.mul_(momentum).add_(grad, alpha=1 - dampening)
            grad = grad.add(buf, alpha=momentum) if nesterov else buf
        if hasattr(lr, "requires_grad") and lr.requires_grad:
            param.addcmul_(grad, lr, value=-1)
        else:
            param.add_(grad, alpha=-_get_value(lr))


def _multi_tensor_sgd(params, grads, bufs, *, weight_decay, momentum, lr, dampening,
                      nesterov, maximize):
    lr, weight_decay = _get_value(lr), _get_value(weight_decay)
    operands = [params, grads]
    keys = [None] * len(params)
    if momentum != 0:
        for i, b in enumerate(bufs):
            if b is None:
                bufs[i] = _creation.empty_like(params[i])
                keys[i] = "first"
        operands.append(bufs)

    def kernel(xp, key, arrs, tmps):
        p, g = arrs[0], arrs[1]
        d = tmps[0]
        if maximize:
            xp.negative(g, out=d)
            g = d
        if weight_decay != 0:
            xp.multiply(p, weight_decay, out=tmps[1])
            xp.add(g, tmps[1], out=d)
            g = d
        if momentum != 0:
            buf = arrs[2]
            if key == "first":
                xp.copyto(buf, g)
            else:
                buf *= momentum
                if dampening != 0:
                    xp.multiply(g, 1 - dampening, out=tmps[1])
                    buf += tmps[1]
                else:
                    buf += g
            if nesterov:
                xp.multiply(buf, momentum, out=tmps[1])
                xp.add(g, tmps[1], out=d)
                g = d
            else:
                g = buf
        xp.multiply(g, lr, out=tmps[1])
        p -= tmps[1]

    _multi_tensor.run(kernel, operands, (0, 2) if momentum != 0 else (0,), keys, 2, "sgd")
