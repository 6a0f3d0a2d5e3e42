"""The layers of ``ember.nn``.

Each module of this package lists its layers in ``__all__``; all of them are gathered here
(so a new file of layers needs no edit here), in file-name order.
"""

from __future__ import annotations

import importlib
import pkgutil

__all__: list[str] = []


def _gather() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        mod = importlib.import_module(f"{__name__}.{info.name}")
        for name in getattr(mod, "__all__", ()):
            globals()[name] = getattr(mod, name)
            if name not in __all__:
                __all__.append(name)


_gather()
