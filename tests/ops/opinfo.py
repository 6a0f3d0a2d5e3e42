"""The op test table (OpInfo style): one entry per public op, from which the generic tests in
``test_ops.py`` check forward values/dtypes/shapes, gradients, gradcheck, gradgradcheck,
in-place variants and bad-input errors against real PyTorch.

A sample's tensors are NumPy arrays (``A``); each framework turns them into its own tensors,
so torch and ember see exactly the same inputs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

FLOATS = ("float32", "float64")
HALF = ("float16", "bfloat16")
INTS = ("uint8", "int8", "int16", "int32", "int64")
ALL_REAL = ("bool",) + INTS + HALF + FLOATS
COMPLEX = ("complex64", "complex128")
ALL = ALL_REAL + COMPLEX


@dataclass
class A:
    """A tensor argument: a NumPy array, optionally made non-contiguous in the framework."""
    array: np.ndarray
    noncontig: bool = False
    grad: bool = True  # may require grad (float inputs only)


@dataclass
class Sample:
    args: tuple
    kwargs: dict = field(default_factory=dict)
    name: str = ""


@dataclass
class ErrorCase:
    args: tuple
    kwargs: dict = field(default_factory=dict)
    match: str = ""  # a substring ember's message must contain


@dataclass
class OpInfo:
    name: str
    fn: object  # fn(module, *args, **kwargs)
    samples: object  # samples(dtype_name, rng) -> list[Sample]
    dtypes: tuple = FLOATS
    grad: bool = True
    gradgrad: bool = True
    inplace: str | None = None  # method name of the in-place variant
    errors: tuple = ()
    atol: float = 1e-5
    rtol: float = 1.3e-6
    grad_dtypes: tuple = ("float64",)
    skip_gradcheck_samples: tuple = ()
    nondeterministic_ties: bool = False


def arr(rng, shape, dtype, low=-2.0, high=2.0):
    """A random array of ``dtype`` (a torch-style name)."""
    if dtype == "bool":
        return rng.random(shape) > 0.5
    if dtype in INTS:
        lo = 0 if dtype == "uint8" else max(int(low) - 3, -5)
        return rng.integers(lo, 6, size=shape).astype(dtype)
    if dtype in COMPLEX:
        real = "float32" if dtype == "complex64" else "float64"
        return (arr(rng, shape, real, low, high) + 1j * arr(rng, shape, real, low, high)).astype(
            dtype)
    a = rng.uniform(low, high, size=shape)
    if dtype == "bfloat16":
        import ml_dtypes
        return a.astype(ml_dtypes.bfloat16)
    return a.astype(dtype)


# -- sample generators ----------------------------------------------------------------------------

UNARY_SHAPES = [(3, 4), (5,), (), (0, 3), (2, 3, 4)]


def unary_samples(low=-2.0, high=2.0, shapes=UNARY_SHAPES):
    def gen(dtype, rng):
        out = [Sample((A(arr(rng, s, dtype, low, high)),), name=str(s)) for s in shapes]
        out.append(Sample((A(arr(rng, (4, 3), dtype, low, high), noncontig=True),),
                          name="noncontig"))
        return out
    return gen


BINARY_SHAPES = [((3, 4), (3, 4)), ((3, 1), (1, 4)), ((4,), (3, 4)), ((), (3,)), ((2, 3), ()),
                 ((0, 3), (1, 3))]


def binary_samples(low=-2.0, high=2.0, rhs_low=None, rhs_high=None, scalars=(2, -1.5, True),
                   shapes=BINARY_SHAPES):
    rl = low if rhs_low is None else rhs_low
    rh = high if rhs_high is None else rhs_high

    def gen(dtype, rng):
        out = [Sample((A(arr(rng, a, dtype, low, high)), A(arr(rng, b, dtype, rl, rh))),
                      name=f"{a}x{b}") for a, b in shapes]
        out.append(Sample((A(arr(rng, (4, 3), dtype, low, high), noncontig=True),
                           A(arr(rng, (4, 3), dtype, rl, rh), noncontig=True)), name="noncontig"))
        for s in scalars:
            out.append(Sample((A(arr(rng, (3,), dtype, low, high)), s), name=f"scalar{s}"))
        return out
    gen.kind = "binary"
    return gen


def mixed_dtype_samples(low=-2.0, high=2.0, pairs=(("int64", "float32"), ("float32", "float64"),
                                                   ("int32", "int64"), ("bool", "int64"),
                                                   ("uint8", "int8"), ("float16", "float32"))):
    """Type promotion between tensors of different dtypes, and with 0-d tensors."""
    def gen(dtype, rng):
        out = []
        for a, b in pairs:
            out.append(Sample((A(arr(rng, (3,), a, low, high), grad=False),
                               A(arr(rng, (3,), b, low, high), grad=False)), name=f"{a}+{b}"))
            out.append(Sample((A(arr(rng, (3,), a, low, high), grad=False),
                               A(arr(rng, (), b, low, high), grad=False)), name=f"{a}+0d{b}"))
        return out
    return gen


def reduction_samples(dims=(None, 0, 1, (0, 1), -1), keepdim=True, low=-2.0, high=2.0,
                      dim_kw="dim", extra=None):
    def gen(dtype, rng):
        out = []
        for d in dims:
            for kd in ((False, True) if keepdim else (False,)):
                kw = {} if d is None else {dim_kw: d}
                if keepdim and d is not None:
                    kw["keepdim"] = kd
                out.append(Sample((A(arr(rng, (3, 4), dtype, low, high)),),
                                  dict(kw, **(extra or {})), name=f"dim={d},kd={kd}"))
        d1 = dims[1] if len(dims) > 1 else dims[0]
        out.append(Sample((A(arr(rng, (4, 3), dtype, low, high), noncontig=True),),
                          dict({} if d1 is None else {dim_kw: d1}, **(extra or {})),
                          name="noncontig"))
        out.append(Sample((A(arr(rng, (), dtype, low, high)),), dict(extra or {}), name="0d"))
        out.append(Sample((A(arr(rng, (2, 3, 4), dtype, low, high)),),
                          dict({dim_kw: dims[-1]} if dims[-1] is not None else {}, **(extra or {})),
                          name="3d"))
        return out
    gen.kind = "reduction" if any(d is not None for d in dims) else None
    return gen


def _m(name):
    return lambda m, *a, **k: getattr(m, name)(*a, **k)


def _meth(name):
    return lambda m, x, *a, **k: getattr(x, name)(*a, **k)


# -- the table ------------------------------------------------------------------------------------

OPS: list[OpInfo] = []


def add(name, **kw):
    kw.setdefault("fn", _m(name))
    kind = getattr(kw["samples"], "kind", None)
    bad = {  # bad input every op of a kind must reject: incompatible shapes, dim out of range
        "binary": (ErrorCase((A(np.ones((3, 4), np.float32)), A(np.ones((5,), np.float32))),
                             match="[3, 4]"),),
        "reduction": (ErrorCase((A(np.ones((3, 4), np.float32)),), {"dim": 5},
                                match="Dimension out of range"),),
    }.get(kind, ())
    kw["errors"] = tuple(kw.get("errors", ())) + bad
    OPS.append(OpInfo(name, **kw))


# unary: name -> (domain low, high, dtypes, extra kw)
_FLOAT_UNARY = {
    "exp": (-2, 2), "exp2": (-2, 2), "expm1": (-2, 2), "log": (0.1, 3), "log2": (0.1, 3),
    "log10": (0.1, 3), "log1p": (-0.5, 3), "sqrt": (0.1, 3), "rsqrt": (0.1, 3), "sin": (-3, 3),
    "cos": (-3, 3), "tan": (-1.2, 1.2), "asin": (-0.9, 0.9), "acos": (-0.9, 0.9),
    "atan": (-3, 3), "sinh": (-2, 2), "cosh": (-2, 2), "tanh": (-3, 3), "asinh": (-3, 3),
    "acosh": (1.1, 3), "atanh": (-0.9, 0.9), "sigmoid": (-5, 5), "reciprocal": (0.5, 3),
}
for _n, (_lo, _hi) in _FLOAT_UNARY.items():
    add(_n, samples=unary_samples(_lo, _hi), dtypes=ALL_REAL + COMPLEX
        if _n not in ("exp2", "sigmoid", "expm1", "log1p", "rsqrt") else ALL_REAL,
        inplace=_n + "_", atol=1e-4, rtol=1e-4)

add("neg", samples=unary_samples(), dtypes=ALL[1:], inplace="neg_",
    errors=(ErrorCase((A(np.array([True, False])),), match="bool"),))
add("abs", samples=unary_samples(shapes=[(3, 4), (5,), (), (0, 3)]), dtypes=ALL_REAL[1:],
    inplace="abs_")
add("square", samples=unary_samples(), dtypes=ALL_REAL[1:] + COMPLEX)
add("relu", samples=unary_samples(), dtypes=ALL_REAL[1:], inplace="relu_")
add("sign", samples=unary_samples(), dtypes=ALL_REAL, inplace="sign_", grad=True,
    gradgrad=True)
add("sgn", samples=unary_samples(), dtypes=ALL_REAL + COMPLEX, inplace="sgn_")
for _n in ("floor", "ceil", "trunc", "frac"):
    add(_n, samples=unary_samples(-3, 3), dtypes=HALF + FLOATS, inplace=_n + "_")
add("round", samples=unary_samples(-3, 3), dtypes=HALF + FLOATS, inplace="round_")
add("round_decimals", fn=lambda m, x: m.round(x, decimals=2),
    samples=unary_samples(-3, 3), dtypes=FLOATS, atol=1e-4)
add("logical_not", samples=unary_samples(), dtypes=ALL_REAL, grad=False, inplace="logical_not_")
add("bitwise_not", samples=unary_samples(), dtypes=("bool",) + INTS, grad=False,
    inplace="bitwise_not_")
for _n in ("isnan", "isinf", "isfinite"):
    add(_n, samples=lambda d, r: [Sample((A(np.array([1.0, np.nan, np.inf, -np.inf, 0.0],
                                                     dtype=d)),))], dtypes=HALF + FLOATS,
        grad=False)
add("conj", samples=unary_samples(), dtypes=ALL_REAL + COMPLEX, grad=True)
add("clone", samples=unary_samples(), dtypes=ALL)

# binary
for _n, _al in [("add", ("bool",)), ("mul", ())]:
    add(_n, samples=binary_samples(), dtypes=ALL, inplace=_n + "_")
    add(_n + "_promote", fn=_m(_n), samples=mixed_dtype_samples(), dtypes=("float32",),
        grad=False)
add("add_alpha", fn=lambda m, a, b: m.add(a, b, alpha=2), samples=binary_samples(scalars=()),
    dtypes=ALL[1:])
add("sub", samples=binary_samples(), dtypes=ALL[1:], inplace="sub_",
    errors=(ErrorCase((A(np.array([True])), A(np.array([False]))), match="Subtraction"),))
add("sub_promote", fn=_m("sub"), samples=mixed_dtype_samples(
    pairs=(("int64", "float32"), ("float32", "float64"), ("int32", "int64"))),
    dtypes=("float32",), grad=False)
add("sub_alpha", fn=lambda m, a, b: m.sub(a, b, alpha=0.5), samples=binary_samples(scalars=()),
    dtypes=FLOATS)
add("div", samples=binary_samples(rhs_low=0.5, rhs_high=2.0, scalars=(2, -1.5)), dtypes=ALL,
    inplace="div_", atol=1e-4, rtol=1e-4)
add("div_int", fn=_m("div"), samples=binary_samples(rhs_low=1, rhs_high=3, scalars=(2,)),
    dtypes=INTS[1:], grad=False)
for _mode in ("trunc", "floor"):
    add(f"div_{_mode}", fn=(lambda mode: lambda m, a, b: m.div(a, b, rounding_mode=mode))(_mode),
        samples=binary_samples(-5, 5, rhs_low=0.5, rhs_high=3, scalars=(2, -3)),
        dtypes=INTS[1:] + FLOATS, grad=False)
add("floor_divide", samples=binary_samples(-5, 5, rhs_low=1, rhs_high=3, scalars=(2, -3)),
    dtypes=INTS[1:] + FLOATS, grad=False,
    errors=(ErrorCase((A(np.array([1, 2])), A(np.array([0, 1]))), match="ZeroDivision"),))
add("remainder", samples=binary_samples(-5, 5, rhs_low=1, rhs_high=3, scalars=(2, -3)),
    dtypes=INTS[1:] + FLOATS, inplace="remainder_", gradgrad=False)
add("fmod", samples=binary_samples(-5, 5, rhs_low=1, rhs_high=3, scalars=(2, -3)),
    dtypes=INTS[1:] + FLOATS, gradgrad=False)
add("pow", samples=binary_samples(0.5, 2, rhs_low=-2, rhs_high=2, scalars=(2, 0.5, 3)),
    dtypes=FLOATS + COMPLEX, inplace="pow_", atol=1e-4, rtol=1e-4)
add("pow_int", fn=_m("pow"), samples=binary_samples(-3, 3, rhs_low=0, rhs_high=3, scalars=(2,)),
    dtypes=INTS[1:], grad=False,
    errors=(ErrorCase((A(np.array([2, 3])), -1), match="negative"),))
add("pow_scalar_base", fn=lambda m, x: m.pow(2.0, x), samples=unary_samples(-2, 2), dtypes=FLOATS)
add("rpow", fn=lambda m, x: 3 ** x, samples=unary_samples(-2, 2), dtypes=FLOATS)
add("rsub", fn=lambda m, x: 1 - x, samples=unary_samples(), dtypes=ALL[1:])
add("rtruediv", fn=lambda m, x: 1 / x, samples=unary_samples(0.5, 2), dtypes=ALL[1:],
    atol=1e-4, rtol=1e-4)
for _n in ("maximum", "minimum"):
    add(_n, samples=binary_samples(scalars=()), dtypes=ALL_REAL)
add("atan2", samples=binary_samples(scalars=()), dtypes=FLOATS + INTS[1:], atol=1e-5)
for _n in ("eq", "ne", "lt", "le", "gt", "ge"):
    add(_n, samples=binary_samples(-2, 2), dtypes=ALL_REAL, grad=False, inplace=_n + "_")
for _n in ("logical_and", "logical_or", "logical_xor"):
    add(_n, samples=binary_samples(scalars=(True, 0)), dtypes=ALL_REAL, grad=False)
for _n in ("bitwise_and", "bitwise_or", "bitwise_xor"):
    add(_n, samples=binary_samples(scalars=(3, True)), dtypes=("bool",) + INTS, grad=False,
        inplace=_n + "_")


def _where_samples(dtype, rng):
    return [Sample((A(rng.random(s) > 0.5), A(arr(rng, a, dtype)), A(arr(rng, b, dtype))),
                   name=str((s, a, b)))
            for s, a, b in [((3, 4), (3, 4), (3, 4)), ((3, 1), (1, 4), (4,)), ((), (2,), ())]] + [
        Sample((A(rng.random((3,)) > 0.5), A(arr(rng, (3,), dtype)), 0.0), name="scalar")]


add("where", samples=_where_samples, dtypes=ALL_REAL)


def _clamp_samples(dtype, rng):
    return [Sample((A(arr(rng, (3, 4), dtype)),), {"min": -1, "max": 1}),
            Sample((A(arr(rng, (3, 4), dtype)),), {"min": -0.5}),
            Sample((A(arr(rng, (3, 4), dtype)),), {"max": 0.5}),
            Sample((A(arr(rng, (3, 4), dtype)), A(arr(rng, (4,), dtype, -2, 0)),
                    A(arr(rng, (3, 1), dtype, 0, 2))), name="tensor bounds")]


add("clamp", samples=_clamp_samples, dtypes=INTS[1:] + FLOATS, inplace="clamp_",
    errors=(ErrorCase((A(np.ones(3, np.float32)),), match="min"),))


def _masked_fill_samples(dtype, rng):
    return [Sample((A(arr(rng, (3, 4), dtype)), A(rng.random((3, 4)) > 0.5, grad=False), 0.5)),
            Sample((A(arr(rng, (3, 4), dtype)), A(rng.random((4,)) > 0.5, grad=False), -1)),
            Sample((A(arr(rng, (3, 4), dtype)), A(rng.random((3, 1)) > 0.5, grad=False),
                    A(arr(rng, (), dtype))), name="tensor value")]


add("masked_fill", samples=_masked_fill_samples, dtypes=ALL_REAL, inplace="masked_fill_",
    errors=(ErrorCase((A(np.ones(3, np.float32)), A(np.ones(3, np.float32)), 0.0),
                      match="boolean"),))

# reductions
add("sum", samples=reduction_samples(), dtypes=ALL)
for _dt in ("float64", "int32", "int64"):
    add(f"sum_dtype_{_dt}", fn=(lambda dt: lambda m, x: m.sum(x, dtype=getattr(m, dt)))(_dt),
        samples=reduction_samples((None,), False), dtypes=ALL_REAL, grad=False)
add("mean", samples=reduction_samples(), dtypes=HALF + FLOATS + COMPLEX,
    errors=(ErrorCase((A(np.arange(3)),), match="mean"),))
add("prod", samples=reduction_samples((None, 0, 1, -1), low=0.5, high=1.5), dtypes=ALL,
    atol=1e-4, rtol=1e-4)
add("prod_zeros", fn=lambda m, x: m.prod(x, 1), samples=lambda d, r: [
    Sample((A(np.array([[1.0, 0.0, 2.0], [0.0, 0.0, 3.0], [1.5, 2.0, 3.0]], dtype=d)),))],
    dtypes=FLOATS, gradgrad=False)
for _n in ("amax", "amin"):
    add(_n, samples=reduction_samples((None, 0, 1, (0, 1), -1)), dtypes=ALL_REAL,
        errors=(ErrorCase((A(np.ones((0, 3), np.float32)), 0), match="non-zero size"),))
for _n in ("max", "min"):
    add(_n, samples=reduction_samples((None, 0, 1, -1)), dtypes=ALL_REAL)
    add(_n + "_binary", fn=_m(_n), samples=binary_samples(scalars=()), dtypes=FLOATS)
for _n in ("argmax", "argmin"):
    add(_n, samples=reduction_samples((None, 0, 1, -1)), dtypes=ALL_REAL[1:], grad=False)
for _n in ("all", "any"):
    add(_n, samples=reduction_samples((None, 0, 1, (0, 1))), dtypes=ALL_REAL, grad=False)
for _n in ("std", "var"):
    add(_n, samples=reduction_samples((None, 0, 1, (0, 1))), dtypes=HALF + FLOATS + COMPLEX,
        atol=1e-4, rtol=1e-4)
    add(_n + "_correction", fn=(lambda n: lambda m, x: getattr(m, n)(x, 1, correction=0))(_n),
        samples=reduction_samples((None,), False), dtypes=FLOATS)
    add(_n + "_unbiased", fn=(lambda n: lambda m, x: getattr(m, n)(x, False))(_n),
        samples=reduction_samples((None,), False), dtypes=FLOATS)
add("logsumexp", samples=reduction_samples((0, 1, (0, 1), -1)), dtypes=ALL_REAL[1:] +
    FLOATS[:0], atol=1e-4)
for _p in (2, 1, 3, math.inf, -math.inf, 0, "fro"):
    add(f"norm_p{_p}", fn=(lambda p: lambda m, x, **k: m.norm(x, p=p, **k))(_p),
        samples=reduction_samples((None, 0, 1, (0, 1))), dtypes=FLOATS + COMPLEX
        if _p != 0 else FLOATS, atol=1e-4, gradgrad=_p not in (math.inf, -math.inf),
        nondeterministic_ties=_p in (math.inf, -math.inf))

# shape and views
_VIEW_SAMPLE = [(2, 3, 4)]


def _shape_samples(*calls):
    """Samples calling the op with the given extra args on a (2, 3, 4) input."""
    def gen(dtype, rng):
        out = []
        for c in calls:
            args, kw = (c, {}) if not isinstance(c, dict) else ((), c)
            out.append(Sample((A(arr(rng, (2, 3, 4), dtype)),) + tuple(args), kw, name=str(c)))
            out.append(Sample((A(arr(rng, (4, 3, 2), dtype), noncontig=True),) + tuple(args),
                              kw, name=f"noncontig {c}"))
        return out
    return gen


add("reshape", samples=_shape_samples(((6, 4),), ((-1,),), ((2, -1, 2),), ((24, 1),)),
    dtypes=ALL, errors=(ErrorCase((A(np.ones(6, np.float32)), (4, 2)), match="invalid"),))
add("view", fn=lambda m, x, *s: x.view(*s), samples=lambda d, r: [
    Sample((A(arr(r, (2, 3, 4), d)), 6, 4)), Sample((A(arr(r, (2, 3, 4), d)), -1)),
    Sample((A(arr(r, (2, 3, 4), d)), (4, 6)))], dtypes=ALL)
add("flatten", samples=_shape_samples((), (1,), (0, 1), (-2, -1)), dtypes=ALL)
add("unflatten", samples=_shape_samples((1, (3, 1)), (-1, (2, 2))), dtypes=ALL)
add("squeeze", samples=lambda d, r: [Sample((A(arr(r, (2, 1, 3, 1), d)),) + a) for a in
                                     [(), (1,), (-1,), (0,), ((1, 3),)]], dtypes=ALL)
add("unsqueeze", samples=_shape_samples((0,), (-1,), (2,)), dtypes=ALL)
add("expand", fn=lambda m, x, *s: x.expand(*s), samples=lambda d, r: [
    Sample((A(arr(r, (3, 1), d)), 3, 4)), Sample((A(arr(r, (3, 1), d)), 2, -1, 5)),
    Sample((A(arr(r, (), d)), 2, 2))], dtypes=ALL,
    errors=(ErrorCase((A(np.ones((3, 2), np.float32)), 3, 4), match="must match"),))
add("broadcast_to", samples=lambda d, r: [Sample((A(arr(r, (3, 1), d)), (2, 3, 4)))], dtypes=ALL)
add("transpose", samples=_shape_samples((0, 1), (-1, 0), (1, 1)), dtypes=ALL)
add("permute", samples=_shape_samples(((2, 0, 1),), ((0, 2, 1),)), dtypes=ALL)
add("movedim", samples=_shape_samples((0, 2), ((0, 1), (2, 0))), dtypes=ALL)
add("t", samples=lambda d, r: [Sample((A(arr(r, (3, 4), d)),)), Sample((A(arr(r, (3,), d)),))],
    dtypes=ALL)
add("T", fn=lambda m, x: x.T, samples=lambda d, r: [Sample((A(arr(r, (3, 4), d)),))], dtypes=ALL)
add("mT", fn=lambda m, x: x.mT, samples=_shape_samples(()), dtypes=ALL)
add("narrow", samples=_shape_samples((1, 0, 2), (2, 1, 3), (-1, -2, 2)), dtypes=ALL)
add("select", samples=_shape_samples((0, 1), (1, -1), (2, 0)), dtypes=ALL,
    errors=(ErrorCase((A(np.ones((2, 3), np.float32)), 0, 5), match="out of range"),))
add("unbind", samples=_shape_samples((), (1,), (-1,)), dtypes=ALL)
add("split", samples=_shape_samples((2, 2), (1, 0), ([1, 3], 2), (5, 1)), dtypes=ALL)
add("chunk", samples=_shape_samples((2, 2), (3, 1), (5, -1)), dtypes=ALL)
add("diagonal", samples=_shape_samples((), (1,), (-1, 0, 2), (0, 2, 1)), dtypes=ALL)
add("as_strided", samples=lambda d, r: [Sample((A(arr(r, (4, 5), d)), (3, 3), (5, 1), 1)),
                                        Sample((A(arr(r, (4, 5), d)), (2, 2), (1, 5)))],
    dtypes=ALL)
add("unfold", fn=lambda m, x, *a: x.unfold(*a), samples=_shape_samples((2, 2, 1), (0, 2, 1),
                                                                         (1, 2, 1)), dtypes=ALL)
add("getitem", fn=lambda m, x, idx: x[idx], samples=lambda d, r: [
    Sample((A(arr(r, (4, 5, 3), d)), i), name=str(i)) for i in
    [1, -1, (1, 2), slice(1, 3), (slice(None), 2), (Ellipsis, 1), (None, 1, slice(None, None, 2)),
     (slice(None, None, 3), None, Ellipsis), (1, slice(2, 10), 0), ()]], dtypes=ALL)
add("getitem_advanced", fn=lambda m, x, idx: x[_index(m, idx)], samples=lambda d, r: [
    Sample((A(arr(r, (4, 5, 3), d)), i), name=str(i)) for i in
    [[0, 2, 2], ("t", [1, 0]), (slice(None), [0, 3, 3]), ([0, 1], [2, 3]),
     ("mask", (4,)), ("mask", (4, 5)), (1, [0, 2], slice(None)),
     ([[0, 1], [1, 2]], slice(None), [0, 2])]], dtypes=ALL_REAL)


def _index(m, idx):
    if isinstance(idx, tuple) and idx and idx[0] == "t":
        return m.tensor(idx[1])
    if isinstance(idx, tuple) and idx and idx[0] == "mask":
        rng = np.random.default_rng(1)
        return m.tensor(rng.random(idx[1]) > 0.4)
    return idx


add("cat", fn=lambda m, *xs, **k: m.cat(list(xs), **k), samples=lambda d, r: [
    Sample((A(arr(r, (2, 3), d)), A(arr(r, (4, 3), d)))),
    Sample((A(arr(r, (2, 3), d)), A(arr(r, (2, 1), d))), {"dim": 1}),
    Sample((A(arr(r, (2, 3), d)), A(arr(r, (0,), d)), A(arr(r, (2, 3), d), noncontig=True)),
           {"dim": -1}),
    Sample((A(arr(r, (2, 3), d)), A(arr(r, (2, 3), "float64"))), name="promote")], dtypes=ALL,
    errors=(ErrorCase((A(np.ones((2, 3), np.float32)), A(np.ones((3, 2), np.float32))),
                      match="Sizes of tensors must match"),))
add("stack", fn=lambda m, *xs, **k: m.stack(list(xs), **k), samples=lambda d, r: [
    Sample((A(arr(r, (2, 3), d)), A(arr(r, (2, 3), d)))),
    Sample((A(arr(r, (2, 3), d)), A(arr(r, (2, 3), d))), {"dim": -1}),
    Sample((A(arr(r, (), d)), A(arr(r, (), d))))], dtypes=ALL,
    errors=(ErrorCase((A(np.ones((2, 3), np.float32)), A(np.ones((3, 2), np.float32))),
                      match="equal size"),))
add("flip", samples=_shape_samples((0,), ((0, 2),), ((-1,),)), dtypes=ALL)

# indexing ops


def _gather_samples(dtype, rng):
    x = arr(rng, (3, 4), dtype)
    return [Sample((A(x), 0, A(rng.integers(0, 3, (2, 4)))), name="dim0"),
            Sample((A(x), 1, A(rng.integers(0, 4, (3, 2)))), name="dim1"),
            Sample((A(x), -1, A(rng.integers(0, 4, (2, 5)))), name="repeat")]


add("gather", samples=_gather_samples, dtypes=ALL_REAL,
    errors=(ErrorCase((A(np.ones((3, 4), np.float32)), 0, A(np.array([[5]]))),
                      match="out of bounds"),))


def _scatter_samples(dtype, rng):
    x = arr(rng, (3, 4), dtype)
    idx = np.stack([rng.permutation(3)[:2] for _ in range(4)], axis=1)
    return [Sample((A(x), 0, A(idx), A(arr(rng, (2, 4), dtype))), name="src"),
            Sample((A(x), 0, A(idx), 1.5 if dtype in FLOATS else 1), name="value")]


add("scatter", samples=_scatter_samples, dtypes=ALL_REAL)


def _scatter_add_samples(dtype, rng):
    x = arr(rng, (3, 4), dtype)
    return [Sample((A(x), 0, A(rng.integers(0, 3, (5, 4))), A(arr(rng, (5, 4), dtype))),
                   name="duplicates")]


add("scatter_add", samples=_scatter_add_samples, dtypes=ALL_REAL[1:], atol=1e-4)
add("take", samples=lambda d, r: [Sample((A(arr(r, (3, 4), d)), A(r.integers(-12, 12, (2, 3)))))],
    dtypes=ALL_REAL)

# products
add("matmul", samples=lambda d, r: [
    Sample((A(arr(r, a, d)), A(arr(r, b, d))), name=f"{a}@{b}") for a, b in
    [((3, 4), (4, 5)), ((4,), (4,)), ((4,), (4, 5)), ((3, 4), (4,)), ((2, 3, 4), (4, 5)),
     ((2, 1, 3, 4), (5, 4, 2)), ((4,), (2, 4, 3)), ((2, 3, 4), (4,)), ((0, 4), (4, 2))]] + [
    Sample((A(arr(r, (4, 3), d), noncontig=True), A(arr(r, (5, 4), d), noncontig=True)),
           name="noncontig")],
    dtypes=INTS[1:] + HALF + FLOATS + COMPLEX, atol=1e-4, rtol=1e-4,
    errors=(ErrorCase((A(np.ones((2, 3), np.float32)), A(np.ones((4, 5), np.float32))),
                      match="cannot be multiplied"),
            ErrorCase((A(np.ones((2, 3), np.float32)), A(np.ones((3, 5), np.float64))),
                      match="dtype")))
add("mm", samples=lambda d, r: [Sample((A(arr(r, (3, 4), d)), A(arr(r, (4, 5), d))))],
    dtypes=INTS[1:] + FLOATS + COMPLEX, atol=1e-4,
    errors=(ErrorCase((A(np.ones((2, 3), np.float32)), A(np.ones((4, 5), np.float32))),
                      match="2x3 and 4x5"),))
add("bmm", samples=lambda d, r: [Sample((A(arr(r, (2, 3, 4), d)), A(arr(r, (2, 4, 5), d))))],
    dtypes=FLOATS + COMPLEX, atol=1e-4,
    errors=(ErrorCase((A(np.ones((2, 3), np.float32)), A(np.ones((2, 3, 4), np.float32))),
                      match="3D"),))
add("addmm", samples=lambda d, r: [
    Sample((A(arr(r, (5,), d)), A(arr(r, (3, 4), d)), A(arr(r, (4, 5), d)))),
    Sample((A(arr(r, (3, 5), d)), A(arr(r, (3, 4), d)), A(arr(r, (4, 5), d))),
           {"beta": 0.5, "alpha": 2.0})], dtypes=FLOATS, atol=1e-4)
add("dot", samples=lambda d, r: [Sample((A(arr(r, (4,), d)), A(arr(r, (4,), d))))],
    dtypes=INTS[1:] + FLOATS, atol=1e-4)
add("einsum", fn=lambda m, eq, *xs: m.einsum(eq, *xs), samples=lambda d, r: [
    Sample((eq,) + tuple(A(arr(r, s, d)) for s in shapes), name=eq) for eq, shapes in
    [("ij,jk->ik", [(3, 4), (4, 5)]), ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
     ("ii->i", [(3, 3)]), ("ii", [(3, 3)]), ("ij->", [(3, 4)]), ("i,j->ij", [(3,), (4,)]),
     ("...ij,...jk", [(2, 3, 4), (4, 5)]), ("ij,ij->i", [(3, 4), (3, 4)]),
     ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]), ("ijk->kji", [(2, 3, 4)]),
     ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]), ("iij->j", [(3, 3, 2)])]],
    dtypes=FLOATS, atol=1e-4)
add("real", samples=unary_samples(), dtypes=FLOATS + COMPLEX)
add("imag", samples=unary_samples(), dtypes=COMPLEX)
add("real_prop", fn=lambda m, x: x.real * 2, samples=unary_samples(), dtypes=COMPLEX)


# each area of the op set keeps its entries in its own module
from . import (  # noqa: E402, F401
    opinfo_attention,
    opinfo_conv,
    opinfo_fft,
    opinfo_indexing,
    opinfo_linalg,
    opinfo_nn,
    opinfo_pointwise,
    opinfo_reduction,
    opinfo_resample,
    opinfo_shape,
    opinfo_special,
)
