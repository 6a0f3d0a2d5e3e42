"""Public functions: the functions behind ember.fft.

They are not Tensor methods nor ``ember.<name>`` (``ember.fft`` is the module), so nothing
here is ``_export``-ed; ``ember/fft.py`` re-exports them. Each is a composite over the three
FFT primitives (NOTE [ FFT primitives ] in ``_ops/fft.py``), following PyTorch's
``SpectralOps.cpp`` step for step so that graphs and gradients are PyTorch's.
"""

from __future__ import annotations

import math
import operator

from .. import _dtype
from .._creation import arange
from .._functional import cat, narrow
from .._ops.fft import fft_c2c, fft_c2r, fft_r2c
from .._ops.rules import wrap_dim
from .._tensor import Tensor
from ..amp.autocast_mode import autocast_listed

__all__ = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2", "irfft2",
           "hfft2", "ihfft2", "fftn", "ifftn", "rfftn", "irfftn", "hfftn", "ihfftn", "fftfreq",
           "rfftfreq", "fftshift", "ifftshift"]

_NORMS = {None: 0, "backward": 0, "ortho": 1, "forward": 2}


def _norm(norm, forward: bool) -> int:
    """PyTorch's normalization code (0 none, 1 by sqrt(n), 2 by n) for ``norm``, which names
    the direction that is scaled."""
    if norm not in _NORMS:
        raise RuntimeError(f'Invalid normalization mode: "{norm}"')
    code = _NORMS[norm]
    return code if forward or code == 1 else 2 - code


def _promote(x: Tensor, require_complex: bool = False) -> Tensor:
    """Integers compute in the default float dtype; half types are rejected (as on PyTorch's
    CPU); ``require_complex`` makes a real input complex (differentiably)."""
    dt = x.dtype
    if dt.is_complex:
        return x
    if not dt.is_floating_point:
        dt = _dtype.get_default_dtype()
    if dt not in (_dtype.float32, _dtype.float64):
        raise RuntimeError(f"Unsupported dtype {dt.word}")
    if require_complex:
        dt = _dtype.complex64 if dt is _dtype.float32 else _dtype.complex128
    return x if dt is x.dtype else x.to(dt)


def _wrap(dim: int, ndim: int) -> int:
    if ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    return wrap_dim(operator.index(dim), ndim)


def _check_n(n: int) -> None:
    if n < 1:
        raise RuntimeError(f"Invalid number of data points ({n}) specified")


def _resize(x: Tensor, dims, sizes) -> Tensor:
    """Crop or zero-pad ``x`` to ``sizes`` along ``dims`` (PyTorch's ``resize_fft_input``)."""
    for d, n in zip(dims, sizes):
        have = x.shape[d]
        if have > n:
            x = narrow(x, d, 0, n)
        elif have < n:
            shape = list(x.shape)
            shape[d] = n - have
            x = cat([x, x.new_zeros(shape)], d)
    return x


def _shape_and_dims(x: Tensor, s, dim) -> tuple:
    """PyTorch's ``canonicalize_fft_shape_and_dim_args``: the signal sizes and wrapped dims."""
    ndim = x.ndim
    dims = None
    if dim is not None:
        dims = [_wrap(d, ndim) for d in ((dim,) if isinstance(dim, int) else dim)]
        if len(set(dims)) != len(dims):
            raise RuntimeError("FFT dims must be unique")
    if s is not None:
        s = [operator.index(n) for n in s]
        if dims is not None and len(dims) != len(s):
            raise RuntimeError("When given, dim and shape arguments must have the same length")
        if len(s) > ndim:
            raise RuntimeError(f"Got shape with {len(s)} values but input tensor only has "
                               f"{ndim} dimensions.")
        if dims is None:
            dims = list(range(ndim - len(s), ndim))
        shape = [x.shape[d] if n == -1 else n for d, n in zip(dims, s)]
    else:
        if dims is None:
            dims = list(range(ndim))
        shape = [x.shape[d] for d in dims]
    for n in shape:
        _check_n(n)
    return shape, dims


# -- one-dimensional ------------------------------------------------------------------------------

def _c2c(name, x, n, dim, norm, forward):
    if not x.is_complex():
        raise RuntimeError(f"{name} expects a complex input tensor, but got {x.dtype.word}")
    d = _wrap(dim, x.ndim)
    n = x.shape[d] if n is None else operator.index(n)
    _check_n(n)
    return fft_c2c(_resize(x, [d], [n]), (d,), _norm(norm, forward), forward)


def _r2c(name, x, n, dim, norm, forward, onesided):
    if x.is_complex():
        raise RuntimeError(f"{name} expects a real input tensor, but got {x.dtype.word}")
    x = _promote(x)
    d = _wrap(dim, x.ndim)
    n = x.shape[d] if n is None else operator.index(n)
    _check_n(n)
    out = fft_r2c(_resize(x, [d], [n]), (d,), _norm(norm, forward), onesided)
    return out if forward else out.conj()


