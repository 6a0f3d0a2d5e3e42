"""``ember.multiprocessing``: Python's ``multiprocessing`` with tensors sent through shared
memory, as ``torch.multiprocessing``.

Everything in ``multiprocessing`` is re-exported (``Process``, ``Queue``, ``get_context``, ...).
Importing ember registers pickling rules so that a tensor put on any multiprocessing queue or
pipe travels as a handle to shared memory, never as bytes; a tensor moved there with
``share_memory_()`` is shared by sender and receivers (see NOTE [ Shared tensor memory ]).

>>> import ember.multiprocessing as mp
>>> q = mp.get_context("fork").Queue()
"""

from __future__ import annotations

import multiprocessing
from multiprocessing import *  # noqa: F403

from .reductions import init_reductions
from .spawn import (
    ProcessContext,
    ProcessException,
    ProcessExitedException,
    ProcessRaisedException,
    spawn,
    start_processes,
)

__all__ = ["set_sharing_strategy", "get_sharing_strategy", "get_all_sharing_strategies",
           "spawn", "start_processes", "ProcessContext", "ProcessException",
           "ProcessExitedException", "ProcessRaisedException", *multiprocessing.__all__]

# Only PyTorch's "file_descriptor" strategy exists here: it needs no /dev/shm names, so there is
# nothing that "file_system" would do better on the platforms ember supports.
_all_sharing_strategies = {"file_descriptor"}
_sharing_strategy = "file_descriptor"


def set_sharing_strategy(new_strategy: str) -> None:
    """Set the strategy for sharing CPU tensors (one of ``get_all_sharing_strategies()``)."""
    global _sharing_strategy
    if new_strategy not in _all_sharing_strategies:
        raise AssertionError(f"invalid sharing strategy {new_strategy!r}, "
                             f"expected one of {_all_sharing_strategies}")
    _sharing_strategy = new_strategy


def get_sharing_strategy() -> str:
    """The current strategy for sharing CPU tensors."""
    return _sharing_strategy


def get_all_sharing_strategies() -> set:
    """The sharing strategies supported on this system."""
    return _all_sharing_strategies


init_reductions()
