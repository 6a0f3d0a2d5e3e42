"""Recurrent cell ops: one fused registry op per time step of an RNN, LSTM or GRU layer.

# NOTE [ Recurrent cells as fused ops ]
A recurrent layer (``ember/_api/rnn.py``) computes the input projection of every time step
with one matmul up front, ``gx = x @ W_ih^T + b_ih``, and then runs one op per step:

- ``rnn_tanh_cell`` / ``rnn_relu_cell(gx_t, h, W_hh, b_hh) -> h'``;
- ``lstm_cell(gx_t, h, c, W_hh, b_hh) -> (h', c', act)``: ``act`` holds the gate activations
  (i, f, g, o) as a workspace output, as PyTorch's fused cell returns one;
- ``gru_cell(gx_t, h, W_hh, b_hh) -> (h', ws)`` with ``ws = (r, z, n, h @ W_hn^T + b_hn)``.

Each computes ``h @ W_hh^T``, the gate nonlinearities and the new state in NumPy, so a time
step is one dispatch rather than a chain of small ops. The VJPs of the LSTM and GRU cells call
a pointwise backward op (``lstm_cell_backward``, ``gru_cell_backward``: gate gradients in one
pass) followed by ember matmuls for the gradients of h, W_hh and b_hh. The backward ops have
hand-written VJPs in ember ops, and the cells' VJPs take gradients arriving at the workspace
outputs (which only double backward sends), so gradients of every order are exact.

Half-type (bfloat16, float16) cells compute in float32 and round where PyTorch's CPU cell, a
chain of half-type ops (``linear_hh(h).add_(gx)``, ``sigmoid_``, ``f * c + i * g``, ...), rounds
each result; their backward ops compute in float32 and round once (``_in_float32``).
"""

from __future__ import annotations

import numpy as np

from .. import _dtype
from .registry import REGISTRY, register

_HALF = (np.dtype(np.float16), np.dtype(_dtype.bfloat16.np))


def _keep(a):
    return a


def _in_float32(impl, rounds=False):
    """``impl`` over float32 copies of half-type arrays, its outputs rounded back; with
    ``rounds``, ``impl`` takes ``rd``, which rounds an intermediate result through the half
    type where PyTorch's cell (a chain of half-type ops) rounds it."""
    def run(xp, *arrays):
        half = next((a.dtype for a in arrays if a is not None and a.dtype in _HALF), None)
        if half is None:
            return impl(xp, *arrays, rd=_keep) if rounds else impl(xp, *arrays)
        arrays = tuple(None if a is None else a.astype(np.float32) for a in arrays)
        if rounds:
            out = impl(xp, *arrays, rd=lambda a: a.astype(half).astype(np.float32))
        else:
            out = impl(xp, *arrays)
        return out.astype(half) if not isinstance(out, tuple) else \
            tuple(o.astype(half) for o in out)
    return run


def _sigmoid_(xp, a) -> None:
    """``a = sigmoid(a)`` in place (exp overflows to inf for very negative a, giving 0)."""
    with np.errstate(over="ignore"):
        # not negative(a, out=a): NumPy 2.4 gets that wrong for a float32 column view
        xp.multiply(a, -1, out=a)
        xp.exp(a, out=a)
    a += 1
    xp.reciprocal(a, out=a)


def _hidden_gates(xp, gx, h, w, b, rd=_keep):
    """``gx + h @ w^T + b`` as a new array."""
    gates = xp.matmul(h, w.T)
    if b is not None:
        gates += b
    gates = rd(gates)
    gates += gx  # PyTorch's order: linear(h, W_hh, b_hh).add_(gx)
    return rd(gates)


def _zeros_like(t):
    return t.new_zeros(t.shape)


# -- simple RNN -----------------------------------------------------------------------------------

def _rnn_cell(nonlinearity):
    def impl(xp, gx, h, w, b, rd=_keep):
        pre = _hidden_gates(xp, gx, h, w, b, rd)
        return xp.tanh(pre, out=pre) if nonlinearity == "tanh" else \
            xp.maximum(pre, 0, out=pre)
    return impl


def _rnn_cell_vjp(c, g):
    _, h, w, b = c.inputs
    out = c.out
    d = g * (1 - out * out) if c.op.name == "rnn_tanh_cell" else g * (out > 0)
    need = c.needs_input_grad
    return (d if need[0] else None, d.mm(w) if need[1] else None,
            d.t().mm(h) if need[2] else None, d.sum(0) if b is not None and need[3] else None)


register("rnn_tanh_cell", _in_float32(_rnn_cell("tanh"), True), save=(1, 2, 3, "out"),
         vjp=_rnn_cell_vjp)
