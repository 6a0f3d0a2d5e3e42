"""Generic op tests driven by the OpInfo table: every entry is checked against PyTorch for
forward values, dtypes and shapes on each supported dtype, for gradients (float64), by
gradcheck and gradgradcheck, for its in-place variant, and for its errors on bad input."""

from __future__ import annotations

import warnings

import ml_dtypes
import numpy as np
import pytest
import torch

import ember

from .opinfo import OPS, A, Sample

MODULES = {"torch": torch, "ember": ember}


def _tensor(m, a: A, requires_grad: bool):
    arr = a.array
    if m is torch:
        t = (torch.tensor(arr.astype(np.float32)).to(torch.bfloat16)
             if arr.dtype == ml_dtypes.bfloat16 else torch.tensor(arr))
    else:
        t = ember.tensor(arr)
    if a.noncontig:
        t = t.permute(tuple(range(t.ndim - 1, -1, -1))) if t.ndim > 1 else \
            (t.repeat_interleave(2)[::2] if m is torch else
             ember.tensor(np.repeat(arr, 2))[::2])
    if requires_grad and a.grad and (t.is_floating_point() or t.is_complex()):
        t = t.detach().requires_grad_(True)
    return t


def _convert(m, x, requires_grad=False):
    if isinstance(x, A):
        return _tensor(m, x, requires_grad)
    if isinstance(x, tuple):
        return tuple(_convert(m, v, requires_grad) for v in x)
    if isinstance(x, list):
        return [_convert(m, v, requires_grad) for v in x]
    return x


def _build(m, sample: Sample, requires_grad=False):
    args = _convert(m, sample.args, requires_grad)
    kwargs = {k: _convert(m, v, requires_grad) for k, v in sample.kwargs.items()}
    return args, kwargs


def _np(t):
    if t.dtype in (torch.bfloat16, ember.bfloat16):
        t = t.float()
    if isinstance(t, torch.Tensor):
        if t._is_zerotensor():
            return np.zeros(tuple(t.shape), dtype=str(t.dtype).split(".")[-1])
        return t.detach().resolve_conj().resolve_neg().cpu().numpy()
    return t.detach().numpy()


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [y for o in out for y in _flat(o)]
    return [out]


def _dtype_name(d) -> str:
    return str(d).split(".")[-1]


def _compare(ours, ref, op, exact_dtype=True):
    o, r = _flat(ours), _flat(ref)
    assert len(o) == len(r), f"{op.name}: {len(o)} outputs, torch has {len(r)}"
    for a, b in zip(o, r):
        if isinstance(b, torch.Tensor):
            assert isinstance(a, ember.Tensor), f"{op.name}: got {type(a)} for a tensor"
            assert tuple(a.shape) == tuple(b.shape), f"{op.name}: shape {a.shape} vs {b.shape}"
            assert _dtype_name(a.dtype) == _dtype_name(b.dtype), \
                f"{op.name}: dtype {a.dtype} vs {b.dtype}"
            x, y = _np(a), _np(b)
            tol = _tol(op, b.dtype)
            np.testing.assert_allclose(x, y, rtol=tol[1], atol=tol[0], equal_nan=True,
                                       err_msg=op.name)
        else:
            assert a == b or (a != a and b != b), f"{op.name}: {a} vs {b}"


def _tol(op, dtype):
    if dtype in (torch.float16,):
        return max(op.atol, 1e-3), max(op.rtol, 1e-3)
    if dtype == torch.bfloat16:
        return max(op.atol, 1e-2), max(op.rtol, 1e-2)
    if dtype in (torch.float32, torch.complex64):
        return max(op.atol, 1e-5), max(op.rtol, 1e-5)
    return op.atol if op.atol < 1e-5 else 1e-7, 1e-7


def _run(m, op, sample, requires_grad=False):
    args, kwargs = _build(m, sample, requires_grad)
    return args, kwargs, op.fn(m, *args, **kwargs)


