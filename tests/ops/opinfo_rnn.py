"""Op table entries: recurrent cells and networks (see ``opinfo.py``). The cells' registry ops
(``lstm_cell``, ``gru_cell``, ``rnn_*_cell``) and their backward ops (``lstm_cell_backward``,
``gru_cell_backward``) are reached through the public functions; the first sample of each
entry is tiny, so gradgradcheck checks the hand-written second derivatives."""

from __future__ import annotations

import numpy as np

from .opinfo import FLOATS, A, ErrorCase, Sample, add, arr

_GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}


def _cell_samples(kind):
    g = _GATES[kind]

    def gen(dtype, rng):
        out = []
        for batch, inp, hid, bias, nc in ((2, 2, 1, True, False), (3, 4, 2, False, False),
                                          (3, 2, 3, True, True), (0, 2, 2, True, False)):
            x = A(arr(rng, (inp, batch), dtype), noncontig=True) if nc else \
                A(arr(rng, (batch, inp), dtype))
            h = A(arr(rng, (batch, hid), dtype))
            hx = (h, A(arr(rng, (batch, hid), dtype))) if kind == "lstm" else h
            args = (x, hx, A(arr(rng, (g * hid, inp), dtype, -1, 1)),
                    A(arr(rng, (g * hid, hid), dtype, -1, 1)))
            if bias:
                args += (A(arr(rng, (g * hid,), dtype)), A(arr(rng, (g * hid,), dtype)))
            out.append(Sample(args, name=f"b{batch} i{inp} h{hid} bias={bias} nc={nc}"))
        return out
    return gen


def _cell_errors(kind):
    g = _GATES[kind]
    f = np.float32

    def hx(b, h):
        s = A(np.ones((b, h), f))
        return (s, A(np.ones((b, h), f))) if kind == "lstm" else s
    w = (A(np.ones((g * 2, 3), f)), A(np.ones((g * 2, 2), f)))
    return (ErrorCase((A(np.ones((4, 5), f)), hx(4, 2), *w), match="inconsistent input_size"),
            ErrorCase((A(np.ones((4, 3), f)), hx(5, 2), *w), match="batch size"),
            ErrorCase((A(np.ones((4, 3), f)), hx(4, 3), *w), match="inconsistent hidden_size"))


def _network_samples(kind):
    g = _GATES[kind]

    def params(rng, dtype, layers, dirs, inp, hid, bias, proj=0):
        out = []
        real = proj or hid
        for layer in range(layers):
            for _ in range(dirs):
                n_in = inp if layer == 0 else real * dirs
                out += [A(arr(rng, (g * hid, n_in), dtype, -1, 1)),
                        A(arr(rng, (g * hid, real), dtype, -1, 1))]
                if bias:
                    out += [A(arr(rng, (g * hid,), dtype)), A(arr(rng, (g * hid,), dtype))]
                if proj:
                    out.append(A(arr(rng, (proj, hid), dtype, -1, 1)))
        return out

    def state(rng, dtype, n, batch, hid, proj=0):
        h = A(arr(rng, (n, batch, proj or hid), dtype))
        return [h, A(arr(rng, (n, batch, hid), dtype))] if kind == "lstm" else h

    def gen(dtype, rng):
        out = []
        cases = [(2, 2, 2, 1, 1, False, True, False, 0), (3, 2, 2, 2, 2, True, True, False, 0),
                 (3, 2, 3, 2, 1, True, False, True, 0)]
        if kind == "lstm":
            cases.append((3, 2, 2, 3, 2, True, True, False, 2))
        for seq, batch, inp, hid, layers, bidir, bias, batch_first, proj in cases:
            dirs = 2 if bidir else 1
            x = arr(rng, (batch, seq, inp) if batch_first else (seq, batch, inp), dtype)
            args = (A(x), state(rng, dtype, layers * dirs, batch, hid, proj),
                    params(rng, dtype, layers, dirs, inp, hid, bias, proj), bias, layers, 0.0,
                    True, bidir, batch_first)
            out.append(Sample(args, name=f"seq{seq} b{batch} L{layers} bi={bidir} "
                                         f"bias={bias} bf={batch_first} proj={proj}"))
        # the packed overload: (data, batch_sizes, hx, params, ...), lengths 3, 2, 1
        sizes = np.array([3, 2, 1], np.int64)
        out.append(Sample((A(arr(rng, (6, 2), dtype)), A(sizes, grad=False),
                           state(rng, dtype, 2, 3, 2), params(rng, dtype, 1, 2, 2, 2, True),
                           True, 1, 0.0, True, True), name="packed"))
        return out
    return gen


for _kind in _GATES:
    add(f"{_kind}_cell", samples=_cell_samples(_kind), dtypes=FLOATS, atol=1e-5,
        errors=_cell_errors(_kind))
    add(_kind, samples=_network_samples(_kind), dtypes=FLOATS, atol=1e-5)


def _cell_backward(kind):
    """The gradients of ``<kind>_cell`` for given output gradients, with ``create_graph``: their
    own derivatives (second order of the cell) check the backward op's VJP."""
    def fn(m, x, hx, w_ih, w_hh, b_ih, b_hh, gout):
        def leaf(t):
            return t if t.requires_grad else t.detach().requires_grad_(True)
        x, w_ih, w_hh, b_ih, b_hh = (leaf(t) for t in (x, w_ih, w_hh, b_ih, b_hh))
        hx = tuple(leaf(t) for t in hx) if kind == "lstm" else leaf(hx)
        out = getattr(m, f"{kind}_cell")(x, hx, w_ih, w_hh, b_ih, b_hh)
        ins = [x, *(hx if kind == "lstm" else (hx,)), w_ih, w_hh, b_ih, b_hh]
        return m.autograd.grad(out, ins, gout, create_graph=True)

    def gen(dtype, rng):
        out = []
        for sample in _cell_samples(kind)(dtype, rng)[:3]:
            if len(sample.args) == 4:
                continue
            h = sample.args[1][0] if kind == "lstm" else sample.args[1]
            shape = h.array.shape
            g = A(arr(rng, shape, dtype))
            gout = (g, A(arr(rng, shape, dtype))) if kind == "lstm" else g
            out.append(Sample((*sample.args, gout), name=sample.name))
        return out
    return fn, gen


for _kind in ("lstm", "gru"):
    _fn, _gen = _cell_backward(_kind)
    add(f"{_kind}_cell_backward", fn=_fn, samples=_gen, dtypes=FLOATS, atol=1e-5)
