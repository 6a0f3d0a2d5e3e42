"""A stand-in CUDA backend on the CPU, so the backend-generic plumbing (dispatch, transfers,
cross-device errors, autograd, memory accounting) is tested without a GPU.

Its arrays are ``FakeCudaArray``, an ndarray subclass carrying a device index; its ``xp`` is a
namespace over NumPy whose functions return that subclass (as CuPy's return CuPy arrays), and
0-d results stay arrays (CuPy returns no NumPy scalars). Every array it creates is counted by
an ember ``CachingAllocator`` over a fake raw layer, so ``ember.cuda.memory_allocated()`` moves
as tensors live and die. What it cannot catch: NumPy-only calls that NumPy accepts on an
ndarray subclass (``np.asarray(x)`` works here, raises on CuPy); those are listed in
docs/cuda.md from reading the code.
"""

from __future__ import annotations

import contextlib
import itertools
import types
import weakref

import numpy as np

import ember
from ember import backends
from ember._device import device
from ember.backends import DeviceMismatch
from ember.cuda import _allocator, memory

_CURRENT = [0]          # the fake current device
NDEV = 2
ALLOCATOR = None        # the allocator of the active fake


class FakeCudaArray(np.ndarray):
    """A 'device' array: a NumPy array with a device index."""

    def __array_finalize__(self, obj):
        self.dev = getattr(obj, "dev", _CURRENT[0])
        if obj is None or (self.base is None and self.flags.owndata):
            _count(self)

    def __getitem__(self, index):
        r = super().__getitem__(index)
        if isinstance(r, np.generic):  # CuPy indexing gives 0-d arrays, never scalars
            r = _own(np.asarray(r))
            r.dev = self.dev
        return r

    def __array_wrap__(self, arr, context=None, return_scalar=False):
        out = arr if type(arr) is FakeCudaArray else _own(arr)
        out.dev = self.dev
        return out  # never a scalar, as CuPy


def _count(owner) -> None:
    """Charge ``owner``'s bytes to the fake allocator until it dies."""
    if ALLOCATOR is None or owner.nbytes == 0:
        return
    block = ALLOCATOR.malloc(owner.nbytes, getattr(owner, "dev", _CURRENT[0]), 0)
    weakref.finalize(owner, ALLOCATOR.free, block)


def _own(r: np.ndarray) -> FakeCudaArray:
    """A fake array owning a copy of the host array ``r`` (so views and bases behave as
    CuPy's), or ``r`` seen as the fake array it is a view of."""
    base = r
    while isinstance(base, np.ndarray) and type(base) is not FakeCudaArray:
        base = base.base
    if type(base) is FakeCudaArray:
        base = _root(base)
        off = r.__array_interface__["data"][0] - base.__array_interface__["data"][0]
        out = FakeCudaArray(r.shape, r.dtype, buffer=base, offset=off, strides=r.strides)
        out.dev = base.dev
        return out
    order = "F" if r.flags.f_contiguous and not r.flags.c_contiguous else "C"
    out = FakeCudaArray(r.shape, r.dtype, order=order)
    out[...] = r
    return out


def _root(a: FakeCudaArray) -> FakeCudaArray:
    while isinstance(a.base, FakeCudaArray):
        a = a.base
    return a


def _as_strided(x, shape=None, strides=None, **kw):
    """NumPy's ``as_strided`` makes a subclass view over a plain array; CuPy's is a view."""
    root = _root(x)
    off = x.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    out = FakeCudaArray(tuple(shape), x.dtype, buffer=root, offset=off, strides=tuple(strides))
    out.dev = x.dev
    return out


def _settle(r):
    """A result viewing a plain NumPy temporary (NumPy's fancy indexing and other routines
    do that for subclasses, and its base chains stop at a change of type) becomes an array of
    its own, so base-based view checks see what they would see on CuPy."""
    if type(r) is not FakeCudaArray or r.base is None:
        return r
    base = r.base
    while isinstance(base, FakeCudaArray) and base.base is not None:
        base = base.base
    if isinstance(base, FakeCudaArray):
        return r
    out = FakeCudaArray(r.shape, r.dtype)
    out[...] = r
    out.dev = r.dev
    return out