def _cases(kind):
    out = []
    for op in OPS:
        if kind == "forward":
            for d in op.dtypes:
                out.append(pytest.param(op, d, id=f"{op.name}-{d}"))
        elif kind == "grad" and op.grad:
            out.append(pytest.param(op, "float64", id=op.name))
        elif kind == "gradgrad" and op.grad and op.gradgrad:
            out.append(pytest.param(op, "float64", id=op.name))
        elif kind == "inplace" and op.inplace:
            for d in op.dtypes:
                out.append(pytest.param(op, d, id=f"{op.name}-{d}"))
        elif kind == "errors" and op.errors:
            for i, e in enumerate(op.errors):
                out.append(pytest.param(op, e, id=f"{op.name}-{i}"))
    return out


def _samples(op, dtype):
    return op.samples(dtype, np.random.default_rng(0))


@pytest.mark.parametrize("op,dtype", _cases("forward"))
def test_forward(op, dtype):
    """Values, dtype and shape equal PyTorch's; errors where PyTorch errors."""
    for sample in _samples(op, dtype):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _, _, ref = _run(torch, op, sample)
        except Exception as e:  # noqa: BLE001 - mirror whatever torch raises
            with pytest.raises(type(e)):
                _run(ember, op, sample)
            continue
        _, _, ours = _run(ember, op, sample)
        _compare(ours, ref, op)


def _grad_outputs(m, outs, seed=1):
    rng = np.random.default_rng(seed)
    gos = []
    for o in outs:
        g = rng.standard_normal(tuple(o.shape))
        if o.is_complex():
            g = g + 1j * rng.standard_normal(tuple(o.shape))
        gos.append(m.tensor(g, dtype=o.dtype))
    return gos


def _diff_inputs(args, kwargs, m):
    flat = _flat(list(args)) + _flat(list(kwargs.values()))
    return [t for t in flat if isinstance(t, m.Tensor) and t.requires_grad]


def _grads(m, op, sample):
    args, kwargs, out = _run(m, op, sample, requires_grad=True)
    ins = _diff_inputs(args, kwargs, m)
    outs = [o for o in _flat(out) if isinstance(o, m.Tensor) and o.requires_grad]
    if not ins or not outs:
        return None
    gs = m.autograd.grad(outs, ins, _grad_outputs(m, outs), allow_unused=True)
    return [None if g is None else _np(g) for g in gs], [tuple(t.shape) for t in ins]


@pytest.mark.parametrize("op,dtype", _cases("grad"))
def test_grad(op, dtype):
    """Gradients (with random output gradients) equal PyTorch's."""
    for sample in _samples(op, "float64"):
        try:
            ref = _grads(torch, op, sample)
        except Exception as e:  # noqa: BLE001
            with pytest.raises(type(e)):
                _grads(ember, op, sample)
            continue
        ours = _grads(ember, op, sample)
        if ref is None:
            assert ours is None or all(g is None or not np.any(g) for g in ours[0]), op.name
            continue
        assert ours is not None, f"{op.name}: ember's output does not require grad"
        for g, r, shape in zip(ours[0], ref[0], ref[1]):
            g = np.zeros(shape) if g is None else g
            r = np.zeros(shape) if r is None else r
            np.testing.assert_allclose(g, r, rtol=1e-6, atol=1e-8, err_msg=f"{op.name} {sample}")


def _small(sample, limit=30):
    return all(x.array.size <= limit for x in _flat(list(sample.args)) if isinstance(x, A))


def _as_function(op, sample):
    """The op as a function of its differentiable tensor inputs (for gradcheck)."""
    args, kwargs = _build(ember, sample, requires_grad=True)
    ins = _diff_inputs(args, kwargs, ember)

    def fn(*xs):
        it = iter(xs)

        def swap(v):
            if isinstance(v, ember.Tensor) and v.requires_grad:
                return next(it)
            if isinstance(v, (tuple, list)):
                return type(v)(swap(u) for u in v)
            return v
        a = swap(args)
        k = {key: swap(v) for key, v in kwargs.items()}
        return op.fn(ember, *a, **k)
    return fn, ins


