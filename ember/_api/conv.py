"""Public functions: convolutions, pooling, im2col/col2im, padding and pixel/channel shuffles,
with ``torch.nn.functional``'s signatures, argument checks and messages.

The registry ops (``ember/_ops/conv.py``) take batched (N, C, *spatial) inputs and explicit
geometry; these wrappers accept unbatched inputs as PyTorch does, normalise the arguments and
raise PyTorch's errors. Adaptive average pooling (one matmul per dim with a matrix of window
averages), Lp pooling, unpooling (a scatter) and the shuffles (reshape/permute) are composites
of other ops.

Functions PyTorch also has at top level (``torch.conv2d``, ``torch.max_pool2d``, ...) are
exported to ``ember``; the others live here for ``ember.nn.functional`` (``FUNCTIONAL``).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .._functional import _export
from .._ops import REGISTRY as R
from .._ops.conv import _adaptive_bounds
from .._ops.registry import apply
from .._tensor import Tensor, _make
from ..amp.autocast_mode import autocast_listed
from ..backends import of_array

_CONV, _CONV_T = R["convolution"], R["convolution_transpose"]


def _ntuple(v, d: int, name: str, what: str = "") -> tuple:
    """``v`` (an int or a sequence of 1 or ``d`` ints) as a ``d``-tuple."""
    if isinstance(v, numbers.Integral):
        return (int(v),) * d
    v = tuple(int(a) for a in v)
    if len(v) == 1:
        return v * d
    if len(v) != d:
        raise RuntimeError(what or f"{name}: expected a single int or a tuple of {d} ints, "
                           f"got {list(v)}")
    return v


def _batched(x: Tensor, d: int, msg: str):
    """``x`` with a batch dim (added for an unbatched (C, *spatial) input), and whether one was
    added; ``msg`` is PyTorch's error for other ranks."""
    if x.ndim == d + 2:
        return x, False
    if x.ndim == d + 1:
        return x.unsqueeze(0), True
    raise RuntimeError(msg)


def _xp(t: Tensor):
    return of_array(t._data).xp


def _const(like: Tensor, arr) -> Tensor:
    """A constant tensor (no grad) from NumPy ``arr`` on ``like``'s device and dtype."""
    return _make(_xp(like).asarray(np.asarray(arr).astype(like._data.dtype)))


# -- convolution ----------------------------------------------------------------------------------

def _conv_geometry(name, x, w, stride, dilation, d):
    if w.ndim != d + 2:
        raise RuntimeError(
            f"Expected {d + 2}-dimensional weight for {x.ndim}-dimensional input "
            f"{list(x.shape)}, but got {w.ndim}-dimensional weight of size {list(w.shape)} "
            "instead")

    def tup(v, what):
        return _ntuple(v, d, name, f"expected {what} to be a single integer value or a list of "
                                   f"{d} values to match the convolution dimensions, but got "
                                   f"{what}={list(v) if not isinstance(v, int) else v}")
    stride, dilation = tup(stride, "stride"), tup(dilation, "dilation")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(a <= 0 for a in dilation):
        raise RuntimeError("non-positive dilation is not supported")
    return stride, dilation, tup


def _check_groups(w, groups):
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if w.shape[0] % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension "
            f"0, but got weight of size [{list(w.shape)}] instead")


def _check_bias(w, bias, n_out):
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != n_out):
        raise RuntimeError(
            f"Given weight of size {list(w.shape)}, expected bias to be 1-dimensional with "
            f"{n_out} elements, but got bias of size {list(bias.shape)} instead")