def _c2r(x, n, dim, norm, forward):
    x = _promote(x, require_complex=True)
    d = _wrap(dim, x.ndim)
    last = 2 * (x.shape[d] - 1) if n is None else operator.index(n)
    _check_n(last)
    if n is not None:
        x = _resize(x, [d], [last // 2 + 1])
    if forward:
        x = x.conj()
    return fft_c2r(x, (d,), _norm(norm, forward), last)


@autocast_listed
def fft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The one-dimensional discrete Fourier transform::

        ember.fft.fft(ember.tensor([1.0, 0.0, 0.0, 0.0]))  # tensor([1.+0.j, 1.+0.j, ...])
    """
    if input.is_complex():
        return _c2c("fft", input, n, dim, norm, True)
    return _r2c("fft", input, n, dim, norm, True, False)


@autocast_listed
def ifft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The one-dimensional inverse discrete Fourier transform (``ifft(fft(x)) == x``)."""
    if input.is_complex():
        return _c2c("ifft", input, n, dim, norm, False)
    return _r2c("ifft", input, n, dim, norm, False, False)


@autocast_listed
def rfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The FFT of a real signal: its ``n // 2 + 1`` non-redundant frequencies::

        ember.fft.rfft(ember.arange(4.0))  # tensor([ 6.+0.j, -2.+2.j, -2.+0.j])
    """
    return _r2c("rfft", input, n, dim, norm, True, True)


@autocast_listed
def irfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The inverse of ``rfft``: a real signal of length ``n`` (default ``2 * (m - 1)``)."""
    return _c2r(input, n, dim, norm, False)


@autocast_listed
def hfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The FFT of a Hermitian-symmetric signal given by its first half: a real spectrum."""
    return _c2r(input, n, dim, norm, True)


@autocast_listed
def ihfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The inverse of ``hfft``: the half-spectrum of a real signal's inverse FFT."""
    return _r2c("ihfft", input, n, dim, norm, False, True)


# -- n-dimensional --------------------------------------------------------------------------------

@autocast_listed
def fftn(input: Tensor, s=None, dim=None, norm: str | None = None) -> Tensor:
    """The n-dimensional FFT over ``dim`` (all dims by default), signal sizes ``s``."""
    shape, dims = _shape_and_dims(input, s, dim)
    x = _resize(_promote(input, require_complex=True), dims, shape)
    return fft_c2c(x, dims, _norm(norm, True), True)


@autocast_listed
def ifftn(input: Tensor, s=None, dim=None, norm: str | None = None) -> Tensor:
    """The n-dimensional inverse FFT."""
    shape, dims = _shape_and_dims(input, s, dim)
    x = _resize(_promote(input, require_complex=True), dims, shape)
    return fft_c2c(x, dims, _norm(norm, False), False)


@autocast_listed
def rfftn(input: Tensor, s=None, dim=None, norm: str | None = None) -> Tensor:
    """The n-dimensional FFT of a real signal, one-sided in the last transformed dim."""
    if input.is_complex():
        raise RuntimeError(
            f"rfftn expects a real-valued input tensor, but got {input.dtype.word}")
    shape, dims = _shape_and_dims(input, s, dim)
    if not dims:
        raise RuntimeError("rfftn must transform at least one axis")
    x = _resize(_promote(input), dims, shape)
    return fft_r2c(x, dims, _norm(norm, True), True)


def _c2r_shape(name, x, s, dim) -> tuple:
    """PyTorch's ``canonicalize_fft_c2r_shape_and_dim_args``: the half-spectrum sizes, the
    dims and the output size of the last dim."""
    shape, dims = _shape_and_dims(x, s, dim)
    if not dims:
        raise RuntimeError(f"{name} must transform at least one axis")
    last = 2 * (x.shape[dims[-1]] - 1) if s is None or s[-1] == -1 else shape[-1]
    _check_n(last)
    shape[-1] = last // 2 + 1
    return shape, dims, last


@autocast_listed
def irfftn(input: Tensor, s=None, dim=None, norm: str | None = None) -> Tensor:
    """The inverse of ``rfftn``: a real signal (last dim ``2 * (m - 1)`` long by default)."""
    shape, dims, last = _c2r_shape("irfftn", input, s, dim)
    x = _resize(_promote(input, require_complex=True), dims, shape)
    return fft_c2r(x, dims, _norm(norm, False), last)


def hfftn(input: Tensor, s=None, dim=None, norm: str | None = None) -> Tensor:
    """The n-dimensional FFT of a Hermitian-symmetric signal given by its half: real."""
    shape, dims, last = _c2r_shape("hfftn", input, s, dim)
    x = _resize(_promote(input, require_complex=True), dims, shape)
    code = _norm(norm, True)
    if len(dims) > 1:
        x = fft_c2c(x, dims[:-1], code, True)
    return fft_c2r(x.conj(), dims[-1:], code, last)


def ihfftn(input: Tensor, s=None, dim=None, norm: str | None = None) -> Tensor:
    """The inverse of ``hfftn``: one-sided in the last transformed dim."""
    shape, dims = _shape_and_dims(input, s, dim)
    if not dims:
        raise RuntimeError("ihfftn must transform at least one axis")
    if input.is_complex():
        raise RuntimeError(
            f"Only supports floating-point dtypes, but found: {input.dtype.word}")
    x = _resize(_promote(input), dims, shape)
    code = _norm(norm, False)
    out = fft_r2c(x, dims[-1:], code, True).conj()
    if len(dims) == 1:
        return out
    return fft_c2c(out, dims[:-1], code, False)


def _two(fn, doc):
    def f(input: Tensor, s=None, dim=(-2, -1), norm: str | None = None) -> Tensor:
        return fn(input, s, dim, norm)
    name = fn.__name__[:-1] + "2"
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"``{fn.__name__}`` over the last two dims: {doc}"
    return f


fft2 = autocast_listed(_two(fftn, "``ember.fft.fft2(ember.eye(2))``."))
ifft2 = autocast_listed(_two(ifftn, "the inverse of ``fft2``."))
rfft2 = autocast_listed(_two(rfftn, "``ember.fft.rfft2(ember.ones(2, 4))``."))
irfft2 = autocast_listed(_two(irfftn, "the inverse of ``rfft2``."))
hfft2 = _two(hfftn, "real output.")
ihfft2 = _two(ihfftn, "the inverse of ``hfft2``.")


# -- helpers --------------------------------------------------------------------------------------

def _freq_dtype(dtype):
    dt = _dtype.get_default_dtype() if dtype is None else dtype
    if not (dt.is_floating_point or dt.is_complex):
        return None
    return dt


def _freq_count(n) -> int:
    n = operator.index(n)
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    return n


def _scale(n: int, d: float) -> float:
    return 1.0 / (n * d) if n * d else math.copysign(math.inf, d)


def fftfreq(n: int, d: float = 1.0, *, dtype=None, layout=None, device=None,
            requires_grad: bool = False) -> Tensor:
    """The sample frequencies of an ``n``-point FFT with sample spacing ``d``::

        ember.fft.fftfreq(4)  # tensor([ 0.0000,  0.2500, -0.5000, -0.2500])
    """
    dt = _freq_dtype(dtype)
    if dt is None:
        raise RuntimeError("fftfreq requires a floating point or complex dtype")
    n = _freq_count(n)
    out = arange(n, dtype=dt, device=device)
    out[(n + 1) // 2:] -= n  # in place, as PyTorch computes it (bit for bit)
    return (out * _scale(n, d)).requires_grad_(requires_grad)


def rfftfreq(n: int, d: float = 1.0, *, dtype=None, layout=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """The sample frequencies of ``rfft`` for an ``n``-point signal::

        ember.fft.rfftfreq(4)  # tensor([0.0000, 0.2500, 0.5000])
    """
    dt = _freq_dtype(dtype)
    if dt is None:
        raise RuntimeError("rfftfreq requires a floating point or complex dtype")
    n = operator.index(n)
    half = n // 2 if n >= 0 else -(-n // 2)  # C's division, as PyTorch computes it
    out = arange(max(half + 1, 0), dtype=dt, device=device) * _scale(n, d)
    return out.requires_grad_(requires_grad)


def _roll(input: Tensor, dims, shifts) -> Tensor:
    x = input
    for d, k in zip(dims, shifts):
        size = x.shape[d]
        k = k % size if size else 0
        if k:
            x = cat([narrow(x, d, size - k, k), narrow(x, d, 0, size - k)], d)
    return x.clone() if x is input else x


def _shift_dims(x: Tensor, dim) -> list:
    dims = list(range(x.ndim)) if dim is None else [
        _wrap(d, x.ndim) for d in ((dim,) if isinstance(dim, int) else dim)]
    if not dims:
        raise RuntimeError("`shifts` required")  # PyTorch's roll with no dims
    return dims


def fftshift(input: Tensor, dim=None) -> Tensor:
    """Move the zero frequency to the centre: ``ember.fft.fftshift(ember.fft.fftfreq(4))``."""
    dims = _shift_dims(input, dim)
    return _roll(input, dims, [input.shape[d] // 2 for d in dims])


def ifftshift(input: Tensor, dim=None) -> Tensor:
    """The inverse of ``fftshift``."""
    dims = _shift_dims(input, dim)
    return _roll(input, dims, [(input.shape[d] + 1) // 2 for d in dims])
