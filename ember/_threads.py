"""Thread counts: ``ember.set_num_threads``/``get_num_threads`` and the inter-op pair.

# NOTE [ Thread count ]
PyTorch's intra-op thread count decides how many cores one op may use, and some results depend
on it (a float ``arange`` is computed per ``parallel_for`` chunk). ember keeps one count, with
PyTorch's default (the physical cores, lowered by OMP_NUM_THREADS/MKL_NUM_THREADS), and hands it
to everything that runs in parallel: the OpenBLAS that NumPy loaded (through its
``*openblas_set_num_threads*`` symbol, found in the process's mapped libraries; without one the
count still reaches ember's own code), the optimizer worker pool (NOTE [ Multi-tensor threads
]) and ``arange``'s chunking. The inter-op count is stored for PyTorch's API; ember runs no
inter-op pool.
"""

from __future__ import annotations

import ctypes
import functools
import os
import threading
from concurrent.futures import ThreadPoolExecutor

_state: dict = {"intra": None, "interop": None}


@functools.cache
def _physical_cores() -> int:
    cores = set()
    try:
        with open("/proc/cpuinfo") as f:
            phys = None
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "physical id":
                    phys = value.strip()
                elif key.strip() == "core id":
                    cores.add((phys, value.strip()))
    except OSError:
        pass
    return len(cores) or os.cpu_count() or 1


@functools.cache
def default_threads() -> int:
    """The intra-op thread count PyTorch starts with: the number of physical cores, lowered by
    OMP_NUM_THREADS or MKL_NUM_THREADS."""
    n = _physical_cores()
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        if os.environ.get(var, "").strip().isdigit() and int(os.environ[var]) > 0:
            return min(n, int(os.environ[var]))
    return n


def _check(name: str, n) -> int:
    if not isinstance(n, int) or isinstance(n, bool):
        raise RuntimeError(f"{name} expects an int, but got {type(n).__name__}")
    if n <= 0:
        raise RuntimeError(f"{name} expects a positive integer")
    return n


@functools.cache
def _blas_setter():
    """OpenBLAS's set-threads function in this process, or None."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower()}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for sym in ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
                    "openblas_set_num_threads64_", "openblas_set_num_threads"):
            fn = getattr(lib, sym, None)
            if fn is not None:
                fn.argtypes, fn.restype = [ctypes.c_int], None
                return fn
    return None


def get_num_threads() -> int:
    """The number of threads an op may use: ``ember.get_num_threads()``."""
    return _state["intra"] or default_threads()


def set_num_threads(n: int) -> None:
    """Let ops use ``n`` threads: ``ember.set_num_threads(1)``."""
    _state["intra"] = _check("set_num_threads", n)
    setter = _blas_setter()
    if setter is not None:
        setter(n)


def get_num_interop_threads() -> int:
    """The inter-op thread count: ``ember.get_num_interop_threads()``."""
    return _state["interop"] or _physical_cores()


def set_num_interop_threads(n: int) -> None:
    """Set the inter-op thread count: ``ember.set_num_interop_threads(2)``."""
    _state["interop"] = _check("set_num_interop_threads", n)


# NOTE [ Worker threads ]
# NumPy ufunc loops and ctypes calls release the GIL, so one op can share its work out over
# threads: ``parallel(jobs)`` runs zero-argument callables, the first on the calling thread and
# the rest on a process-wide pool (started on first use, grown to the largest count asked for),
# and returns their results in order once all are done. Callers split by
# ``get_num_threads()`` and only for work large enough to pay for the hand-over (tens of
# microseconds on a busy host).
_POOL: list = []
_POOL_LOCK = threading.Lock()


def _pool(workers: int) -> ThreadPoolExecutor:
    with _POOL_LOCK:
        if not _POOL or _POOL[0]._max_workers < workers:
            if _POOL:
                _POOL.pop().shutdown(wait=False)
            _POOL.append(ThreadPoolExecutor(workers, thread_name_prefix="ember-worker"))
        return _POOL[0]


def parallel(jobs: list) -> list:
    """The results of the callables ``jobs``, run at once on the caller and worker threads
    (NOTE [ Worker threads ])."""
    if len(jobs) < 2:
        return [job() for job in jobs]
    futures = [_pool(len(jobs) - 1).submit(job) for job in jobs[1:]]
    first = jobs[0]()
    return [first] + [f.result() for f in futures]