def _conv(d):
    name = f"conv{d}d"

    def fn(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
        x, unbatched = _batched(
            input, d, f"Expected {d + 1}D (unbatched) or {d + 2}D (batched) input to {name}, "
                      f"but got input of size: {list(input.shape)}")
        stride, dilation, tup = _conv_geometry(name, x, weight, stride, dilation, d)
        kernel = tuple(weight.shape[2:])
        if isinstance(padding, str):
            if padding == "valid":
                pads = ((0, 0),) * d
            elif padding == "same":
                if any(s != 1 for s in stride):
                    raise RuntimeError("padding='same' is not supported for strided "
                                       "convolutions")
                total = [dl * (k - 1) for dl, k in zip(dilation, kernel)]
                pads = tuple((t // 2, t - t // 2) for t in total)
            else:
                raise RuntimeError(f"Invalid padding string: '{padding}'")
        else:
            pads = tuple((p, p) for p in tup(padding, "padding"))
            if any(p < 0 for p, _ in pads):
                raise RuntimeError("negative padding is not supported")
        _check_groups(weight, groups)
        c = weight.shape[1] * groups
        if x.shape[1] != c:
            raise RuntimeError(
                f"Given groups={groups}, weight of size {list(weight.shape)}, expected "
                f"input{list(x.shape)} to have {c} channels, but got {x.shape[1]} channels "
                "instead")
        _check_bias(weight, bias, weight.shape[0])
        padded = [s + lo + hi for s, (lo, hi) in zip(x.shape[2:], pads)]
        eff = [dl * (k - 1) + 1 for dl, k in zip(dilation, kernel)]
        if any(p < e for p, e in zip(padded, eff)):
            raise RuntimeError(
                f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). "
                f"Kernel size: ({' x '.join(map(str, eff))}). Kernel size can't be greater "
                "than actual input size")
        y = apply(_CONV, (x, weight, bias), {"stride": stride, "padding": pads,
                                             "dilation": dilation, "groups": groups})
        return y.squeeze(0) if unbatched else y

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"{d}-D convolution (cross-correlation) over an (N, C, *spatial) or "
                  f"unbatched input: ``ember.{name}(x, w, b, stride=1, padding='same')``.")
    return fn


def _conv_transpose(d):
    name = f"conv_transpose{d}d"

    def fn(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           output_padding=0, groups: int = 1, dilation=1) -> Tensor:
        x, unbatched = _batched(
            input, d, f"Expected {d + 1}D (unbatched) or {d + 2}D (batched) input to {name}, "
                      f"but got input of size: {list(input.shape)}")
        stride, dilation, tup = _conv_geometry(name, x, weight, stride, dilation, d)
        padding, opad = tup(padding, "padding"), tup(output_padding, "output_padding")
        if any(p < 0 for p in padding):
            raise RuntimeError("negative padding is not supported")
        if any(p < 0 for p in opad):
            raise RuntimeError("negative output_padding is not supported")
        if any(op >= st and op >= dl for op, st, dl in zip(opad, stride, dilation)):
            raise RuntimeError(
                f"output padding must be smaller than either stride or dilation, but got "
                f"output_padding={list(opad)} stride={list(stride)} dilation={list(dilation)}")
        _check_groups(weight, groups)
        if x.shape[1] != weight.shape[0]:
            raise RuntimeError(
                f"Given transposed=1, weight of size {list(weight.shape)}, expected "
                f"input{list(x.shape)} to have {weight.shape[0]} channels, but got "
                f"{x.shape[1]} channels instead")
        _check_bias(weight, bias, weight.shape[1] * groups)
        kernel = weight.shape[2:]
        size = tuple((i - 1) * st - 2 * p + dl * (k - 1) + op + 1 for i, st, p, dl, k, op in
                     zip(x.shape[2:], stride, padding, dilation, kernel, opad))
        if any(s <= 0 for s in size):
            raise RuntimeError(
                f"Given input size per channel: ({' x '.join(map(str, x.shape[2:]))}). "
                f"Calculated output size per channel: ({' x '.join(map(str, size))}). "
                "Output size is too small")
        y = apply(_CONV_T, (x, weight, bias), {"stride": stride, "padding": padding,
                                               "dilation": dilation, "groups": groups,
                                               "output_size": size})
        return y.squeeze(0) if unbatched else y

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"{d}-D transposed convolution (the gradient of {d}-D convolution w.r.t. "
                  f"its input): ``ember.{name}(x, w, stride=2, output_padding=1)``.")
    return fn


conv1d, conv2d, conv3d = (autocast_listed(_conv(d)) for d in (1, 2, 3))
conv_transpose1d, conv_transpose2d, conv_transpose3d = (
    autocast_listed(_conv_transpose(d)) for d in (1, 2, 3))


