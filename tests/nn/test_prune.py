"""nn.utils.prune against torch.nn.utils.prune."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.utils.prune as tprune

import ember
import ember.nn.utils.prune as eprune

from .util import close, raises_like, same

# distinct magnitudes: no ties for l1 / ln pruning
_R = np.random.RandomState(0)
W = ((_R.permutation(24) + 1) * _R.choice([-1, 1], 24)).reshape(4, 6).astype(np.float32) / 10
X = np.random.RandomState(1).randn(2, 6).astype(np.float32)


def linear(lib, w=W):
    m = lib.nn.Linear(w.shape[1], w.shape[0])
    m.weight = lib.nn.Parameter(lib.tensor(w))
    m.bias = lib.nn.Parameter(lib.linspace(-1, 1, w.shape[0]))
    return m


def pr(lib):
    return tprune if lib is torch else eprune


def run_both(steps, seed=0):
    """Build the same Linear in torch and ember and apply ``steps(lib, module)`` to each."""
    out = []
    for lib in (torch, ember):
        lib.manual_seed(seed)
        m = linear(lib)
        steps(lib, m)
        out.append(m)
    return out


def check_pruned(mt, me):
    sdt, sde = mt.state_dict(), me.state_dict()
    assert list(sde) == list(sdt)
    for k in sdt:
        same(sdt[k], sde[k])
    assert [type(h).__name__ for h in me._forward_pre_hooks.values()] == \
        [type(h).__name__ for h in mt._forward_pre_hooks.values()]
    x = X[:, :mt.in_features]
    yt, ye = mt(torch.tensor(x)), me(ember.tensor(x))
    close(yt, ye)
    yt.sum().backward()
    ye.sum().backward()
    for (nt, pt), (ne, pe) in zip(mt.named_parameters(), me.named_parameters()):
        assert nt == ne
        close(pt.grad, pe.grad)


STEPS = {
    "identity": lambda lib, m: pr(lib).identity(m, "weight"),
    "l1_float": lambda lib, m: pr(lib).l1_unstructured(m, "weight", amount=0.3),
    "l1_int": lambda lib, m: pr(lib).l1_unstructured(m, "bias", amount=2),
    "l1_zero": lambda lib, m: pr(lib).l1_unstructured(m, "weight", amount=0),
    "random_unstructured": lambda lib, m: pr(lib).random_unstructured(m, "weight", amount=0.5),
    "random_structured": lambda lib, m: pr(lib).random_structured(m, "weight", amount=2, dim=1),
    "ln_structured_l2": lambda lib, m: pr(lib).ln_structured(m, "weight", 0.5, n=2, dim=0),
    "ln_structured_l1_neg_dim": lambda lib, m: pr(lib).ln_structured(m, "weight", 2, 1, dim=-1),
    "ln_structured_inf": lambda lib, m: pr(lib).ln_structured(m, "weight", 1, n=float("inf"),
                                                              dim=1),
    "custom_from_mask": lambda lib, m: pr(lib).custom_from_mask(
        m, "bias", mask=lib.tensor([1, 0, 0, 1])),
    "importance_scores": lambda lib, m: pr(lib).l1_unstructured(
        m, "weight", amount=5, importance_scores=lib.tensor(W[::-1].copy())),
    "iterative": lambda lib, m: (
        pr(lib).l1_unstructured(m, "weight", amount=4),
        pr(lib).random_unstructured(m, "weight", amount=0.25),
        pr(lib).ln_structured(m, "weight", amount=1, n=2, dim=0),
        pr(lib).random_structured(m, "weight", amount=0.34, dim=1),
        pr(lib).custom_from_mask(m, "weight", mask=lib.tensor((W > -1.5).astype(np.float32))),
        pr(lib).l1_unstructured(m, "bias", amount=1)),
}


@pytest.mark.parametrize("name", STEPS)
def test_pruning_matches_torch(name):
    mt, me = run_both(STEPS[name])
    check_pruned(mt, me)
    assert eprune.is_pruned(me) and not eprune.is_pruned(linear(ember))


def test_iterative_pruning_container():
    mt, me = run_both(STEPS["iterative"])
    ct = next(h for h in mt._forward_pre_hooks.values() if h._tensor_name == "weight")
    ce = next(h for h in me._forward_pre_hooks.values() if h._tensor_name == "weight")
    assert isinstance(ce, eprune.PruningContainer) and len(ce) == len(ct) == 5
    assert [type(m).__name__ for m in ce] == [type(m).__name__ for m in ct]
    assert isinstance(ce[0], eprune.L1Unstructured)
    # hook recomputes the weight from weight_orig before every forward
    with ember.no_grad():
        me.weight_orig.mul_(2)
    with torch.no_grad():
        mt.weight_orig.mul_(2)
    close(mt(torch.tensor(X)), me(ember.tensor(X)))
    same(mt.weight, me.weight)


def test_remove_makes_pruning_permanent():
    def steps(lib, m):
        STEPS["iterative"](lib, m)
        pr(lib).remove(m, "weight")

    mt, me = run_both(steps)
    assert list(me.state_dict()) == list(mt.state_dict()) == ["bias_orig", "weight",
                                                                "bias_mask"]
    assert isinstance(me.weight, ember.nn.Parameter)
    check_pruned(mt, me)
    raises_like(lambda: tprune.remove(mt, "weight"), lambda: eprune.remove(me, "weight"))


def test_global_unstructured():
    def build(lib):
        m = lib.nn.Sequential(linear(lib), linear(lib, W[:, :4].T.copy()))
        pr(lib).l1_unstructured(m[1], "weight", amount=3)
        params = [(m[0], "weight"), (m[0], "bias"), (m[1], "weight")]
        pr(lib).global_unstructured(params, pruning_method=pr(lib).L1Unstructured, amount=10,
                                    importance_scores={(m[0], "bias"): lib.full((4,), 9.0)})
        return m

    mt, me = build(torch), build(ember)
    for a, b in zip(mt, me):
        check_pruned(a, b)
    assert int(me[0].bias_mask.sum()) == 4


def test_prune_method_and_container_api():
    t = ember.tensor(W)
    pt = tprune.L1Unstructured(amount=5).prune(torch.tensor(W))
    same(pt, eprune.L1Unstructured(amount=5).prune(t))
    same(tprune.LnStructured(1, n=1, dim=0).prune(torch.tensor(W), torch.ones(4, 6)),
         eprune.LnStructured(1, n=1, dim=0).prune(t, ember.ones(4, 6)))
    a, b = eprune.Identity(), eprune.Identity()
    a._tensor_name, b._tensor_name = "weight", "bias"
    c = eprune.PruningContainer(a)
    with pytest.raises(ValueError, match="Can only add pruning methods acting on the parameter "
                                         "named 'weight'"):
        c.add_pruning_method(b)
    with pytest.raises(TypeError, match="is not a BasePruningMethod subclass"):
        c.add_pruning_method(3)
    with pytest.raises(TypeError):
        eprune.BasePruningMethod()


def test_l1_ties_documented():
    """On equal magnitudes the pruned subset is topk's choice: ember prunes the lowest indices;
    PyTorch's CPU topk picks an implementation-defined subset of the ties. Both prune the
    right number, all among the smallest magnitudes."""
    w = np.array([[1, 0, 1, 0, 2, 0], [1, 0, 0, 3, 0, 0]], np.float32)
    mt, me = linear(torch, w), linear(ember, w)
    tprune.l1_unstructured(mt, "weight", amount=3)
    eprune.l1_unstructured(me, "weight", amount=3)
    mask_t, mask_e = mt.weight_mask.numpy(), me.weight_mask.numpy()
    assert (mask_t == 0).sum() == (mask_e == 0).sum() == 3
    assert (w[mask_t == 0] == 0).all() and (w[mask_e == 0] == 0).all()
    assert np.flatnonzero(mask_e.ravel() == 0).tolist() == [1, 3, 5]


def test_validation_errors():
    cases = [
        lambda lib: pr(lib).l1_unstructured(linear(lib), "weight", amount="a"),
        lambda lib: pr(lib).l1_unstructured(linear(lib), "weight", amount=-1),
        lambda lib: pr(lib).l1_unstructured(linear(lib), "weight", amount=1.5),
        lambda lib: pr(lib).random_unstructured(linear(lib), "weight", amount=25),
        lambda lib: pr(lib).random_structured(linear(lib), "bias", amount=1, dim=0),
        lambda lib: pr(lib).ln_structured(linear(lib), "weight", amount=1, n=2, dim=2),
        lambda lib: pr(lib).ln_structured(linear(lib), "weight", amount=5, n=2, dim=0),
        lambda lib: pr(lib).l1_unstructured(linear(lib), "weight", amount=1,
                                            importance_scores=lib.ones(2)),
        lambda lib: pr(lib).custom_from_mask(linear(lib), "bias", mask=lib.ones(3)),
        lambda lib: pr(lib).remove(linear(lib), "weight"),
        lambda lib: pr(lib).global_unstructured(5, pr(lib).L1Unstructured, amount=1),
        lambda lib: pr(lib).global_unstructured([(linear(lib), "weight")],
                                                pr(lib).L1Unstructured, importance_scores=[1],
                                                amount=1),
        lambda lib: pr(lib).global_unstructured([(linear(lib), "weight")],
                                                pr(lib).RandomStructured, amount=1),
    ]
    for case in cases:
        raises_like(lambda c=case: c(torch), lambda c=case: c(ember))
    # a failed first pruning leaves the parameter in place
    m = linear(ember)
    with pytest.raises(ValueError):
        eprune.random_unstructured(m, "weight", amount=25)
    assert "weight" in m._parameters and "weight_orig" not in m._parameters
    assert not m._forward_pre_hooks