register("rnn_relu_cell", _in_float32(_rnn_cell("relu"), True), save=(1, 2, 3, "out"),
         vjp=_rnn_cell_vjp)


# -- LSTM -----------------------------------------------------------------------------------------

def _lstm_cell(xp, gx, h, c, w, b, rd=_keep):
    act = _hidden_gates(xp, gx, h, w, b, rd)
    n = c.shape[1]
    _sigmoid_(xp, act[:, :2 * n])
    xp.tanh(act[:, 2 * n:3 * n], out=act[:, 2 * n:3 * n])
    _sigmoid_(xp, act[:, 3 * n:])
    act = rd(act)
    i, f, g, o = act[:, :n], act[:, n:2 * n], act[:, 2 * n:3 * n], act[:, 3 * n:]
    c_new = rd(f * c)
    c_new += rd(i * g)
    c_new = rd(c_new)
    h_new = rd(xp.tanh(c_new))
    h_new *= o
    return h_new, c_new, act


def _cat(ts):
    return REGISTRY["cat"](*ts, dim=1)


def _lstm_cell_vjp(c, grads):
    gh, gc, gact = grads
    _, h, cx, w, b = c.inputs
    h_new, c_new, act = c.out
    dgates = dcx = None
    if gh is not None or gc is not None:
        dgates, dcx = LSTM_CELL_BACKWARD(_zeros_like(h_new) if gh is None else gh,
                                         _zeros_like(c_new) if gc is None else gc,
                                         cx, act, c_new)
    if gact is not None:  # only double backward sends gradients into the workspace
        i, f, g, o = act.chunk(4, 1)
        d = gact * _cat([i * (1 - i), f * (1 - f), 1 - g * g, o * (1 - o)])
        dgates = d if dgates is None else dgates + d
    if dgates is None:
        return None, None, None, None, None
    need = c.needs_input_grad
    return (dgates if need[0] else None, dgates.mm(w) if need[1] else None,
            dcx if need[2] else None, dgates.t().mm(h) if need[3] else None,
            dgates.sum(0) if b is not None and need[4] else None)


def _lstm_cell_backward(xp, gh, gc, cx, act, c_new):
    """Gradients of the gate pre-activations and of c from those of (h', c')."""
    n = cx.shape[1]
    i, f, g, o = act[:, :n], act[:, n:2 * n], act[:, 2 * n:3 * n], act[:, 3 * n:]
    t = xp.tanh(c_new)
    dc = gh * o
    dc *= 1 - t * t
    dc += gc
    # (dL/dact) * (dact/dgates): the second factor is a(1 - a), but 1 - g^2 for the tanh gate
    dgates = 1 - act
    dgates *= act
    d = dgates.reshape(act.shape[0], 4, n)  # a view: (i, f, g, o) along axis 1
    xp.multiply(g, g, out=d[:, 2])
    xp.subtract(1, d[:, 2], out=d[:, 2])
    d[:, 0] *= g
    d[:, 1] *= cx
    d[:, 2] *= i
    d[:, :3] *= dc[:, None]
    d[:, 3] *= gh
    d[:, 3] *= t
    return dgates, dc * f


def _lstm_cell_backward_vjp(c, grads):
    # the derivatives of _lstm_cell_backward's formulas, input by input
    ug, ucx = grads
    gh, gc, cx, act, c_new = c.inputs
    ui, uf, ugg, uo = (_zeros_like(act) if ug is None else ug).chunk(4, 1)
    if ucx is None:
        ucx = _zeros_like(cx)
    i, f, g, o = act.chunk(4, 1)
    t = c_new.tanh()
    s = 1 - t * t
    dc = gc + gh * o * s
    si, sf, so, sg = i * (1 - i), f * (1 - f), o * (1 - o), 1 - g * g
    udc = ui * g * si + uf * cx * sf + ugg * i * sg + ucx * f
    d_gh = udc * o * s + uo * t * so
    d_cx = uf * dc * sf
    d_cn = (uo * gh * so - 2 * udc * gh * o * t) * s
    d_act = _cat([dc * (ui * g * (1 - 2 * i) + ugg * sg), dc * (uf * cx * (1 - 2 * f) + ucx),
                  dc * (ui * si - 2 * ugg * i * g), gh * (udc * s + uo * t * (1 - 2 * o))])
    return d_gh, udc, d_cx, d_act, d_cn


register("lstm_cell", _in_float32(_lstm_cell, True), nout=3, save=(1, 2, 3, 4, "out"),
         vjp=_lstm_cell_vjp)
LSTM_CELL_BACKWARD = register("lstm_cell_backward", _in_float32(_lstm_cell_backward), nout=2,
                              save="all", vjp=_lstm_cell_backward_vjp)


# -- GRU ------------------------------------------------------------------------------------------

