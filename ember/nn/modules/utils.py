"""``torch.nn.modules.utils``: the argument helpers layers share (``_pair(3) == (3, 3)``)."""

from __future__ import annotations

import collections.abc
from itertools import repeat

__all__: list[str] = []  # helpers only, no layers


def _ntuple(n: int, name: str = "parse"):
    """``torch.nn.modules.utils._ntuple``: an iterable as a tuple, a scalar repeated ``n``
    times."""
    def parse(x):
        if isinstance(x, collections.abc.Iterable):
            return tuple(x)
        return tuple(repeat(x, n))
    parse.__name__ = name
    return parse


_single, _pair, _triple = _ntuple(1, "_single"), _ntuple(2, "_pair"), _ntuple(3, "_triple")


def _reverse_repeat_tuple(t, n: int) -> tuple:
    """Per-dim padding (first dim first) as ``F.pad``'s list (last dim first, each twice)."""
    return tuple(x for x in reversed(t) for _ in range(n))


_quadruple = _ntuple(4, "_quadruple")