def _wrap(r):
    if type(r) is np.ndarray:
        return _own(r)
    if isinstance(r, np.generic):
        return _own(np.asarray(r))
    if isinstance(r, tuple):
        return tuple(_wrap(x) for x in r)
    if isinstance(r, list):
        return [_wrap(x) for x in r]
    return r


class _Ufunc:
    """A NumPy ufunc whose results (also of ``at``, ``reduce``, ...) are fake arrays."""

    def __init__(self, uf):
        self._uf = uf

    def __call__(self, *args, **kw):
        return _wrap(self._uf(*args, **kw))

    def __getattr__(self, name):
        v = getattr(self._uf, name)
        if not callable(v):
            return v
        return lambda *a, **k: _wrap(v(*a, **k))


class _Namespace:
    """``np`` (or a submodule of it) whose functions return FakeCudaArray."""

    def __init__(self, mod):
        self._mod = mod

    def __getattr__(self, name):
        v = getattr(self._mod, name)
        if isinstance(v, types.ModuleType):
            return _Namespace(v)
        if isinstance(v, type) or not callable(v):
            return v
        if isinstance(v, np.ufunc):
            return _Ufunc(v)
        if name == "as_strided":
            return _as_strided

        def fn(*args, **kw):
            return _wrap(v(*args, **kw))
        fn.__name__ = name
        return fn


xp = _Namespace(np)
_DEVICES = [device("cuda", i) for i in range(NDEV)]


class FakeCudaBackend:
    name = "cuda"
    xp = xp
    array_type = FakeCudaArray

    @staticmethod
    def device_of(arr):
        return _DEVICES[arr.dev]

    @staticmethod
    def call(fn, arrays, params):
        dev = -1
        for a in arrays:
            if type(a) is FakeCudaArray:
                if dev < 0:
                    dev = a.dev
                elif a.dev != dev:
                    raise DeviceMismatch
        with on_index(dev if dev >= 0 else _CURRENT[0]):
            out = fn(xp, *arrays, **params)
        return tuple(map(_settle, out)) if isinstance(out, tuple) else _settle(out)

    @staticmethod
    def on(dev):
        return on_index(_CURRENT[0] if dev.index is None else dev.index)

    @staticmethod
    def to_numpy(arr, non_blocking=False):
        return np.array(arr.view(np.ndarray), copy=True)

    @staticmethod
    def from_numpy(arr, dev, non_blocking=False):
        with on_index(_CURRENT[0] if dev.index is None else dev.index):
            return _own(np.array(arr, copy=True))

    @staticmethod
    def to_device(arr, dev, non_blocking=False):
        return FakeCudaBackend.from_numpy(arr.view(np.ndarray), dev)


@contextlib.contextmanager
def on_index(i: int):
    prev = _CURRENT[0]
    _CURRENT[0] = i
    try:
        yield
    finally:
        _CURRENT[0] = prev


class _FakeEvent:
    def query(self):
        return True


@contextlib.contextmanager
def fake_cuda(monkeypatch):
    """Register the fake as ember's 'cuda' backend (2 devices) for a block."""
    global ALLOCATOR
    ptrs = itertools.count(1 << 20, 1 << 20)
    ALLOCATOR = _allocator.CachingAllocator(
        lambda size, dev: (next(ptrs), object()), lambda handle: None,
        lambda dev: (1 << 30, 1 << 34), lambda stream: _FakeEvent(), lambda dev: None)
    backend = FakeCudaBackend()
    monkeypatch.setitem(backends._BY_ARRAY_TYPE, FakeCudaArray, backend)
    monkeypatch.setitem(backends._BY_DEVICE_TYPE, "cuda", backend)
    monkeypatch.setattr(backends.cuda, "available", lambda: True)
    monkeypatch.setattr(ember.cuda, "current_device", lambda: _CURRENT[0])
    monkeypatch.setattr(ember.cuda, "device_count", lambda: NDEV)
    monkeypatch.setattr(memory, "ALLOCATOR", ALLOCATOR)
    monkeypatch.setattr(ember.cuda.random, "default_generators", ())
    monkeypatch.setattr(ember.cuda, "default_generators", ())
    monkeypatch.setattr(ember.cuda.random, "_PENDING", {})
    try:
        yield backend
    finally:
        ALLOCATOR = None
        _CURRENT[0] = 0
