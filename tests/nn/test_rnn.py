"""RNN, LSTM, GRU, their cells and nn.utils.rnn against torch: outputs, final states and the
gradients of the input, initial states and every parameter, for each option, on padded,
unbatched and packed inputs; seeded init, state dicts, reprs and errors."""

from __future__ import annotations

import runpy
import sys

import numpy as np
import pytest
import torch
import torch.nn.utils.rnn as TR

import ember
import ember.nn.utils.rnn as ER

from .util import close, needs_fills, raises_like, same

MODES = {  # name -> (constructor name, extra kwargs)
    "rnn_tanh": ("RNN", {}),
    "rnn_relu": ("RNN", {"nonlinearity": "relu"}),
    "lstm": ("LSTM", {}),
    "lstm_proj": ("LSTM", {"proj_size": 2}),
    "gru": ("GRU", {}),
}
I, H, T, B = 3, 4, 5, 3


def _pair(mode, **kw):
    """The same network in torch and ember (float64, ember's weights copied from torch's)."""
    name, extra = MODES[mode]
    t = getattr(torch.nn, name)(I, H, **extra, **kw).double()
    e = getattr(ember.nn, name)(I, H, **extra, **kw).double()
    e.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    return t, e


def _hx(lib, mode, net, batch, rng_seed=1, unbatched=False):
    rng = np.random.default_rng(rng_seed)
    dirs = 2 if net.bidirectional else 1
    shape = (net.num_layers * dirs, batch)[:1 if unbatched else 2]
    out_size = net.proj_size if getattr(net, "proj_size", 0) else H
    h = lib.tensor(rng.standard_normal((*shape, out_size)), requires_grad=True)
    if not mode.startswith("lstm"):
        return h
    return h, lib.tensor(rng.standard_normal((*shape, H)), requires_grad=True)


def _leaves(x, hx):
    return [x, *(hx if isinstance(hx, tuple) else (() if hx is None else (hx,)))]


def _outputs(out):
    if isinstance(out, (tuple, list)):
        return [y for o in out for y in _outputs(o)]
    if isinstance(out, (TR.PackedSequence, ER.PackedSequence)):
        return [out.data]
    return [out]


def _check_same_run(t, e, make_x, hx_given, mode, batch=B, unbatched=False):
    """Run both networks; compare outputs, states and all gradients."""
    grads = []
    results = []
    for lib, net in ((torch, t), (ember, e)):
        x = make_x(lib)
        hx = _hx(lib, mode, net, batch, unbatched=unbatched) if hx_given else None
        out = net(x, hx) if hx_given else net(x)
        outs = _outputs(out)
        rng = np.random.default_rng(2)
        loss = sum((o * lib.tensor(rng.standard_normal(tuple(o.shape)))).sum() for o in outs)
        loss.backward()
        leaves = [v for v in _leaves(x, hx) if isinstance(v, lib.Tensor)]
        grads.append([v.grad for v in leaves] + [p.grad for p in net.parameters()])
        results.append(outs)
    for a, b in zip(*results):
        assert tuple(a.shape) == tuple(b.shape)
        close(b, a, rtol=1e-10, atol=1e-12)
    for a, b in zip(*grads):
        close(b, a, rtol=1e-9, atol=1e-11)


OPTIONS = [  # num_layers, bidirectional, batch_first, bias, h0 given
    (1, False, False, True, False),
    (2, True, True, False, True),
    (2, False, False, True, True),
    (1, True, False, True, False),
    (3, True, False, True, True),
]


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("layers,bidir,batch_first,bias,h0", OPTIONS)
def test_padded_matches_torch(mode, layers, bidir, batch_first, bias, h0):
    t, e = _pair(mode, num_layers=layers, bidirectional=bidir, batch_first=batch_first,
                 bias=bias)
    shape = (B, T, I) if batch_first else (T, B, I)
    x = np.random.default_rng(0).standard_normal(shape)
    _check_same_run(t, e, lambda lib: lib.tensor(x, requires_grad=True), h0, mode)


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("h0", [False, True])
def test_unbatched_matches_torch(mode, h0):
    t, e = _pair(mode, num_layers=2, bidirectional=True)
    x = np.random.default_rng(0).standard_normal((T, I))
    _check_same_run(t, e, lambda lib: lib.tensor(x, requires_grad=True), h0, mode,
                    unbatched=True)


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("lengths,batch_first,h0", [
    ([5, 3, 3, 1], False, False),          # sorted
    ([2, 5, 1, 4], True, True),            # unsorted, restored to the original order
    ([3, 3, 3, 3], False, True),
])
def test_packed_matches_torch(mode, lengths, batch_first, h0):
    t, e = _pair(mode, num_layers=2, bidirectional=True, batch_first=batch_first)
    n = len(lengths)
    x = np.random.default_rng(0).standard_normal((n, T, I) if batch_first else (T, n, I))

    def make(lib):
        mod = TR if lib is torch else ER
        return mod.pack_padded_sequence(lib.tensor(x, requires_grad=True), lengths,
                                        batch_first=batch_first, enforce_sorted=False)

    _check_same_run(t, e, make, h0, mode, batch=n)
    out, _ = e(make(ember))
    assert isinstance(out, ER.PackedSequence)
    padded, lens = ER.pad_packed_sequence(out, batch_first=batch_first)
    assert lens.tolist() == lengths


