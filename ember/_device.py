"""``ember.device``: where a tensor lives ('cpu', 'cuda', 'cuda:1')."""

from __future__ import annotations

import builtins
import re

_TYPES = ("cpu", "cuda", "meta")
# c10::Device's grammar: a type, then optionally ':' and an index without leading zeros
_DEVICE_STRING = re.compile(r"([a-zA-Z_]+)(?::([1-9]\d*|0))?")


class device:
    """A device: ``ember.device('cuda:1')``, ``ember.device('cuda', 1)``, ``ember.device(0)``."""

    __slots__ = ("type", "index")

    def __init__(self, type, index: int | None = None):  # noqa: A002 - PyTorch's keyword
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        elif isinstance(type, int) and not isinstance(type, bool):
            if type < 0:
                raise RuntimeError("Device index must not be negative")
            type, index = "cuda", type
        elif isinstance(type, str):
            if not type:
                raise RuntimeError("Device string must not be empty")
            m = _DEVICE_STRING.fullmatch(type)
            if m is None:
                raise RuntimeError(f"Invalid device string: '{type}'")
            if m.group(2) is not None:
                if index is not None:
                    raise RuntimeError(
                        "type (string) must not include an index because index was passed "
                        f"explicitly: {type}")
                index = int(m.group(2))
            type = m.group(1)
        else:
            raise TypeError(f"device(): expected a str, int or ember.device, got "
                            f"{builtins.type(type).__name__}")
        if type not in _TYPES:
            raise RuntimeError(f"Expected one of {', '.join(_TYPES)} device type at start of "
                               f"device string: {type}")
        if index is not None:
            if not isinstance(index, int) or isinstance(index, bool):
                raise TypeError(f"device(): argument 'index' (position 2) must be int, not "
                                f"{builtins.type(index).__name__}")
            if index < 0:
                raise RuntimeError("Device index must not be negative")
        self.type = type
        self.index = index

    def __eq__(self, other) -> bool:
        # like PyTorch, a device never equals a string: ``device('cpu') == 'cpu'`` is False
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        idx = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{idx})"

    def __reduce__(self):
        return (device, (self.type, self.index))

    def __enter__(self):
        from . import _creation
        _creation.push_default_device(self)
        return self

    def __exit__(self, *exc):
        from . import _creation
        _creation.pop_default_device()


CPU = device("cpu")
