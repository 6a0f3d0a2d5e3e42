"""SparseAdam, PyTorch's ``torch.optim.SparseAdam``: Adam for sparse gradients
(NOTE [ Sparse COO tensors ]), such as those of ``nn.Embedding(sparse=True)``.

Only the rows present in a gradient are updated: their entries of ``exp_avg`` and
``exp_avg_sq`` move towards the gradient, the others are left as they are (not decayed), and
the bias correction uses the parameter's own step count, as in PyTorch's
``torch.optim._functional.sparse_adam``. The state (``step`` an int, dense ``exp_avg`` and
``exp_avg_sq``) is laid out as PyTorch's, so state dicts load in either.
"""

from __future__ import annotations

import math

from .. import _creation
from .._sparse import sparse_coo_tensor
from ..autograd.grad_mode import no_grad
from .optimizer import Optimizer, _check_betas, _get_value

__all__ = ["SparseAdam"]


class SparseAdam(Optimizer):
    """Adam over the rows present in sparse gradients; dense gradients raise.

    Example::

        >>> emb = ember.nn.Embedding(1000, 16, sparse=True)
        >>> opt = ember.optim.SparseAdam(emb.parameters(), lr=1e-3)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        if hasattr(lr, "numel") and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_betas(betas)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, maximize=maximize))
        where = [[i, j] for i, g in enumerate(self.param_groups)
                 for j, p in enumerate(g["params"])]
        sparse_params = [ij for ij in where
                         if self.param_groups[ij[0]]["params"][ij[1]].is_sparse]
        if sparse_params:
            raise ValueError(f"Sparse params at indices {sparse_params}: SparseAdam requires "
                             "dense parameter tensors")
        complex_params = [ij for ij in where
                          if self.param_groups[ij[0]]["params"][ij[1]].is_complex()]
        if complex_params:
            raise ValueError(f"Complex params at indices {complex_params}: SparseAdam does "
                             "not support complex parameters")

    def step(self, closure=None):
        """One SparseAdam step over every parameter that has a (sparse) gradient."""
        with no_grad():
            loss = self._closure_loss(closure)
            for group in self.param_groups:
                params, grads, avgs, sqs, steps = [], [], [], [], []
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    params.append(p)
                    if not p.grad.is_sparse:
                        raise RuntimeError("SparseAdam does not support dense gradients, "
                                           "please consider Adam instead")
                    grads.append(p.grad)
                    state = self.state[p]
                    if len(state) == 0:
                        state["step"] = 0
                        state["exp_avg"] = _creation.zeros_like(p)
                        state["exp_avg_sq"] = _creation.zeros_like(p)
                    avgs.append(state["exp_avg"])
                    sqs.append(state["exp_avg_sq"])
                    state["step"] += 1
                    steps.append(state["step"])
                beta1, beta2 = group["betas"]
                _sparse_adam(params, grads, avgs, sqs, steps, eps=group["eps"], beta1=beta1,
                             beta2=beta2, lr=_get_value(group["lr"]),
                             maximize=group.get("maximize", False))
            return loss


def _sparse_adam(params, grads, exp_avgs, exp_avg_sqs, steps, *, eps, beta1, beta2, lr,
                 maximize):
    """PyTorch's ``_functional.sparse_adam``, line for line."""
    for param, grad, exp_avg, exp_avg_sq, step in zip(params, grads, exp_avgs, exp_avg_sqs,
                                                      steps):
        grad = (grad if not maximize else -grad).coalesce()  # the update is not linear
        indices, values = grad._indices(), grad._values()
        if values.numel() == 0:
            continue
        # old <- b * old + (1 - b) * new  <=>  old += (1 - b) * (new - old), on the rows present
        old_avg = exp_avg.sparse_mask(grad)._values()
        avg_update = values.sub(old_avg).mul_(1 - beta1)
        exp_avg.add_(sparse_coo_tensor(indices, avg_update, grad.shape))
        old_sq = exp_avg_sq.sparse_mask(grad)._values()
        sq_update = values.pow(2).sub_(old_sq).mul_(1 - beta2)
        exp_avg_sq.add_(sparse_coo_tensor(indices, sq_update, grad.shape))
        numer = avg_update.add_(old_avg)
        denom = sq_update.add_(old_sq).sqrt_().add_(eps)
        step_size = lr * math.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
        param.add_(sparse_coo_tensor(indices, -step_size * numer.div_(denom), grad.shape))
