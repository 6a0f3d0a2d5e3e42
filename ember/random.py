"""Random numbers: ``Generator`` and the sampling functions, reproducing PyTorch's CPU stream
exactly (``ember.manual_seed(0); ember.randn(3)`` gives PyTorch's numbers; see ``_random``)."""

from __future__ import annotations

import builtins

import numpy as np

from . import _creation, _dtype
from ._creation import (
    _check_grad_dtype,
    _check_size,
    _finish,
    _into_out,
    _like_strides,
    _out_dtype,
    _size,
    _type_name,
    _with_strides,
    is_contiguous_strides,
)
from ._device import device as _device_cls
from ._random import CPUGenerator
from ._tensor import Tensor, _make
from .autograd.function import Function

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
        """The state as a uint8 tensor (byte-identical to PyTorch's)."""
        return _make(self._engine.get_state())

    def set_state(self, new_state: Tensor) -> Generator:
        """Continue from ``new_state`` (from ``get_state`` here or in PyTorch)."""
        if not isinstance(new_state, Tensor):
            raise TypeError(f"expected a ember.ByteTensor, but got {_type_name(new_state)}")
        if new_state.dtype is not _dtype.uint8:
            raise TypeError("RNG state must be a ember.ByteTensor")
        self._engine.set_state(new_state._host())
        return self

    def clone_state(self) -> Generator:
        """A new generator in this one's state."""
        g = Generator(self.device)
        g._engine = self._engine.clone()
        return g

    def __repr__(self) -> str:
        return f"<ember.Generator object at {hex(id(self))}>"

    def __reduce__(self):
        return (_rebuild_generator, (str(self.device), self._engine.get_state()))


def _rebuild_generator(device, state):
    g = Generator(device)
    g._engine.set_state(state)
    return g


default_generator = Generator()


def manual_seed(seed) -> Generator:
    """Seed the default generator (and the CUDA ones); returns it: ``ember.manual_seed(0)``."""
    from .cuda import random as cuda_random
    cuda_random.manual_seed_all(seed)
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


def _gen(generator, device=None) -> CPUGenerator:
    """The engine to draw from: ``generator``'s, else the default generator of ``device``
    (a CUDA device has its own, NOTE [ CUDA generators ])."""
    if generator is None:
        if device is None or _device_type(device) == "cpu":
            return default_generator._engine
        from .cuda import _index
        from .cuda.random import default_generator as cuda_default
        return cuda_default(_index(_device_cls(device)))._engine
    if not isinstance(generator, Generator):
        raise TypeError(f"expected an ember.Generator for 'generator', got "
                        f"{_type_name(generator)}")
    return generator._engine


def _target(device, out):
    """The device samples go to: ``out``'s, else ``device``, else the default device."""
    if out is not None:
        return out.device
    return device if device is not None else _creation.get_default_device()


def _device_type(device) -> str:
    return device.type if isinstance(device, _device_cls) else _device_cls(device).type


def _float_dtype(dtype, kernel: str) -> _dtype.dtype:
    dtype = dtype or _dtype.get_default_dtype()
    if dtype.category < 2:
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{dtype.word}'")
    return dtype


def _sample(values: np.ndarray, shape, strides, device, requires_grad) -> Tensor:
    """Samples drawn in memory order into a tensor of ``shape`` with element ``strides``."""
    values = values.reshape(shape) if strides is None else _with_strides(values, shape, strides)
    return _finish(values, device, requires_grad)


def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None,
         requires_grad: bool = False, pin_memory: bool = False, **size_kw) -> Tensor:
    """Uniform samples on [0, 1): ``ember.rand(2, 3)``."""
    size = _sized(size, "rand", size_kw)
    dtype = _float_dtype(_out_dtype(out, dtype), "check_uniform_bounds")
    eng = _gen(generator, _target(device, out))
    return _result(eng.uniform(size, dtype.np), device, requires_grad, out)


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None,
          requires_grad: bool = False, pin_memory: bool = False, **size_kw) -> Tensor:
    """Standard normal samples: ``ember.randn(2, 3)``."""
    size = _sized(size, "randn", size_kw)
    dtype = _float_dtype(_out_dtype(out, dtype), "normal_kernel_cpu")
    eng = _gen(generator, _target(device, out))
    return _result(eng.normal(size, dtype.np), device, requires_grad, out)


