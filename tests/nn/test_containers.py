"""Containers against torch: Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict."""

from __future__ import annotations

from collections import OrderedDict

import pytest
import torch

import ember

from .util import raises_like, same, text


def _seq(lib, n=4):
    nn = lib.nn
    return nn.Sequential(*[nn.Flatten(i, -1) for i in range(n)])


def _keys_and_reprs(m):
    return list(m._modules), [repr(v) for v in m._modules.values()]


@pytest.mark.parametrize("op", [
    lambda lib, s: s[-1],
    lambda lib, s: s[1:3],
    lambda lib, s: s[::-2],
    lambda lib, s: s.append(lib.nn.Identity()),
    lambda lib, s: s.insert(1, lib.nn.Identity()),
    lambda lib, s: s.insert(-1, lib.nn.Identity()),
    lambda lib, s: s.extend([lib.nn.Identity(), lib.nn.Identity()]),
    lambda lib, s: (s.pop(1), s)[1],
    lambda lib, s: (s.pop(slice(0, 2)), s)[1],
    lambda lib, s: s + _seq(lib, 2),
    lambda lib, s: s * 2,
    lambda lib, s: 2 * s,
    lambda lib, s: s.__iadd__(_seq(lib, 1)),
    lambda lib, s: s.__imul__(3),
    lambda lib, s: (s.__delitem__(-2), s)[1],
    lambda lib, s: (s.__delitem__(slice(1, None)), s)[1],
    lambda lib, s: (s.__setitem__(-1, lib.nn.Identity()), s)[1],
])
def test_sequential_ops_match_torch(op):
    rt, re_ = op(torch, _seq(torch)), op(ember, _seq(ember))
    assert type(re_).__name__ == type(rt).__name__
    assert _keys_and_reprs(re_) == _keys_and_reprs(rt)
    assert repr(re_) == repr(rt)


@pytest.mark.parametrize("op", [
    lambda lib, s: s[4],
    lambda lib, s: s[-5],
    lambda lib, s: s["a"],
    lambda lib, s: s.insert(9, lib.nn.Identity()),
    lambda lib, s: s.insert(0, 3),
    lambda lib, s: s + 3,
    lambda lib, s: s * 0,
    lambda lib, s: s * 1.5,
    lambda lib, s: s.__iadd__([]),
])
def test_sequential_errors_match_torch(op):
    raises_like(lambda: op(torch, _seq(torch)), lambda: op(ember, _seq(ember)))


def test_sequential_forward_ordereddict_len_iter_dir():
    s = ember.nn.Sequential(OrderedDict(flat=ember.nn.Flatten(0), ident=ember.nn.Identity()))
    assert list(s._modules) == ["flat", "ident"] and len(s) == 2
    assert [type(m).__name__ for m in s] == ["Flatten", "Identity"]
    assert s(ember.ones(2, 3)).shape == (6,)
    assert "flat" in dir(s) and "0" not in dir(_seq(ember))
    assert s[0] is s.flat and isinstance(s[:1], ember.nn.Sequential)


@pytest.mark.parametrize("op", [
    lambda lib, m: m[-1],
    lambda lib, m: m[1:],
    lambda lib, m: m.append(lib.nn.Identity()),
    lambda lib, m: (m.insert(1, lib.nn.Identity()), m)[1],
    lambda lib, m: m.extend([lib.nn.Identity()]),
    lambda lib, m: (m.pop(0), m)[1],
    lambda lib, m: (m.__delitem__(slice(0, 3, 2)), m)[1],
    lambda lib, m: (m.__setitem__(-2, lib.nn.Identity()), m)[1],
    lambda lib, m: m + [lib.nn.Identity()],
    lambda lib, m: m.__iadd__([lib.nn.Flatten(), lib.nn.Flatten()]),
])
def test_modulelist_ops_match_torch(op):
    def make(lib):
        nn = lib.nn
        return nn.ModuleList([nn.Flatten(), nn.Flatten(), nn.Identity(), nn.Flatten(0, 1)])
    rt, re_ = op(torch, make(torch)), op(ember, make(ember))
    assert _keys_and_reprs(re_) == _keys_and_reprs(rt)
    assert repr(re_) == repr(rt)


