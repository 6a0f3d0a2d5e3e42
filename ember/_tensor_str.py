"""Tensor printing that reproduces PyTorch's ``repr`` format exactly.

This mirrors the *behaviour* of ``torch/_tensor_str.py`` but operates on plain numpy
arrays, so it depends on nothing else in ember and can be used by ``Tensor.__repr__``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

__all__ = ["get_printoptions", "printoptions", "set_printoptions", "tensor_repr"]


@dataclasses.dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


PRINT_OPTS = _PrintOptions()

# Named presets accepted by ``set_printoptions(profile=...)`` (same values as torch).
_PROFILES: dict[str, dict[str, Any]] = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Set printing options; same semantics as ``torch.set_printoptions``.

    A ``profile`` ("default", "short", "full") is applied first and can be overridden by
    the explicit arguments. Unlike the other options, ``sci_mode`` is always assigned, so
    omitting it resets it to automatic selection (torch does the same).
    """
    if profile is not None and profile in _PROFILES:
        for name, value in _PROFILES[profile].items():
            setattr(PRINT_OPTS, name, value)
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """Current print options as a dict that can be passed back to ``set_printoptions``."""
    return dataclasses.asdict(PRINT_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs: Any) -> Iterator[None]:
    """Temporarily change print options (arguments as for ``set_printoptions``)."""
    saved = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**saved)


# --------------------------------------------------------------------------------------
# Element formatting
# --------------------------------------------------------------------------------------


class _Formatter:
    """Chooses one common format (and column width) for all elements of a tensor.

    ``values`` is the (possibly summarised) data: float64 for floating tensors, the
    original integer/bool array otherwise.
    """

    def __init__(self, values: np.ndarray, floating: bool) -> None:
        self.floating = floating
        self.int_mode = True
        self.sci_mode: Any = False
        self.max_width = 1
        flat = values.reshape(-1)

        if not floating:
            if flat.size == 0:
                return
            if flat.dtype == np.bool_:
                # "False" is the widest possible string.
                self.max_width = 5 if not flat.all() else 4
            else:
                # The longest decimal string belongs to the minimum or the maximum.
                lo, hi = int(flat.min()), int(flat.max())
                self.max_width = max(1, len(str(lo)), len(str(hi)))
            return

        # Only nonzero finite values influence the layout; zeros/nan/inf are just padded.
        vals = flat[np.isfinite(flat) & (flat != 0)]
        if vals.size == 0:
            return
        mags = np.abs(vals)
        lo, hi = float(mags.min()), float(mags.max())
        self.int_mode = bool(np.all(vals == np.ceil(vals)))
        if PRINT_OPTS.sci_mode is None:
            self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
        else:
            self.sci_mode = PRINT_OPTS.sci_mode

        prec = PRINT_OPTS.precision
        extra = 0
        if self.sci_mode:
            spec = f".{prec}e"
        elif self.int_mode:
            # Integral floats print as "3." -- reserve a column for the trailing dot.
            spec, extra = ".0f", 1
        else:
            spec = f".{prec}f"
        # Width only depends on distinct values; dedupe to keep large tensors cheap.
        for v in np.unique(vals).tolist():
            self.max_width = max(self.max_width, len(format(v, spec)) + extra)

    def width(self) -> int:
        return self.max_width

    def format(self, value: Any) -> str:
        if self.floating:
            if self.sci_mode:
                text = format(value, f"{self.max_width}.{PRINT_OPTS.precision}e")
            elif self.int_mode:
                text = format(value, ".0f")
                if not (math.isinf(value) or math.isnan(value)):
                    text += "."
            else:
                text = format(value, f".{PRINT_OPTS.precision}f")
        else:
            text = f"{value}"
        return text.rjust(self.max_width)


def _complex_str(value: complex, real_fmt: _Formatter, imag_fmt: _Formatter) -> str:
    real = real_fmt.format(value.real)
    imag = (imag_fmt.format(value.imag) + "j").lstrip()
    # A signed imaginary part (incl. -0.) carries its own sign; otherwise insert "+".
    if imag[0] in "+-":
        return real + imag
    return real + "+" + imag


def _element_fn(real_fmt: _Formatter, imag_fmt: _Formatter | None) -> Callable[[Any], str]:
    if imag_fmt is None:
        return real_fmt.format
    return lambda v: _complex_str(v, real_fmt, imag_fmt)


# --------------------------------------------------------------------------------------
# Layout
# --------------------------------------------------------------------------------------


def _vector_str(
    vec: np.ndarray,
    indent: int,
    summarize: bool,
    real_fmt: _Formatter,
    imag_fmt: _Formatter | None,
) -> str:
    # Each element occupies its width plus ", ".
    item_len = real_fmt.width() + 2
    if imag_fmt is not None:
        item_len += imag_fmt.width() + 1  # imaginary part plus its "j"
    per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / item_len))
    fmt = _element_fn(real_fmt, imag_fmt)
    edge = PRINT_OPTS.edgeitems

    if summarize and not edge:
        items = ["..."]
    elif summarize and vec.shape[0] > 2 * edge:
        items = (
            [fmt(v) for v in vec[:edge].tolist()]
            + [" ..."]
            + [fmt(v) for v in vec[-edge:].tolist()]
        )
    else:
        items = [fmt(v) for v in vec.tolist()]

    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested_str(
    arr: np.ndarray,
    indent: int,
    summarize: bool,
    real_fmt: _Formatter,
    imag_fmt: _Formatter | None,
) -> str:
    if arr.ndim == 0:
        return _element_fn(real_fmt, imag_fmt)(arr.item())
    if arr.ndim == 1:
        return _vector_str(arr, indent, summarize, real_fmt, imag_fmt)

    edge = PRINT_OPTS.edgeitems
    n = arr.shape[0]

    def sub(i: int) -> str:
        return _nested_str(arr[i], indent + 1, summarize, real_fmt, imag_fmt)

    if summarize and n > 2 * edge:
        parts = [sub(i) for i in range(edge)] + ["..."] + [sub(i) for i in range(n - edge, n)]
    else:
        parts = [sub(i) for i in range(n)]
    # Higher-dimensional blocks are separated by (ndim - 1) line breaks.
    sep = "," + "\n" * (arr.ndim - 1) + " " * (indent + 1)
    return "[" + sep.join(parts) + "]"


