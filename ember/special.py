"""``ember.special``: special functions, as ``torch.special``.

    >>> import ember
    >>> ember.special.ndtr(ember.tensor([0.0]))
    tensor([0.5000])
"""

from __future__ import annotations

from ._api.special import (  # noqa: F401
    entr,
    erfcx,
    i0e,
    i1,
    i1e,
    log_ndtr,
    ndtr,
    ndtri,
    xlog1py,
    zeta,
)
from ._functional import (  # noqa: F401
    digamma,
    erf,
    erfc,
    erfinv,
    exp2,
    expm1,
    i0,
    log1p,
    log_softmax,
    logit,
    logsumexp,
    polygamma,
    round,
    sinc,
    softmax,
    xlogy,
)
from ._functional import igamma as gammainc  # noqa: F401
from ._functional import igammac as gammaincc  # noqa: F401
from ._functional import lgamma as gammaln  # noqa: F401
from ._functional import mvlgamma as multigammaln  # noqa: F401
from ._functional import sigmoid as expit  # noqa: F401

psi = digamma
