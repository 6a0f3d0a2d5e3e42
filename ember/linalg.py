"""``ember.linalg``: linear algebra, as ``torch.linalg``::

    a = ember.randn(3, 3, dtype=ember.float64)
    ember.linalg.solve(a, ember.ones(3, dtype=ember.float64))
"""

from __future__ import annotations

from ._api.linalg import (  # noqa: F401
    cholesky,
    cholesky_ex,
    cond,
    det,
    diagonal,
    eig,
    eigh,
    eigvals,
    eigvalsh,
    householder_product,
    inv,
    inv_ex,
    lstsq,
    lu,
    lu_factor,
    lu_factor_ex,
    lu_solve,
    matrix_exp,
    matrix_norm,
    matrix_power,
    matrix_rank,
    multi_dot,
    norm,
    pinv,
    qr,
    slogdet,
    solve,
    solve_ex,
    solve_triangular,
    svd,
    svdvals,
    tensorinv,
    tensorsolve,
    vander,
    vecdot,
    vector_norm,
)
from ._api.linalg import linalg_cross as cross  # noqa: F401
from ._functional import matmul  # noqa: F401
from ._ops.decomp import LinAlgError  # noqa: F401
