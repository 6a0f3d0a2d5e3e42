"""Helpers for the nn tests: the same module tree in torch and ember, and comparisons."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember

# Tensor.uniform_/normal_ (hence every layer's reset_parameters and nn.init) come from the
# random area; tests that need them skip until it is merged.
needs_fills = pytest.mark.skipif(not hasattr(ember.Tensor, "uniform_"),
                                 reason="needs Tensor.uniform_/normal_ (random area)")
needs_qr = pytest.mark.skipif(not hasattr(ember.linalg, "qr"),
                              reason="needs ember.linalg.qr (linalg area)")


def np_of(t) -> np.ndarray:
    return t.detach().numpy()


def same(a, b) -> None:
    """Bit-equal values, same shape and dtype name."""
    assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
    np.testing.assert_array_equal(np_of(a), np_of(b))


def close(a, b, rtol=1e-5, atol=1e-6) -> None:
    np.testing.assert_allclose(np_of(a), np_of(b), rtol=rtol, atol=atol)


def e_(t: torch.Tensor) -> ember.Tensor:
    return ember.tensor(t.detach().numpy())


def text(s: str) -> str:
    """A torch message or repr in ember's words."""
    return s.replace("torch", "ember")


def unlocated(e: BaseException) -> str:
    """``e``'s message without the location a module's ``__call__`` put in front of it
    (NOTE [ Module paths in errors ])."""
    where = getattr(e, "_ember_where", None)
    if not where:
        return str(e)
    original = where[3][0] if where[3] else ""
    assert str(e).endswith(original)
    return original


def raises_like(fn_t, fn_e):
    """Both raise the same exception type with the same message (torch -> ember), ember's
    after the failing module's location."""
    with pytest.raises(Exception) as et:
        fn_t()
    with pytest.raises(Exception) as ee:
        fn_e()
    assert type(ee.value) is type(et.value), (et.value, ee.value)
    assert unlocated(ee.value) == text(str(et.value))
    return ee.value


def block_classes(lib):
    """A parameterised leaf module and a small net, defined alike for torch and ember
    (parameters from deterministic values, so no random init is needed)."""
    nn = lib.nn

    class Block(nn.Module):
        def __init__(self, i, o):
            super().__init__()
            self.weight = nn.Parameter(lib.arange(float(i * o)).reshape(o, i) / (i * o) - 0.5)
            self.bias = nn.Parameter(lib.linspace(-1, 1, o))
            self.register_buffer("steps", lib.zeros((), dtype=lib.int64))
            self.register_buffer("scratch", lib.ones(2), persistent=False)

        def forward(self, x):
            return x @ self.weight.t() + self.bias

        def extra_repr(self):
            return f"{self.weight.shape[1]}, {self.weight.shape[0]}"

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.Sequential(Block(4, 3), nn.Identity(), Block(3, 3))
            self.heads = nn.ModuleDict({"a": Block(3, 2), "b": nn.Flatten()})
            self.extra = nn.ModuleList([nn.Identity(), nn.Identity(), Block(2, 2)])
            self.tied = self.enc[0]
            self.scale = nn.Parameter(lib.full((1,), 2.0))
            self.register_buffer("none_buf", None)
            self.register_parameter("none_param", None)

        def forward(self, x):
            return self.extra[2](self.heads["a"](self.enc(x))) * self.scale

    return Block, Net


def nets():
    return block_classes(torch)[1](), block_classes(ember)[1]()
