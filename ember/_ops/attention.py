"""Attention: ``scaled_dot_product_attention`` as one fused op, with a hand-written VJP.

# NOTE [ Fused attention ]
``scaled_dot_product_attention(q, k, v, mask, drop)`` computes, over the last two dims and
broadcasting the batch dims as ``matmul`` does,

    s = scale * q @ k^T  (+ mask, or -inf where a bool mask / the causal mask is False)
    p = softmax(s)       (output 1, the attention weights before dropout)
    o = (p * drop) @ v   (output 0)

in one op, so that the ``(..., L, S)`` scores live in one buffer updated in place and backward
saves ``q, k, v, drop`` and ``p`` only. ``drop`` is the dropout mask already scaled by
``1 / (1 - dropout_p)`` (drawn by the caller from ember's generator, as PyTorch's math path
draws it) or None. With ``kgroups``/``vgroups`` > 1 each key/value head serves that many
consecutive query heads (grouped-query attention, PyTorch's ``repeat_interleave`` on dim -3).

Rows whose scores are all ``-inf`` (fully masked) give weights 0 and output 0 with
``safe=True``, as PyTorch's CPU ``scaled_dot_product_attention`` (its ``_safe_softmax``); with
``safe=False`` they give NaN, as a plain softmax (``multi_head_attention_forward`` with
``need_weights=True``).

The VJP is the textbook one, in ember ops (so double backward differentiates through it, and
through ``p``, which is output 1 of the same node):

    gv = (p * drop)^T @ go,   gp = (go @ v^T) * drop + gweights
    gs = p * (gp - sum(gp * p, -1)),   gq = scale * gs @ k,   gk = scale * gs^T @ q

and the float mask receives ``gs``. The engine reduces broadcast batch dims; the head groups
are summed here. A plain first-order backward (no ``create_graph``) runs the same formula as
one NumPy kernel (``scaled_dot_product_attention_backward``), in place on the score-sized
buffers.
"""

from __future__ import annotations

import numpy as np

from .. import _dtype
from ..autograd.grad_mode import STATE as _GRAD
from .registry import register

_HALF = (np.dtype(np.float16), np.dtype(_dtype.bfloat16.np))


def _word(a) -> str:
    return _dtype.FROM_NP[a.dtype].word


def _check(q, k, v, mask):
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise RuntimeError(
            "Expected query, key, and value to all be  at least 2 dimensional, but got "
            f"query.dim: {q.ndim} key.dim: {k.ndim} and value.dim: {v.ndim} instead.")
    if not q.dtype == k.dtype == v.dtype:
        raise RuntimeError(
            "Expected query, key, and value to have the same dtype, but got query.dtype: "
            f"{_word(q)} key.dtype: {_word(k)} and value.dtype: {_word(v)} instead.")
    if q.dtype.kind != "f" and q.dtype not in _HALF:
        raise RuntimeError(f"expected scalar type Float but found {_dtype.FROM_NP[q.dtype].name}")
    if mask is not None and mask.dtype != np.bool_ and mask.dtype != q.dtype:
        raise RuntimeError(
            "Expected attn_mask dtype to be bool or float or to match query dtype, but got "
            f"attn_mask.dtype: {_word(mask)} and  query.dtype: {_word(q)} instead.")
    if k.shape[-1] != q.shape[-1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{q.shape[-1]}, {k.shape[-2]}] but got: [{k.shape[-1]}, "
                           f"{k.shape[-2]}].")
    if v.shape[-2] != k.shape[-2]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{k.shape[-2]}, {v.shape[-1]}] but got: [{v.shape[-2]}, "
                           f"{v.shape[-1]}].")


def _groups(xp, t, groups):
    return t if groups == 1 else xp.repeat(t, groups, axis=-3)


def _softmax_(xp, s, safe):
    """Softmax over the last dim of the float buffer ``s``, in place."""
    m = s.max(axis=-1, keepdims=True)
    if safe:
        m[m == -np.inf] = 0  # fully masked rows: exp(-inf) = 0 everywhere, not NaN
    s -= m
    xp.exp(s, out=s)
    total = s.sum(axis=-1, keepdims=True)
    if safe:
        total[total == 0] = 1
    s /= total
    return s


