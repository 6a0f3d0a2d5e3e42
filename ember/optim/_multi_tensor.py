"""The multi-tensor (``foreach``/``fused``) update: one elementwise kernel over all parameters
of a param group.

# NOTE [ Multi-tensor updates ]
An algorithm's multi-tensor step is an elementwise ``kernel(xp, key, arrays, tmps)`` over
1-D backend arrays of one length: ``arrays`` holds the operands (param, grad, state buffers;
complex ones viewed as real pairs, as PyTorch's ``_view_as_real``), ``tmps`` scratch buffers,
``key`` the per-parameter scalars (bias corrections from the step count, ...). The kernel
updates the written operands in place with ``out=`` ufunc calls, so a step allocates nothing.

``run`` walks the group's index space in blocks of about ``CHUNK`` elements instead of one
tensor at a time: consecutive small parameters with the same key are gathered into one block
(one concatenate per operand, written operands scattered back), and large parameters are cut
into chunk-sized views. A step is then a fixed number of vectorised calls per ``CHUNK``
elements whatever the number of parameters, and each block's operands and temporaries stay in
cache across the kernel's dozen passes (whole-buffer passes were measured 1.6x slower on
10M-value Adam: every pass then streams from memory).
"""

from __future__ import annotations

import threading
from functools import partial

import numpy as np

from .._threads import get_num_threads, parallel
from ..backends import of_array

CHUNK = 1 << 15


def _flat_real(a):
    """A contiguous array's values as 1-D real numbers (complex as (re, im) pairs)."""
    a = a.reshape(-1)
    return a.view(a.real.dtype) if a.dtype.kind == "c" else a


def run(kernel, operands: list, written: tuple, keys: list, ntmp: int, name: str) -> None:
    """Apply ``kernel`` to all parameters: ``operands[k][i]`` is the k-th operand tensor of
    parameter i, ``written`` the operand indices the kernel updates, ``keys[i]`` parameter
    i's scalars (parameters are merged into one block only when their keys are equal)."""
    n = len(operands[0])
    if n == 0:
        return
    arrays = [[t._data for t in op] for op in operands]
    xp = of_array(arrays[0][0]).xp
    jobs: list = []  # one per block; blocks write disjoint memory, so they may run in any order
    after: list = []  # copies back into non-contiguous operands, once every block has run

    def call(key, flat):
        kernel(xp, key, flat, _tmps(xp, flat[0], ntmp))

    def gathered(idx):
        bufs = [xp.concatenate([a[i].reshape(-1) for i in idx]) for a in arrays]
        call(keys[idx[0]], [_flat_real(b) for b in bufs])
        for k in written:
            off = 0
            for i in idx:
                dst = arrays[k][i]
                xp.copyto(dst, bufs[k][off:off + dst.size].reshape(dst.shape))
                off += dst.size

    pending: list[int] = []

    def flush():
        if len(pending) == 1 and all(a[pending[0]].flags.c_contiguous for a in arrays):
            i = pending[0]
            jobs.append(partial(call, keys[i], [_flat_real(a[i]) for a in arrays]))
        elif pending:
            jobs.append(partial(gathered, list(pending)))
        pending.clear()

    total = 0
    for i in range(n):
        p = arrays[0][i]
        size = p.size
        if size == 0:
            continue
        if size >= CHUNK:
            flush()
            total = 0
            ops = [a[i] for a in arrays]
            contiguous = all(a.flags.c_contiguous for a in ops)
            flat = [_flat_real(a if contiguous else xp.ascontiguousarray(a)) for a in ops]
            step = CHUNK * (flat[0].size // size)
            for s in range(0, flat[0].size, step):
                jobs.append(partial(call, keys[i], [f[s:s + step] for f in flat]))
            if not contiguous:
                after.extend(partial(xp.copyto, ops[k], flat[k].view(ops[k].dtype).reshape(
                    ops[k].shape)) for k in written)
            continue
        if pending and (total + size > CHUNK or keys[pending[0]] != keys[i]
                        or arrays[0][pending[0]].dtype != p.dtype):
            flush()
            total = 0
        pending.append(i)
        total += size
    flush()
    _execute(jobs, xp)
    for f in after:
        f()
    for k in written:
        for t in operands[k]:
            t._bump_version(name)


# NOTE [ Multi-tensor threads ]
# NumPy releases the GIL inside ufunc loops, so on the CPU the blocks are shared out over a
# few threads (``ember.get_num_threads()``, at most 4: NOTE [ Thread count ], NOTE [ Worker
# threads ]), each thread with its own scratch buffers; blocks touch disjoint memory and the
# update is elementwise, so the result does not depend on the threads. On a loaded 2-core
# host this measured 1.3x faster for 10M-value Adam (cache-sized blocks; splitting single
# whole-array ops over threads did not pay).
_LOCAL = threading.local()


def _execute(jobs: list, xp) -> None:
    workers = min(4, get_num_threads())
    if workers == 1 or len(jobs) < 2 * workers or xp is not np:
        for job in jobs:
            job()
        return
    parallel([partial(_run_jobs, jobs[w::workers]) for w in range(workers)])


def _run_jobs(jobs: list) -> None:
    for job in jobs:
        job()


def _tmps(xp, like, ntmp: int) -> list:
    """``ntmp`` scratch arrays of ``like``'s length, dtype and device for the calling thread
    (reused across calls)."""
    cache = getattr(_LOCAL, "cache", None)
    if cache is None:
        cache = _LOCAL.cache = {}
    dev = getattr(like, "device", None)
    key, length = (xp, like.dtype, getattr(dev, "id", dev)), like.size  # CuPy's: by number
    bufs = cache.get(key)
    if bufs is None or len(bufs) < ntmp or bufs[0].size < length:
        size = max(length, 2 * CHUNK)
        bufs = cache[key] = [xp.empty(size, like.dtype) for _ in range(ntmp)]
    return [b[:length] for b in bufs[:ntmp]]


def increment(steps: list, value=1) -> None:
    """``step += value`` for each 0-d step tensor, without a dispatch per tensor."""
    for s in steps:
        s._data += value
        s._bump_version("add_")


def lerp_(xp, a, b, w: float, tmp) -> None:
    """``a.lerp_(b, w)`` with PyTorch's formula (exact at both ends)."""
    xp.subtract(b, a, out=tmp)
    if abs(w) < 0.5:
        tmp *= w
        a += tmp
    else:
        tmp *= 1 - w
        xp.subtract(b, tmp, out=a)
