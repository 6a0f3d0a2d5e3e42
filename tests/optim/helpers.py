"""A small model built identically in ember and PyTorch, and state-dict conversion."""

import numpy as np
import torch

import ember


def to_torch(obj):
    """A structure with ember tensors as one with torch tensors (through numpy)."""
    if isinstance(obj, ember.Tensor):
        return torch.from_numpy(obj.detach().numpy().copy())
    if isinstance(obj, dict):
        return {k: to_torch(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_torch(v) for v in obj)
    return obj


def to_ember(obj):
    """A structure with torch tensors as one with ember tensors (through numpy)."""
    if isinstance(obj, torch.Tensor):
        return ember.tensor(obj.detach().numpy().copy())
    if isinstance(obj, dict):
        return {k: to_ember(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_ember(v) for v in obj)
    return obj


class Model:
    """tanh MLP with a frozen parameter, a parameter that never gets a gradient and a
    non-contiguous weight; ``params`` in a fixed order, identical values for both libraries.
    ``big`` adds a parameter larger than the multi-tensor chunk."""

    def __init__(self, lib, seed=0, big=False, noncontig=True):
        rs = np.random.RandomState(seed)
        shapes = {"w1": (5, 4), "b1": (5,), "w2t": (5, 3), "b2": (3,), "frozen": (4,),
                  "unused": (2, 2)}
        if big:
            shapes["big"] = (200, 180)
        self.lib = lib
        self.p = {}
        for name, shape in shapes.items():
            t = lib.tensor(rs.randn(*shape) * 0.5, dtype=lib.float64)
            if name == "w2t":
                t = t.t() if noncontig else t.t().contiguous()  # a non-contiguous leaf
            self.p[name] = t.detach().requires_grad_(name != "frozen")
        self.x = lib.tensor(rs.randn(7, 4), dtype=lib.float64)
        self.y = lib.tensor(rs.randn(7, 3), dtype=lib.float64)

    @property
    def params(self):
        return list(self.p.values())

    def loss(self):
        p, lib = self.p, self.lib
        h = lib.tanh(self.x @ (p["w1"] + p["frozen"]).t() + p["b1"])
        out = h @ p["w2t"].t() + p["b2"]
        loss = ((out - self.y) ** 2).mean()
        if "big" in p:
            loss = loss + (lib.tanh(p["big"]) ** 2).mean()
        return loss

    def closure(self, opt):
        def f():
            opt.zero_grad()
            loss = self.loss()
            loss.backward()
            return loss
        return f


def assert_close(em, tm, rtol=1e-12, atol=1e-14):
    for name in tm.p:
        np.testing.assert_allclose(em.p[name].detach().numpy(), tm.p[name].detach().numpy(),
                                   rtol=rtol, atol=atol, err_msg=name)