def test_packed_output_is_padded_output_at_true_lengths():
    """Each sequence's final state is the one at its own last step."""
    t, e = _pair("lstm")
    seqs = [np.random.default_rng(k).standard_normal((n, I)) for k, n in enumerate((4, 2))]
    packed = ER.pack_sequence([ember.tensor(s) for s in seqs])
    _, (h, c) = e(packed)
    for k, s in enumerate(seqs):
        _, (hk, ck) = e(ember.tensor(s)[:, None])
        close(h[:, k], hk[:, 0], rtol=1e-12, atol=1e-14)
        close(c[:, k], ck[:, 0], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("bias,batched,hx", [(True, True, True), (False, True, False),
                                               (True, False, True), (True, False, False)])
def test_cells_match_torch(name, bias, batched, hx):
    kw = {"nonlinearity": "relu"} if name == "RNNCell" and not bias else {}
    t = getattr(torch.nn, name)(I, H, bias=bias, **kw).double()
    e = getattr(ember.nn, name)(I, H, bias=bias, **kw).double()
    e.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    rng = np.random.default_rng(0)
    shape = (B,) if batched else ()
    x, h, c = (rng.standard_normal((*shape, n)) for n in (I, H, H))
    results = []
    for lib, cell in ((torch, t), (ember, e)):
        xs = lib.tensor(x, requires_grad=True)
        hs = (lib.tensor(h, requires_grad=True), lib.tensor(c, requires_grad=True))
        state = (hs if name == "LSTMCell" else hs[0]) if hx else None
        out = cell(xs, state)
        outs = list(out) if isinstance(out, tuple) else [out]
        sum((o * o).sum() for o in outs).backward()
        used = [xs, *(hs if name == "LSTMCell" else hs[:1])] if hx else [xs]
        results.append((outs, [v.grad for v in used] + [p.grad for p in cell.parameters()]))
    for a, b in zip(results[0][0] + results[0][1], results[1][0] + results[1][1]):
        assert tuple(a.shape) == tuple(b.shape)
        close(b, a, rtol=1e-10, atol=1e-12)


@needs_fills
@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.LSTM(3, 5, 2, bidirectional=True, proj_size=2),
    lambda lib: lib.nn.GRU(4, 3, bias=False, batch_first=True),
    lambda lib: lib.nn.RNN(2, 6, 3, "relu", dropout=0.2),
    lambda lib: lib.nn.LSTMCell(3, 4),
    lambda lib: lib.nn.GRUCell(3, 4, bias=False),
    lambda lib: lib.nn.RNNCell(3, 4, nonlinearity="relu", dtype=lib.float64),
])
def test_seeded_init_state_dict_and_repr_match_torch(make):
    torch.manual_seed(5)
    t = make(torch)
    ember.manual_seed(5)
    e = make(ember)
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())
    for a, b in zip(t.parameters(), e.parameters()):
        same(a, b)
    same(torch.rand(3), ember.rand(3))  # the generator is left where torch leaves it
    if hasattr(t, "all_weights"):
        assert e._flat_weights_names == t._flat_weights_names
        assert [[p.shape for p in ws] for ws in e.all_weights] == \
            [[tuple(p.shape) for p in ws] for ws in t.all_weights]
        e.flatten_parameters()
    # a state dict saved by torch loads into ember and back
    t.load_state_dict({k: torch.tensor(v.numpy()) for k, v in e.state_dict().items()})


