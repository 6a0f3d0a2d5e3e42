"""The index-based ops of ``nn.functional``: embeddings (``embedding``, ``embedding_bag``,
``embedding_renorm``), the CTC loss and cross entropy with class-index targets. The other
losses are composites of registry ops (``ember/_api/loss.py``).

# NOTE [ Fused cross entropy ]
``cross_entropy_loss`` is PyTorch's composite (log_softmax, nll_loss, the label-smoothing
term; class weights, ignore_index) as one op over float32/float64 logits (N, C, *), with
PyTorch's arithmetic: log_softmax at the targets is ``(x - max) - log(sum(exp(x - max)))``.
Its second output is the softmax, which its VJP reads. As d loss / d log_softmax is ``a`` at
each target plus ``b`` times the class weights, the first-order backward
(``cross_entropy_loss_backward``) is ``softmax * -(a + b * sum(w))`` plus ``b * w``, plus ``a``
at the targets: one pass over the logits. With create_graph, or a gradient reaching the
softmax output, the VJP is written in ember ops instead (double backward). Half types and
probability targets take the composite.

# NOTE [ CTC forward-backward ]
``ctc_loss`` runs the forward (alpha) recursion in log space over time, each step vectorised
over the batch and the extended label sequence (labels interleaved with blanks, ``2 L + 1``
states); its VJP op ``_ctc_loss_backward`` runs the beta recursion the same way and scatters
``alpha + beta`` onto the classes with a log-sum-exp per class. As in PyTorch, the gradient it
returns assumes ``log_probs`` come from ``log_softmax``
(``exp(lp) - exp(alpha + beta + nll - lp)``), and it is not differentiable again.
"""

from __future__ import annotations

import numpy as np

from .. import _dtype
from ..autograd.grad_mode import STATE as _GRAD
from .activation import check_floating
from .registry import register


def _check_indices(xp, idx, what="indices", op="embedding"):
    if idx.dtype not in (np.int64, np.int32):
        raise RuntimeError(
            f"Expected tensor for argument #1 '{what}' to have one of the following scalar "
            f"types: Long, Int; but got {_dtype.FROM_NP[idx.dtype].word}Tensor instead (while "
            f"checking arguments for {op})")


def _check_range(xp, idx, n):
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= n):
        raise IndexError("index out of range in self")


# -- embedding ------------------------------------------------------------------------------------

