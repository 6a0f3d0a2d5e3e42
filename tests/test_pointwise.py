"""Pointwise behaviour the op table cannot express: views sharing memory, results that are not
tensors, backward errors, grad_fn names, operators and in-place corner cases, all compared with
PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember

MODULES = (torch, ember)


def _both(fn):
    return [fn(m) for m in MODULES]


def _np(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else t.detach().numpy()


def test_view_as_real_shares_memory_and_version():
    for m in MODULES:
        z = m.tensor([1 + 2j, 3 - 4j])
        r = m.view_as_real(z)
        assert r._base is z and tuple(r.shape) == (2, 2)
        r[0, 1] = 5.0
        assert z[0].item() == 1 + 5j
        assert z._version == r._version == 1
        z.mul_(2)
        assert r[1].tolist() == [6.0, -8.0]


def test_view_as_complex_shares_memory_with_strided_input():
    for m in MODULES:
        x = m.arange(24.0).reshape(3, 4, 2)[:, ::2]
        c = m.view_as_complex(x)
        assert c._base is not None and tuple(c.shape) == (3, 2)
        assert c[1, 1].item() == 12 + 13j
        c[0, 0] = 7 - 1j
        assert x[0, 0].tolist() == [7.0, -1.0]


def test_view_as_complex_storage_offset():
    for m in MODULES:
        with pytest.raises(RuntimeError, match="storage_offset divisible by 2"):
            m.view_as_complex(m.ones(6)[1:5].view(2, 2))


def test_view_as_real_complex_gradients():
    ours, ref = _both(lambda m: _view_grads(m))
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(_np(a), _np(b))


def _view_grads(m):
    z = m.tensor([1 + 2j, 3 - 4j], dtype=m.complex128, requires_grad=True)
    x = m.tensor([[1.0, 2.0], [3.0, -1.0]], dtype=m.float64, requires_grad=True)
    w = m.tensor([[0.5, -1.0], [2.0, 1.5]], dtype=m.float64)
    (m.view_as_real(z) * w).sum().backward()
    (m.view_as_complex(x) * (1 - 2j)).real.sum().backward()
    return z.grad, x.grad


def test_frexp_returns_named_tuple():
    mantissa, exponent = ember.frexp(ember.tensor([8.0, -0.75]))
    out = ember.frexp(ember.tensor([8.0, -0.75]))
    assert out.mantissa is not None and out.exponent.dtype is ember.int32
    assert mantissa.tolist() == [0.5, -0.75] and exponent.tolist() == [4, 0]


def test_whole_tensor_comparisons_return_python_bools():
    for m in MODULES:
        a = m.tensor([1.0, 2.0, float("nan")])
        assert m.allclose(a, a + 1e-9, equal_nan=True) is True
        assert m.allclose(a, a) is False
        assert m.equal(a[:2], m.tensor([1, 2])) is True
        assert m.equal(a, a) is False  # NaN != NaN
        assert a[:2].equal(m.tensor([1.0, 2.0, 3.0])) is False


def test_isclose_integers_compare_in_default_dtype():
    a, b = [2 ** 30], [2 ** 30 + 1]
    for m in MODULES:
        prev = m.get_default_dtype()
        try:
            assert m.isclose(m.tensor(a), m.tensor(b), rtol=0, atol=0.5).item() is True
            m.set_default_dtype(m.float64)
            assert m.isclose(m.tensor(a), m.tensor(b), rtol=0, atol=0.5).item() is False
        finally:
            m.set_default_dtype(prev)


def test_heaviside_backward_is_not_implemented():
    for m in MODULES:
        x = m.tensor([1.0, 0.0, -1.0], requires_grad=True)
        y = m.heaviside(x, m.tensor([0.5]))
        assert y.requires_grad
        with pytest.raises(RuntimeError, match="heaviside"):
            y.sum().backward()


def test_nan_to_num_complex_autograd_refused():
    for m in MODULES:
        z = m.tensor([1 + 1j], requires_grad=True)
        with pytest.raises(RuntimeError, match="complex dtype"):
            m.nan_to_num(z)
        with m.no_grad():
            m.nan_to_num(z)


@pytest.mark.parametrize("name,args", [
    ("logit", lambda m, x, y: (x,)), ("sinc", lambda m, x, y: (x,)),
    ("xlogy", lambda m, x, y: (x, y)), ("xlogy", lambda m, x, y: (2.0, y)),
    ("xlogy", lambda m, x, y: (x, 2.0)), ("copysign", lambda m, x, y: (x, -1.0)),
    ("copysign", lambda m, x, y: (x, y)), ("lerp", lambda m, x, y: (x, y, 0.5)),
    ("lerp", lambda m, x, y: (x, y, y)), ("hypot", lambda m, x, y: (x, y)),
    ("fmax", lambda m, x, y: (x, y)), ("nan_to_num", lambda m, x, y: (x,)),
    ("angle", lambda m, x, y: (x,)), ("polar", lambda m, x, y: (x, y)),
    ("complex", lambda m, x, y: (x, y)), ("deg2rad", lambda m, x, y: (x,)),
    ("logaddexp2", lambda m, x, y: (x, y)), ("ldexp", lambda m, x, y: (x, y)),
    ("nextafter", lambda m, x, y: (x, y)), ("float_power", lambda m, x, y: (x, 2)),
    ("addcdiv", lambda m, x, y: (x, x, y)),
])
def test_grad_fn_names(name, args):
    def run(m):
        x = m.tensor([0.3, 0.6], dtype=m.float64, requires_grad=True)
        y = m.tensor([0.5, 0.2], dtype=m.float64, requires_grad=True)
        out = getattr(m, name)(*args(m, x, y))
        return type(out.grad_fn).__name__ if m is torch else out.grad_fn.name()
    assert run(ember) == run(torch)


def test_shift_operators_and_reflected_forms():
    for m in MODULES:
        x = m.tensor([1, -8, 3], dtype=m.int16)
        assert (x << 2).tolist() == [4, -32, 12] and (x >> 1).tolist() == [0, -4, 1]
        assert (1 << m.tensor([0, 3])).tolist() == [1, 8]
        x <<= m.tensor([1, 1, 1], dtype=m.int16)
        assert x.tolist() == [2, -16, 6] and x._version == 1
        with pytest.raises(NotImplementedError):
            m.tensor([1.5]) << 1


def test_conj_physical_of_real_is_the_input():
    for m in MODULES:
        x = m.tensor([1.0, -2.0])
        assert m.conj_physical(x) is x
        assert not m.is_conj(x) and m.resolve_conj(x) is x


def test_lerp_inplace_needs_self_shape():
    for m in MODULES:
        with pytest.raises(RuntimeError):
            m.zeros(3).lerp_(m.ones(2, 3), 0.5)


def test_inplace_binary_refuses_numbers_where_torch_does():
    for m in MODULES:
        for name in ("atan2_", "hypot_", "logical_and_", "gcd_"):
            with pytest.raises(TypeError, match="must be Tensor"):
                getattr(m.ones(3, dtype=m.int64 if name == "gcd_" else m.float32), name)(2)


def test_abs_inplace_complex_refused():
    for m in MODULES:
        with pytest.raises(RuntimeError, match="In-place abs"):
            m.tensor([1 + 1j]).abs_()


def test_float_power_inplace_needs_double():
    for m in MODULES:
        with pytest.raises(RuntimeError, match="float_power_"):
            m.tensor([2.0]).float_power_(2)
        x = m.tensor([2.0], dtype=m.float64)
        assert x.float_power_(m.tensor([3])).tolist() == [8.0]


def test_comparison_inplace_aliases():
    for m in MODULES:
        x = m.tensor([1.0, 2.0, 3.0])
        assert x.clone().greater_(2).tolist() == [0.0, 0.0, 1.0]
        assert x.clone().less_equal_(2).tolist() == [1.0, 1.0, 0.0]
        assert x.clone().not_equal_(2).tolist() == [1.0, 0.0, 1.0]
