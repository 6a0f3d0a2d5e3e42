"""Loss modules against torch: every reduction and option, values and gradients, weight
buffers in the state_dict, reprs, constructor checks and the legacy reduction arguments."""

from __future__ import annotations

import json
import runpy
import sys
import warnings

import pytest
import torch

import ember

from .test_activation_modules import check_module, pair
from .util import close, e_, raises_like

pytestmark = pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss")

g = torch.Generator().manual_seed(0)


def randn(*shape):
    return torch.randn(*shape, generator=g)


def rand(*shape):
    return torch.rand(*shape, generator=g)


def sign(*shape):
    return (torch.rand(*shape, generator=g) > 0.5).float() * 2 - 1


def labels(n, c, *rest):
    return torch.randint(0, c, (n, *rest), generator=g)


W4 = rand(4) + 0.5
LOGP = torch.log_softmax(randn(5, 4), 1)
N, C = 5, 4

# (make, inputs, which inputs get gradients)
CASES = [
    (lambda L, r: L.nn.L1Loss(reduction=r), (randn(3, 4), randn(3, 4)), (True, True)),
    (lambda L, r: L.nn.MSELoss(reduction=r), (randn(3, 4), randn(3, 4)), (True, True)),
    (lambda L, r: L.nn.SmoothL1Loss(reduction=r, beta=0.5), (randn(3, 4), randn(3, 4)),
     (True, False)),
    (lambda L, r: L.nn.HuberLoss(reduction=r, delta=0.7), (randn(3, 4), randn(3, 4)),
     (True, False)),
    (lambda L, r: L.nn.CrossEntropyLoss(reduction=r), (randn(N, C), labels(N, C)), (True,)),
    (lambda L, r: L.nn.CrossEntropyLoss(weight=L.tensor(W4.tolist()), ignore_index=1,
                                        reduction=r), (randn(N, C), labels(N, C)), (True,)),
    (lambda L, r: L.nn.CrossEntropyLoss(label_smoothing=0.2, reduction=r),
     (randn(N, C, 3), labels(N, C, 3)), (True,)),
    (lambda L, r: L.nn.CrossEntropyLoss(weight=L.tensor(W4.tolist()), label_smoothing=0.1,
                                        reduction=r),
     (randn(N, C), torch.softmax(randn(N, C), 1)), (True, False)),
    (lambda L, r: L.nn.NLLLoss(reduction=r), (LOGP, labels(N, C)), (True,)),
    (lambda L, r: L.nn.NLLLoss(weight=L.tensor(W4.tolist()), ignore_index=2, reduction=r),
     (LOGP, labels(N, C)), (True,)),
    (lambda L, r: L.nn.BCELoss(reduction=r), (rand(3, 4) * 0.9 + 0.05, rand(3, 4)),
     (True, False)),
    (lambda L, r: L.nn.BCELoss(weight=L.tensor(W4.tolist()), reduction=r),
     (rand(3, 4) * 0.9 + 0.05, rand(3, 4)), (True, False)),
    (lambda L, r: L.nn.BCEWithLogitsLoss(reduction=r), (randn(3, 4), rand(3, 4)), (True, True)),
    (lambda L, r: L.nn.BCEWithLogitsLoss(weight=L.tensor(W4.tolist()),
                                         pos_weight=L.tensor([1.0, 2.0, 0.5, 3.0]),
                                         reduction=r), (randn(3, 4), rand(3, 4)), (True, True)),
    (lambda L, r: L.nn.KLDivLoss(reduction=r), (LOGP, torch.softmax(randn(N, C), 1)),
     (True, True)),
    (lambda L, r: L.nn.KLDivLoss(reduction=r, log_target=True), (LOGP, LOGP.flip(0)),
     (True, True)),
    (lambda L, r: L.nn.SoftMarginLoss(reduction=r), (randn(3, 4), sign(3, 4)), (True, False)),
    (lambda L, r: L.nn.MultiLabelSoftMarginLoss(reduction=r),
     (randn(3, 4), (rand(3, 4) > 0.5).float()), (True, False)),
    (lambda L, r: L.nn.MultiLabelSoftMarginLoss(weight=L.tensor(W4.tolist()), reduction=r),
     (randn(3, 4), (rand(3, 4) > 0.5).float()), (True, False)),
    (lambda L, r: L.nn.MultiLabelMarginLoss(reduction=r),
     (randn(3, 4), torch.tensor([[3, 0, -1, 1], [1, 2, 3, 0], [2, -1, 0, 0]])), (True,)),
    (lambda L, r: L.nn.MultiMarginLoss(reduction=r), (randn(N, C), labels(N, C)), (True,)),
    (lambda L, r: L.nn.MultiMarginLoss(p=2, margin=0.5, weight=L.tensor(W4.tolist()),
                                       reduction=r), (randn(N, C), labels(N, C)), (True,)),
    (lambda L, r: L.nn.MarginRankingLoss(margin=0.3, reduction=r),
     (randn(6), randn(6), sign(6)), (True, True, False)),
    (lambda L, r: L.nn.HingeEmbeddingLoss(margin=0.5, reduction=r), (randn(3, 4), sign(3, 4)),
     (True, False)),
    (lambda L, r: L.nn.CosineEmbeddingLoss(margin=0.1, reduction=r),
     (randn(5, 3), randn(5, 3), sign(5)), (True, True, False)),
    (lambda L, r: L.nn.TripletMarginLoss(reduction=r), (randn(4, 3), randn(4, 3), randn(4, 3)),
     (True, True, True)),
    (lambda L, r: L.nn.TripletMarginLoss(margin=0.5, p=1, swap=True, reduction=r),
     (randn(4, 3), randn(4, 3), randn(4, 3)), (True, True, True)),
    (lambda L, r: L.nn.TripletMarginWithDistanceLoss(reduction=r),
     (randn(4, 3), randn(4, 3), randn(4, 3)), (True, True, True)),
    (lambda L, r: L.nn.TripletMarginWithDistanceLoss(
        distance_function=lambda a, b: 1 - L.nn.functional.cosine_similarity(a, b),
        margin=0.3, swap=True, reduction=r),
     (randn(4, 3), randn(4, 3), randn(4, 3)), (True, True, True)),
    (lambda L, r: L.nn.PoissonNLLLoss(reduction=r), (randn(3, 4), rand(3, 4) * 3),
     (True, False)),
    (lambda L, r: L.nn.PoissonNLLLoss(log_input=False, full=True, eps=1e-6, reduction=r),
     (rand(3, 4) + 0.1, (rand(3, 4) * 4).floor()), (True, False)),
    (lambda L, r: L.nn.GaussianNLLLoss(reduction=r), (randn(4, 3), randn(4, 3), rand(4, 3) + .1),
     (True, True, True)),
    (lambda L, r: L.nn.GaussianNLLLoss(full=True, eps=1e-3, reduction=r),
     (randn(4, 3), randn(4, 3), rand(4, 1) + .1), (True, True, True)),
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("make, inputs, grad", CASES)
def test_loss_matches_torch(make, inputs, grad, reduction):
    check_module(lambda L: make(L, reduction), *inputs, grad=grad, atol=1e-5)


def test_nll_loss_2d_and_kl_batchmean():
    x = torch.log_softmax(randn(2, 3, 4, 4), 1)
    y = labels(2, 3, 4, 4)
    with pytest.warns(FutureWarning, match="NLLLoss2d"):
        check_module(lambda L: L.nn.NLLLoss2d(), x, y, grad=(True,))
    check_module(lambda L: L.nn.NLLLoss(), x, y, grad=(True,))
    check_module(lambda L: L.nn.KLDivLoss(reduction="batchmean"), LOGP,
                 torch.softmax(randn(N, C), 1), grad=(True, False))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("opts", [{}, {"blank": 3, "zero_infinity": True}])
def test_ctc_loss(reduction, opts):
    t_len, n, c = 6, 2, 5
    blank = opts.get("blank", 0)
    log_probs = torch.log_softmax(randn(t_len, n, c), 2)
    tgt = torch.tensor([[1, 2, 2], [4, 1, 1]]) if blank == 0 else torch.tensor([[1, 2, 2],
                                                                                 [4, 1, 0]])
    check_module(lambda L: L.nn.CTCLoss(reduction=reduction, **opts), log_probs, tgt,
                 torch.tensor([6, 5]), torch.tensor([3, 2]), grad=(True,), atol=1e-4)


def test_weight_buffers_and_state_dict():
    for make in [lambda L: L.nn.CrossEntropyLoss(weight=L.ones(3)),
                 lambda L: L.nn.NLLLoss(L.ones(3)), lambda L: L.nn.BCELoss(L.ones(3)),
                 lambda L: L.nn.MultiMarginLoss(weight=L.ones(3)),
                 lambda L: L.nn.MultiLabelSoftMarginLoss(L.ones(3)),
                 lambda L: L.nn.BCEWithLogitsLoss(pos_weight=L.ones(3)),
                 lambda L: L.nn.BCEWithLogitsLoss(L.ones(3), pos_weight=L.ones(3)),
                 lambda L: L.nn.CrossEntropyLoss()]:
        t, e = pair(make)
        assert [n for n, _ in e.named_buffers()] == [n for n, _ in t.named_buffers()]
        assert list(e.state_dict()) == list(t.state_dict())
    m = ember.nn.CrossEntropyLoss(weight=ember.ones(3))
    m.double()
    assert m.weight.dtype is ember.float64
    m = ember.nn.BCEWithLogitsLoss()
    assert m.weight is None and m.pos_weight is None and list(m.state_dict()) == []


def test_loss_attributes_match_torch():
    for make in [lambda L: L.nn.CrossEntropyLoss(ignore_index=3, label_smoothing=0.1),
                 lambda L: L.nn.PoissonNLLLoss(False, True, eps=1e-4),
                 lambda L: L.nn.GaussianNLLLoss(full=True), lambda L: L.nn.KLDivLoss(
                     log_target=True), lambda L: L.nn.HuberLoss("sum", 2),
                 lambda L: L.nn.TripletMarginLoss(0.5, 1, 1e-3, True),
                 lambda L: L.nn.CTCLoss(2, "sum", True), lambda L: L.nn.MultiMarginLoss(2, 0.4),
                 lambda L: L.nn.SmoothL1Loss(beta=0.3), lambda L: L.nn.CosineEmbeddingLoss(.2)]:
        t, e = make(torch), make(ember)
        public = {k for k in vars(t) if not k.startswith("_")}
        assert public == {k for k in vars(e) if not k.startswith("_")}
        assert all(getattr(t, k) == getattr(e, k) for k in public), public
        assert repr(e) == repr(t)
    t = torch.nn.TripletMarginWithDistanceLoss()
    e = ember.nn.TripletMarginWithDistanceLoss()
    assert repr(e) == repr(t) and type(e.distance_function) is ember.nn.PairwiseDistance


def test_loss_constructor_errors():
    for make in [lambda L: L.nn.MultiMarginLoss(p=3),
                 lambda L: L.nn.MultiMarginLoss(weight=L.ones(2, 2)),
                 lambda L: L.nn.TripletMarginLoss(margin=0),
                 lambda L: L.nn.TripletMarginWithDistanceLoss(margin=-1.0),
                 lambda L: L.nn.HuberLoss(delta="1")]:
        raises_like(lambda make=make: make(torch), lambda make=make: make(ember))
    raises_like(lambda: torch.nn.L1Loss(reduction="avg")(torch.ones(2), torch.ones(2)),
                lambda: ember.nn.L1Loss(reduction="avg")(ember.ones(2), ember.ones(2)))


@pytest.mark.parametrize("size_average, reduce, expected", [
    (None, False, "none"), (False, None, "sum"), (True, True, "mean"), (False, False, "none")])
def test_legacy_reduction_arguments(size_average, reduce, expected):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        t = torch.nn.MSELoss(size_average=size_average, reduce=reduce)
        e = ember.nn.MSELoss(size_average=size_average, reduce=reduce)
    assert e.reduction == t.reduction == expected and len(w) == 2
    x, y = randn(3, 2), randn(3, 2)
    close(t(x, y), e(e_(x), e_(y)))


def test_loss_in_a_training_step():
    def make(L):
        L.manual_seed(0)
        return L.nn.Sequential(L.nn.Linear(6, 4), L.nn.LogSoftmax(dim=1))
    t, e = pair(make)
    x, y = randn(8, 6), labels(8, 4)
    lt = torch.nn.NLLLoss(weight=W4)(t(x), y)
    le = ember.nn.NLLLoss(weight=e_(W4))(e(e_(x)), e_(y))
    close(lt, le)
    lt.backward()
    le.backward()
    close(t[0].weight.grad, e[0].weight.grad)


def test_bench_nn_layers_runs(tmp_path, monkeypatch, capsys):
    out = tmp_path / "bench.json"
    monkeypatch.setattr(sys, "argv", ["bench_nn_layers.py", "--quick", "--filter",
                                      "CrossEntropyLoss", "--json", str(out)])
    with pytest.raises(SystemExit) as done:
        runpy.run_path("bench/bench_nn_layers.py", run_name="__main__")
    assert done.value.code == 0
    rows = json.loads(out.read_text())["rows"]
    assert [r["case"] for r in rows] == ["CrossEntropyLoss (256,1000)"] and rows[0]["ratio"] > 0
    assert "ratio" in capsys.readouterr().out