def _sdpa(xp, q, k, v, mask, drop, scale, causal=False, kgroups=1, vgroups=1, safe=True):
    _check(q, k, v, mask)
    dt = q.dtype
    if dt in _HALF:
        q, k, v = (t.astype(np.float32) for t in (q, k, v))
        if mask is not None and mask.dtype != np.bool_:
            mask = mask.astype(np.float32)
    # strided batches take NumPy's slow (non-BLAS) matmul loop: make them contiguous first
    q, k, v = (xp.ascontiguousarray(t) for t in (q, k, v))
    k, v = _groups(xp, k, kgroups), _groups(xp, v, vgroups)
    L, S = q.shape[-2], k.shape[-2]
    s = xp.matmul(q * q.dtype.type(scale), xp.swapaxes(k, -1, -2))  # a new buffer
    if mask is not None and xp.broadcast_shapes(s.shape, mask.shape) != s.shape:
        s = xp.broadcast_to(s, xp.broadcast_shapes(s.shape, mask.shape)).copy()
    if causal:
        xp.copyto(s, -np.inf, where=xp.triu(xp.ones((L, S), dtype=bool), 1))
    if mask is not None:
        if mask.dtype == np.bool_:
            xp.copyto(s, -np.inf, where=~mask)
        else:
            s += mask
    if S:
        with np.errstate(invalid="ignore"):
            p = _softmax_(xp, s, safe)
    else:
        p = s
    pd = p if drop is None else p * drop.astype(p.dtype, copy=False)
    out = xp.matmul(pd, v)
    return out.astype(dt, copy=False), p.astype(dt, copy=False)


def _sum_groups(g, groups):
    """Gradient of a head-repeated tensor summed back onto its ``n / groups`` heads."""
    if groups == 1:
        return g
    return g.unflatten(-3, (g.shape[-3] // groups, groups)).sum(-3)


def _sdpa_backward(xp, go, gw, q, k, v, p, drop, scale, kgroups=1, vgroups=1,
                   needs=(True,) * 4):
    """Fused first-order backward (NOTE [ Fused attention ]): ``(gq, gk, gv, gmask)`` at the
    broadcast shapes (empty where not in ``needs``; ``gv`` needs ``go``)."""
    dt = q.dtype
    if dt in _HALF:
        go, q, k, v, p = (None if t is None else t.astype(np.float32)
                          for t in (go, q, k, v, p))
        gw = None if gw is None else gw.astype(np.float32)
    ct = q.dtype.type
    q, k, v = (xp.ascontiguousarray(t) for t in (q, k, v))
    go = None if go is None else xp.ascontiguousarray(go)
    kr, vr = _groups(xp, k, kgroups), _groups(xp, v, vgroups)
    empty = xp.empty((0,), dt)
    gv = empty
    if go is not None:
        gp = xp.matmul(go, xp.swapaxes(vr, -1, -2))
        if needs[2]:
            pd = p if drop is None else p * drop
            gv = xp.matmul(xp.swapaxes(pd, -1, -2), go)
        if drop is not None:
            gp *= drop
        if gw is not None:
            gp += gw
    else:
        gp = gw.copy()
    gp -= xp.einsum("...i,...i->...", gp, p)[..., None]
    gp *= p  # the scores' gradient
    gq = xp.matmul(gp, kr) * ct(scale) if needs[0] else empty
    gk = xp.matmul(xp.swapaxes(gp, -1, -2), q) * ct(scale) if needs[1] else empty
    if needs[1] and kgroups > 1:
        gk = gk.reshape(gk.shape[:-3] + (-1, kgroups) + gk.shape[-2:]).sum(-3)
    if needs[2] and go is not None and vgroups > 1:
        gv = gv.reshape(gv.shape[:-3] + (-1, vgroups) + gv.shape[-2:]).sum(-3)
    gm = gp if needs[3] else empty
    return tuple(t.astype(dt, copy=False) for t in (gq, gk, gv, gm))


SDPA_BACKWARD = register("scaled_dot_product_attention_backward", _sdpa_backward, nout=4)


def _sdpa_vjp(c, grads):
    go, gw = grads
    q, k, v, _, drop = c.inputs
    p = c.out[1]
    scale = c.params["scale"]
    kg, vg = c.params.get("kgroups", 1), c.params.get("vgroups", 1)
    need = c.needs_input_grad
    if not _GRAD.grad_enabled:  # a first-order backward: one fused kernel
        need = (need[0], need[1], need[2] and go is not None, need[3])
        outs = SDPA_BACKWARD(go, gw, q, k, v, p, drop, scale=scale, kgroups=kg, vgroups=vg,
                             needs=need)
        return tuple(o if n else None for o, n in zip(outs, need)) + (None,)
    kr = k if kg == 1 else k.repeat_interleave(kg, dim=-3)
    vr = v if vg == 1 else v.repeat_interleave(vg, dim=-3)
    pd = p if drop is None else p * drop
    gv = gp = None
    if go is not None:
        if need[2]:
            gv = _sum_groups(pd.transpose(-1, -2).matmul(go), vg)
        gp = go.matmul(vr.transpose(-1, -2))
        if drop is not None:
            gp = gp * drop
    if gw is not None:
        gp = gw if gp is None else gp + gw
    gs = p * (gp - (gp * p).sum(-1, keepdim=True))
    gq = gs.matmul(kr) * scale if need[0] else None
    gk = _sum_groups(gs.transpose(-1, -2).matmul(q), kg) * scale if need[1] else None
    return gq, gk, gv, gs if need[3] else None, None


register("scaled_dot_product_attention", _sdpa, nout=2, save=(0, 1, 2, 4, "out"),
         vjp=_sdpa_vjp)
