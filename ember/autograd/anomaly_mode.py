"""Anomaly detection: detect_anomaly and set_detect_anomaly.

# NOTE [ Anomaly mode ]
While anomaly mode is on (a process-wide switch, as in PyTorch), every graph node made by a
forward op stores the Python stack that made it in ``node.metadata["traceback_"]`` (ember's
own frames left out), and a node made while the backward of another node runs (double
backward) stores that node as ``metadata["parent_"]``. When a backward function raises, or
returns NaN with ``check_nan`` (a RuntimeError naming the node and output), the engine warns
with the forward traceback of the failing node and of its parents, in PyTorch's words. When
anomaly mode is off the only cost is one attribute test per recorded node.
"""

from __future__ import annotations

import os
import traceback
import warnings

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
           "is_anomaly_check_nan_enabled", "set_anomaly_enabled"]


class _Anomaly:
    __slots__ = ("enabled", "check_nan", "parent")

    def __init__(self):
        self.enabled, self.check_nan, self.parent = False, True, None


ANOMALY = _Anomaly()
_EMBER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on."""
    return ANOMALY.enabled


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly detection also checks backward results for NaN."""
    return ANOMALY.check_nan


def set_anomaly_enabled(enabled: bool, check_nan: bool = True) -> None:
    """Turn anomaly detection on or off (``torch.set_anomaly_enabled``)."""
    ANOMALY.enabled, ANOMALY.check_nan = bool(enabled), bool(check_nan)


class detect_anomaly:
    """Context manager that turns anomaly detection on for the autograd engine::

        with ember.autograd.detect_anomaly():
            y = (x * 0).sqrt()    # each node remembers this line
            y.sum().backward()    # a NaN gradient raises, naming SqrtBackward0

    As in PyTorch it warns that it slows things down, and is not a decorator."""

    def __init__(self, check_nan: bool = True) -> None:
        self.prev = ANOMALY.enabled
        self.check_nan = check_nan
        self.prev_check_nan = ANOMALY.check_nan
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", stacklevel=2)

    def __enter__(self) -> None:
        set_anomaly_enabled(True, self.check_nan)

    def __exit__(self, *args) -> None:
        set_anomaly_enabled(self.prev, self.prev_check_nan)


class set_detect_anomaly:
    """Set anomaly detection on or off, at once; as a context manager, restore on exit."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.prev = ANOMALY.enabled
        self.prev_check_nan = ANOMALY.check_nan
        set_anomaly_enabled(mode, check_nan)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *args) -> None:
        set_anomaly_enabled(self.prev, self.prev_check_nan)


def store_stack(node) -> None:
    """Record the forward stack (and the node whose backward is running) on ``node``."""
    frames = traceback.extract_stack()
    while frames and frames[-1].filename.startswith(_EMBER_DIR):
        frames.pop()  # ember's own frames: PyTorch's ops have no Python frames either
    meta = node.metadata
    meta["traceback_"] = traceback.format_list(frames)
    if ANOMALY.parent is not None:
        meta["parent_"] = ANOMALY.parent


def check_nan(node, outs) -> None:
    for i, g in enumerate(outs):
        if g is not None and g.isnan().any():
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th "
                               "output.")


def warn_forward_stack(node) -> None:
    """PyTorch's ``print_stack``: warn with the forward traceback of ``node`` and of the
    nodes whose backward created it."""
    meta = node._metadata or {}
    stack = meta.get("traceback_")
    if stack is None:
        warnings.warn(f"Error detected in {node.name()}. No forward pass information available. "
                      "Enable detect anomaly during forward pass for more information.",
                      stacklevel=2)
        return
    warnings.warn(f"Error detected in {node.name()}. Traceback of forward call that caused the "
                  "error:\n" + "".join(stack), stacklevel=2)
    parent = meta.get("parent_")
    while parent is not None:
        pmeta = parent._metadata or {}
        warnings.warn(f"\n\nPrevious calculation was induced by {parent.name()}. Traceback of "
                      "forward call that induced the previous calculation:\n" +
                      "".join(pmeta.get("traceback_", ())), stacklevel=2)
        parent = pmeta.get("parent_")
