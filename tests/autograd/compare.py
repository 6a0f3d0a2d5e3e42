"""Run one program against torch and ember and compare what it returns or raises.

A program is a function of the library module (``torch`` or ``ember``). Its result may nest
tuples, lists and dicts of tensors, numbers, strings, bools and None; tensors compare by
dtype, shape and values, everything else by equality (after replacing "torch" by "ember" in
strings). When torch raises, ember must raise the same exception type with a message that
starts with torch's (up to torch's "Hint:" or ``upto``, when given).
"""

from __future__ import annotations

import re

import numpy as np
import torch

import ember

LIBS = (torch, ember)


def _norm(v, lib):
    if isinstance(v, lib.Tensor):
        t = v.detach()
        if lib is torch:
            t = t.resolve_conj()
        arr = np.array(t.tolist()) if t.dtype in (lib.bfloat16,) else np.asarray(t.numpy())
        return ("tensor", str(v.dtype).split(".")[-1], tuple(v.shape), arr)
    if isinstance(v, (tuple, list)):
        return type(v)(_norm(x, lib) for x in v)
    if isinstance(v, dict):
        return {k: _norm(x, lib) for k, x in v.items()}
    if isinstance(v, str):
        return v.replace("torch", "ember")
    return v


def _equal(a, b, rtol, atol, path="result"):
    if isinstance(a, tuple) and a and a[0] == "tensor":
        assert isinstance(b, tuple) and b and b[0] == "tensor", f"{path}: {a!r} vs {b!r}"
        assert a[1:3] == b[1:3], f"{path}: dtype/shape {a[1:3]} vs {b[1:3]}"
        np.testing.assert_allclose(b[3], a[3], rtol=rtol, atol=atol, err_msg=path)
        return
    if isinstance(a, (tuple, list)):
        assert isinstance(b, type(a)) and len(a) == len(b), f"{path}: {a!r} vs {b!r}"
        for i, (x, y) in enumerate(zip(a, b)):
            _equal(x, y, rtol, atol, f"{path}[{i}]")
        return
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), f"{path}: {a!r} vs {b!r}"
        for k in a:
            _equal(a[k], b[k], rtol, atol, f"{path}[{k!r}]")
        return
    if isinstance(a, float) and isinstance(b, float):
        np.testing.assert_allclose(b, a, rtol=rtol, atol=atol, err_msg=path)
        return
    assert a == b, f"{path}: torch {a!r} != ember {b!r}"


def _message(e: BaseException) -> str:
    return re.sub(r"\s+", " ", str(e).replace("torch", "ember")).strip()


def _run(fn, lib):
    try:
        return False, _norm(fn(lib), lib)
    except Exception as e:  # noqa: BLE001 - the exception is the result being compared
        return True, e


def same(fn, *, rtol: float = 1e-6, atol: float = 1e-8, upto: str | None = None):
    """Assert that ``fn(torch)`` and ``fn(ember)`` agree; return ember's result (normalised)
    or, when both raise, ember's exception."""
    t_err, t = _run(fn, torch)
    e_err, e = _run(fn, ember)
    if t_err or e_err:
        assert t_err, f"only ember raised: {type(e).__name__}: {e}"
        assert e_err, f"only torch raised: {type(t).__name__}: {t}"
        want, got = _message(t), _message(e)
        want = want.split(" Hint:")[0] if upto is None else want[:want.index(upto)]
        assert type(e).__name__ == type(t).__name__ or isinstance(e, type(t)), (
            f"torch raised {type(t).__name__}, ember {type(e).__name__}: {got}")
        assert got.startswith(want), f"messages differ:\ntorch: {want}\nember: {got}"
        return e
    _equal(t, e, rtol, atol)
    return e


def raises_same(fn, **kw):
    """``same`` for a program that must raise in both libraries."""
    e = same(fn, **kw)
    assert isinstance(e, Exception), "expected both to raise"
    return e
