"""dtypes, promotion, finfo/iinfo and the default dtype, checked against real PyTorch."""

from __future__ import annotations

import itertools
import pickle

import numpy as np
import pytest
import torch

import ember

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
         "float64", "complex64", "complex128"]
PAIRS = [(getattr(ember, n), getattr(torch, n)) for n in NAMES]
ALIASES = ["float", "double", "half", "cfloat", "cdouble", "short", "int", "long"]


def E(td: torch.dtype) -> ember.dtype:
    """The ember dtype named like torch's."""
    return getattr(ember, str(td).removeprefix("torch."))


def same(e, t) -> bool:
    return repr(e) == repr(t).replace("torch.", "ember.")


@pytest.fixture(autouse=True)
def _restore_default_dtype():
    yield
    ember.set_default_dtype(ember.float32)
    torch.set_default_dtype(torch.float32)


@pytest.mark.parametrize("name", NAMES + ALIASES)
def test_names_and_aliases(name):
    e, t = getattr(ember, name), getattr(torch, name)
    assert same(e, t)
    assert str(e) == str(t).replace("torch.", "ember.")
    assert isinstance(e, ember.dtype)


@pytest.mark.parametrize("e,t", PAIRS, ids=NAMES)
def test_attributes(e, t):
    assert e.is_floating_point == t.is_floating_point
    assert e.is_complex == t.is_complex
    assert e.is_signed == t.is_signed
    assert e.itemsize == t.itemsize
    assert same(e.to_real(), t.to_real())
    if t.is_floating_point or t.is_complex:
        if t is not torch.float16:  # torch gives complex32, which ember does not have
            assert same(e.to_complex(), t.to_complex())
    else:
        with pytest.raises(RuntimeError, match="Unknown Complex ScalarType"):
            t.to_complex()
        with pytest.raises(RuntimeError, match="Unknown Complex ScalarType"):
            e.to_complex()
    assert pickle.loads(pickle.dumps(e)) is e
    assert e == e and hash(e) == hash(e)


def test_dtype_not_ordered():
    with pytest.raises(TypeError):
        ember.float32 < ember.float64  # noqa: B015


@pytest.mark.parametrize("a,b", list(itertools.product(range(12), repeat=2)))
def test_promote_types(a, b):
    (ea, ta), (eb, tb) = PAIRS[a], PAIRS[b]
    assert same(ember.promote_types(ea, eb), torch.promote_types(ta, tb))


@pytest.mark.parametrize("a,b", list(itertools.product(range(12), repeat=2)))
def test_can_cast(a, b):
    (ea, ta), (eb, tb) = PAIRS[a], PAIRS[b]
    assert ember.can_cast(ea, eb) == torch.can_cast(ta, tb)


def _operands(mod, kind):
    """One operand per (kind, dtype): dimensioned tensors, 0-d tensors, Python numbers."""
    if kind == "scalar":
        return [True, 2, 2.5, 1 + 2j]
    shape = (2,) if kind == "tensor" else ()
    return [mod.ones(shape, dtype=getattr(mod, n)) for n in NAMES]


KINDS = ["tensor", "zerodim", "scalar"]


@pytest.mark.parametrize("default", ["float32", "float64"])
@pytest.mark.parametrize("k1,k2", list(itertools.product(KINDS, repeat=2)))
def test_result_type(k1, k2, default):
    ember.set_default_dtype(getattr(ember, default))
    torch.set_default_dtype(getattr(torch, default))
    for x, tx in zip(_operands(ember, k1), _operands(torch, k1)):
        for y, ty in zip(_operands(ember, k2), _operands(torch, k2)):
            want = torch.result_type(tx, ty)
            if want is torch.complex32:  # ember has no complex32
                continue
            got = ember.result_type(x, y)
            assert same(got, want), (tx, ty)
            if k1 != "scalar" or k2 != "scalar":  # and the ops agree with result_type
                assert same((x * y).dtype, want), (tx, ty)


def test_result_type_numpy_scalars_are_wrapped_numbers():
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    # (np.bool_ and NumPy complex are left out: PyTorch's parser takes them for floats)
    for v in (np.float32(1), np.int8(3), np.int64(2**40), np.float64(0.5)):
        for n in ("int8", "float16", "float32"):
            assert same(ember.result_type(ember.ones(2, dtype=getattr(ember, n)), v),
                        torch.result_type(torch.ones(2, dtype=getattr(torch, n)), v))


