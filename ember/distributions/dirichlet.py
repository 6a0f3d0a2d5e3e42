"""``Dirichlet(concentration)``."""

from __future__ import annotations

import numpy as np

from .._creation import _finish
from .._functional import digamma, lgamma, xlogy
from .._ops.special import standard_gamma_grad as standard_gamma_grad_np
from .._tensor import Size
from ..autograd.function import Function, once_differentiable
from . import constraints
from .distribution import Distribution

__all__ = ["Dirichlet"]


class _Dirichlet(Function):
    """Dirichlet samples x = g / sum(g) from gammas g ~ Gamma(alpha, 1), with the pathwise
    gradient through the gammas' implicit reparameterisation:
    d x / d alpha_j = (dg_j / d alpha_j) / sum(g) * (e_j - x)."""

    @staticmethod
    def forward(ctx, concentration):
        from .._api.random import dirichlet_draw
        x, g = dirichlet_draw(concentration)
        a = concentration._host().astype(np.float64)
        w = standard_gamma_grad_np(a, g) / g.sum(-1, keepdims=True)
        out = _finish(x, concentration.device, False)
        ctx.save_for_backward(out, _finish(w.astype(x.dtype), concentration.device, False))
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        return w * (grad - (grad * x).sum(-1, keepdim=True))


class Dirichlet(Distribution):
    """Distributions over the simplex along the last dim of ``concentration``:
    ``Dirichlet(ember.tensor([1., 2., 3.])).rsample()``."""

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        batch_shape, event_shape = concentration.shape[:-1], concentration.shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Dirichlet, _instance)
        batch_shape = Size(batch_shape)
        new.concentration = self.concentration.expand(batch_shape + self.event_shape)
        super(Dirichlet, new).__init__(batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        return _Dirichlet.apply(self.concentration.expand(shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        c = self.concentration
        return (xlogy(c - 1.0, value).sum(-1) + lgamma(c.sum(-1)) - lgamma(c).sum(-1))

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, True)

    @property
    def mode(self):
        cm1 = (self.concentration - 1).clamp(min=0.0)
        mode = cm1 / cm1.sum(-1, True)
        mask = (self.concentration < 1).all(-1)
        if bool(mask.any()):  # all concentrations below 1: a vertex, one-hot at the largest
            k = cm1.shape[-1]
            idx = mode[mask].argmax(-1)
            one_hot = (idx.unsqueeze(-1) == _finish(np.arange(k), mode.device, False))
            mode[mask] = one_hot.to(mode)
        return mode

    @property
    def variance(self):
        con0 = self.concentration.sum(-1, True)
        return self.concentration * (con0 - self.concentration) / (con0.pow(2) * (con0 + 1))

    def entropy(self):
        c = self.concentration
        k = c.size(-1)
        a0 = c.sum(-1)
        return (lgamma(c).sum(-1) - lgamma(a0) - (k - a0) * digamma(a0)
                - ((c - 1.0) * digamma(c)).sum(-1))
