"""MultiheadAttention, F.scaled_dot_product_attention (dropout, NaN rows, double backward) and
F.gumbel_softmax against torch: seeded init, outputs and gradients with identical weights, all
mask kinds, batch_first both ways, need_weights / average_attn_weights, errors."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import torch

import ember
from ember._api import attention as FA

from .util import close, e_, np_of, same

E, H, L, S, N = 8, 2, 3, 4, 2


def _pair(seed=0, **kw):
    """The same MultiheadAttention in torch and ember (ember's weights copied from torch's)."""
    torch.manual_seed(seed)
    t = torch.nn.MultiheadAttention(E, H, **kw).double()
    e = ember.nn.MultiheadAttention(E, H, **kw).double()
    e.load_state_dict({k: e_(v) for k, v in t.state_dict().items()})
    return t, e


def _inputs(batch_first, kdim=E, vdim=E, unbatched=False, seed=1):
    rng = np.random.default_rng(seed)

    def x(n, d):
        shape = (n, d) if unbatched else (N, n, d) if batch_first else (n, N, d)
        return rng.standard_normal(shape)
    return x(L, E), x(S, kdim), x(S, vdim)


def _masks(kind, rng, unbatched=False):
    """(attn_mask, key_padding_mask) as numpy arrays of the given kind (or None)."""
    pad = np.zeros((S,) if unbatched else (N, S), bool)
    pad[..., -1] = True
    attn = rng.random((L, S)) > 0.7
    attn[:, 0] = False  # no fully masked rows here (their NaNs are tested on their own)
    attn3 = np.broadcast_to(attn, (H if unbatched else N * H, L, S)).copy()
    return {
        "none": (None, None),
        "bool2d": (attn, None),
        "float2d": (np.where(attn, -np.inf, rng.standard_normal((L, S)) * 0.1), None),
        "bool3d": (attn3, None),
        "pad_bool": (None, pad),
        "pad_float": (None, np.where(pad, -np.inf, 0.0)),
        "both": (attn, pad),
        "both_float": (np.where(attn, -np.inf, 0.0), np.where(pad, -np.inf, 0.0)),
    }[kind]


def _run(lib, m, q, k, v, attn, pad, self_attn=False, **kw):
    tq = lib.tensor(q, requires_grad=True)
    if self_attn:
        tk = tv = tq
    else:
        tk, tv = lib.tensor(k, requires_grad=True), lib.tensor(v, requires_grad=True)
    am = None if attn is None else lib.tensor(attn)
    pm = None if pad is None else lib.tensor(pad)
    out, w = m(tq, tk, tv, key_padding_mask=pm, attn_mask=am, **kw)
    loss = (out * lib.arange(out.numel(), dtype=out.dtype).reshape(out.shape).sin()).sum()
    if w is not None:
        loss = loss + (w * w).sum()
    params = [p for p in m.parameters()]
    ins = [tq] if self_attn else [tq, tk, tv]
    grads = lib.autograd.grad(loss, ins + params)
    return out, w, grads


def _compare(t, e, args, **kw):
    ro, rw, rg = _run(torch, t, *args, **kw)
    eo, ew, eg = _run(ember, e, *args, **kw)
    close(eo, ro, rtol=1e-10, atol=1e-12)
    assert (ew is None) == (rw is None)
    if rw is not None:
        assert tuple(ew.shape) == tuple(rw.shape)
        close(ew, rw, rtol=1e-10, atol=1e-12)
    for a, b in zip(eg, rg):
        close(a, b, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("mask", ["none", "bool2d", "float2d", "bool3d", "pad_bool",
                                  "pad_float", "both", "both_float"])
@pytest.mark.parametrize("batch_first,need_weights,average", [
    (False, True, True), (True, True, False), (True, False, True), (False, False, True)])
def test_masks_batch_first_weights(mask, batch_first, need_weights, average):
    t, e = _pair(batch_first=batch_first)
    attn, pad = _masks(mask, np.random.default_rng(2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mixed mask types: PyTorch's deprecation warning
        _compare(t, e, (*_inputs(batch_first), attn, pad), need_weights=need_weights,
                 average_attn_weights=average)


@pytest.mark.parametrize("kw", [
    {"bias": False}, {"add_bias_kv": True}, {"add_zero_attn": True},
    {"add_bias_kv": True, "add_zero_attn": True}, {"kdim": 5, "vdim": 3},
    {"kdim": 5, "vdim": 3, "bias": False, "batch_first": True}, {"dropout": 0.0},
])
@pytest.mark.parametrize("mask", ["none", "both"])
def test_options(kw, mask):
    t, e = _pair(**kw)
    attn, pad = _masks(mask, np.random.default_rng(3))
    args = _inputs(kw.get("batch_first", False), kw.get("kdim", E), kw.get("vdim", E))
    for need in (True, False):
        _compare(t, e, (*args, attn, pad), need_weights=need)


@pytest.mark.parametrize("mask", ["none", "bool2d", "bool3d", "pad_bool", "both"])
def test_unbatched(mask):
    t, e = _pair()
    attn, pad = _masks(mask, np.random.default_rng(4), unbatched=True)
    for need in (True, False):
        _compare(t, e, (*_inputs(False, unbatched=True), attn, pad), need_weights=need)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("need_weights,pad", itertools.product([False, True], [False, True]))
def test_self_attention_causal(batch_first, need_weights, pad):
    """Self-attention (one tensor for q, k, v: the packed projection) with the causal hint."""
    t, e = _pair(batch_first=batch_first)
    q = _inputs(batch_first)[0]
    causal = np.triu(np.ones((L, L), bool), 1)
    padding = np.zeros((N, L), bool)
    padding[0, -1] = True
    _compare(t, e, (q, None, None, causal, padding if pad else None), self_attn=True,
             need_weights=need_weights, is_causal=True)


def test_train_mode_without_dropout_and_eval_no_grad():
    t, e = _pair(dropout=0.0)
    args = (*_inputs(False), *_masks("both", np.random.default_rng(5)))
    _compare(t.train(), e.train(), args)
    t.eval(), e.eval()
    q, k, v = args[:3]
    with torch.no_grad(), ember.no_grad():
        ro, rw = t(torch.tensor(q), torch.tensor(k), torch.tensor(v))
        eo, ew = e(ember.tensor(q), ember.tensor(k), ember.tensor(v))
    close(eo, ro, 1e-10, 1e-12)
    close(ew, rw, 1e-10, 1e-12)


@pytest.mark.parametrize("kw", [{}, {"kdim": 3, "vdim": 5}, {"add_bias_kv": True},
                                {"bias": False, "dtype": "float64"}])
@pytest.mark.parametrize("seed", [0, 11])
def test_seeded_init_is_bit_exact(kw, seed):
    def make(lib):
        lib.manual_seed(seed)
        k = dict(kw)
        if "dtype" in k:
            k["dtype"] = getattr(lib, k["dtype"])
        return lib.nn.MultiheadAttention(6, 3, **k)
    t, e = make(torch), make(ember)
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    for a, b in zip(t.state_dict().values(), e.state_dict().values()):
        same(a, b)
    assert type(e.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
    assert isinstance(e.out_proj, ember.nn.Linear)
    same(torch.rand(3), ember.rand(3))  # the generator is left where torch leaves it
    for name in ("embed_dim", "kdim", "vdim", "num_heads", "head_dim", "batch_first",
                 "_qkv_same_embed_dim", "dropout", "add_zero_attn"):
        assert getattr(e, name) == getattr(t, name), name


def test_fully_masked_rows():
    """PyTorch's NaNs: a plain softmax with need_weights, 0 from sdpa without."""
    t, e = _pair()
    q, k, v = _inputs(False)
    pad = np.zeros((N, S), bool)
    pad[0] = True
    for need in (True, False):
        ro, rw, _ = _run(torch, t, q, k, v, None, pad, need_weights=need)
        eo, ew, _ = _run(ember, e, q, k, v, None, pad, need_weights=need)
        np.testing.assert_allclose(np_of(eo), np_of(ro), rtol=1e-10, atol=1e-12)
        if need:
            assert np.isnan(np_of(eo)[:, 0]).all()
            np.testing.assert_allclose(np_of(ew), np_of(rw), rtol=1e-10, atol=1e-12)