@needs_fills
@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_dropout_between_layers_matches_torch_for_a_seed(name):
    x = np.random.default_rng(0).standard_normal((5, 2, 3))
    outs = []
    for lib in (torch, ember):
        lib.manual_seed(3)
        net = getattr(lib.nn, name)(3, 4, 3, dropout=0.4, bidirectional=True).double()
        outs.append(net(lib.tensor(x))[0])
        net.eval()
        outs.append(net(lib.tensor(x))[0])
    close(outs[2], outs[0], rtol=1e-12, atol=1e-14)
    close(outs[3], outs[1], rtol=1e-12, atol=1e-14)


def test_reassigned_weight_is_used():
    t, e = _pair("gru")
    x = np.random.default_rng(0).standard_normal((T, B, I))
    for net, lib in ((t, torch), (e, ember)):
        net.weight_hh_l0 = lib.nn.Parameter(net.weight_hh_l0.detach() * 2)
    close(e(ember.tensor(x))[0], t(torch.tensor(x))[0], rtol=1e-10, atol=1e-12)


def test_double_backward_through_lstm_and_gru():
    for name in ("LSTM", "GRU"):
        net = getattr(ember.nn, name)(2, 1, bidirectional=True).double()
        x = ember.tensor(np.random.default_rng(0).standard_normal((2, 1, 2)),
                         requires_grad=True)
        assert ember.autograd.gradgradcheck(lambda x, net=net: net(x)[0], (x,))


@pytest.mark.parametrize("case", [
    lambda lib: lib.nn.LSTM(3, 2)(lib.randn(4, 5, 5)),
    lambda lib: lib.nn.LSTM(3, 2)(lib.randn(4, 5, 3), (lib.randn(1, 4, 2), lib.randn(1, 5, 2))),
    lambda lib: lib.nn.LSTM(3, 2)(lib.randn(4, 5, 3), (lib.randn(1, 5, 2), lib.randn(1, 4, 2))),
    lambda lib: lib.nn.LSTM(3, 2)(lib.randn(4, 5, 3), (lib.randn(5, 2), lib.randn(1, 5, 2))),
    lambda lib: lib.nn.LSTM(3, 2)(lib.randn(4, 3), (lib.randn(1, 1, 2), lib.randn(1, 2))),
    lambda lib: lib.nn.GRU(3, 2)(lib.randn(4, 5, 3), lib.randn(1, 4, 2)),
    lambda lib: lib.nn.GRU(3, 2)(lib.randn(4, 5, 3).double()),
    lambda lib: lib.nn.GRU(3, 2)(lib.randn(4, 5, 3, 3)),
    lambda lib: lib.nn.RNN(3, 2)(lib.randn(3)),
    lambda lib: lib.nn.RNN(3, 2)(lib.randn(4, 3), lib.randn(1, 1, 2)),
    lambda lib: lib.nn.RNN(3, 2)(lib.randn(4, 2, 3), lib.randn(1, 2)),
    lambda lib: lib.nn.RNN(3, 2, nonlinearity="sigmoid"),
    lambda lib: lib.nn.GRU(3, 2, proj_size=1),
    lambda lib: lib.nn.LSTM(3, 2, proj_size=2),
    lambda lib: lib.nn.LSTM(3, 2, dropout=1.5),
    lambda lib: lib.nn.LSTM(3, 0),
    lambda lib: lib.nn.LSTM(3.0, 2),
    lambda lib: lib.nn.LSTM(3, 2, num_layers=0),
    lambda lib: lib.nn.LSTM(3, 2, bias=1),
    lambda lib: lib.nn.RNNCell(3, 2)(lib.randn(4, 5)),
    lambda lib: lib.nn.RNNCell(3, 2)(lib.randn(4, 3), lib.randn(5, 2)),
    lambda lib: lib.nn.GRUCell(3, 2)(lib.randn(3, 4, 3)),
    lambda lib: lib.nn.GRUCell(3, 2)(lib.randn(4, 3), lib.randn(4, 3)),
    lambda lib: lib.nn.LSTMCell(3, 2)(lib.randn(4, 3), (lib.randn(4, 2), lib.randn(4, 2, 1))),
    lambda lib: lib.lstm_cell(lib.randn(4, 3), (lib.randn(4, 2), lib.randn(4, 3)),
                              lib.randn(8, 3), lib.randn(8, 2)),
])
def test_errors_match_torch(case):
    raises_like(lambda: case(torch), lambda: case(ember))