def convolution(input: Tensor, weight: Tensor, bias: Tensor | None, stride, padding, dilation,
                transposed: bool, output_padding, groups: int) -> Tensor:
    """``torch.convolution``: the convolution or transposed convolution of any spatial rank."""
    d = weight.ndim - 2
    if transposed:
        return _conv_transpose(d)(input, weight, bias, stride, padding, output_padding, groups,
                                  dilation)
    return _conv(d)(input, weight, bias, stride, padding, dilation, groups)


# -- im2col / col2im ------------------------------------------------------------------------------

def _fold_args(kernel_size, dilation, padding, stride, name):
    k, dl, p, st = (_ntuple(v, 2, name) for v in (kernel_size, dilation, padding, stride))
    if any(a <= 0 for a in k):
        raise RuntimeError(f"kernel size should be greater than zero, but got kernel_height: "
                           f"{k[0]} kernel_width: {k[1]}")
    if any(a <= 0 for a in st):
        raise RuntimeError(f"stride should be greater than zero, but got stride_height: "
                           f"{st[0]} stride_width: {st[1]}")
    if any(a <= 0 for a in dl):
        raise RuntimeError(f"dilation should be greater than zero, but got dilation_height: "
                           f"{dl[0]} dilation_width: {dl[1]}")
    if any(a < 0 for a in p):
        raise RuntimeError(f"padding should be non-negative, but got pad_height: {p[0]} "
                           f"pad_width: {p[1]}")
    return {"kernel_size": k, "dilation": dl, "padding": p, "stride": st}


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """im2col: the sliding blocks of a (N, C, H, W) input as columns (N, C·kh·kw, L):
    ``F.unfold(x, kernel_size=3, padding=1)``."""
    if input.ndim not in (3, 4) or any(s == 0 for s in input.shape[1:]):
        raise RuntimeError(
            "Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other "
            f"non-zero dimensions for input, but got: {list(input.shape)}")
    p = _fold_args(kernel_size, dilation, padding, stride, "unfold")
    x, unbatched = _batched(input, 2, "")
    out = [(s + 2 * pp - dl * (k - 1) - 1) // st + 1 for s, pp, k, st, dl in
           zip(x.shape[2:], p["padding"], p["kernel_size"], p["stride"], p["dilation"])]
    if any(o < 1 for o in out):
        raise RuntimeError(
            f"Given input with spatial size ({x.shape[2]}, {x.shape[3]}), "
            f"kernel_size={p['kernel_size']}, dilation={p['dilation']}, "
            f"padding={p['padding']}, calculated shape of the array of sliding blocks as "
            f"({out[0]}, {out[1]}), but its components must be at least one.")
    y = apply(R["im2col"], (x,), p)
    return y.squeeze(0) if unbatched else y


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """col2im: sums columns (N, C·kh·kw, L) back into a (N, C, *output_size) tensor (the
    adjoint of ``unfold``): ``F.fold(cols, (4, 5), kernel_size=2)``."""
    if input.ndim not in (2, 3) or any(s == 0 for s in input.shape[1:]):
        raise RuntimeError(
            "Expected 2D or 3D (batch mode) tensor with possibly 0 batch size and other "
            f"non-zero dimensions for input, but got: {list(input.shape)}")
    p = _fold_args(kernel_size, dilation, padding, stride, "fold")
    size = _ntuple(output_size, 2, "fold")
    x = input.unsqueeze(0) if input.ndim == 2 else input
    kk = math.prod(p["kernel_size"])
    if x.shape[1] % kk:
        raise RuntimeError(
            "Expected size of input's dimension 1 to be divisible by the product of "
            f"kernel_size, but got input.size(1)={x.shape[1]} and "
            f"kernel_size={p['kernel_size']}.")
    out = [(s + 2 * pp - dl * (k - 1) - 1) // st + 1 for s, pp, k, st, dl in
           zip(size, p["padding"], p["kernel_size"], p["stride"], p["dilation"])]
    if math.prod(out) != x.shape[2] or any(o < 1 for o in out):
        raise RuntimeError(
            f"Given output_size={size}, kernel_size={p['kernel_size']}, "
            f"dilation={p['dilation']}, padding={p['padding']}, stride={p['stride']}, "
            f"expected size of input's dimension 2 to match the calculated number of sliding "
            f"blocks {out[0]} * {out[1]} = {math.prod(out)}, but got "
            f"input.size(2)={x.shape[2]}.")
    y = apply(R["col2im"], (x,), dict(p, output_size=size))
    return y.squeeze(0) if input.ndim == 2 else y


