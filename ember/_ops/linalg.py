"""Matrix products: matmul (every broadcasting case), mm, bmm, addmm, einsum.

Half types multiply in float32 and round once, as PyTorch's CPU kernels accumulate in float.
"""

from __future__ import annotations

import string

import numpy as np

from .. import _dtype
from .registry import register
from .rules import acc_dtype


def _same_dtype(name, a, b):
    if a.dtype != b.dtype:
        da, db = _dtype.FROM_NP[a.dtype], _dtype.FROM_NP[b.dtype]
        raise RuntimeError(
            f"{name}: expected m1 and m2 to have the same dtype, but got: {da.word} != "
            f"{db.word}".replace("Float", "float").replace("Double", "double")
            .replace("Long", "long").replace("Int", "int").replace("Half", "c10::Half")
            .replace("BFloat16", "c10::BFloat16"))


def _mm_core(xp, a, b, rounded=True):
    """``a @ b``; half types accumulate in float32, rounded back unless not ``rounded``."""
    dt = _dtype.FROM_NP[a.dtype]
    if dt is _dtype.bool:
        return xp.matmul(a.astype(np.uint8), b.astype(np.uint8)).astype(bool)
    acc = acc_dtype(dt)
    if acc is not dt:
        m = xp.matmul(a.astype(acc.np), b.astype(acc.np))
        return m.astype(dt.np) if rounded else m
    return xp.matmul(a, b)


_BLAS_DTYPES = frozenset(np.dtype(t) for t in (np.float32, np.float64, np.complex64,
                                                 np.complex128))


def _matmul(xp, a, b):
    if a.dtype is b.dtype and a.dtype in _BLAS_DTYPES and a.ndim == 2 == b.ndim and \
            a.shape[1] == b.shape[0]:
        return xp.matmul(a, b)  # the common case, with nothing to check or convert
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {a.ndim}D and "
            f"{b.ndim}D")
    _same_dtype("matmul", a, b)
    ka = a.shape[-1]
    kb = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if ka != kb:
        if a.ndim == 1 and b.ndim == 1:
            raise RuntimeError(
                f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src "
                f"[{b.shape[0]}] to have the same number of elements, but got {a.shape[0]} and "
                f"{b.shape[0]} elements respectively")
        sa = "x".join(map(str, (a.shape if a.ndim <= 2 else
                                (int(np.prod(a.shape[:-1])), a.shape[-1]))))
        sb = "x".join(map(str, b.shape if b.ndim <= 2 else b.shape[-2:]))
        if a.ndim == 1:
            sa = f"1x{a.shape[0]}"
        if b.ndim == 1:
            sb = f"{b.shape[0]}x1"
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({sa} and {sb})")
    return _mm_core(xp, a, b)


def _matmul_vjp(c, g):
    a, b = c.inputs  # only what the needed gradients read is saved
    na, nb = len(c.in_meta[0][0]), len(c.in_meta[1][0])
    ga = gb = None
    if na == 1 and nb == 1:
        return (g * b.conj() if c.needs_input_grad[0] else None,
                g * a.conj() if c.needs_input_grad[1] else None)
    if c.needs_input_grad[0]:
        if nb == 1:
            ga = g.unsqueeze(-1) * b.conj()
        elif na == 1:
            ga = (g.unsqueeze(-2) @ b.mT.conj()).squeeze(-2)
        else:
            ga = g @ b.mT.conj()
    if c.needs_input_grad[1]:
        if na == 1:
            gb = a.conj().unsqueeze(-1) * g.unsqueeze(-2)
        elif nb == 1:
            gb = (a.mT.conj() @ g.unsqueeze(-1)).squeeze(-1)
        else:
            gb = a.mT.conj() @ g
    return ga, gb


def _matmul_name(node) -> str:
    nd = (len(node.in_meta[0][0]), len(node.in_meta[1][0]))
    return {(2, 2): "MmBackward0", (2, 1): "MvBackward0", (1, 2): "SqueezeBackward4",
            (1, 1): "DotBackward0"}.get(nd, "UnsafeViewBackward0")


