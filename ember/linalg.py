"""``ember.linalg``: linear algebra, as ``torch.linalg``::

    a = ember.randn(3, 3, dtype=ember.float64)
    ember.linalg.solve(a, ember.ones(3, dtype=ember.float64))
"""

from __future__ import annotations

from ._api.linalg import LINALG as _LINALG

globals().update(_LINALG)
__all__ = sorted(_LINALG)