# -- pooling --------------------------------------------------------------------------------------

def _pool_out(size, k, st, p, dl, ceil_mode):
    """PyTorch's pooling_output_shape: the last window must start inside input or left pad."""
    o = (size + 2 * p - dl * (k - 1) - 1 + (st - 1 if ceil_mode else 0)) // st + 1
    if ceil_mode and (o - 1) * st >= size + p:
        o -= 1
    return o


def _pool_args(name, d, kernel_size, stride, padding, dilation=1):
    msg = (f"{name}: kernel_size must either be a single int, or a tuple of "
           f"{('', 'two', 'three')[d - 1] or 'one'} ints")
    k = _ntuple(kernel_size, d, name, msg)
    st = k if stride is None or (not isinstance(stride, int) and len(stride) == 0) else \
        _ntuple(stride, d, name, msg.replace("kernel_size", "stride"))
    p = _ntuple(padding, d, name, msg.replace("kernel_size", "padding"))
    dl = _ntuple(dilation, d, name, msg.replace("kernel_size", "dilation"))
    if any(a <= 0 for a in k):
        raise RuntimeError(f"{name}: kernel_size must be greater than zero, but got {list(k)}")
    if any(a == 0 for a in st):
        raise RuntimeError("stride should not be zero")
    if any(a <= 0 for a in dl):
        raise RuntimeError(f"dilation should be greater than zero, but got {list(dl)}")
    for pp, kk, dd in zip(p, k, dl):
        if pp < 0 or pp > ((kk - 1) * dd + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={pp}, kernel_size={kk} and dilation={dd}")
    return k, st, p, dl


def _pool_input(name, input, d):
    if d == 1:
        msg = (f"{name}: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size "
               f"for input, but got:{list(input.shape)}")
    else:
        msg = f"non-empty {d + 1}D or {d + 2}D (batch mode) tensor expected for input"
    x, unbatched = _batched(input, d, msg)
    if any(s == 0 for s in x.shape[1:]):
        raise RuntimeError(msg)
    return x, unbatched


def _checked_out(x, out):
    if any(o < 1 for o in out):
        sizes = "x".join(map(str, x.shape[1:]))
        outs = "x".join(map(str, (x.shape[1], *out)))
        raise RuntimeError(f"Given input size: ({sizes}). Calculated output size: ({outs}). "
                           "Output size is too small")


def _max_pool(d):
    name = f"max_pool{d}d"

    def fn(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
           ceil_mode: bool = False, return_indices: bool = False):
        x, unbatched = _pool_input(name, input, d)
        if d == 1 and not return_indices and x._data.dtype.kind in "iu":
            raise NotImplementedError(
                f"\"max_pool1d_impl\" not implemented for '{x.dtype.word}'")
        k, st, p, dl = _pool_args(name, d, kernel_size, stride, padding, dilation)
        out = [_pool_out(s, kk, ss, pp, dd, ceil_mode)
               for s, kk, ss, pp, dd in zip(x.shape[2:], k, st, p, dl)]
        _checked_out(x, out)
        params = {"kernel_size": k, "stride": st, "padding": p, "dilation": dl,
                  "out": tuple(out)}
        if not return_indices:
            y = apply(R["max_pool_values"], (x,), params)
            return y.squeeze(0) if unbatched else y
        y, idx = apply(R["max_pool"], (x,), params)
        if unbatched:
            y, idx = y.squeeze(0), idx.squeeze(0)
        return y, idx

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"{d}-D max pooling; ``return_indices=True`` also gives the flat index of "
                  f"each max within its plane: ``F.{name}(x, 2, return_indices=True)``.")
    return fn


max_pool1d, max_pool2d, max_pool3d = _max_pool(1), _max_pool(2), autocast_listed(_max_pool(3))