def _embedding(xp, weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    if weight.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    _check_indices(xp, indices)
    _check_range(xp, indices, weight.shape[0])
    return xp.take(weight, indices, axis=0)


def _counts(idx, n):
    """How often each of ``n`` rows occurs in the int64 index vector ``idx``."""
    return idx.new_zeros((n,)).scatter_add(0, idx, idx.new_ones(idx.shape))


def _bag_freq(idx, n):
    """The count PyTorch's CPU embedding_bag backward divides an index's gradient by under
    scale_grad_by_freq: for the i-th smallest distinct index, the count of the i-th smallest
    index (its _embedding_bag_dense_backward_cpu_sum_mean reads ``counts[sorted[i]]`` with
    ``i`` the rank of the distinct value, not its first position)."""
    from .._api.indexing import searchsorted
    rank = searchsorted(idx.unique(), idx)
    return _counts(idx, n).gather(0, idx.sort().values.gather(0, rank))


def _embedding_vjp(c, g):
    w_shape = c.in_meta[0][0]
    idx = c.inputs[1].reshape(-1).long()
    d = w_shape[1]
    gf = g.reshape(-1, d)
    pad = c.params.get("padding_idx", -1)
    if c.params.get("sparse", False):
        from .._sparse import embedding_grad
        return (embedding_grad(gf, c.inputs[1].reshape(-1), w_shape, pad,
                               c.params.get("scale_grad_by_freq", False)), None)
    if pad >= 0:
        gf = gf * (idx != pad).unsqueeze(1)
    if c.params.get("scale_grad_by_freq", False):
        gf = gf / _counts(idx, w_shape[0]).gather(0, idx).unsqueeze(1)
    return (gf.new_zeros(w_shape).scatter_add(0, idx.unsqueeze(1).expand(-1, d), gf), None)


EMBEDDING = register("embedding", _embedding, save=(1,), vjp=_embedding_vjp)


def _embedding_renorm(xp, weight, indices, max_norm, norm_type):
    _check_indices(xp, indices, "indices", "embedding_renorm_")
    _check_range(xp, indices, weight.shape[0])
    rows = xp.unique(indices.reshape(-1))
    sel = weight[rows].astype(np.float64)
    if norm_type == float("inf"):
        norms = xp.abs(sel).max(axis=1) if sel.shape[1] else xp.zeros(len(rows))
    elif norm_type == 0:
        norms = (sel != 0).sum(axis=1).astype(np.float64)
    else:
        norms = (xp.abs(sel) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
    scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
    out = weight.copy()
    out[rows] = (weight[rows] * scale[:, None].astype(weight.dtype))
    return out


register("embedding_renorm", _embedding_renorm)


# -- embedding_bag --------------------------------------------------------------------------------

_MODES = ("sum", "mean", "max")


def _bags(xp, indices, offsets, include_last_offset):
    """Bag number of each index and the number of bags."""
    n = indices.size
    nb = offsets.size - (1 if include_last_offset else 0)
    if offsets.size and int(offsets[0]) != 0:
        raise RuntimeError(
            "offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start "
            f"from position 0. However, got {int(offsets[0])}")
    if offsets.size > 1 and bool((offsets[1:] < offsets[:-1]).any()):
        raise RuntimeError("offsets must be monotonically increasing")
    if offsets.size and int(offsets[-1]) > n:
        raise RuntimeError(f"offsets[-1] can not be greater than input's length {n}, but got "
                           f"{int(offsets[-1])}")
    starts = offsets[:nb].astype(np.int64)
    # as in PyTorch, the last bag runs to the end of input (with include_last_offset too)
    bag = xp.searchsorted(starts, xp.arange(n), side="right") - 1
    return bag.astype(np.int64), nb


def _embedding_bag(xp, weight, indices, offsets, per_sample_weights, mode=1, padding_idx=-1,
                   include_last_offset=False, scale_grad_by_freq=False, sparse=False):
    if weight.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    _check_indices(xp, indices, "indices", "embedding_bag")
    _check_indices(xp, offsets, "offsets", "embedding_bag")
    if indices.dtype != offsets.dtype:
        raise RuntimeError(
            "expected input and offsets to be of the same dtype, but got input's dtype "
            f"{_dtype.FROM_NP[indices.dtype].word} and offsets' dtype "
            f"{_dtype.FROM_NP[offsets.dtype].word}")
    check_floating("embedding_bag_cpu", weight)
    flat = indices.reshape(-1)
    bad = (flat < 0) | (flat >= weight.shape[0])
    if bad.any():  # PyTorch's embedding_bag names the first bad position
        i = int(bad.argmax())
        raise RuntimeError(f"Index {i} of input takes value {int(flat[i])} which is not in the "
                           f"valid range [0, {weight.shape[0]})")
    bag, nb = _bags(xp, indices, offsets, include_last_offset)
    if padding_idx >= 0:
        bag = xp.where(indices == padding_idx, -1, bag)
    valid = bag >= 0
    d = weight.shape[1]
    rows = xp.take(weight, indices, axis=0)
    if per_sample_weights is not None:
        rows = rows * per_sample_weights[:, None]
    size = xp.bincount(bag[valid], minlength=nb)[:nb].astype(np.int64) if nb else \
        xp.zeros(0, np.int64)
    if mode == 2:
        out = xp.full((nb, d), -xp.inf, weight.dtype)
        xp.maximum.at(out, bag[valid], rows[valid])
        hit = (rows == out[xp.maximum(bag, 0)]) & valid[:, None]
        first = xp.full((nb, d), indices.size, np.int64)
        pos = xp.broadcast_to(xp.arange(indices.size)[:, None], rows.shape)
        xp.minimum.at(first, bag[valid], xp.where(hit, pos, indices.size)[valid])
        empty = first == indices.size
        max_idx = xp.where(empty, -1, xp.take(indices.astype(np.int64),
                                              xp.minimum(first, max(indices.size - 1, 0))))
        out[size == 0] = 0
        return out, bag, size, max_idx
    out = xp.zeros((nb, d), weight.dtype)
    xp.add.at(out, bag[valid], rows[valid])
    if mode == 1:
        out = out / xp.maximum(size, 1)[:, None].astype(weight.dtype)
    return out, bag, size, xp.zeros(0, np.int64)


def _embedding_bag_vjp(c, grads):
    g = grads[0]
    weight, indices, _, psw = c.inputs
    out, bag, size, max_idx = c.out
    mode = c.params.get("mode", 1)
    nw, d = c.in_meta[0][0]
    if g is None:
        return None, None, None, None
    idx = indices.reshape(-1).long()
    if mode == 2:
        valid = max_idx >= 0
        gw = g.new_zeros((nw, d)).scatter_add(0, max_idx.clamp(min=0), g * valid)
        return gw, None, None, None
    valid = (bag >= 0).unsqueeze(1)
    safe_bag = bag.clamp(min=0)
    g_rows = g.gather(0, safe_bag.unsqueeze(1).expand(-1, d)) * valid if g.shape[0] else \
        g.new_zeros((idx.shape[0], d))
    if mode == 1:
        g_rows = g_rows / size.clamp(min=1).to(g.dtype).gather(0, safe_bag).unsqueeze(1)
    gw = gpsw = None
    scale = c.params.get("scale_grad_by_freq", False)
    if c.needs_input_grad[0] and c.params.get("sparse", False):
        # PyTorch's _embedding_bag_sparse_backward: each index's bag gradient, times 1 / bag size
        # (mean) or its per-sample weight, as the values of a sparse gradient
        gi = g.index_select(0, safe_bag) if g.shape[0] else g.new_zeros((idx.shape[0], d))
        if mode == 1:
            gi = gi * (1 / size.to(g.dtype)).index_select(0, safe_bag).unsqueeze(1)
        if psw is not None:
            gi = gi * psw.unsqueeze(1)
        from .._sparse import embedding_grad
        gw = embedding_grad(gi, indices.reshape(-1), (nw, d), c.params.get("padding_idx", -1),
                            scale)
    elif c.needs_input_grad[0]:
        gr = g_rows if psw is None else g_rows * psw.unsqueeze(1)
        if scale:
            gr = gr / _bag_freq(idx, nw).unsqueeze(1)
        gw = g.new_zeros((nw, d)).scatter_add(0, idx.unsqueeze(1).expand(-1, d), gr)
    if psw is not None and c.needs_input_grad[3]:
        gpsw = (g_rows * EMBEDDING(weight, idx)).sum(1)
    return gw, None, None, gpsw


register("embedding_bag", _embedding_bag, save=(0, 1, 3, "out"), nout=4,
         vjp=_embedding_bag_vjp, backward_name="EmbeddingBagBackward0")


# -- CTC loss -------------------------------------------------------------------------------------

def _ctc_states(xp, lp, targets, input_lengths, target_lengths, blank):
    """Extended label sequences ``(N, 2L+1)`` (blank, l1, blank, l2, ..., blank), where a state
    may be entered from two states back (``skip``), and per-state log-probabilities
    ``emit (T, N, S)``."""
    t_max, n, c = lp.shape
    il, tl = input_lengths.astype(np.int64), target_lengths.astype(np.int64)
    if il.shape != (n,):
        raise RuntimeError(f"input_lengths must be of size batch_size ({n}), got "
                           f"{list(il.shape)}")
    if tl.shape != (n,):
        raise RuntimeError(f"target_lengths must be of size batch_size ({n}), got "
                           f"{list(tl.shape)}")
    if n and int(il.max()) > t_max:
        raise RuntimeError(f"Expected input_lengths to have value at most {t_max}, but got "
                           f"value {int(il.max())} (while checking arguments for ctc_loss_cpu)")
    if n and (int(il.min()) < 0 or int(tl.min()) < 0):
        raise RuntimeError("ctc_loss: input and target lengths must be non-negative")
    lmax = int(tl.max()) if n else 0
    pos = xp.arange(lmax)
    if targets.ndim == 1:
        start = xp.cumsum(tl) - tl
        if n and int((start + tl).max(initial=0)) > targets.size:
            raise RuntimeError("Expected tensor to have size at least "
                               f"{int((start + tl).max())} at dimension 0 (targets)")
        labels = targets[xp.minimum(start[:, None] + pos, max(targets.size - 1, 0))] \
            if targets.size else xp.zeros((n, lmax), np.int64)
    else:
        if targets.shape[1] < lmax:
            raise RuntimeError(
                f"Expected tensor to have size at least {lmax} at dimension 1, but got size "
                f"{targets.shape[1]} for argument #2 'targets' (while checking arguments for "
                "ctc_loss_cpu)")
        labels = targets[:, :lmax]
    labels = xp.where(pos < tl[:, None], labels, blank).astype(np.int64)
    if labels.size and (int(labels.min()) < 0 or int(labels.max()) >= c):
        raise RuntimeError(f"ctc_loss: target labels must be in [0, {c})")
    s = 2 * lmax + 1
    ext = xp.full((n, s), blank, np.int64)
    ext[:, 1::2] = labels
    skip = xp.zeros((n, s), bool)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    emit = lp[:, xp.arange(n)[:, None], ext]
    return ext, skip, emit, il, tl


def _lse3(xp, a, b, c):
    m = xp.maximum(xp.maximum(a, b), c)
    ms = xp.where(xp.isinf(m), 0, m)
    with np.errstate(divide="ignore"):
        return xp.log(xp.exp(a - ms) + xp.exp(b - ms) + xp.exp(c - ms)) + ms


def _shift(xp, a, k, fill):
    """``a`` moved ``k`` places to the right (left for k < 0) along the last axis."""
    out = xp.full_like(a, fill)
    if k > 0:
        out[..., k:] = a[..., :-k]
    else:
        out[..., :k] = a[..., -k:]
    return out


def _ctc_loss(xp, lp, targets, input_lengths, target_lengths, blank=0, zero_infinity=False):
    check_floating("ctc_loss_cpu", lp)
    if lp.ndim != 3:
        raise RuntimeError(f"ctc_loss: log_probs must be 3-D (T, N, C), got {lp.ndim}-D")
    if not 0 <= blank < lp.shape[2]:
        raise RuntimeError("blank must be in label range")
    ext, skip, emit, il, tl = _ctc_states(xp, lp, targets, input_lengths, target_lengths,
                                          blank)
    t_max, n, s = emit.shape
    ninf = lp.dtype.type(-np.inf)
    alpha = xp.full((t_max, n, s), ninf, lp.dtype)
    if t_max:
        alpha[0, :, 0] = emit[0, :, 0]
        if s > 1:
            alpha[0, :, 1] = xp.where(tl > 0, emit[0, :, 1], ninf)
    for t in range(1, t_max):
        a = alpha[t - 1]
        a2 = xp.where(skip, _shift(xp, a, 2, ninf), ninf)
        alpha[t] = _lse3(xp, a, _shift(xp, a, 1, ninf), a2) + emit[t]
    rows = xp.arange(n)
    last = alpha[xp.maximum(il - 1, 0), rows]
    end = last[rows, 2 * tl]
    end2 = xp.where(tl > 0, last[rows, xp.maximum(2 * tl - 1, 0)], ninf)
    nll = -xp.logaddexp(end, end2)
    nll = xp.where(il == 0, xp.where(tl == 0, 0, np.inf), nll).astype(lp.dtype)
    if zero_infinity:
        nll = xp.where(xp.isinf(nll), 0, nll).astype(lp.dtype)
    return nll, alpha.transpose(1, 0, 2).copy()


def _ctc_loss_backward(xp, grad, lp, targets, input_lengths, target_lengths, nll, log_alpha,
                       blank=0, zero_infinity=False):
    ext, skip, emit, il, tl = _ctc_states(xp, lp, targets, input_lengths, target_lengths,
                                          blank)
    t_max, n, s = emit.shape
    c = lp.shape[2]
    ninf = lp.dtype.type(-np.inf)
    alpha = log_alpha.transpose(1, 0, 2)
    beta = xp.full((t_max, n, s), ninf, lp.dtype)
    rows = xp.arange(n)
    skip_next = _shift(xp, skip, -2, False)  # state s may go to s + 2
    for t in range(t_max - 1, -1, -1):
        if t < t_max - 1:
            b = beta[t + 1]
            b2 = xp.where(skip_next, _shift(xp, b, -2, ninf), ninf)
            nxt = _lse3(xp, b, _shift(xp, b, -1, ninf), b2) + emit[t]
        else:
            nxt = xp.full((n, s), ninf, lp.dtype)
        start = xp.full((n, s), ninf, lp.dtype)
        start[rows, 2 * tl] = emit[t, rows, 2 * tl]
        has = tl > 0
        start[rows[has], 2 * tl[has] - 1] = emit[t, rows[has], 2 * tl[has] - 1]
        beta[t] = xp.where((t == il - 1)[:, None], start, xp.where((t < il - 1)[:, None], nxt,
                                                                     ninf))
    ab = alpha + beta
    m = ab.max(axis=2, keepdims=True) if s else xp.zeros((t_max, n, 1), lp.dtype)
    ms = xp.where(xp.isinf(m), 0, m)
    onehot = (ext[:, :, None] == xp.arange(c)).astype(lp.dtype)
    acc = xp.einsum("tns,nsc->tnc", xp.exp(ab - ms), onehot)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        lse = xp.log(acc) + ms
        res = (xp.exp(lp) - xp.exp(lse + nll[None, :, None] - lp)) * grad[None, :, None]
    live = xp.arange(t_max)[:, None] < il[None, :]
    if zero_infinity:
        live = live & ~xp.isinf(nll)[None, :]
    return xp.where(live[:, :, None], res, 0).astype(lp.dtype)


CTC_BACKWARD = register("_ctc_loss_backward", _ctc_loss_backward)


def _ctc_vjp(c, grads):
    g = grads[0]
    if g is None:
        return (None,) * 4
    lp, targets, il, tl = c.inputs
    nll, alpha = c.out
    return (CTC_BACKWARD(g, lp, targets, il, tl, nll.detach(), alpha.detach(), **c.params),
            None, None, None)


register("ctc_loss", _ctc_loss, save=(0, 1, 2, 3, "out"), nout=2, vjp=_ctc_vjp)


# -- binary cross entropy -------------------------------------------------------------------------

def _bce(xp, x, t, w=None):
    check_floating("binary_cross_entropy", x)
    if x.size and bool(((x < 0) | (x > 1)).any()):
        raise RuntimeError("all elements of input should be between 0 and 1")
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = x.dtype.type(-100)
        loss = -(t * xp.maximum(xp.log(x), lo) + (1 - t) * xp.maximum(xp.log1p(-x), lo))
    return (loss if w is None else loss * w).astype(x.dtype, copy=False)


def _bce_vjp(c, g):
    x, t, w = c.inputs
    gw = g if w is None else g * w
    # PyTorch's formulas: the logs' clamp at -100 is ignored, the denominator kept from 0
    gx = gw * (x - t) / ((1 - x) * x).clamp_min(1e-12) if c.needs_input_grad[0] else None
    gt = gw * ((1 - x).log() - x.log()) if c.needs_input_grad[1] else None
    return gx, gt, None


register("binary_cross_entropy", _bce, save=(0, 1, 2), vjp=_bce_vjp)


# -- cross entropy --------------------------------------------------------------------------------

def _ce_weights(xp, t, w, c, ignore_index, dt):
    """Targets with ignored ones at 0, and each target's weight (0 where ignored)."""
    valid = t != ignore_index
    ts = xp.where(valid, t, 0)
    if ts.size:
        bad = (ts < 0) | (ts >= c)
        if bool(bad.any()):
            raise IndexError(f"Target {int(ts[bad][0])} is out of bounds.")
    wt = valid.astype(dt) if w is None else w[ts] * valid
    return ts, valid, wt


def _class_view(w, ndim):
    """Class weights (C,) broadcast along dim 1 of an (N, C, *) array."""
    return w.reshape((1, -1) + (1,) * (ndim - 2))


def _class_dot(xp, a, v):
    """``(a * v).sum(1)`` for (N, C, *) ``a`` and (C,) ``v``: a BLAS matrix-vector product
    for 2-D ``a`` (NOTE [ CPU reduction kernels ])."""
    if a.ndim == 2:
        return a @ v
    return xp.einsum("nc...,c->n...", a, v)


def _cross_entropy(xp, x, t, w=None, *, ignore_index, reduction, label_smoothing):
    """Cross entropy of logits (N, C, *) and class indices (N, *), with PyTorch's arithmetic
    (NOTE [ Fused cross entropy ]): ``(loss, softmax)``."""
    c = x.shape[1]
    ts, valid, wt = _ce_weights(xp, t, w, c, ignore_index, x.dtype)
    e = x - xp.amax(x, axis=1, keepdims=True)
    picked = xp.take_along_axis(e, ts[:, None], 1)[:, 0]
    eps = label_smoothing
    if eps > 0:
        wc = xp.ones(c, x.dtype) if w is None else w
        wdot = _class_dot(xp, e, wc)
    prob = xp.exp(e, out=e)
    total = _class_dot(xp, prob, xp.ones(c, x.dtype))
    lse = xp.log(total)
    prob *= (1 / total)[:, None]
    # log_softmax at the targets, e - lse, as PyTorch's log_softmax computes it
    nll = (picked - lse) * -wt
    with np.errstate(divide="ignore", invalid="ignore"):
        wsum = wt.sum()
        if reduction == "sum":
            nll = nll.sum()
        elif reduction == "mean":
            nll = nll.sum() / wsum
        if eps > 0:
            # the sum over classes of w * log_softmax is sum(w * e) - lse * sum(w)
            smooth = lse * wc.sum() - wdot
            smooth[~valid] = 0
            if reduction != "none":
                smooth = smooth.sum() / wsum if reduction == "mean" else smooth.sum()
            nll = (1 - eps) * nll + smooth * (eps / c)
    return xp.asarray(nll, x.dtype), prob


def _ce_coefficients(xp, g, t, w, c, ignore_index, reduction, label_smoothing, dt):
    """d loss / d log_softmax as ``a`` (N, *) at each target plus ``b`` (N, *) times the class
    weights at every class."""
    ts, valid, wt = _ce_weights(xp, t, w, c, ignore_index, dt)
    with np.errstate(divide="ignore", invalid="ignore"):
        sc = g / wt.sum() if reduction == "mean" else g
        # ignored targets get no gradient, also where no target counts (a 0/0 loss)
        a = xp.where(valid, sc * wt * -(1 - label_smoothing), 0).astype(dt, copy=False)
        b = xp.where(valid, sc * -(label_smoothing / c), 0).astype(dt, copy=False) \
            if label_smoothing > 0 else None
    return ts, a, b


def _cross_entropy_backward(xp, g, prob, t, w=None, *, ignore_index, reduction,
                            label_smoothing):
    """The gradient of ``_cross_entropy``'s loss in its logits given its softmax output:
    ``G - softmax * sum(G)`` for ``G`` = d loss / d log_softmax, without forming ``G``."""
    c = prob.shape[1]
    ts, a, b = _ce_coefficients(xp, g, t, w, c, ignore_index, reduction, label_smoothing,
                                prob.dtype)
    total = a if b is None else a + b * (c if w is None else w.sum())
    gx = prob * (-total)[:, None]
    if b is not None:
        gx += b[:, None] * (1 if w is None else _class_view(w, prob.ndim))
    idx = ts[:, None]
    xp.put_along_axis(gx, idx, xp.take_along_axis(gx, idx, 1) + a[:, None], 1)
    return gx


CROSS_ENTROPY_BACKWARD = register("cross_entropy_loss_backward", _cross_entropy_backward)


def _cross_entropy_vjp(c, grads):
    g, gprob = grads
    t, w = c.inputs[1], c.inputs[2]
    prob = c.out[1]
    p = c.params
    if gprob is None and not _GRAD.grad_enabled:
        # a first-order backward: the fused kernel (create_graph takes the ember-op formula)
        return CROSS_ENTROPY_BACKWARD(g, prob, t, w, **p), None, None
    gx = None
    if g is not None:
        valid = t != p["ignore_index"]
        ts = t.masked_fill(~valid, 0)
        wt = valid.to(prob.dtype) if w is None else w[ts] * valid
        sc = g / wt.sum() if p["reduction"] == "mean" else g
        eps = p["label_smoothing"]
        a = (sc * wt * -(1 - eps)).masked_fill(~valid, 0).unsqueeze(1)
        big = prob.new_zeros(prob.shape).scatter(1, ts.unsqueeze(1), a)
        if eps > 0:
            b = (sc * -(eps / prob.shape[1])).masked_fill(~valid, 0).unsqueeze(1)
            big = big + (b if w is None else b * w.reshape((1, -1) + (1,) * (prob.ndim - 2)))
        gx = big - prob * big.sum(1, keepdim=True)
    if gprob is not None:  # the softmax's own VJP
        t2 = prob * (gprob - (gprob * prob).sum(1, keepdim=True))
        gx = t2 if gx is None else gx + t2
    return gx, None, None


def _ce_name(node):
    if node.params["label_smoothing"] > 0:
        return "AddBackward0"
    return "NllLoss2DBackward0" if len(node.in_meta[0][0]) > 2 else "NllLossBackward0"


register("cross_entropy_loss", _cross_entropy, save=(1, 2, "out1"), nout=2,
         vjp=_cross_entropy_vjp, backward_name=_ce_name)