def test_errors_and_warnings():
    with pytest.raises(AssertionError, match="divisible"):
        ember.nn.MultiheadAttention(6, 4)
    with pytest.raises(ValueError, match="greater than 0"):
        ember.nn.MultiheadAttention(0, 1)
    e = ember.nn.MultiheadAttention(E, H)
    x = ember.randn(L, N, E)
    with pytest.raises(RuntimeError, match="Need attn_mask"):
        e(x, x, x, is_causal=True)
    with pytest.raises(AssertionError, match="only bool and floating"):
        e(x, x, x, attn_mask=ember.zeros(L, L, dtype=ember.int64))
    with pytest.raises(AssertionError, match="key_padding_mask"):
        e(x, x, x, key_padding_mask=ember.zeros(N, L, 1, dtype=ember.bool))
    with pytest.raises(AssertionError, match="key_padded_mask.shape\\[1\\]"):
        e(x, x, x, key_padding_mask=ember.zeros(N, L + 1, dtype=ember.bool))
    with pytest.warns(UserWarning, match="mismatched key_padding_mask and attn_mask"):
        e(x, x, x, key_padding_mask=ember.zeros(N, L, dtype=ember.bool),
          attn_mask=ember.zeros(L, L))


# -- scaled_dot_product_attention -----------------------------------------------------------------

