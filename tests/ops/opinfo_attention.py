"""Op table entries: attention (``scaled_dot_product_attention``, ``multi_head_attention_forward``;
see ``opinfo.py``). Entries call ``F.<name>`` of each framework. Dropout and ``gumbel_softmax``
(random) and the modules are tested in ``tests/nn/test_attention.py``."""

from __future__ import annotations

import numpy as np

from .opinfo import FLOATS, HALF, A, ErrorCase, Sample, add, arr


def _F(m):
    if m.__name__ == "torch":
        return m.nn.functional
    from ember._api import attention
    return attention


def _f(name):
    return lambda m, *a, **k: getattr(_F(m), name)(*a, **k)


def _qkv(r, d, q, k, v, **kw):
    return A(arr(r, q, d, **kw)), A(arr(r, k, d, **kw)), A(arr(r, v, d, **kw))


def _sdpa_samples(d, r):
    mask_row = np.ones((3, 4), bool)
    mask_row[1] = False  # a fully masked row: 0 out, as PyTorch's CPU kernels
    return [
        # small ones first: gradcheck takes up to three of <= 30 elements, gradgradcheck
        # the first of <= 12
        Sample(_qkv(r, d, (1, 3, 2), (1, 4, 2), (1, 4, 2)), name="tiny"),
        Sample(_qkv(r, d, (2, 3, 2), (2, 4, 2), (2, 4, 3)), {"is_causal": True},
               name="causal L<S"),
        Sample(_qkv(r, d, (1, 3, 2), (1, 4, 2), (1, 4, 2)) + (A(mask_row),),
               name="masked row"),
        Sample(_qkv(r, d, (2, 3, 2), (2, 4, 2), (2, 4, 3)) + (A(arr(r, (3, 4), d)),),
               name="float mask (grad)"),
        Sample(_qkv(r, d, (2, 1, 5, 4), (2, 1, 3, 4), (2, 1, 3, 2)), {"is_causal": True},
               name="causal L>S"),
        Sample(_qkv(r, d, (2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 6)) +
               (A(r.random((2, 1, 3, 5)) > 0.3),), name="bool mask broadcast"),
        Sample(_qkv(r, d, (2, 2, 3, 4), (1, 2, 5, 4), (1, 2, 5, 4)) +
               (A(arr(r, (2, 2, 1, 5), d)),), {"scale": 0.3}, name="batch broadcast"),
        Sample(_qkv(r, d, (1, 4, 3, 4), (1, 2, 5, 4), (1, 1, 5, 3)), {"enable_gqa": True},
               name="gqa"),
        Sample(_qkv(r, d, (1, 4, 3, 4), (1, 2, 5, 4), (1, 2, 5, 3)),
               {"enable_gqa": True, "is_causal": True}, name="gqa causal"),
        Sample((A(arr(r, (5, 3, 2), d), noncontig=True), A(arr(r, (4, 3, 2), d), noncontig=True),
                A(arr(r, (4, 3, 2), d))), name="noncontig"),
        Sample(_qkv(r, d, (2, 3, 4), (2, 0, 4), (2, 0, 4)), name="empty keys"),
        Sample(_qkv(r, d, (0, 3, 4), (0, 5, 4), (0, 5, 4)), name="empty batch"),
        Sample(_qkv(r, d, (3, 4), (5, 4), (5, 2)), {"scale": -0.5}, name="2-D, negative scale"),
    ]


_F32 = np.ones((2, 3, 4), np.float32)
add("scaled_dot_product_attention", fn=_f("scaled_dot_product_attention"),
    samples=_sdpa_samples, dtypes=FLOATS + HALF, atol=1e-4, rtol=1e-4,
    errors=(ErrorCase((A(_F32), A(_F32.astype(np.float64)), A(_F32)), match="same dtype"),
            ErrorCase((A(_F32), A(_F32), A(_F32), A(np.zeros((3, 4), np.int64))),
                      match="attn_mask dtype"),
            ErrorCase((A(_F32), A(_F32), A(_F32), A(np.zeros((3, 4), np.float32))),
                      {"is_causal": True}, match="is_causal"),
            ErrorCase((A(_F32), A(_F32), A(_F32)), {"dropout_p": 1.5}, match="dropout"),
            ErrorCase((A(np.ones((1, 4, 3, 2), np.float32)), A(np.ones((1, 3, 3, 2), np.float32)),
                       A(np.ones((1, 3, 3, 2), np.float32))), {"enable_gqa": True},
                      match="divide"),
            ErrorCase((A(_F32), A(np.ones((2, 3, 5), np.float32)), A(_F32)),
                      match="batch2")))