def max_pool1d_with_indices(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode: bool = False):
    """``max_pool1d`` returning (values, indices)."""
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode: bool = False):
    """``max_pool2d`` returning (values, indices)."""
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode: bool = False):
    """``max_pool3d`` returning (values, indices)."""
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def _avg_pool(d):
    name = f"avg_pool{d}d"

    def fn(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
           count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
        if d == 1:
            if input.ndim not in (2, 3):
                raise RuntimeError(
                    f"Expected 2 to 3 dimensions, but got {input.ndim}-dimensional tensor for "
                    "argument #1 'self' (while checking arguments for avg_pool1d)")
            x, unbatched = _batched(input, d, "")
        else:
            x, unbatched = _pool_input(name, input, d)
        k, st, p, _ = _pool_args(name, d, kernel_size, stride, padding)
        if divisor_override is not None and divisor_override == 0:
            raise RuntimeError("divisor must be not zero")
        dt = x._data.dtype
        if dt.kind in "biuc" and dt != np.int64:
            raise NotImplementedError(f"\"{name}\" not implemented for '{x.dtype.word}'")
        if d == 3 and x.dtype.itemsize == 2:
            raise NotImplementedError(
                f"\"avg_pool3d_out_frame\" not implemented for '{x.dtype.word}'")
        out = tuple(_pool_out(s, kk, ss, pp, 1, ceil_mode)
                    for s, kk, ss, pp in zip(x.shape[2:], k, st, p))
        _checked_out(x, out)
        y = apply(R["avg_pool"], (x,), {"kernel_size": k, "stride": st, "padding": p,
                                        "out": out, "count_include_pad": count_include_pad,
                                        "divisor_override": divisor_override})
        return y.squeeze(0) if unbatched else y

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"{d}-D average pooling: ``F.{name}(x, 2, count_include_pad=False)``.")
    return fn


avg_pool1d, avg_pool2d, avg_pool3d = _avg_pool(1), _avg_pool(2), autocast_listed(_avg_pool(3))


def _output_size(name, x, output_size, d):
    size = x.shape[2:]
    if isinstance(output_size, numbers.Integral):
        return (int(output_size),) * d
    out = tuple(output_size)
    if len(out) != d:
        raise RuntimeError(f"{name}: internal error: output_size.size() must be {d}")
    return tuple(s if o is None else int(o) for o, s in zip(out, size))


def _adaptive_input(name, input, d):
    if input.ndim not in (d + 1, d + 2):
        raise RuntimeError(f"{name}(): Expected {d + 1}D or {d + 2}D tensor, but got "
                           f"{list(input.shape)}")
    x, unbatched = _batched(input, d, "")
    for i in range(1, x.ndim):
        if x.shape[i] == 0:
            raise RuntimeError(
                f"{name}(): Expected input to have non-zero size for non-batch dimensions, "
                f"but input has sizes {list(input.shape)} with dimension "
                f"{i - (1 if unbatched else 0)} being empty")
    return x, unbatched


def _adaptive_avg_pool(d):
    name = f"adaptive_avg_pool{d}d"

    def fn(input: Tensor, output_size) -> Tensor:
        x, unbatched = _adaptive_input(name, input, d)
        if not x.is_floating_point():
            raise NotImplementedError(f"\"{name}\" not implemented for '{x.dtype.word}'")
        out = _output_size(name, x, output_size, d)
        y = x
        # separable: one matmul per dim with the (out, in) matrix of window averages
        for i, (s, o) in enumerate(zip(x.shape[2:], out)):
            start, end = _adaptive_bounds(s, o)
            cols = np.arange(s)
            m = ((cols >= start[:, None]) & (cols < end[:, None])) / (end - start)[:, None]
            ax = 2 + i
            y = (y.movedim(ax, -1) @ _const(x, m.T)).movedim(-1, ax)
        return y.squeeze(0) if unbatched else y

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"{d}-D adaptive average pooling to ``output_size``: ``F.{name}(x, 1)``."
    return fn


adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d = (
    autocast_listed(_adaptive_avg_pool(d)) for d in (1, 2, 3))