register("matmul", _matmul, save={0: (1,), 1: (0,)}, vjp=_matmul_vjp,
         backward_name=_matmul_name)


def _mm(xp, a, b, rounded=True):
    if a.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if b.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    _same_dtype("mm", a, b)
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and "
            f"{b.shape[0]}x{b.shape[1]})")
    return _mm_core(xp, a, b, rounded)


def _bmm(xp, a, b):
    if a.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if b.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    _same_dtype("bmm", a, b)
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{a.shape[0]}, "
            f"{a.shape[2]}] but got: [{b.shape[0]}, {b.shape[1]}].")
    return _mm_core(xp, a, b)


def _mm_vjp(c, g):
    a, b = c.inputs
    return (g @ b.mT.conj() if c.needs_input_grad[0] else None,
            a.mT.conj() @ g if c.needs_input_grad[1] else None)


register("mm", _mm, save={0: (1,), 1: (0,)}, vjp=_mm_vjp)
register("bmm", _bmm, save={0: (1,), 1: (0,)}, vjp=_mm_vjp)


def _addmm(xp, bias, a, b, beta=1, alpha=1):
    if a.dtype != b.dtype and a.ndim == 2 == b.ndim:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got "
                           f"{_dtype.FROM_NP[a.dtype].word} and {_dtype.FROM_NP[b.dtype].word}")
    # half types: ``beta * bias + alpha * (a @ b)`` in float32, rounded once, as PyTorch's gemm
    m = _mm(xp, a, b, rounded=False)
    if alpha != 1:
        m = m * m.dtype.type(alpha)
    if beta == 0:
        out = xp.broadcast_to(m, np.broadcast_shapes(bias.shape, m.shape))
        return out.astype(a.dtype)
    bias = bias.astype(m.dtype, copy=False)
    out = xp.add(m, bias if beta == 1 else bias * m.dtype.type(beta))
    if out.shape != m.shape:
        raise RuntimeError(
            f"The expanded size of the tensor ({m.shape[-1]}) must match the existing size "
            f"({bias.shape[-1]}) at non-singleton dimension 1.  Target sizes: {list(m.shape)}."
            f"  Tensor sizes: {list(bias.shape)}")
    return out.astype(a.dtype, copy=False)


def _addmm_vjp(c, g):
    _, a, b = c.inputs
    beta, alpha = c.params.get("beta", 1), c.params.get("alpha", 1)
    gbias = None
    if c.needs_input_grad[0]:
        gbias = g * beta if beta != 1 else g
        if c.in_meta[0][0] == gbias.shape[-1:]:  # the Linear layer's bias: sum rows here
            gbias = gbias.sum(0)
    ga = g @ b.mT.conj() if c.needs_input_grad[1] else None
    gb = a.mT.conj() @ g if c.needs_input_grad[2] else None
    if alpha != 1:
        ga, gb = (None if ga is None else ga * alpha), (None if gb is None else gb * alpha)
    return gbias, ga, gb


register("addmm", _addmm, save={1: (2,), 2: (1,)}, vjp=_addmm_vjp)


# -- einsum ---------------------------------------------------------------------------------------