def _sized(size, fname: str, kw=None) -> tuple:
    size = _size(size, fname, kw)
    _check_size(size, fname)
    return size


def _result(arr: np.ndarray, device, requires_grad: bool, out: Tensor | None) -> Tensor:
    return _into(_finish(arr, device, requires_grad), out)


def _into(t: Tensor, out: Tensor | None) -> Tensor:
    return t if out is None else _into_out(out, t)


def randint(low=0, high=None, size=None, *, generator=None, out=None, dtype=None, layout=None,
            device=None, requires_grad: bool = False) -> Tensor:
    """Integers uniform on [low, high): ``ember.randint(10, (3,))``, ``randint(2, 5, (3,))``."""
    if size is None:
        if high is None:
            raise TypeError("randint() missing required argument 'size'")
        if not isinstance(high, (tuple, list)):
            raise TypeError(f"randint(): argument 'size' (position 2) must be tuple of ints, "
                            f"not {_type_name(high)}")
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"randint(): argument 'size' (position 2) must be tuple of ints, not "
                        f"{_type_name(size)}")
    for name, v in (("low", low), ("high", high)):
        if not isinstance(v, (builtins.int, np.integer)):
            raise TypeError(f"randint(): argument '{name}' (position 1) must be int, not "
                            f"{_type_name(v)}")
    dtype = _out_dtype(out, dtype) or _dtype.int64
    if requires_grad:
        _check_grad_dtype(dtype)
    arr = _gen(generator, _target(device, out)).randint(
        builtins.int(low), builtins.int(high), _sized((size,), "randint"), dtype.np)
    return _result(arr, device, requires_grad, out)


