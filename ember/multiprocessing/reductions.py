"""Shared memory for tensors, and the pickling rules that send tensors between processes.

# NOTE [ Shared tensor memory ]
A shared CPU storage is a ``SharedSegment``: an anonymous memory file (``memfd_create`` on
Linux, an unlinked temporary file elsewhere) mapped ``MAP_SHARED`` into this process, with the
file descriptor kept open so that the segment can be handed on. It is PyTorch's
"file_descriptor" sharing strategy: nothing is ever named in /dev/shm, so nothing can leak
there, and the kernel frees the memory when the last descriptor and mapping are gone (the
segment's finaliser unmaps and closes when the last NumPy view of it dies). The root array of
every tensor over a segment is typed (so pickling and deepcopy work unchanged) and has the
segment's ``_Window`` as its ``base``, which is how ``is_shared()`` knows.

A tensor is sent through a ``multiprocessing`` queue or pipe (``ForkingPickler``) as a
duplicated descriptor (``multiprocessing.reduction.DupFd``: passed over a Unix socket, or
straight into a child being spawned) plus its shape, strides and offset; the receiver maps the
same memory. A tensor that is not shared yet is copied into a fresh segment for the trip, so
no array is ever pickled byte for byte, and the sender's tensor is left as it was (PyTorch
instead moves the sender's storage into shared memory; ember cannot re-point other views of
the old storage, so it copies). ``Tensor.share_memory_()`` moves a tensor (and its base, for a
view) into a segment first, after which sender and receivers share writes (Hogwild training).
"""

from __future__ import annotations

import ctypes
import mmap
import os
import tempfile
from multiprocessing.reduction import DupFd, ForkingPickler

import numpy as np

__all__ = ["SharedSegment", "init_reductions", "is_shared_array", "shared_copy",
           "shared_empty"]

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mmap.restype = ctypes.c_void_p
_libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                       ctypes.c_int, ctypes.c_long]
_libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
_MAP_FAILED = ctypes.c_void_p(-1).value


class _Window(ctypes.Array):
    """Mapped memory as a buffer for ``np.ndarray(buffer=...)``. The nominal length only
    bounds what NumPy may view; arrays are built over the segment's real size. One type for
    every size, because ctypes caches each ``c_char * n`` type forever."""

    _type_ = ctypes.c_char
    _length_ = 1 << 46


class SharedSegment:
    """``nbytes`` of shared memory mapped into this process, unmapped and closed when the
    last array over it dies (arrays hold its ``window``)."""

    __slots__ = ("fd", "nbytes", "addr", "__weakref__")

    def __init__(self, fd: int, nbytes: int):
        size = max(nbytes, 1)  # mmap refuses an empty mapping
        addr = _libc.mmap(None, size, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, fd, 0)
        if addr == _MAP_FAILED:
            err = ctypes.get_errno()
            os.close(fd)
            raise OSError(err, f"could not map {nbytes} bytes of shared memory: "
                               f"{os.strerror(err)}")
        self.fd, self.nbytes, self.addr = fd, nbytes, addr

    @classmethod
    def new(cls, nbytes: int) -> SharedSegment:
        """A fresh zero-filled segment."""
        if hasattr(os, "memfd_create"):
            fd = os.memfd_create("ember-shm", os.MFD_CLOEXEC)
        else:
            fd, path = tempfile.mkstemp(prefix="ember-shm-", dir="/dev/shm"
                                        if os.path.isdir("/dev/shm") else None)
            os.unlink(path)
        try:
            os.ftruncate(fd, max(nbytes, 1))
        except OSError:
            os.close(fd)
            raise
        return cls(fd, nbytes)

    def array(self, dtype: np.dtype) -> np.ndarray:
        """The whole segment as a flat array of ``dtype`` (whose base is the window)."""
        window = _Window.from_address(self.addr)
        window.segment = self
        return np.ndarray((self.nbytes // dtype.itemsize,), dtype, buffer=window)

    def __del__(self):
        _libc.munmap(self.addr, max(self.nbytes, 1))
        os.close(self.fd)


def shared_empty(shape: tuple, dtype: np.dtype) -> np.ndarray:
    """An uninitialised C-contiguous array of ``shape`` in a new shared segment."""
    dtype = np.dtype(dtype)
    n = int(np.prod(shape, dtype=np.int64))
    return SharedSegment.new(n * dtype.itemsize).array(dtype).reshape(shape)


def shared_copy(a: np.ndarray) -> np.ndarray:
    """A C-contiguous copy of ``a`` in a new shared segment."""
    out = shared_empty(a.shape, a.dtype)
    np.copyto(out, a)
    return out


def segment_of(a: np.ndarray) -> SharedSegment | None:
    """The segment that ``a``'s memory lives in, or None."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a.base.segment if isinstance(a.base, _Window) else None


def is_shared_array(a) -> bool:
    return isinstance(a, np.ndarray) and segment_of(a) is not None


# -- pickling through multiprocessing ----------------------------------------------------------

def _reduce_tensor(t):
    from .._tensor import _contiguous_strides
    if t._requires_grad and t._grad_fn is not None:
        raise RuntimeError(
            "Cowardly refusing to serialize non-leaf tensor which requires_grad, since autograd "
            "does not support crossing process boundaries.  If you just want to transfer the "
            "data, call detach() on the tensor before serializing (e.g., putting it on the "
            "queue).")
    a = t._data
    root, offset, strides, _ = t._storage()
    seg = segment_of(root)
    if seg is None:  # a private copy of just this tensor's elements, see the NOTE above
        root = shared_copy(a)
        seg, offset, strides = segment_of(root), 0, _contiguous_strides(a.shape)
    return (_rebuild_tensor, (type(t), DupFd(seg.fd), seg.nbytes, a.dtype, offset,
                              tuple(a.shape), tuple(strides), t._requires_grad,
                              t.__dict__ or None))


def _rebuild_tensor(cls, dup_fd, nbytes, dtype, offset, shape, strides, requires_grad, state):
    from .._ops.shape import strided
    from .._tensor import Tensor, _as_subclass, _make
    root = SharedSegment(dup_fd.detach(), nbytes).array(dtype)
    t = _make(strided(root, shape, strides, offset), requires_grad)
    if cls is not Tensor:
        t = _as_subclass(t, cls)
    if state:
        t.__dict__.update(state)
    return t


def init_reductions() -> None:
    """Send ``Tensor`` (and every subclass defined so far) through shared memory whenever
    ``multiprocessing`` pickles one. Pickle's reducer table matches exact types, so this is
    called again before a DataLoader starts its workers to cover subclasses defined since."""
    from .._tensor import Tensor
    todo = [Tensor]
    while todo:
        cls = todo.pop()
        ForkingPickler.register(cls, _reduce_tensor)
        todo.extend(cls.__subclasses__())