def test_sdpa_dropout_statistics_and_reproducibility():
    q = ember.randn(2, 2, 16, 8)
    ember.manual_seed(3)
    a = FA.scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    ember.manual_seed(3)
    b = FA.scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    same(a, b)
    # E[dropout(p) @ v] = p @ v: average many draws
    v = ember.ones(1, 1, 16, 1)
    qs = ember.zeros(1, 1, 4, 8)
    draws = ember.stack([FA.scaled_dot_product_attention(qs, qs.new_zeros(1, 1, 16, 8), v,
                                                         dropout_p=0.3) for _ in range(400)])
    assert abs(float(draws.mean()) - 1.0) < 0.03
    zero = FA.scaled_dot_product_attention(q, q, q, dropout_p=1.0)
    assert not np_of(zero).any()


def test_sdpa_dropout_gradient_uses_the_same_mask():
    """Backward through dropout uses the forward's mask: compare with an explicit formula."""
    rng = np.random.default_rng(0)
    q, k, v = (ember.tensor(rng.standard_normal((1, 2, 3, 4)), requires_grad=True)
               for _ in range(3))
    ember.manual_seed(5)
    out = FA.scaled_dot_product_attention(q, k, v, dropout_p=0.4)
    ember.manual_seed(5)
    p = ((q @ k.transpose(-1, -2)) / 2).softmax(-1)
    keep = ember.empty(p.shape, dtype=p.dtype).bernoulli_(0.6) / 0.6
    ref = (p * keep) @ v
    close(out, ref, 1e-12, 1e-12)
    g = ember.autograd.grad(out.sum(), (q, k, v))
    r = ember.autograd.grad(ref.sum(), (q, k, v))
    for a, b in zip(g, r):
        close(a, b, 1e-10, 1e-12)


