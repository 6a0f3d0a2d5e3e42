"""Adafactor, PyTorch's ``torch.optim.Adafactor``."""

from __future__ import annotations

from .. import _creation, _dtype
from .._functional import norm
from ..autograd.grad_mode import no_grad
from .optimizer import Optimizer, _get_value, _new_step, _to_scalar

__all__ = ["Adafactor"]


class Adafactor(Optimizer):
    """Adafactor (Shazeer & Stern): second moments of a matrix kept as row and column
    factors. The update needs per-tensor norms and factor products, so ``foreach=True`` runs
    the same per-parameter loop.

    Example::

        >>> opt = ember.optim.Adafactor(model_params, lr=1e-2)
    """

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0,
                 weight_decay=0.0, *, foreach=None, maximize=False):
        if hasattr(lr, "numel") and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d,
                        weight_decay=weight_decay, foreach=foreach, maximize=maximize)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        self._setdefaults(foreach=None)

    def _init_state(self, p, group, state):
        if p.is_complex():
            raise RuntimeError("Adafactor does not support complex parameters")
        g = p.grad
        state["step"] = _new_step(p, group)
        if g.dim() > 1:
            state["row_var"] = _creation.zeros(g.shape[:-1] + (1,), dtype=g.dtype,
                                               device=g.device)
            state["col_var"] = _creation.zeros(g.shape[:-2] + (1, g.shape[-1]), dtype=g.dtype,
                                               device=g.device)
        else:
            state["variance"] = _creation.zeros_like(g)

    def step(self, closure=None):
        """One Adafactor step over every parameter that has a gradient."""
        with no_grad():
            loss = self._closure_loss(closure)
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None and p.is_complex():
                        raise RuntimeError("Adafactor does not support complex parameters")
                params, grads, _ = self._collect(group, ())
                eps1, eps2 = group["eps"]
                _single_tensor_adafactor(
                    params, grads, [self.state[p] for p in params], d=group["d"],
                    lr=group["lr"], beta2_decay=group["beta2_decay"],
                    weight_decay=group["weight_decay"], eps1=eps1, eps2=eps2,
                    maximize=group["maximize"])
            return loss


def _single_tensor_adafactor(params, grads, states, *, d, lr, beta2_decay, weight_decay,
                             eps1, eps2, maximize):
    lr = _get_value(_to_scalar(lr))
    for param, grad, state in zip(params, grads, states):
        grad = grad if not maximize else -grad
        if eps1 is None:
            eps1 = _dtype.finfo(param.dtype).eps
        step_t = state["step"]
        step_t += 1
        step = step_t.item()
        one_minus_beta2_t = step ** beta2_decay
        rho_t = min(lr, 1 / (step ** 0.5))
        alpha = max(eps2, param.norm(2).item() / (param.numel() ** 0.5)) * rho_t
        if weight_decay != 0:
            param.mul_(1 - lr * weight_decay)
        if grad.dim() > 1:
            row_var, col_var = state["row_var"], state["col_var"]
            row_var.lerp_(norm(grad, dim=-1, keepdim=True).square_().div_(grad.size(-1)),
                          one_minus_beta2_t)
            col_var.lerp_(norm(grad, dim=-2, keepdim=True).square_().div_(grad.size(-2)),
                          one_minus_beta2_t)
            var_estimate = row_var @ col_var
            var_estimate.div_(row_var.mean(dim=-2, keepdim=True).clamp_(min=eps1))
        else:
            variance = state["variance"]
            variance.lerp_(grad * grad, one_minus_beta2_t)
            var_estimate = variance.clone()
        update = var_estimate.clamp_(min=eps1 * eps1).rsqrt_()
        update.mul_(grad)
        denom = max(1.0, update.norm(2).item() / ((update.numel() ** 0.5) * d))
        param.add_(update, alpha=-alpha / denom)
