"""Transformer, TransformerEncoder/Decoder and their layers against torch: seeded init, reprs,
state_dict keys, outputs and gradients with identical weights (eval, and train with dropout 0)
over mask combinations, batch_first, norm_first, activations, bias; PyTorch's nested-tensor
inference path; and a small GPT-style language model trained a few steps with SGD."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ember

from .util import close, e_, np_of, same

D, NH, FF, S, T, N = 8, 2, 16, 5, 4, 2


def _quiet(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn()


def _pair(make, seed=0):
    """``make(lib)`` in torch (seeded) and ember, ember's state copied from torch's, float64."""
    torch.manual_seed(seed)
    t = _quiet(lambda: make(torch)).double()
    e = _quiet(lambda: make(ember)).double()
    e.load_state_dict({k: e_(v) for k, v in t.state_dict().items()})
    return t, e


def _x(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


def _grads_match(t, e, run, rtol=1e-9, atol=1e-11):
    """``run(lib, module, leaf)`` for both; outputs and all gradients equal."""
    outs = []
    for lib, m in ((torch, t), (ember, e)):
        m.zero_grad()
        out, leaves = run(lib, m)
        w = lib.tensor(np.cos(np.arange(out.numel())).reshape(tuple(out.shape)))
        grads = lib.autograd.grad((out * w).sum(), leaves + list(m.parameters()))
        outs.append((out, grads))
    (ro, rg), (eo, eg) = outs
    close(eo, ro, rtol, atol)
    assert len(eg) == len(rg)
    for a, b in zip(eg, rg):
        close(a, b, rtol, atol)


def _layer_norm(lib, d=D):
    """``nn.LayerNorm`` (ember's transformer stand-in until the shared module is merged)."""
    if lib is torch or hasattr(lib.nn, "LayerNorm"):
        return lib.nn.LayerNorm(d)
    from ember.nn.modules.transformer import _LayerNorm
    return _LayerNorm(d)


def _act(name):
    return {"relu": lambda lib: "relu", "gelu": lambda lib: "gelu",
            "fn": lambda lib: lib.nn.functional.gelu,
            "lambda": lambda lib: (lambda x: lib.tanh(x) * 2)}[name]


def _shape(batch_first, n):
    return (N, n, D) if batch_first else (n, N, D)


def _lib_mask(lib, a):
    return None if a is None else lib.tensor(a)


def _enc_masks(kind):
    causal = np.triu(np.ones((S, S), bool), 1)
    pad = np.zeros((N, S), bool)
    pad[1, -2:] = True
    return {
        "none": (None, None, False),
        "bool": (causal, None, False),
        "float": (np.where(causal, -np.inf, 0.0) + _x((S, S), 9) * 0.1, None, False),
        "causal": (np.where(causal, -np.inf, 0.0), None, True),
        "pad": (None, pad, False),
        "pad_float": (None, np.where(pad, -np.inf, 0.0), False),
        "both": (causal, pad, False),
        "causal_pad": (np.where(causal, -np.inf, 0.0), np.where(pad, -np.inf, 0.0), True),
    }[kind]


@pytest.mark.parametrize("mask", ["none", "bool", "float", "causal", "pad", "pad_float",
                                  "both", "causal_pad"])
@pytest.mark.parametrize("batch_first,norm_first,act", [
    (False, False, "relu"), (True, True, "gelu"), (True, False, "fn"), (False, True, "lambda")])
def test_encoder_layer(mask, batch_first, norm_first, act):
    t, e = _pair(lambda lib: lib.nn.TransformerEncoderLayer(
        D, NH, FF, dropout=0.0, activation=_act(act)(lib), batch_first=batch_first,
        norm_first=norm_first))
    am, pm, causal = _enc_masks(mask)
    x = _x(_shape(batch_first, S), 1)

    def run(lib, m):
        src = lib.tensor(x, requires_grad=True)
        return m(src, src_mask=_lib_mask(lib, am), src_key_padding_mask=_lib_mask(lib, pm),
                 is_causal=causal), [src]
    for mode in ("train", "eval"):
        getattr(t, mode)(), getattr(e, mode)()
        _quiet(lambda: _grads_match(t, e, run))


@pytest.mark.parametrize("masks", ["none", "all_bool", "all_float", "causal"])
@pytest.mark.parametrize("batch_first,norm_first,bias", [(False, False, True), (True, True, True),
                                                         (True, False, False)])
def test_decoder_layer_and_decoder(masks, batch_first, norm_first, bias):
    causal = np.triu(np.ones((T, T), bool), 1)
    mem_mask = np.zeros((T, S), bool)
    mem_mask[0, 1] = True
    tpad, mpad = np.zeros((N, T), bool), np.zeros((N, S), bool)
    tpad[0, -1], mpad[1, 0] = True, True
    kw = {
        "none": {},
        "all_bool": {"tgt_mask": causal, "memory_mask": mem_mask, "tgt_key_padding_mask": tpad,
                     "memory_key_padding_mask": mpad},
        "all_float": {"tgt_mask": np.where(causal, -np.inf, 0.0),
                      "memory_mask": np.where(mem_mask, -np.inf, 0.0),
                      "tgt_key_padding_mask": np.where(tpad, -np.inf, 0.0),
                      "memory_key_padding_mask": np.where(mpad, -np.inf, 0.0)},
        "causal": {"tgt_mask": np.where(causal, -np.inf, 0.0), "tgt_is_causal": True},
    }[masks]
    x, mem = _x(_shape(batch_first, T), 2), _x(_shape(batch_first, S), 3)

    def layer(lib):
        return lib.nn.TransformerDecoderLayer(D, NH, FF, dropout=0.0, batch_first=batch_first,
                                              norm_first=norm_first, bias=bias)

    def run(lib, m):
        tgt, memory = lib.tensor(x, requires_grad=True), lib.tensor(mem, requires_grad=True)
        args = {k: v if isinstance(v, bool) else lib.tensor(v) for k, v in kw.items()}
        return m(tgt, memory, **args), [tgt, memory]
    for make in (layer, lambda lib: lib.nn.TransformerDecoder(layer(lib), 2, _layer_norm(lib))):
        t, e = _pair(make)
        _grads_match(t, e, run)


@pytest.mark.parametrize("batch_first,norm_first", [(False, False), (True, True)])
def test_transformer_all_masks(batch_first, norm_first):
    t, e = _pair(lambda lib: lib.nn.Transformer(D, NH, 2, 2, FF, dropout=0.0,
                                                batch_first=batch_first, norm_first=norm_first))
    src, tgt = _x(_shape(batch_first, S), 4), _x(_shape(batch_first, T), 5)
    spad = np.zeros((N, S), bool)
    spad[0, -1] = True
    tpad = np.zeros((N, T), bool)
    tpad[1, -1] = True

    def run(lib, m):
        s, g = lib.tensor(src, requires_grad=True), lib.tensor(tgt, requires_grad=True)
        out = m(s, g, src_mask=lib.zeros(S, S), tgt_mask=m.generate_square_subsequent_mask(T),
                memory_mask=lib.zeros(T, S, dtype=lib.bool), src_key_padding_mask=lib.tensor(
                    spad), tgt_key_padding_mask=lib.tensor(tpad),
                memory_key_padding_mask=lib.tensor(spad))
        return out, [s, g]
    _quiet(lambda: _grads_match(t, e, run))


def test_unbatched_and_errors():
    t, e = _pair(lambda lib: lib.nn.Transformer(D, NH, 1, 1, FF, dropout=0.0))

    def run(lib, m):
        s, g = lib.tensor(_x((S, D), 6), requires_grad=True), lib.tensor(_x((T, D), 7),
                                                                         requires_grad=True)
        return m(s, g, tgt_mask=m.generate_square_subsequent_mask(T)), [s, g]
    _grads_match(t, e, run)
    with pytest.raises(RuntimeError, match="batch number of src and tgt"):
        e(ember.zeros(S, N, D), ember.zeros(T, N + 1, D))
    with pytest.raises(RuntimeError, match="feature number"):
        e(ember.zeros(S, N, D + 1), ember.zeros(T, N, D + 1))
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        ember.nn.TransformerEncoderLayer(D, NH, activation="tanh")


@pytest.mark.parametrize("seed", [0, 5])
@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.Transformer(D, NH, 2, 1, FF),
    lambda lib: lib.nn.Transformer(D, NH, 1, 2, FF, bias=False, batch_first=True,
                                   norm_first=True, layer_norm_eps=1e-6),
    lambda lib: lib.nn.TransformerEncoder(lib.nn.TransformerEncoderLayer(D, NH, FF), 3),
    lambda lib: lib.nn.TransformerDecoderLayer(D, NH, FF, activation="gelu"),
])
def test_seeded_init_repr_and_state_dict(seed, make):
    def build(lib):
        lib.manual_seed(seed)
        return _quiet(lambda: make(lib))
    t, e = build(torch), build(ember)
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())
    for a, b in zip(t.state_dict().values(), e.state_dict().values()):
        same(a, b)
    same(torch.rand(2), ember.rand(2))