def _raises(fn, ins) -> bool:
    """Samples whose forward raises are error cases, checked by test_forward."""
    try:
        fn(*ins)
    except Exception:  # noqa: BLE001
        return True
    return False


@pytest.mark.parametrize("op,dtype", _cases("grad"))
def test_gradcheck(op, dtype):
    """Analytical gradients agree with finite differences (float64)."""
    checked = 0
    for sample in _samples(op, "float64"):
        if not _small(sample) or sample.name in op.skip_gradcheck_samples:
            continue
        fn, ins = _as_function(op, sample)
        if not ins or any(t.numel() == 0 for t in ins) or _raises(fn, ins):
            continue
        assert ember.autograd.gradcheck(fn, tuple(ins), eps=1e-6, atol=1e-5, rtol=1e-3)
        checked += 1
        if checked == 3:
            break


@pytest.mark.parametrize("op,dtype", _cases("gradgrad"))
def test_gradgradcheck(op, dtype):
    """Second derivatives agree with finite differences of the first (float64)."""
    for sample in _samples(op, "float64"):
        if not _small(sample, 12):
            continue
        fn, ins = _as_function(op, sample)
        if not ins or any(t.numel() == 0 for t in ins) or _raises(fn, ins):
            continue
        assert ember.autograd.gradgradcheck(fn, tuple(ins), eps=1e-6, atol=1e-5, rtol=1e-3)
        break


@pytest.mark.parametrize("op,dtype", _cases("inplace"))
def test_inplace(op, dtype):
    """``x.op_(...)`` writes PyTorch's values into x (or raises where PyTorch raises)."""
    for sample in _samples(op, dtype):
        if not isinstance(sample.args[0], A) or sample.args[0].noncontig:
            continue

        def run(m, sample=sample):
            args, kwargs = _build(m, sample)
            x = args[0]
            r = getattr(x, op.inplace)(*args[1:], **kwargs)
            assert r is x
            return x
        try:
            ref = run(torch)
        except Exception as e:  # noqa: BLE001
            with pytest.raises(type(e)):
                run(ember)
            continue
        ours = run(ember)
        assert ours._version == ref._version
        _compare(ours, ref, op)


@pytest.mark.parametrize("op,case", _cases("errors"))
def test_errors(op, case):
    """Bad input raises PyTorch's exception type with a clear message, changing nothing."""
    sample = Sample(case.args, case.kwargs)
    args, kwargs = _build(torch, sample)
    with pytest.raises(Exception) as ref:
        op.fn(torch, *args, **kwargs)
    args, kwargs = _build(ember, sample)
    before = [(t.numpy().copy(), t._version) for t in _flat(list(args))
              if isinstance(t, ember.Tensor)]
    with pytest.raises(ref.type) as ours:
        op.fn(ember, *args, **kwargs)
    assert case.match in str(ours.value), str(ours.value)
    after = [(t.numpy(), t._version) for t in _flat(list(args)) if isinstance(t, ember.Tensor)]
    for (a, va), (b, vb) in zip(before, after):
        np.testing.assert_array_equal(a, b)
        assert va == vb


def test_every_registry_op_is_tested():
    """Each public op in the registry has at least one table entry (private ops excepted)."""
    from ember._ops import REGISTRY
    tested = {op.name.split("_")[0] for op in OPS} | {op.name for op in OPS}
    internal = {"_to_copy", "_reshape_copy", "_view_of_base", "_to_device", "_put_index",
                "max_dim", "min_dim", "index", "fill", "copy"}
    missing = [n for n in REGISTRY if n not in tested and n not in internal]
    assert not missing, f"ops without an OpInfo entry: {missing}"