def test_sdpa_gradgradcheck_with_mask_dropout_and_gqa():
    rng = np.random.default_rng(1)
    q = ember.tensor(rng.standard_normal((1, 2, 2, 2)), requires_grad=True)
    k = ember.tensor(rng.standard_normal((1, 1, 3, 2)), requires_grad=True)
    v = ember.tensor(rng.standard_normal((1, 1, 3, 2)), requires_grad=True)
    m = ember.tensor(rng.standard_normal((2, 3)), requires_grad=True)

    def fn(q, k, v, m):
        ember.manual_seed(0)
        return FA.scaled_dot_product_attention(q, k, v, m, dropout_p=0.3, enable_gqa=True)
    assert ember.autograd.gradcheck(fn, (q, k, v, m))
    assert ember.autograd.gradgradcheck(fn, (q, k, v, m))


def test_sdpa_weights_gradient_of_multi_head_weights():
    """The weights output's gradient (need_weights) reaches q and k, also in double backward."""
    rng = np.random.default_rng(2)
    args = [rng.standard_normal(s) for s in ((3, 1, 2), (4, 1, 2), (4, 1, 2), (6, 2), (2, 2))]

    def run(lib):
        q, k, v, w, o = (lib.tensor(a, requires_grad=True) for a in args)
        out, wts = lib.nn.functional.multi_head_attention_forward(
            q, k, v, 2, 1, w, None, None, None, False, 0.0, o, None) if lib is torch else \
            FA.multi_head_attention_forward(q, k, v, 2, 1, w, None, None, None, False, 0.0, o,
                                            None)
        g = lib.autograd.grad((wts ** 2).sum() + out.sum(), (q, k, w), create_graph=True)
        gg = lib.autograd.grad(sum((x ** 2).sum() for x in g), (q, k, v, w))
        return g + gg
    for a, b in zip(run(ember), run(torch)):
        close(a, b, 1e-9, 1e-11)


def test_gumbel_softmax_matches_torch_for_a_seed():
    x = np.random.default_rng(0).standard_normal((3, 5))
    for kw in ({}, {"tau": 0.5}, {"hard": True}, {"hard": True, "dim": 0}):
        torch.manual_seed(4)
        xt = torch.tensor(x, requires_grad=True)
        rt = torch.nn.functional.gumbel_softmax(xt, **kw)
        ember.manual_seed(4)
        xe = ember.tensor(x, requires_grad=True)
        re = FA.gumbel_softmax(xe, **kw)
        close(re, rt, 1e-12, 1e-12)
        w = np.arange(15.0).reshape(3, 5)
        (rt * torch.tensor(w)).sum().backward()
        (re * ember.tensor(w)).sum().backward()
        close(xe.grad, xt.grad, 1e-10, 1e-12)
    with pytest.warns(UserWarning, match="eps"):
        FA.gumbel_softmax(ember.zeros(2, 3), eps=0.1)


@pytest.mark.parametrize("batch_first,self_attn,train", [(True, True, False), (False, True, False),
                                                         (True, False, False), (True, True, True)])
def test_fully_masked_rows_on_the_inference_path(batch_first, self_attn, train):
    """PyTorch's fused inference kernel (eval, no grad, batch-first self-attention) gives NaN
    rows where the general path gives 0 (NOTE [ MHA inference path ])."""
    t, e = _pair(batch_first=batch_first)
    t.train(train), e.train(train)
    q, k, v = _inputs(batch_first)
    k = v = q if self_attn else k
    attn = np.zeros((L, L if self_attn else S), bool)
    attn[1] = True
    for need in (True, False):
        with torch.no_grad(), ember.no_grad():
            args = [(lib.tensor(q),) * 3 if self_attn else
                    (lib.tensor(q), lib.tensor(k), lib.tensor(v)) for lib in (torch, ember)]
            ro = t(*args[0], attn_mask=torch.tensor(attn), need_weights=need)[0]
            eo = e(*args[1], attn_mask=ember.tensor(attn), need_weights=need)[0]
        np.testing.assert_allclose(np_of(eo), np_of(ro), rtol=1e-10, atol=1e-12)