def test_attributes_and_clones():
    def make(lib):
        return _quiet(lambda: lib.nn.TransformerEncoder(
            lib.nn.TransformerEncoderLayer(D, NH, FF, batch_first=True, layer_norm_eps=1e-3),
            2, enable_nested_tensor=False, mask_check=False))
    t, e = make(torch), make(ember)
    for name in ("num_layers", "enable_nested_tensor", "use_nested_tensor", "mask_check"):
        assert getattr(e, name) == getattr(t, name), name
    l0, l1 = e.layers
    assert l0 is not l1 and l0.linear1.weight is not l1.linear1.weight
    same(l0.linear1.weight, l1.linear1.weight)
    for name in ("norm_first", "activation_relu_or_gelu"):
        assert getattr(l0, name) == getattr(t.layers[0], name)
    assert l0.norm1.eps == 1e-3 and l0.norm1.normalized_shape == (D,)
    assert l0.self_attn.batch_first and l0.dropout.p == 0.1
    assert "layers.1.self_attn.in_proj_weight" in e.state_dict()


@pytest.mark.parametrize("kw", [{}, {"batch_first": True, "norm_first": True},
                                {"batch_first": True, "activation": "sigmoid"},
                                {"batch_first": True, "bias": False}])
def test_enable_nested_tensor_warning_as_torch(kw):
    def warn(lib):
        act = kw.get("activation")
        k = dict(kw, activation=lib.sigmoid) if act else kw
        layer = lib.nn.TransformerEncoderLayer(D, NH, FF, **k)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            lib.nn.TransformerEncoder(layer, 1)
        return [str(x.message) for x in w]
    assert warn(ember) == warn(torch)