def _gru_cell(xp, gx, h, w, b, rd=_keep):
    n = h.shape[1]
    hh = xp.matmul(h, w.T)
    if b is not None:
        hh += b
    hh = rd(hh)
    ws = xp.empty((h.shape[0], 4 * n), hh.dtype)
    rz = ws[:, :2 * n]
    xp.add(gx[:, :2 * n], hh[:, :2 * n], out=rz)
    rz[...] = rd(rz)
    _sigmoid_(xp, rz)
    rz[...] = rd(rz)
    r, z, nn, hn = ws[:, :n], ws[:, n:2 * n], ws[:, 2 * n:3 * n], ws[:, 3 * n:]
    hn[...] = hh[:, 2 * n:]
    nn[...] = rd(r * hn)
    nn += gx[:, 2 * n:]
    nn[...] = rd(nn)
    xp.tanh(nn, out=nn)
    nn[...] = rd(nn)
    h_new = rd(h - nn)  # n + z * (h - n), PyTorch's order of operations
    h_new = rd(h_new * z)
    h_new += nn
    return h_new, ws


def _gru_cell_vjp(c, grads):
    g, gws = grads
    _, h, w, b = c.inputs
    ws = c.out[1]
    n = h.shape[1]
    z = ws.narrow(1, n, n)
    if g is None and gws is None:
        return None, None, None, None
    dgx = dhh = None
    if g is not None:
        dgx, dhh = GRU_CELL_BACKWARD(g, h, ws)
    if gws is not None:  # only double backward sends gradients into the workspace
        r, z, nn, hn = ws.chunk(4, 1)
        ur, uz, un, uhn = gws.chunk(4, 1)
        dan = un * (1 - nn * nn)
        dar = (ur + dan * hn) * r * (1 - r)
        daz = uz * z * (1 - z)
        x_part, h_part = _cat([dar, daz, dan]), _cat([dar, daz, uhn + dan * r])
        dgx = x_part if dgx is None else dgx + x_part
        dhh = h_part if dhh is None else dhh + h_part
    need = c.needs_input_grad
    dh = None
    if need[1]:
        dh = dhh.mm(w)
        if g is not None:
            dh = dh + g * z
    return (dgx if need[0] else None, dh, dhh.t().mm(h) if need[2] else None,
            dhh.sum(0) if b is not None and need[3] else None)


def _gru_cell_backward(xp, g, h, ws):
    """Gradients of the input-side and hidden-side gate terms from that of h'."""
    n = h.shape[1]
    r, z, nn, hn = ws[:, :n], ws[:, n:2 * n], ws[:, 2 * n:3 * n], ws[:, 3 * n:]
    dgx = xp.empty((h.shape[0], 3 * n), ws.dtype)
    dar, daz, dan = dgx[:, :n], dgx[:, n:2 * n], dgx[:, 2 * n:]
    xp.multiply(g * (1 - z), 1 - nn * nn, out=dan)
    xp.multiply(dan * hn, r * (1 - r), out=dar)
    xp.multiply(g * (h - nn), z * (1 - z), out=daz)
    dhh = dgx.copy()
    dhh[:, 2 * n:] *= r
    return dgx, dhh


def _gru_cell_backward_vjp(c, grads):
    # the derivatives of _gru_cell_backward's formulas, input by input
    ux, uh = grads
    g, h, ws = c.inputs
    n = h.shape[1]
    uxr, uxz, uxn = (_zeros_like(ws.narrow(1, 0, 3 * n)) if ux is None else ux).chunk(3, 1)
    uhr, uhz, uhn = (_zeros_like(ws.narrow(1, 0, 3 * n)) if uh is None else uh).chunk(3, 1)
    r, z, nn, hn = ws.chunk(4, 1)
    sr, sz, sn = r * (1 - r), z * (1 - z), 1 - nn * nn
    dn = g * (1 - z)
    dan = dn * sn
    udar, udaz = uxr + uhr, uxz + uhz
    udan = uxn + uhn * r + udar * hn * sr
    udn = udan * sn
    hmn = h - nn
    d_g = udn * (1 - z) + udaz * hmn * sz
    d_h = udaz * g * sz
    d_ws = _cat([uhn * dan + udar * dan * hn * (1 - 2 * r),
                 -udn * g + udaz * g * hmn * (1 - 2 * z),
                 -2 * udan * dn * nn - udaz * g * sz,
                 udar * dan * sr])
    return d_g, d_h, d_ws


register("gru_cell", _in_float32(_gru_cell, True), nout=2, save=(1, 2, 3, "out"),
         vjp=_gru_cell_vjp)
GRU_CELL_BACKWARD = register("gru_cell_backward", _in_float32(_gru_cell_backward), nout=2,
                             save="all", vjp=_gru_cell_backward_vjp)