def _mha_samples(d, r):
    def w(*s):
        return A(arr(r, s, d, -0.7, 0.7))

    def x(*s):
        return A(arr(r, s, d))
    kpm = np.array([[False, False, True], [False, True, False]])
    return [
        Sample((x(2, 1, 2), x(3, 1, 2), x(3, 1, 2), 2, 1, w(6, 2), w(6), None, None, False,
                0.0, w(2, 2), w(2)), name="tiny"),
        Sample((x(2, 2, 4), x(3, 2, 4), x(3, 2, 4), 4, 2, w(12, 4), w(12), w(1, 1, 4),
                w(1, 1, 4), True, 0.0, w(4, 4), w(4)),
               {"key_padding_mask": A(kpm), "average_attn_weights": False},
               name="bias_kv zero_attn padding"),
        Sample((x(3, 2, 4), x(3, 2, 4), x(3, 2, 4), 4, 2, w(12, 4), None, None, None, False,
                0.0, w(4, 4), None),
               {"attn_mask": A(np.triu(np.ones((3, 3), bool), 1)), "need_weights": False,
                "is_causal": True}, name="causal sdpa path"),
        Sample((x(3, 4), x(5, 3), x(5, 2), 4, 2, None, w(12), None, None, False, 0.0,
                w(4, 4), w(4)),
               {"use_separate_proj_weight": True, "q_proj_weight": w(4, 4),
                "k_proj_weight": w(4, 3), "v_proj_weight": w(4, 2),
                "attn_mask": x(2, 3, 5)}, name="unbatched kdim vdim 3-D mask"),
    ]


add("multi_head_attention_forward", fn=_f("multi_head_attention_forward"),
    samples=_mha_samples, dtypes=FLOATS, atol=1e-4, rtol=1e-4,
    errors=(ErrorCase((A(_F32), A(_F32), A(_F32), 4, 3, A(np.ones((12, 4), np.float32)),
                       None, None, None, False, 0.0, A(np.ones((4, 4), np.float32)), None),
                      match="divisible"),
            ErrorCase((A(_F32), A(_F32), A(_F32), 4, 2, A(np.ones((12, 4), np.float32)),
                       None, None, None, False, 0.0, A(np.ones((4, 4), np.float32)), None),
                      {"attn_mask": A(np.zeros((3, 3), np.float32))}, match="2D attn_mask")))


def _sdpa_backward(m, go, q, k, v, **kw):
    """(gq, gk, gv): torch's by autograd, ember's by its fused first-order backward op."""
    if m.__name__ == "torch":
        qkv = [t.detach().requires_grad_(True) for t in (q, k, v)]
        out = m.nn.functional.scaled_dot_product_attention(*qkv, **kw)
        return m.autograd.grad(out, qkv, go)
    from ember._ops import REGISTRY
    kg = q.shape[-3] // k.shape[-3] if kw.get("enable_gqa") else 1
    params = {"scale": 1 / q.shape[-1] ** 0.5, "kgroups": kg, "vgroups": kg}
    _, p = REGISTRY["scaled_dot_product_attention"](q, k, v, None, None,
                                                    causal=kw.get("is_causal", False),
                                                    **params)
    gq, gk, gv, _ = REGISTRY["scaled_dot_product_attention_backward"](
        go, None, q, k, v, p, None, needs=(True, True, True, False), **params)
    return gq, gk, gv


add("scaled_dot_product_attention_backward", fn=_sdpa_backward, grad=False,
    samples=lambda d, r: [
        Sample((A(arr(r, (2, 3, 3), d)),) + _qkv(r, d, (2, 3, 4), (2, 5, 4), (2, 5, 3))),
        Sample((A(arr(r, (1, 4, 3, 2), d)),) + _qkv(r, d, (1, 4, 3, 4), (1, 2, 5, 4),
                                                     (1, 2, 5, 2)),
               {"enable_gqa": True, "is_causal": True}, name="gqa causal")],
    dtypes=FLOATS + HALF, atol=1e-4, rtol=1e-4)