def test_generate_square_subsequent_mask():
    from ember.nn.modules.transformer import _generate_square_subsequent_mask
    for sz, dt in ((1, None), (4, "float64")):
        r = torch.nn.Transformer.generate_square_subsequent_mask(
            sz, dtype=getattr(torch, dt) if dt else None)
        o = ember.nn.Transformer.generate_square_subsequent_mask(
            sz, dtype=getattr(ember, dt) if dt else None)
        same(o, r)
        same(_generate_square_subsequent_mask(sz, dtype=o.dtype), r)


@pytest.mark.parametrize("padding", ["left_aligned", "ragged", "none_padded"])
@pytest.mark.parametrize("mask_check", [True, False])
def test_encoder_nested_inference_path(padding, mask_check):
    """In eval mode without gradients PyTorch runs a padded batch as a nested tensor: the
    padded positions come out 0 before the final norm (NOTE [ Transformer fast paths ])."""
    def make(lib):
        norm = _layer_norm(lib)
        layer = lib.nn.TransformerEncoderLayer(D, NH, FF, batch_first=True)
        return lib.nn.TransformerEncoder(layer, 2, norm, mask_check=mask_check)
    t, e = _pair(make)
    with torch.no_grad():
        t.norm.bias.fill_(0.5)
    e.load_state_dict({k: e_(v) for k, v in t.state_dict().items()})
    t.eval(), e.eval()
    pad = np.zeros((N, S), bool)
    if padding == "left_aligned":
        pad[0, -2:] = True
    elif padding == "ragged":
        pad[0, 1] = True
    x = _x((N, S, D), 8)
    with torch.no_grad(), ember.no_grad():
        r = _quiet(lambda: t(torch.tensor(x), src_key_padding_mask=torch.tensor(pad)))
        o = e(ember.tensor(x), src_key_padding_mask=ember.tensor(pad))
    close(o, r, 1e-9, 1e-11)
    # with gradients the padded positions are computed as any other
    r = t(torch.tensor(x, requires_grad=True), src_key_padding_mask=torch.tensor(pad))
    o = e(ember.tensor(x, requires_grad=True), src_key_padding_mask=ember.tensor(pad))
    close(o, r, 1e-9, 1e-11)