def _adaptive_max_pool(d):
    name = f"adaptive_max_pool{d}d"

    def fn(input: Tensor, output_size, return_indices: bool = False):
        if input.ndim not in (d + 1, d + 2):
            raise RuntimeError(f"{name}(): Expected {d + 1}D or {d + 2}D tensor, but got: "
                               f"{list(input.shape)}")
        x, unbatched = _adaptive_input(name, input, d)
        out = _output_size(name, x, output_size, d)
        y, idx = apply(R["adaptive_max_pool"], (x,), {"output_size": out})
        if unbatched:
            y, idx = y.squeeze(0), idx.squeeze(0)
        return (y, idx) if return_indices else y

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"{d}-D adaptive max pooling to ``output_size``: "
                  f"``F.{name}(x, 4, return_indices=True)``.")
    return fn


adaptive_max_pool1d, adaptive_max_pool2d, adaptive_max_pool3d = (
    _adaptive_max_pool(d) for d in (1, 2, 3))


def adaptive_max_pool1d_with_indices(input: Tensor, output_size):
    """``adaptive_max_pool1d`` returning (values, indices), as ``torch.adaptive_max_pool1d``."""
    return adaptive_max_pool1d(input, output_size, True)


def _lp_pool(d):
    name = f"lp_pool{d}d"

    def fn(input: Tensor, norm_type: float, kernel_size, stride=None,
           ceil_mode: bool = False) -> Tensor:
        k = _ntuple(kernel_size, d, name)
        if norm_type == float("inf"):
            return _MAX[d](input.abs(), kernel_size, stride, 0, 1, ceil_mode)
        if norm_type == -float("inf"):
            return -_MAX[d](-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
        out = _AVG[d](input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
        return (out.sign() * out.abs().relu()).mul(math.prod(k)).pow(1.0 / norm_type)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"{d}-D power-average pooling: ``F.{name}(x, 2, kernel_size=2)``."
    return fn


_MAX = {1: max_pool1d, 2: max_pool2d, 3: max_pool3d}
_AVG = {1: avg_pool1d, 2: avg_pool2d, 3: avg_pool3d}
lp_pool1d, lp_pool2d, lp_pool3d = (_lp_pool(d) for d in (1, 2, 3))


def _fractional_max_pool(d):
    name = f"fractional_max_pool{d}d"

    def fn(input: Tensor, kernel_size, output_size=None, output_ratio=None,
           return_indices: bool = False, _random_samples: Tensor | None = None):
        if output_size is None and output_ratio is None:
            raise ValueError(f"{name} requires specifying either an output_size or an "
                             "output_ratio")
        k = _ntuple(kernel_size, d, name)
        if output_size is None:
            ratio = (output_ratio,) * d if isinstance(output_ratio, numbers.Real) else \
                tuple(output_ratio)
            if len(ratio) > d:
                raise ValueError(f"{name} requires output_ratio to either be a single Int or "
                                 "tuple of Ints.")
            ratio = ratio * d if len(ratio) == 1 else ratio
            output_size = [int(input.shape[-d + i] * ratio[i]) for i in range(d)]
        out = _ntuple(output_size, d, name)
        if input.ndim not in (d + 1, d + 2):
            raise RuntimeError(f"{name}(): Expected {d + 1}D or {d + 2}D tensor, but got: "
                               f"{list(input.shape)}")
        x, unbatched = _batched(input, d, "")
        if _random_samples is None:
            from .. import rand
            _random_samples = rand(x.shape[0], x.shape[1], d, dtype=x.dtype, device=x.device)
        smp = _random_samples
        if smp.ndim != 3 or smp.shape[0] != x.shape[0] or smp.shape[1] != x.shape[1] or \
                smp.shape[2] != d:
            raise RuntimeError(f"Expect _random_samples to be of shape [{x.shape[0]}, "
                               f"{x.shape[1]}, {d}]; got {list(smp.shape)}.")
        dims = ("time", "height", "width")[3 - d:]
        where = f"{name}_out()" if d == 3 else f"{name}()"
        for dim, o, kk, s in zip(dims, out, k, x.shape[2:]):
            if o + kk - 1 > s - (d == 3):  # PyTorch's 3-D check is strict
                raise RuntimeError(f"{where}: pool {dim} {kk} too large relative to input "
                                   f"{dim} {s}")
        y, idx = apply(R["fractional_max_pool"], (x, smp.detach()),
                       {"kernel_size": k, "output_size": out})
        if unbatched:
            y, idx = y.squeeze(0), idx.squeeze(0)
        return (y, idx) if return_indices else y

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"{d}-D fractional max pooling (Graham, 2014) with pseudo-random window "
                  f"starts: ``F.{name}(x, 2, output_ratio=0.5)``.")
    return fn


fractional_max_pool2d, fractional_max_pool3d = (_fractional_max_pool(d) for d in (2, 3))


def _max_unpool(d):
    name = f"max_unpool{d}d"

    def fn(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
           output_size=None) -> Tensor:
        k = _ntuple(kernel_size, d, name)
        st = k if stride is None else _ntuple(stride, d, name)
        p = _ntuple(padding, d, name)
        default = [(input.shape[-d + i] - 1) * st[i] + k[i] - 2 * p[i] for i in range(d)]
        if output_size is None:
            size = default
        else:
            size = list(output_size)
            if len(size) == d + 2:
                size = size[2:]
            if len(size) != d:
                raise ValueError(f"output_size should be a sequence containing {d} or {d + 2} "
                                 f"elements, but it has a length of '{len(size)}'")
            for i in range(d):
                lo, hi = default[i] - st[i], default[i] + st[i]
                if not lo < size[i] < hi:
                    raise ValueError(f'invalid output_size "{output_size}" (dim {i} must be '
                                     f"between {lo} and {hi})")
        if tuple(indices.shape) != tuple(input.shape):
            raise RuntimeError(f"Expected shape of indices to be same as that of the input "
                               f"tensor ({list(input.shape)}) but got indices tensor with "
                               f"shape: {list(indices.shape)}")
        plane = math.prod(size)
        lead = input.shape[:input.ndim - d]
        flat_idx = indices.reshape(lead + (-1,))
        if flat_idx.numel():
            lo_i, hi_i = int(flat_idx.min()), int(flat_idx.max())
            if lo_i < 0 or hi_i >= plane:
                bad = lo_i if lo_i < 0 else hi_i
                raise RuntimeError(f"Found an invalid max index: {bad} (output volumes are of "
                                   f"size {'x'.join(map(str, size))}")
        out = input.new_zeros(lead + (plane,)).scatter(-1, flat_idx,
                                                       input.reshape(lead + (-1,)))
        return out.reshape(lead + tuple(size))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"Partial inverse of ``max_pool{d}d``: values put at their indices, zeros "
                  f"elsewhere: ``F.{name}(y, idx, 2)``.")
    return fn