def test_modulelist_repr_and_errors():
    def nested(lib):
        nn = lib.nn
        inner = nn.Sequential(nn.Identity(), nn.Flatten())
        return nn.ModuleList([inner, inner, nn.ModuleList(), nn.Identity(), nn.Identity()])
    assert repr(nested(ember)) == repr(nested(torch))
    assert repr(ember.nn.ModuleList()) == "ModuleList()"
    raises_like(lambda: torch.nn.ModuleList().extend(3), lambda: ember.nn.ModuleList().extend(3))
    raises_like(lambda: torch.nn.ModuleList()[0], lambda: ember.nn.ModuleList()[0])


def test_moduledict():
    def make(lib):
        nn = lib.nn
        d = nn.ModuleDict({"b": nn.Identity(), "a": nn.Flatten()})
        d.update([("c", nn.Identity())])
        d["d"] = nn.Flatten(0)
        popped = d.pop("a")
        return d, popped
    (dt, pt), (de, pe) = make(torch), make(ember)
    assert repr(de) == repr(dt) and repr(pe) == repr(pt)
    assert list(de.keys()) == list(dt.keys()) and list(de) == list(dt) and "c" in de
    assert [repr(v) for v in de.values()] == [repr(v) for v in dt.values()]
    de.clear()
    assert len(de) == 0
    for bad in (3, [("a",)], [3]):
        raises_like(lambda bad=bad: torch.nn.ModuleDict(bad),
                    lambda bad=bad: ember.nn.ModuleDict(bad))


def test_parameterlist():
    def make(lib):
        nn = lib.nn
        pl = nn.ParameterList([lib.ones(2), nn.Parameter(lib.zeros(3, 4)), "text"])
        pl.append(lib.ones(1, dtype=lib.float64))
        pl.extend([lib.zeros(2, 2, 2)])
        pl[0] = lib.full((2,), 5.0)
        return pl
    t, e = make(torch), make(ember)
    assert repr(e) == text(repr(t))
    assert len(e) == 5 and isinstance(e[0], ember.nn.Parameter) and e[2] == "text"
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    same(t[0], e[0])
    assert repr(e[1:3]) == text(repr(t[1:3]))
    raises_like(lambda: t.extend(torch.ones(2)), lambda: e.extend(ember.ones(2)))
    raises_like(lambda: t(1), lambda: e(1))
    raises_like(lambda: t[7], lambda: e[7])


def test_parameterdict():
    def make(lib):
        nn = lib.nn
        pd = nn.ParameterDict({"z": lib.ones(2), "a": lib.zeros(1, 3), "obj": 3})
        pd.update(OrderedDict(y=lib.ones(1), b=lib.ones(4)))
        pd.update([("c", lib.ones(2))])
        pd.setdefault("s", lib.zeros(2))
        popped = pd.pop("z")
        item = pd.popitem()
        return pd, popped, item
    (t, pt, it), (e, pe, ie) = make(torch), make(ember)
    assert repr(e) == text(repr(t))
    assert list(e.keys()) == list(t.keys()) and list(reversed(e)) == list(reversed(t))
    same(pt, pe)
    assert ie[0] == it[0]
    assert e.get("missing", 1) == 1 and "a" in e and len(e) == len(t)
    assert repr(e | ember.nn.ParameterDict({"q": ember.ones(1)})) == text(
        repr(t | torch.nn.ParameterDict({"q": torch.ones(1)})))
    assert repr(e.copy()) == repr(e)
    assert list(e.fromkeys(["u", "v"])) == ["u", "v"]
    e2 = e.copy()
    e2 |= ember.nn.ParameterDict({"w": ember.ones(1)})
    assert "w" in e2
    raises_like(lambda: t[1], lambda: e[1])
    raises_like(lambda: t(1), lambda: e(1))
    raises_like(lambda: t.update(3), lambda: e.update(3))
    raises_like(lambda: t.update([(1, 2, 3)]), lambda: e.update([(1, 2, 3)]))
    e.clear()
    assert len(e) == 0 and not list(e.parameters())
