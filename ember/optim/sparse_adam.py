"""SparseAdam, PyTorch's ``torch.optim.SparseAdam``.

# NOTE [ SparseAdam without sparse tensors ]
SparseAdam updates only the entries present in a sparse gradient. ember has no sparse
tensors, so every gradient is dense and ``step`` raises PyTorch's error for a dense gradient
("consider Adam instead"); construction and its checks behave as in PyTorch.
"""

from __future__ import annotations

from ..autograd.grad_mode import no_grad
from .optimizer import Optimizer, _check_betas, _check_lr

__all__ = ["SparseAdam"]


class SparseAdam(Optimizer):
    """Adam for sparse gradients (see NOTE [ SparseAdam without sparse tensors ]).

    Example::

        >>> opt = ember.optim.SparseAdam([w], lr=1e-3)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        _check_lr(lr)
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_betas(betas)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, maximize=maximize))
        complex_params = [[i, j] for i, g in enumerate(self.param_groups)
                          for j, p in enumerate(g["params"]) if p.is_complex()]
        if complex_params:
            raise ValueError(f"Complex params at indices {complex_params}: SparseAdam does "
                             "not support complex parameters")

    def step(self, closure=None):
        """Raises for any parameter with a gradient: ember's gradients are dense."""
        with no_grad():
            loss = self._closure_loss(closure)
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        raise RuntimeError("SparseAdam does not support dense gradients, "
                                           "please consider Adam instead")
            return loss