max_unpool1d, max_unpool2d, max_unpool3d = (
    autocast_listed(_max_unpool(d)) for d in (1, 2, 3))


# -- padding and shuffles -------------------------------------------------------------------------

def constant_pad_nd(input: Tensor, pad, value=0) -> Tensor:
    """Pad (or crop, for negative amounts) the last dims with ``value``; ``pad`` lists
    (left, right) of the last dim first: ``ember.constant_pad_nd(x, (1, 1, 2, 0))``."""
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError("Length of pad must be even but instead it equals " + str(len(pad)))
    if len(pad) // 2 > input.ndim:
        raise RuntimeError(
            "Length of pad should be no more than twice the number of dimensions of the input. "
            f"Pad length is {len(pad)} while the input has {input.ndim} dimensions.")
    return apply(R["constant_pad_nd"], (input,), {"pad": pad, "value": value})


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last ``len(pad) // 2`` dims (``pad`` = (left, right) of the last dim first, then
    the one before, ...) with a constant or by reflecting, replicating or wrapping the input:
    ``F.pad(x, (1, 1, 2, 2), mode="reflect")``."""
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.ndim:
        raise RuntimeError(
            "Padding length should be less than or equal to two times the input dimension but "
            f"got padding length {len(pad)} and input of dimension {input.ndim}")
    if mode == "constant":
        return apply(R["constant_pad_nd"], (input,), {"pad": pad, "value": value or 0})
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    k = len(pad) // 2
    if k not in (1, 2, 3) or input.ndim not in (k + 1, k + 2):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {input.ndim}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    if 0 in input.shape[input.ndim - k - 1:]:
        raise RuntimeError(
            f"Expected {k + 1}D or {k + 2}D (batch mode) tensor with possibly 0 batch size and "
            f"other non-zero dimensions for input, but got: {list(input.shape)}")
    for i in range(k):
        lo, hi = pad[2 * i], pad[2 * i + 1]
        ax = input.ndim - 1 - i
        n = input.shape[ax]
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(
                f"Argument #4: Padding size should be less than the corresponding input "
                f"dimension, but got: padding ({lo}, {hi}) at dimension {ax} of input "
                f"{list(input.shape)}")
        if mode == "circular" and (lo > n or hi > n):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if n + lo + hi <= 0:
            raise RuntimeError(f"input (H: {n}) is too small. Calculated output H: "
                               f"{n + lo + hi}")
    return apply(R["pad"], (input,), {"pad": pad, "mode": mode})


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C·r², H, W) -> (*, C, H·r, W·r): ``ember.pixel_shuffle(x, 2)``."""
    r = upscale_factor
    if input.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but "
                           f"got input with {input.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(
            "pixel_shuffle expects its input's 'channel' dimension to be divisible by the "
            f"square of upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    n = len(lead)
    y = input.reshape((*lead, c // (r * r), r, r, h, w))
    y = y.permute(tuple(range(n)) + (n, n + 3, n + 1, n + 4, n + 2))
    return y.reshape((*lead, c // (r * r), h * r, w * r))


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H·r, W·r) -> (*, C·r², H, W), the inverse of ``pixel_shuffle``."""
    r = downscale_factor
    if input.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but "
                           f"got input with {input.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    *lead, c, h, w = input.shape
    if h % r:
        raise RuntimeError(f"pixel_unshuffle expects height to be divisible by "
                           f"downscale_factor, but input.size(-2)={h} is not divisible by {r}")
    if w % r:
        raise RuntimeError(f"pixel_unshuffle expects width to be divisible by "
                           f"downscale_factor, but input.size(-1)={w} is not divisible by {r}")
    n = len(lead)
    y = input.reshape((*lead, c, h // r, r, w // r, r))
    y = y.permute(tuple(range(n)) + (n, n + 2, n + 4, n + 1, n + 3))
    return y.reshape((*lead, c * r * r, h // r, w // r))


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """Interleave the channels of ``groups`` groups: (N, g·k, *) -> channel order
    (0, k, 2k, ..., 1, k+1, ...): ``ember.channel_shuffle(x, 2)``."""
    if input.ndim <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with "
                           f"sizes {list(input.shape)}")
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value "
                           f"of groups:{groups}")
    n, c, *rest = input.shape
    if c % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels "
                           f"and {groups} groups.")
    y = input.reshape((n, groups, c // groups, *rest)).transpose(1, 2)
    return y.reshape(input.shape)


native_channel_shuffle = channel_shuffle

# ``torch.<name>`` and ``torch.nn.functional.<name>`` are the same function
for _f in (conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d,
           convolution, avg_pool1d, adaptive_avg_pool1d, pixel_shuffle, pixel_unshuffle,
           channel_shuffle, constant_pad_nd, max_pool1d_with_indices):
    _export(_f, method=False)
_export(native_channel_shuffle, method=False)
# ``torch.max_pool*d`` take no return_indices; ``torch.adaptive_max_pool1d`` returns a pair
_export(max_pool1d, method=False)
_export(max_pool2d, method=False)
_export(max_pool3d, method=False)
_export(adaptive_max_pool1d_with_indices, "adaptive_max_pool1d", method=False)

# what ``ember.nn.functional`` takes from here
FUNCTIONAL = (
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "unfold", "fold", "pad", "max_pool1d", "max_pool2d", "max_pool3d",
    "max_pool1d_with_indices", "max_pool2d_with_indices", "max_pool3d_with_indices",
    "max_unpool1d", "max_unpool2d", "max_unpool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
    "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
    "adaptive_max_pool1d_with_indices", "lp_pool1d", "lp_pool2d", "lp_pool3d",
    "fractional_max_pool2d", "fractional_max_pool3d", "pixel_shuffle", "pixel_unshuffle",
    "channel_shuffle", "native_channel_shuffle",
)