def _summarized(arr: np.ndarray) -> np.ndarray:
    """The elements that are actually displayed when summarising (used for formatting)."""
    edge = PRINT_OPTS.edgeitems
    if arr.ndim == 0:
        return arr
    if not edge:
        # torch keeps a 1-d tensor whole here (x[:0] ++ x[-0:]), but drops everything
        # for higher dims.
        return arr if arr.ndim == 1 else arr[(slice(0, 0),) * arr.ndim]
    index = []
    for n in arr.shape:
        if n > 2 * edge:
            index.append(np.r_[0:edge, n - edge : n])
        else:
            index.append(np.arange(n))
    return arr[np.ix_(*index)]


def _tensor_str(arr: np.ndarray, indent: int, kind: str) -> str:
    if arr.size == 0:
        return "[]"
    summarize = arr.size > PRINT_OPTS.threshold
    shown = _summarized(arr) if summarize else arr
    if kind == "complex":
        real_fmt = _Formatter(shown.real, True)
        imag_fmt: _Formatter | None = _Formatter(shown.imag, True)
    else:
        real_fmt = _Formatter(shown, kind == "float")
        imag_fmt = None
    return _nested_str(arr, indent, summarize, real_fmt, imag_fmt)


def _add_suffixes(text: str, suffixes: list[str], indent: int,
                  force_newline: bool = False) -> str:
    out = [text]
    # torch's bookkeeping over-counts the current line by 2; kept for identical wrapping.
    line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if force_newline or line_len + len(suffix) + 2 > PRINT_OPTS.linewidth:
            out.append(",\n" + " " * indent + suffix)
            line_len = indent + len(suffix)
            force_newline = False
        else:
            out.append(", " + suffix)
            line_len += len(suffix) + 2
    out.append(")")
    return "".join(out)


# --------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------

_DTYPE_ALIASES = {
    "float": "float32",
    "double": "float64",
    "half": "float16",
    "cfloat": "complex64",
    "cdouble": "complex128",
    "long": "int64",
    "int": "int32",
    "short": "int16",
}


def _canonical_dtype(name: str) -> str:
    name = name.removeprefix("torch.").removeprefix("ember.")
    return _DTYPE_ALIASES.get(name, name)


def _dtype_kind(dtype_name: str, arr: np.ndarray) -> str:
    if dtype_name.startswith("complex") or arr.dtype.kind == "c":
        return "complex"
    if dtype_name.startswith(("float", "bfloat")) or arr.dtype.kind == "f":
        return "float"
    if dtype_name == "bool":
        return "bool"
    return "int"


def tensor_repr(
    data: np.ndarray,
    *,
    dtype_name: str,
    default_dtype_name: str = "float32",
    device: str = "cpu",
    requires_grad: bool = False,
    grad_fn_name: str | None = None,
    prefix: str = "tensor(",
    namespace: str = "ember",
) -> str:
    """Render a tensor exactly as ``repr(torch_tensor)`` would.

    ``data`` holds the values (any numpy layout/dtype, incl. ml_dtypes.bfloat16);
    ``dtype_name`` is the torch-style dtype name, and dtypes print as
    ``{namespace}.{dtype_name}``. Indentation of continuation lines follows ``len(prefix)``.
    """
    arr = np.asarray(data)
    dtype_name = _canonical_dtype(dtype_name)
    default_name = _canonical_dtype(default_dtype_name)
    kind = _dtype_kind(dtype_name, arr)
    # Values are formatted as Python floats/ints, i.e. exactly as torch's ``.item()``.
    if kind == "complex":
        arr = arr.astype(np.complex128)
    elif kind == "float":
        arr = arr.astype(np.float64)
    elif kind == "bool":
        arr = arr.astype(np.bool_)

    indent = len(prefix)
    suffixes: list[str] = []
    if device.split(":", 1)[0] != "cpu":
        suffixes.append(f"device='{device}'")

    dtype_suffix = f"dtype={namespace}.{dtype_name}"
    default_complex = "complex128" if default_name == "float64" else "complex64"
    if arr.size == 0:
        # Shape is only implied for 1-d "[]"; with no elements the dtype cannot be
        # inferred, so anything but the default float dtype is spelled out.
        if arr.ndim != 1:
            suffixes.append(f"size={tuple(arr.shape)}")
        if dtype_name != default_name:
            suffixes.append(dtype_suffix)
        body = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append(f"size={tuple(arr.shape)}")
        # These dtypes are what a literal like tensor([...]) would produce anyway.
        if dtype_name not in (default_name, default_complex, "int64", "bool"):
            suffixes.append(dtype_suffix)
        body = _tensor_str(arr, indent, kind)

    if grad_fn_name is not None:
        suffixes.append(f"grad_fn=<{grad_fn_name}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")

    return _add_suffixes(prefix + body, suffixes, indent)