@pytest.mark.parametrize("name", ["float16", "bfloat16", "float32", "float64", "complex64",
                                  "complex128"])
def test_finfo(name):
    e, t = ember.finfo(getattr(ember, name)), torch.finfo(getattr(torch, name))
    for f in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(e, f) == getattr(t, f), f
        assert type(getattr(e, f)) is type(getattr(t, f)), f
    assert repr(e) == repr(t)


def test_finfo_default_and_errors():
    assert ember.finfo().bits == torch.finfo().bits == 32
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    assert ember.finfo().dtype == torch.finfo().dtype == "float64"
    for n in ("int32", "bool"):
        with pytest.raises(TypeError) as te:
            torch.finfo(getattr(torch, n))
        with pytest.raises(TypeError) as ee:
            ember.finfo(getattr(ember, n))
        assert str(ee.value) == str(te.value).replace("torch.", "ember.")


@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo(name):
    e, t = ember.iinfo(getattr(ember, name)), torch.iinfo(getattr(torch, name))
    for f in ("bits", "max", "min", "dtype"):
        assert getattr(e, f) == getattr(t, f), f
        assert type(getattr(e, f)) is type(getattr(t, f)), f
    assert repr(e) == repr(t)


@pytest.mark.parametrize("name", ["bool", "float32", "complex64"])
def test_iinfo_errors(name):
    with pytest.raises(TypeError) as te:
        torch.iinfo(getattr(torch, name))
    with pytest.raises(TypeError) as ee:
        ember.iinfo(getattr(ember, name))
    assert str(ee.value) == str(te.value).replace("torch.", "ember.")


@pytest.mark.parametrize("name", ["float16", "bfloat16", "float32", "float64"])
def test_default_dtype_effects(name):
    ember.set_default_dtype(getattr(ember, name))
    torch.set_default_dtype(getattr(torch, name))
    assert same(ember.get_default_dtype(), torch.get_default_dtype())
    cases = [
        lambda m: m.tensor(1.5), lambda m: m.tensor([1, 2.5]), lambda m: m.tensor(3),
        lambda m: m.tensor([True]), lambda m: m.arange(3.0), lambda m: m.arange(3),
        lambda m: m.linspace(0, 1, 3), lambda m: m.logspace(0, 1, 3), lambda m: m.zeros(2),
        lambda m: m.ones(2), lambda m: m.empty(2), lambda m: m.full((2,), 1.5),
        lambda m: m.full((2,), 2), lambda m: m.eye(2), lambda m: m.rand(2),
        lambda m: m.randn(2), lambda m: m.Tensor([1, 2]),
        lambda m: m.tensor([1, 2]) / 2, lambda m: m.tensor([1, 2]) * 1.5,
        lambda m: m.tensor(2).exp(), lambda m: m.tensor([1], dtype=m.int32) + 2.5,
    ]
    if name in ("float32", "float64"):  # float16 -> complex32, bfloat16 -> error in torch
        cases += [lambda m: m.tensor(1j), lambda m: m.tensor([1, 1j]),
                  lambda m: m.linspace(0, 1j, 3), lambda m: m.full((2,), 1j)]
    for f in cases:
        assert same(f(ember).dtype, f(torch).dtype)


def test_default_complex_unsupported_default():
    torch.set_default_dtype(torch.bfloat16)
    ember.set_default_dtype(ember.bfloat16)
    with pytest.raises(RuntimeError, match="invalid default scalar type for complex"):
        torch.tensor(1j)
    with pytest.raises(RuntimeError, match="invalid default scalar type for complex"):
        ember.tensor(1j)


@pytest.mark.parametrize("name", ["int32", "int64", "bool", "complex64", "complex128"])
def test_set_default_dtype_errors(name):
    with pytest.raises(TypeError) as te:
        torch.set_default_dtype(getattr(torch, name))
    with pytest.raises(TypeError) as ee:
        ember.set_default_dtype(getattr(ember, name))
    assert str(ee.value) == str(te.value)