def test_train_mode_dropout_is_random_and_seeded():
    layer = ember.nn.TransformerEncoderLayer(D, NH, FF, dropout=0.5)
    x = ember.randn(S, N, D)
    ember.manual_seed(1)
    a = layer(x)
    ember.manual_seed(1)
    b = layer(x)
    same(a, b)
    assert not np.allclose(np_of(layer(x)), np_of(a))
    layer.eval()
    same(layer(x), layer(x))


# -- a GPT-style language model trained in both ---------------------------------------------------

def _lm(lib, vocab=11, d=16, heads=2, layers=2, ctx=6):
    nn, F = lib.nn, lib.nn.functional

    class TinyGPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = nn.Parameter(lib.randn(vocab, d) * 0.1)
            self.pos = nn.Parameter(lib.randn(ctx, d) * 0.1)
            layer = nn.TransformerEncoderLayer(d, heads, 2 * d, dropout=0.0, batch_first=True,
                                               norm_first=True, activation="gelu")
            self.blocks = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
            self.register_buffer("causal", nn.Transformer.generate_square_subsequent_mask(ctx))

        def forward(self, ids):
            n = ids.shape[1]
            h = F.embedding(ids, self.tok) + self.pos[:n]
            h = self.blocks(h, mask=self.causal[:n, :n], is_causal=True)
            return F.linear(h, self.tok)  # output projection tied to the embedding

    return TinyGPT()


def test_gpt_style_language_model_trains_as_torch():
    torch.manual_seed(0)
    ember.manual_seed(0)
    t, e = _lm(torch).double(), _lm(ember).double()
    e.load_state_dict({k: e_(v) for k, v in t.state_dict().items()})
    data = np.random.default_rng(0).integers(0, 11, (4, 7))
    ot = torch.optim.SGD(t.parameters(), lr=0.5, momentum=0.9)
    oe = ember.optim.SGD(e.parameters(), lr=0.5, momentum=0.9)
    losses = []
    for _ in range(5):
        step = []
        for lib, m, opt in ((torch, t, ot), (ember, e, oe)):
            ids = lib.tensor(data)
            logits = m(ids[:, :-1])
            loss = lib.nn.functional.cross_entropy(logits.reshape(-1, 11), ids[:, 1:].reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()
            step.append(float(loss.detach()))
        losses.append(step)
    lt, le = np.array(losses).T
    np.testing.assert_allclose(le, lt, rtol=1e-9)
    assert lt[-1] < lt[0]
    for a, b in zip(t.parameters(), e.parameters()):
        close(b, a, 1e-8, 1e-10)


def test_encoder_layer_fully_padded_sequence_as_torch():
    """NaN for a fully padded sequence in inference (PyTorch's fused kernel), finite with
    gradients (NOTE [ MHA inference path ])."""
    t, e = _pair(lambda lib: lib.nn.TransformerEncoderLayer(D, NH, FF, batch_first=True))
    t.eval(), e.eval()
    x, pad = _x((N, S, D), 10), np.zeros((N, S), bool)
    pad[0] = True
    with torch.no_grad(), ember.no_grad():
        r = t(torch.tensor(x), src_key_padding_mask=torch.tensor(pad))
        o = e(ember.tensor(x), src_key_padding_mask=ember.tensor(pad))
    np.testing.assert_allclose(np_of(o), np_of(r), rtol=1e-9, atol=1e-11)
    assert np.isnan(np_of(o)[0]).all()
    r = t(torch.tensor(x, requires_grad=True), src_key_padding_mask=torch.tensor(pad))
    o = e(ember.tensor(x, requires_grad=True), src_key_padding_mask=ember.tensor(pad))
    close(o, r, 1e-9, 1e-11)