def randperm(n: int, *, generator=None, out=None, dtype=None, layout=None, device=None,
             requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A random permutation of ``0..n-1``: ``ember.randperm(5)``."""
    dtype = _out_dtype(out, dtype) or _dtype.int64
    if dtype.category in (0, 3):
        raise NotImplementedError(f"\"randperm\" not implemented for '{dtype.word}'")
    if requires_grad:
        _check_grad_dtype(dtype)
    eng = _gen(generator, _target(device, out))
    return _result(eng.randperm(builtins.int(n), dtype.np), device, requires_grad, out)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None,
           device=None, requires_grad: bool = False) -> Tensor:
    """Normal samples: ``ember.normal(mean_tensor, std_tensor)``, ``normal(mean_tensor, 1.)``,
    ``normal(0., std_tensor)``, ``normal(0., 1., size=(3,))``. As in PyTorch, the tensor forms
    give ``mean`` and ``std`` zero gradients."""
    ref = mean if isinstance(mean, Tensor) else std if isinstance(std, Tensor) else None
    eng = _gen(generator, _target(device, out) if ref is None else ref.device)
    if isinstance(mean, Tensor):
        if isinstance(std, Tensor):
            _check_std_tensor(std)
            shape = _broadcast(mean, std)
        else:
            if not std >= 0:
                raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")

            def draw():  # PyTorch draws normal(0, std) and adds mean
                z = _normal_like(eng, tuple(mean.shape), mean, 0.0, builtins.float(std))
                return z.add_(mean)
            return _into(Sampled.apply(draw, mean, std), out)
    elif isinstance(std, Tensor):
        _check_std_tensor(std)
        shape = tuple(std.shape)
    else:
        if size is None:
            raise TypeError("normal() missing required argument 'size' when mean and std are "
                            "numbers")
        if not std >= 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
        dtype = _float_dtype(_out_dtype(out, dtype), "normal_kernel_cpu")
        arr = eng.normal(_sized((size,), "normal"), dtype.np, builtins.float(mean),
                         builtins.float(std))
        return _result(arr, device, requires_grad, out)

    def draw():  # standard normals in the output (mean's dtype, else std's), then mul_, add_
        ref = mean if isinstance(mean, Tensor) else std
        return _normal_like(eng, shape, ref, 0.0, 1.0).mul_(std).add_(mean)
    return _into(Sampled.apply(draw, mean, std), out)


class Sampled(Function):
    """A sample drawn from tensor parameters, in the graph with zero gradients for them (as
    PyTorch's ``normal``, ``bernoulli``, ``poisson``): ``Sampled.apply(draw, mean, std)``."""

    @staticmethod
    def forward(ctx, draw, *params):
        return draw()

    @staticmethod
    def backward(ctx, grad):
        return (None,) + tuple(
            None if m is None else grad.new_zeros(m[0], dtype=_dtype.FROM_NP[m[1]])
            for m in ctx.in_meta[1:])


def _check_std_tensor(std: Tensor) -> None:
    if std.numel() and not builtins.bool((std >= 0).all()):
        raise RuntimeError("normal expects all elements of std >= 0.0")


def _broadcast(a: Tensor, b: Tensor) -> tuple:
    from ._ops.rules import broadcast_shapes
    return tuple(broadcast_shapes("normal", tuple(a.shape), tuple(b.shape)))


def _normal_like(eng, shape, ref: Tensor, mean: float, std: float) -> Tensor:
    dt = _float_dtype(ref.dtype, "normal_kernel_cpu")
    return _finish(eng.normal(shape, dt.np, mean, std), ref.device, False)


def rand_like(input: Tensor, *, generator=None, dtype=None, layout=None, device=None,
              requires_grad: bool = False, memory_format=None) -> Tensor:
    """Uniform samples in ``input``'s shape, dtype, device and layout: ``ember.rand_like(x)``."""
    dtype = _float_dtype(dtype or input.dtype, "check_uniform_bounds")
    vals = _gen(generator, device or input.device).uniform((input.numel(),), dtype.np)
    return _sample(vals, tuple(input.shape), _like_strides(input, memory_format),
                   device or input.device, requires_grad)


def randn_like(input: Tensor, *, generator=None, dtype=None, layout=None, device=None,
               requires_grad: bool = False, memory_format=None) -> Tensor:
    """Standard normal samples in ``input``'s shape, dtype, device and layout:
    ``ember.randn_like(x)``."""
    dtype = _float_dtype(dtype or input.dtype, "normal_kernel_cpu")
    shape, n = tuple(input.shape), input.numel()
    strides = _like_strides(input, memory_format)
    eng = _gen(generator, device or input.device)
    if strides is None or is_contiguous_strides(shape, strides):
        vals = eng.normal((n,), dtype.np)
    else:
        # PyTorch's vectorised normal_fill needs a contiguous output; other layouts take the
        # serial kernel, which is what the engine runs for fewer than 16 values
        vals = np.concatenate([eng.normal((min(15, n - i),), dtype.np) for i in range(0, n, 15)])
    return _sample(vals, shape, strides, device or input.device, requires_grad)


def randint_like(input: Tensor, low=0, high=None, *, generator=None, dtype=None, layout=None,
                 device=None, requires_grad: bool = False, memory_format=None) -> Tensor:
    """Integers uniform on [low, high) in ``input``'s shape, dtype, device and layout:
    ``ember.randint_like(x, 10)``."""
    if high is None:
        low, high = 0, low
    dtype = dtype or input.dtype
    if requires_grad:
        _check_grad_dtype(dtype)
    vals = _gen(generator, device or input.device).randint(
        builtins.int(low), builtins.int(high), (input.numel(),), dtype.np)
    return _sample(vals, tuple(input.shape), _like_strides(input, memory_format),
                   device or input.device, requires_grad)
