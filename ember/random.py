"""Random numbers: ``Generator`` and the sampling functions, reproducing PyTorch's CPU stream
exactly (``ember.manual_seed(0); ember.randn(3)`` gives PyTorch's numbers; see ``_random``)."""

from __future__ import annotations

import builtins

import numpy as np

from . import _dtype
from ._creation import _finish, _size
from ._device import device as _device_cls
from ._random import CPUGenerator
from ._tensor import Tensor, _make

__all__ = ["Generator", "default_generator", "manual_seed", "seed", "initial_seed",
           "get_rng_state", "set_rng_state", "rand", "randn", "randint", "randperm", "normal",
           "rand_like", "randn_like", "randint_like"]


class Generator:
    """A random number generator: ``g = ember.Generator().manual_seed(42)``."""

    def __init__(self, device="cpu"):
        self.device = _device_cls(device)
        self._engine = CPUGenerator()

    def manual_seed(self, seed) -> Generator:
        self._engine.manual_seed(builtins.int(seed))
        return self

    def seed(self) -> int:
        return self._engine.seed()

    def initial_seed(self) -> int:
        return self._engine.initial_seed()

    def get_state(self) -> Tensor:
        return _make(self._engine.get_state())

    def set_state(self, new_state: Tensor) -> Generator:
        if not isinstance(new_state, Tensor) or new_state.dtype is not _dtype.uint8:
            raise TypeError("expected a torch.ByteTensor, but got "
                            f"{type(new_state).__name__}")
        self._engine.set_state(new_state._host())
        return self

    def __reduce__(self):
        return (_rebuild_generator, (str(self.device), self._engine.get_state()))


def _rebuild_generator(device, state):
    g = Generator(device)
    g._engine.set_state(state)
    return g


default_generator = Generator()


def manual_seed(seed) -> Generator:
    """Seed the default generator (and CUDA's, once present); returns it."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the default generator non-deterministically; returns the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    return default_generator.get_state()


def set_rng_state(new_state: Tensor) -> None:
    default_generator.set_state(new_state)


def _gen(generator) -> CPUGenerator:
    return (generator or default_generator)._engine


def _float_dtype(dtype, name):
    dtype = dtype or _dtype.get_default_dtype()
    if dtype.category < 2:
        raise RuntimeError(f"\"{name}\" not implemented for '{dtype.name}'")
    return dtype


def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None,
         requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Uniform samples on [0, 1): ``ember.rand(2, 3)``."""
    dtype = _float_dtype(dtype, "check_uniform_bounds")
    arr = _gen(generator).uniform(_size(size), dtype.np)
    return _finish(arr, device, requires_grad)


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None,
          requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Standard normal samples: ``ember.randn(2, 3)``."""
    dtype = _float_dtype(dtype, "normal_kernel_cpu")
    arr = _gen(generator).normal(_size(size), dtype.np)
    return _finish(arr, device, requires_grad)


def randint(low=0, high=None, size=None, *, generator=None, out=None, dtype=None, layout=None,
            device=None, requires_grad: bool = False) -> Tensor:
    """Integers uniform on [low, high): ``ember.randint(10, (3,))``."""
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint() missing required argument 'size'")
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= "
                           f"to={high}")
    dtype = dtype or _dtype.int64
    arr = _gen(generator).randint(builtins.int(low), builtins.int(high), _size((size,)),
                                  dtype.np)
    return _finish(arr, device, requires_grad)


def randperm(n: int, *, generator=None, out=None, dtype=None, layout=None, device=None,
             requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A random permutation of ``0..n-1``."""
    if n < 0:
        raise RuntimeError(f"n must be non-negative, got{n}")
    dtype = dtype or _dtype.int64
    return _finish(_gen(generator).randperm(builtins.int(n), dtype.np), device, requires_grad)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None,
           device=None, requires_grad: bool = False) -> Tensor:
    """Normal samples: ``normal(mean_tensor, std_tensor)``, ``normal(0., 1., size=(3,))``..."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        ref = mean if isinstance(mean, Tensor) else std
        if isinstance(std, Tensor) and builtins.bool((std < 0).any()):
            raise RuntimeError("normal expects all elements of std >= 0.0")
        if not isinstance(std, Tensor) and std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        shape = np.broadcast_shapes(tuple(mean.shape) if isinstance(mean, Tensor) else (),
                                    tuple(std.shape) if isinstance(std, Tensor) else ())
        z = _make(_gen(generator).normal(shape, ref.dtype.np))
        return (z * std + mean).to(ref.device)
    if size is None:
        raise TypeError("normal() missing required argument 'size'")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    dtype = _float_dtype(dtype, "normal_kernel_cpu")
    arr = _gen(generator).normal(_size((size,)), dtype.np, float(mean), float(std))
    return _finish(arr, device, requires_grad)


def rand_like(input: Tensor, *, generator=None, dtype=None, layout=None, device=None,
              requires_grad: bool = False, memory_format=None) -> Tensor:
    return rand(tuple(input.shape), generator=generator, dtype=dtype or input.dtype,
                device=device or input.device, requires_grad=requires_grad)


def randn_like(input: Tensor, *, generator=None, dtype=None, layout=None, device=None,
               requires_grad: bool = False, memory_format=None) -> Tensor:
    return randn(tuple(input.shape), generator=generator, dtype=dtype or input.dtype,
                 device=device or input.device, requires_grad=requires_grad)


def randint_like(input: Tensor, low=0, high=None, *, generator=None, dtype=None, layout=None,
                 device=None, requires_grad: bool = False, memory_format=None) -> Tensor:
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), generator=generator,
                   dtype=dtype or input.dtype, device=device or input.device,
                   requires_grad=requires_grad)