def parse_einsum(equation: str, shapes) -> tuple[list[str], str]:
    """Explicit per-operand subscripts and output, with '...' spelled out as letters."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(shapes):
        raise RuntimeError(
            "einsum(): more operands were provided than specified in the equation"
            if len(shapes) > len(ins) else
            "einsum(): fewer operands were provided than specified in the equation")
    used = set(eq) - set(",->.")
    spare = [ch for ch in string.ascii_letters if ch not in used]
    n_ell = max((len(s) - (len(sub) - 3) if "..." in sub else 0)
                for sub, s in zip(ins, shapes))
    ell = "".join(spare[:n_ell])
    out_ins = []
    for sub, s in zip(ins, shapes):
        if "..." in sub:
            k = len(s) - (len(sub) - 3)
            sub = sub.replace("...", ell[n_ell - k:] if k else "")
        if len(sub) != len(s):
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({len(sub)}) does not match "
                f"the number of dimensions ({len(s)}) for operand {len(out_ins)}"
                + (" and no ellipsis was given" if "..." not in lhs else ""))
        out_ins.append(sub)
    if arrow:
        out = rhs.replace("...", ell)
    else:
        counts = {}
        for sub in out_ins:
            for ch in sub:
                counts[ch] = counts.get(ch, 0) + 1
        out = ell + "".join(sorted(ch for ch, n in counts.items() if n == 1 and ch not in ell))
    return out_ins, out


def _einsum(xp, *ops, equation):
    ins, out = parse_einsum(equation, [o.shape for o in ops])
    dt = _dtype.FROM_NP[ops[0].dtype]
    for o in ops[1:]:
        if o.dtype != ops[0].dtype:
            raise RuntimeError(
                f"einsum(): expected all operands to have the same dtype, got "
                f"{dt.word} and {_dtype.FROM_NP[o.dtype].word}")
    acc = acc_dtype(dt)
    arrs = [o.astype(acc.np, copy=False) for o in ops]
    spec = ",".join(ins) + "->" + out
    r = xp.einsum(spec, *arrs, optimize=len(ops) > 2)
    return xp.asarray(r).astype(dt.np, copy=False)


def _einsum_vjp(c, g):
    from .. import _functional as F
    ops = c.inputs
    ins, out = parse_einsum(c.params["equation"], [o.shape for o in ops])
    grads = []
    for i, (sub, o) in enumerate(zip(ins, ops)):
        if not c.needs_input_grad[i]:
            grads.append(None)
            continue
        others = [(s, x) for j, (s, x) in enumerate(zip(ins, ops)) if j != i]
        avail = set(out).union(*[set(s) for s, _ in others]) if others else set(out)
        uniq = "".join(dict.fromkeys(sub))
        keep = "".join(ch for ch in uniq if ch in avail)
        spec = ",".join([out] + [s for s, _ in others]) + "->" + keep
        gk = F.einsum(spec, g, *[x.conj() for _, x in others])
        sizes = dict(zip(sub, o.shape))
        # letters only this operand had were summed out: broadcast back along them
        for pos, ch in enumerate(uniq):
            if ch not in avail:
                gk = gk.unsqueeze(pos)
        full_uniq = gk.expand([sizes[ch] for ch in uniq])
        # repeated letters (a diagonal, 'ii'): place on the diagonal
        if len(uniq) != len(sub):
            full_uniq = _undiagonal(full_uniq, uniq, sub, sizes)
        else:
            full_uniq = full_uniq.permute([uniq.index(ch) for ch in sub]) if uniq != sub \
                else full_uniq
        grads.append(full_uniq)
    return tuple(grads)


def _undiagonal(gu, uniq, sub, sizes):
    from .. import _creation
    from .. import _functional as F
    # gu has letters `uniq`; build sub's shape with delta factors on repeated letters
    letters = list(sub)
    expr_in = [uniq]
    tensors = [gu]
    for ch in uniq:
        pos = [k for k, c in enumerate(letters) if c == ch]
        if len(pos) > 1:
            n = sizes[ch]
            new = [f"{ch}"] + [None] * (len(pos) - 1)
            for k in pos[1:]:
                fresh = next(x for x in string.ascii_letters if x not in letters + list(uniq))
                letters[k] = fresh
                new[pos.index(k)] = fresh
                eye = _creation.eye(n, dtype=gu.dtype)
                expr_in.append(ch + fresh)
                tensors.append(eye)
    return F.einsum(",".join(expr_in) + "->" + "".join(letters), *tensors)


register("einsum", _einsum, save="all", vjp=_einsum_vjp)
