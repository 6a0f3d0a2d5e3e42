"""``ember.distributions``: probability distributions, as ``torch.distributions``:
``Normal(loc, scale).rsample()``, ``.log_prob(x)``, ``kl_divergence(p, q)``.

Samples come from ember's generator, which reproduces PyTorch's: with the same seed, ``sample``
and ``rsample`` give PyTorch's values (Gamma, Beta and Dirichlet included).
"""

from __future__ import annotations

from . import constraints
from .bernoulli import Bernoulli
from .beta import Beta
from .categorical import Categorical
from .dirichlet import Dirichlet
from .distribution import Distribution
from .gamma import Gamma
from .independent import Independent
from .kl import kl_divergence, register_kl
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .uniform import Uniform

__all__ = ["Bernoulli", "Beta", "Categorical", "Dirichlet", "Distribution", "Gamma",
           "Independent", "MultivariateNormal", "Normal", "Uniform", "constraints",
           "kl_divergence", "register_kl"]
