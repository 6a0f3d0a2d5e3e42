"""The op registry (see NOTE [ The op registry ] in ``registry.py``) and its ops."""

from . import elementwise, shape  # noqa: F401, I001 - registration order matters
from . import decomp, fft, index_ops, linalg, pointwise, reduction, sorting  # noqa: F401
from . import activation, attention, conv, loss, normalization, resample, special  # noqa: F401
from .registry import REGISTRY, OpDef, apply, apply_inplace, register  # noqa: F401