def test_dropout_warning_for_one_layer():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        ember.nn.GRU(3, 2, dropout=0.5)


# -- nn.utils.rnn ---------------------------------------------------------------------------------

@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths,enforce_sorted", [([5, 3, 3, 1], True),
                                                    ([2, 5, 1, 3], False)])
def test_pack_and_pad_match_torch(batch_first, lengths, enforce_sorted):
    x0 = np.random.default_rng(0).standard_normal((5, 4, 2))
    x = x0.transpose(1, 0, 2).copy() if batch_first else x0
    res = []
    for lib, mod in ((torch, TR), (ember, ER)):
        xs = lib.tensor(x, requires_grad=True)
        p = mod.pack_padded_sequence(xs, lib.tensor(lengths), batch_first, enforce_sorted)
        y, lens = mod.pad_packed_sequence(p, batch_first, -1.0, total_length=6)
        (y * y).sum().backward()
        res.append([*(v for v in p if v is not None), y, lens, xs.grad])
    for a, b in zip(*res):
        same(a, b)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["left", "right"])
def test_pad_sequence_matches_torch(batch_first, side):
    seqs = [np.random.default_rng(k).standard_normal((n, 3)) for k, n in enumerate((2, 5, 1))]
    a = TR.pad_sequence([torch.tensor(s) for s in seqs], batch_first, 2.5, side)
    b = ER.pad_sequence([ember.tensor(s) for s in seqs], batch_first, 2.5, side)
    same(a, b)


def test_sequence_lists_round_trip():
    seqs = [np.random.default_rng(k).standard_normal((n, 3)) for k, n in enumerate((2, 5, 1))]
    pt = TR.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False)
    pe = ER.pack_sequence([ember.tensor(s) for s in seqs], enforce_sorted=False)
    for a, b in zip(pt, pe):
        same(a, b)
    for a, b in zip(TR.unpack_sequence(pt), ER.unpack_sequence(pe)):
        same(a, b)
    padded = ER.pad_sequence([ember.tensor(s) for s in seqs])
    parts = ER.unpad_sequence(padded, ember.tensor([2, 5, 1]))
    assert [tuple(p.shape) for p in parts] == [(2, 3), (5, 3), (1, 3)]
    assert tuple(padded.shape) == (3, 5, 3)  # transposed in place, as torch does
    same(TR.invert_permutation(torch.tensor([2, 0, 1])),
         ER.invert_permutation(ember.tensor([2, 0, 1])))
    assert ER.invert_permutation(None) is None
    assert pe.double().data.dtype == ember.float64 and pe.float().data.dtype == ember.float32
    assert pe.to(ember.float64).sorted_indices is pe.sorted_indices
    assert pe.to("cpu") is pe and not pe.is_cuda


@pytest.mark.parametrize("case", [
    lambda lib, m: m.pack_padded_sequence(lib.ones(4, 3, 2), [4, 2, 1, 1]),
    lambda lib, m: m.pack_padded_sequence(lib.ones(4, 3, 2), [4, 2, 0]),
    lambda lib, m: m.pack_padded_sequence(lib.ones(4, 3, 2), [2, 4, 1]),
    lambda lib, m: m.pack_padded_sequence(lib.ones(0, 3, 2), [1, 1, 1]),
    lambda lib, m: m.pack_padded_sequence(lib.ones(4, 3, 2), lib.tensor([[4, 2, 1]])),
    lambda lib, m: m.pad_sequence([]),
    lambda lib, m: m.pad_sequence(5),
    lambda lib, m: m.pad_sequence([lib.ones(2), lib.ones(3)], padding_side="middle"),
    lambda lib, m: m.pad_packed_sequence(m.pack_padded_sequence(lib.ones(4, 3, 2), [4, 2, 1]),
                                         total_length=2),
])
def test_utils_errors_match_torch(case):
    raises_like(lambda: case(torch, TR), lambda: case(ember, ER))


def test_bench_rnn_runs(tmp_path, monkeypatch):
    out = tmp_path / "bench.json"
    monkeypatch.setattr(sys, "argv", ["bench_rnn.py", "--quick", "--small", "--json", str(out),
                                      "--filter", "GRU fwd"])
    try:
        runpy.run_path("bench/bench_rnn.py", run_name="__main__")
    except SystemExit as e:
        assert e.code == 0
    assert out.exists()
