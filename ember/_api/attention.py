"""``nn.functional``: attention (``scaled_dot_product_attention``,
``multi_head_attention_forward``) and ``gumbel_softmax``.

The attention itself is one fused op (NOTE [ Fused attention ] in ``ember/_ops/attention.py``);
``multi_head_attention_forward`` is PyTorch's composition around it (projections, masks,
``bias_k``/``bias_v``, zero attention, heads), step for step.
"""

from __future__ import annotations

import math
import warnings

from .. import _dtype
from .._creation import empty, zeros, zeros_like
from .._functional import cat
from .._ops import REGISTRY as R
from .._ops.registry import apply
from .._ops.rules import broadcast_shapes
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from .conv import pad

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward", "gumbel_softmax"]


def _linear(input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    """``F.linear`` over the rows of ``input`` folded into one matrix, as PyTorch's kernel
    folds them (NumPy's batched matmul of a transposed ``(L, N, E)`` view is ~20x slower)."""
    from ..nn.functional import linear  # (ember.nn imports this area: a late import)
    if input.dim() <= 2:
        return linear(input, weight, bias)
    out = linear(input.reshape(-1, input.shape[-1]), weight, bias)
    return out.view(*input.shape[:-1], out.shape[-1])


# -- scaled dot-product attention -----------------------------------------------------------------

def _heads(query: Tensor, key: Tensor, value: Tensor, enable_gqa: bool) -> tuple[int, int]:
    """How many query heads each key and value head serves (PyTorch's GQA checks)."""
    if not enable_gqa or query.dim() < 3 or key.dim() < 3 or value.dim() < 3:
        return 1, 1
    hq, hk, hv = query.shape[-3], key.shape[-3], value.shape[-3]
    if hq % hk or hq % hv:
        raise RuntimeError("Number of heads in key and value must divide the number of heads "
                           "in ")
    return hq // hk, hq // hv


def _attention(query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa, safe):
    """``(output, weights)`` of the fused op, the weights after dropout."""
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set "
                           "when is_causal=True")
    if dropout_p < 0.0 or dropout_p > 1.0:
        raise RuntimeError(
            f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    kg, vg = _heads(query, key, value, enable_gqa)
    if query.dim() >= 2 and key.dim() >= 2:
        kb = tuple(key.shape[:-2])
        if kg > 1:
            kb = kb[:-1] + (query.shape[-3],)
        broadcast_shapes("scaled_dot_product_attention", tuple(query.shape[:-2]), kb)
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1]) if query.dim() else 1.0
    drop = None
    if dropout_p > 0.0 and query.dim() >= 2 and key.dim() >= 2:
        shape = tuple(broadcast_shapes("scaled_dot_product_attention",
                                       tuple(query.shape[:-2]), tuple(key.shape[:-2]))) + (
            query.shape[-2], key.shape[-2])
        if kg > 1:
            shape = shape[:-3] + (query.shape[-3],) + shape[-2:]
        if attn_mask is not None:
            shape = tuple(broadcast_shapes("scaled_dot_product_attention", shape,
                                           tuple(attn_mask.shape)))
        with no_grad():  # at::dropout's mask (NOTE [ Dropout masks ])
            if dropout_p == 1.0:
                drop = zeros(shape, dtype=query.dtype, device=query.device)
            else:
                drop = empty(shape, dtype=query.dtype, device=query.device).bernoulli_(
                    1 - dropout_p).div_(1 - dropout_p)
    out, p = apply(R["scaled_dot_product_attention"], (query, key, value, attn_mask, drop),
                   {"scale": float(scale), "causal": bool(is_causal), "kgroups": kg,
                    "vgroups": vg, "safe": safe})
    return out, (p if drop is None else p * drop)


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Tensor | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """``softmax(query @ key^T * scale + mask) @ value`` over the last two dims (batch dims
    broadcast); a bool ``attn_mask`` keeps where True, a float one is added; ``is_causal``
    masks key ``j > i`` (top-left aligned); ``enable_gqa`` lets each key/value head serve a
    group of query heads. Fully masked rows give 0, as PyTorch's CPU kernels.

    >>> q = ember.ones(2, 4, 3, 8)
    >>> F.scaled_dot_product_attention(q, q, q, is_causal=True).shape
    ember.Size([2, 4, 3, 8])
    """
    return _attention(query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa,
                      True)[0]


# -- multi-head attention -------------------------------------------------------------------------

def _none_or_dtype(input: Tensor | None):
    if input is None:
        return None
    if isinstance(input, Tensor):
        return input.dtype
    raise RuntimeError("input to _none_or_dtype() must be None or torch.Tensor")


