"""The op registry (see NOTE [ The op registry ] in ``registry.py``) and its ops: every module
of this package but the registry and the shared rules holds ops, and is imported here."""

import importlib
import pkgutil

from . import elementwise, shape  # noqa: F401 - the core's ops first: others build on them
from .registry import REGISTRY, OpDef, apply, apply_inplace, register  # noqa: F401

for _m in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if _m not in ("registry", "rules"):
        importlib.import_module(f"{__name__}.{_m}")