def _canonical_mask(mask: Tensor | None, mask_name: str, other_type, other_name: str,
                    target_type, check_other: bool = True) -> Tensor | None:
    """A bool mask as an additive float mask of ``target_type`` (``-inf`` where True); a float
    mask as it is (PyTorch's ``F._canonical_mask``)."""
    if mask is None:
        return None
    is_float = mask.is_floating_point()
    if mask.dtype is not _dtype.bool and not is_float:
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype is not other_type:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. Use "
                      "same type for both instead.", stacklevel=3)
    if not is_float:
        mask = zeros_like(mask, dtype=target_type).masked_fill_(mask, float("-inf"))
    return mask


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads) -> bool:
    if query.dim() == 3:
        if key.dim() != 3 or value.dim() != 3:
            raise AssertionError(
                "For batched (3-D) `query`, expected `key` and `value` to be 3-D but found "
                f"{key.dim()}-D and {value.dim()}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 2:
            raise AssertionError(
                "For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D "
                f"but found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None and attn_mask.dim() not in (2, 3):
            raise AssertionError(
                "For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but "
                f"found {attn_mask.dim()}-D tensor instead")
        return True
    if query.dim() == 2:
        if key.dim() != 2 or value.dim() != 2:
            raise AssertionError(
                "For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but found "
                f"{key.dim()}-D and {value.dim()}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 1:
            raise AssertionError(
                "For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D "
                f"but found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None:
            if attn_mask.dim() not in (2, 3):
                raise AssertionError(
                    "For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or "
                    f"3-D but found {attn_mask.dim()}-D tensor instead")
            expected = (num_heads, query.shape[0], key.shape[0])
            if attn_mask.dim() == 3 and tuple(attn_mask.shape) != expected:
                raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got "
                                     f"{attn_mask.shape}")
        return False
    raise AssertionError("query should be unbatched 2D or batched 3D tensor but received "
                         f"{query.dim()}-D query tensor")


def _in_projection_packed(q, k, v, w, b=None):
    """q, k, v projected by the stacked ``(3E, E)`` weight: one matmul for self-attention,
    two for a shared key/value, three otherwise."""
    E = q.size(-1)
    if k is v:
        if q is k:
            proj = _linear(q, w, b).unflatten(-1, (3, E)).movedim(-2, 0).contiguous()
            return proj[0], proj[1], proj[2]
        w_q, w_kv = w.split([E, E * 2])
        b_q, b_kv = (None, None) if b is None else b.split([E, E * 2])
        kv = _linear(k, w_kv, b_kv).unflatten(-1, (2, E)).movedim(-2, 0).contiguous()
        return _linear(q, w_q, b_q), kv[0], kv[1]
    w_q, w_k, w_v = w.chunk(3)
    b_q, b_k, b_v = (None,) * 3 if b is None else b.chunk(3)
    return _linear(q, w_q, b_q), _linear(k, w_k, b_k), _linear(v, w_v, b_v)


def _in_projection(q, k, v, w_q, w_k, w_v, b_q=None, b_k=None, b_v=None):
    Eq, Ek, Ev = q.size(-1), k.size(-1), v.size(-1)
    for name, w, shape in (("query", w_q, (Eq, Eq)), ("key", w_k, (Eq, Ek)),
                           ("value", w_v, (Eq, Ev))):
        if tuple(w.shape) != shape:
            raise AssertionError(f"expecting {name} weights shape of {shape}, but got "
                                 f"{w.shape}")
    for name, b in (("query", b_q), ("key", b_k), ("value", b_v)):
        if b is not None and tuple(b.shape) != (Eq,):
            raise AssertionError(f"expecting {name} bias shape of {(Eq,)}, but got {b.shape}")
    return _linear(q, w_q, b_q), _linear(k, w_k, b_k), _linear(v, w_v, b_v)


def _static(t: Tensor, name: str, n: int, head_dim: int) -> Tensor:
    if t.size(0) != n:
        raise AssertionError(f"expecting {name}.size(0) of {n}, but got {t.size(0)}")
    if t.size(2) != head_dim:
        raise AssertionError(f"expecting {name}.size(2) of {head_dim}, but got {t.size(2)}")
    return t


def multi_head_attention_forward(
        query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int, num_heads: int,
        in_proj_weight: Tensor | None, in_proj_bias: Tensor | None, bias_k: Tensor | None,
        bias_v: Tensor | None, add_zero_attn: bool, dropout_p: float, out_proj_weight: Tensor,
        out_proj_bias: Tensor | None, training: bool = True,
        key_padding_mask: Tensor | None = None, need_weights: bool = True,
        attn_mask: Tensor | None = None, use_separate_proj_weight: bool = False,
        q_proj_weight: Tensor | None = None, k_proj_weight: Tensor | None = None,
        v_proj_weight: Tensor | None = None, static_k: Tensor | None = None,
        static_v: Tensor | None = None, average_attn_weights: bool = True,
        is_causal: bool = False, *, _nan_rows: bool = False) -> tuple[Tensor, Tensor | None]:
    """The forward of ``nn.MultiheadAttention`` on sequence-first ``(L, N, E)`` (or unbatched
    ``(L, E)``) inputs: ``(output, weights)``, the weights ``(N, L, S)`` averaged over heads
    (or per head ``(N, H, L, S)``), None unless ``need_weights``. Fully masked query rows give
    NaN with ``need_weights`` (a plain softmax), else 0 (PyTorch's ``scaled_dot_product_
    attention``); ``_nan_rows`` gives NaN in both (``nn.MultiheadAttention``'s inference path).

    >>> x, w = ember.ones(3, 2, 4), ember.ones(12, 4)
    >>> F.multi_head_attention_forward(x, x, x, 4, 2, w, None, None, None, False, 0.0,
    ...                                ember.ones(4, 4), None)[0].shape
    ember.Size([3, 2, 4])
    """
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask",
                                       _none_or_dtype(attn_mask), "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError(
            "Need attn_mask if specifying the is_causal hint. You may use the Transformer "
            "module method `generate_square_subsequent_mask` to create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # the causal hint alone: sdpa's causal kernel
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype,
                                    check_other=False)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but "
                             f"got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(f"key's sequence and batch dims {key.shape[:2]} do not match "
                                 f"value's {value.shape[:2]}")
    elif tuple(key.shape) != tuple(value.shape):
        raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")

    if not use_separate_proj_weight:
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        q, k, v = _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)
    else:
        for name, w in (("q", q_proj_weight), ("k", k_proj_weight), ("v", v_proj_weight)):
            if w is None:
                raise AssertionError(
                    f"use_separate_proj_weight is True but {name}_proj_weight is None")
        b_q, b_k, b_v = (None,) * 3 if in_proj_bias is None else in_proj_bias.chunk(3)
        q, k, v = _in_projection(query, key, value, q_proj_weight, k_proj_weight,
                                 v_proj_weight, b_q, b_k, b_v)

    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but "
                                   f"should be {(tgt_len, src_len)}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.dim() == 3:
            if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but "
                                   f"should be {(bsz * num_heads, tgt_len, src_len)}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")

    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        k = cat([k, bias_k.repeat(1, bsz, 1)])
        v = cat([v, bias_v.repeat(1, bsz, 1)])
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    elif bias_k is not None:
        raise AssertionError("bias_k is set but bias_v is None")
    elif bias_v is not None:
        raise AssertionError("bias_v is set but bias_k is None")

    # heads: (L, N, E) -> (N * H, L, head_dim)
    q = q.view(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = (k.view(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1) if static_k is None
         else _static(static_k, "static_k", bsz * num_heads, head_dim))
    v = (v.view(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1) if static_v is None
         else _static(static_v, "static_v", bsz * num_heads, head_dim))
    if add_zero_attn:
        zero = zeros((bsz * num_heads, 1, head_dim), dtype=k.dtype, device=k.device)
        k, v = cat([k, zero], dim=1), cat([v, zero], dim=1)
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    src_len = k.size(1)
    if key_padding_mask is not None:
        if key_padding_mask.shape[0] != bsz:
            raise AssertionError(f"Expected key_padded_mask.shape[0] to be {bsz}, but got "
                                 f"{key_padding_mask.shape[0]}")
        if key_padding_mask.shape[1] != src_len:
            raise AssertionError(f"Expected key_padded_mask.shape[1] to be {src_len}, but got "
                                 f"{key_padding_mask.shape[1]}")
        key_padding_mask = key_padding_mask.view(bsz, 1, 1, src_len).expand(
            -1, num_heads, -1, -1).reshape(bsz * num_heads, 1, src_len)
        attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask
    if not training:
        dropout_p = 0.0

    out, weights = _attention(q, k, v, attn_mask, dropout_p, is_causal and not need_weights,
                              None, False, not (need_weights or _nan_rows))
    out = out.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
    out = _linear(out, out_proj_weight, out_proj_bias).view(tgt_len, bsz, -1)
    if not is_batched:
        out = out.squeeze(1)
    if not need_weights:
        return out, None
    weights = weights.view(bsz, num_heads, tgt_len, src_len)
    if average_attn_weights:
        weights = weights.mean(dim=1)
    if not is_batched:
        weights = weights.squeeze(0)
    return out, weights


# -- gumbel softmax -------------------------------------------------------------------------------

def gumbel_softmax(logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:
    """A sample from the Gumbel-softmax distribution over ``dim`` (noise from ember's
    generator, drawn as PyTorch's ``exponential_``); ``hard=True`` returns one-hot samples
    with the soft sample's gradient (straight-through).

    >>> F.gumbel_softmax(ember.zeros(2, 5), tau=0.5, hard=True).sum(-1)
    tensor([1., 1.])
    """
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    with no_grad():
        gumbels = -empty(logits.shape, dtype=logits.dtype, device=logits.device
                         ).exponential_().log()
    y_soft = ((logits + gumbels) / tau).softmax(dim)
    if not hard:
        return y_soft
    index = y_soft.max(dim, keepdim=True)[1]
    y_hard = zeros_like(logits).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft
