"""Public functions: recurrent cells (``ember.lstm_cell``, ``gru_cell``, ``rnn_tanh_cell``,
``rnn_relu_cell``) and whole recurrent networks (``ember.lstm``, ``gru``, ``rnn_tanh``,
``rnn_relu``), with PyTorch's signatures, both the padded and the packed overloads.

A layer projects the inputs of all time steps with one matmul and then runs one fused cell
op per step (NOTE [ Recurrent cells as fused ops ] in ``ember/_ops/rnn.py``). ``nn.RNN``,
``nn.LSTM`` and ``nn.GRU`` are thin modules over ``_rnn`` below.
"""

from __future__ import annotations

from .. import _functional as F
from .._functional import _export
from .._ops import REGISTRY as R
from .._tensor import Tensor
from ..amp.autocast_mode import autocast_listed

# nothing here is in torch.nn.functional: the layers are modules, the cells top-level only
FUNCTIONAL = ()

_LSTM, _GRU = R["lstm_cell"], R["gru_cell"]
_RNN = {"RNN_TANH": R["rnn_tanh_cell"], "RNN_RELU": R["rnn_relu_cell"]}


def _project(input: Tensor, w: Tensor, b: Tensor | None) -> Tensor:
    """``input @ w^T + b`` over the last dim of a 2-D or 3-D ``input`` (one matmul)."""
    x = input if input.ndim == 2 else input.reshape(-1, input.shape[-1])
    y = F.mm(x, w.t()) if b is None else F.addmm(b, x, w.t())
    return y if input.ndim == 2 else y.view(*input.shape[:-1], w.shape[0])


# -- cells ----------------------------------------------------------------------------------------

def _check_cell(input: Tensor, hx, w_ih: Tensor, w_hh: Tensor) -> None:
    """PyTorch's checks of a cell's input and hidden states against its weights."""
    if input.size(1) != w_ih.size(1):
        raise RuntimeError(f"input has inconsistent input_size: got {input.size(1)} expected "
                           f"{w_ih.size(1)}")
    for k, h in enumerate(hx):
        if input.size(0) != h.size(0):
            raise RuntimeError(f"Input batch size {input.size(0)} doesn't match hidden{k} batch "
                               f"size {h.size(0)}")
        if h.size(1) != w_hh.size(1):
            raise RuntimeError(f"hidden{k} has inconsistent hidden_size: got {h.size(1)}, "
                               f"expected {w_hh.size(1)}")


@autocast_listed
def lstm_cell(input: Tensor, hx, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
              b_hh: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """One LSTM step: ``(h', c')`` from ``input`` (N, I) and ``hx = (h, c)``; gates i, f, g, o.

    >>> h, c = ember.lstm_cell(ember.ones(2, 3), (ember.zeros(2, 4), ember.zeros(2, 4)),
    ...                        ember.ones(16, 3), ember.ones(16, 4))
    >>> h.shape
    ember.Size([2, 4])
    """
    if len(hx) != 2:
        raise RuntimeError("lstm_cell expects two hidden states")
    _check_cell(input, hx, w_ih, w_hh)
    h, c, _ = _LSTM(_project(input, w_ih, b_ih), hx[0], hx[1], w_hh, b_hh)
    return h, c


@autocast_listed
def gru_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
             b_hh: Tensor | None = None) -> Tensor:
    """One GRU step: ``h'`` from ``input`` (N, I) and ``hx`` (N, H); gates r, z, n.

    >>> ember.gru_cell(ember.ones(2, 3), ember.zeros(2, 4), ember.ones(12, 3),
    ...                ember.ones(12, 4)).shape
    ember.Size([2, 4])
    """
    _check_cell(input, (hx,), w_ih, w_hh)
    return _GRU(_project(input, w_ih, b_ih), hx, w_hh, b_hh)[0]


@autocast_listed
def rnn_tanh_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor,
                  b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> Tensor:
    """One Elman RNN step ``tanh(input @ w_ih^T + b_ih + hx @ w_hh^T + b_hh)``.

    >>> ember.rnn_tanh_cell(ember.ones(2, 3), ember.zeros(2, 4), ember.ones(4, 3),
    ...                     ember.ones(4, 4)).shape
    ember.Size([2, 4])
    """
    _check_cell(input, (hx,), w_ih, w_hh)
    return _RNN["RNN_TANH"](_project(input, w_ih, b_ih), hx, w_hh, b_hh)


@autocast_listed
def rnn_relu_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor,
                  b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> Tensor:
    """One Elman RNN step with ReLU: ``relu(input @ w_ih^T + b_ih + hx @ w_hh^T + b_hh)``.

    >>> ember.rnn_relu_cell(ember.ones(2, 3), ember.zeros(2, 4), ember.ones(4, 3),
    ...                     ember.ones(4, 4)).shape
    ember.Size([2, 4])
    """
    _check_cell(input, (hx,), w_ih, w_hh)
    return _RNN["RNN_RELU"](_project(input, w_ih, b_ih), hx, w_hh, b_hh)


# -- layers ---------------------------------------------------------------------------------------

def _dropout(x: Tensor, p: float) -> Tensor:
    """PyTorch's dropout between layers (the same mask for the same seed)."""
    from .activation import dropout
    return dropout(x, p, training=True)


def _step_fn(mode: str, w_hh: Tensor, b_hh: Tensor | None, w_hr: Tensor | None):
    """``step(gx_t, state) -> state`` for one direction of one layer; state is (h,) or (h, c)."""
    if mode == "LSTM":
        def step(gx, state):
            h, c, _ = _LSTM(gx, state[0], state[1], w_hh, b_hh)
            return (h if w_hr is None else F.mm(h, w_hr.t())), c
    elif mode == "GRU":
        def step(gx, state):
            return (_GRU(gx, state[0], w_hh, b_hh)[0],)
    else:
        cell = _RNN[mode]

        def step(gx, state):
            return (cell(gx, state[0], w_hh, b_hh),)
    return step


def _direction(step, steps, state: tuple, sizes, reverse: bool):
    """Run ``step`` over the time steps (forward or reversed) from ``state``; ``sizes`` are the
    batch sizes of a packed sequence (None: every step has the whole batch). Returns the
    outputs in time order and the final state of each sequence (at its own last step)."""
    outs = []
    if sizes is None:
        for gx in (reversed(steps) if reverse else steps):
            state = step(gx, state)
            outs.append(state[0])
    elif not reverse:  # the batch shrinks: keep the states of sequences as they end
        ended = []
        for gx, bs in zip(steps, sizes):
            n = state[0].shape[0]
            if bs < n:
                ended.append(tuple(s.narrow(0, bs, n - bs) for s in state))
                state = tuple(s.narrow(0, 0, bs) for s in state)
            state = step(gx, state)
            outs.append(state[0])
        if ended:
            state = tuple(F.cat([s, *(e[k] for e in reversed(ended))])
                          for k, s in enumerate(state))
    else:  # the batch grows: sequences start from their initial state as they join
        init = state
        state = tuple(s.narrow(0, 0, sizes[-1]) for s in init)
        for gx, bs in zip(reversed(steps), reversed(sizes)):
            n = state[0].shape[0]
            if bs > n:
                state = tuple(F.cat([s, i.narrow(0, n, bs - n)]) for s, i in zip(state, init))
            state = step(gx, state)
            outs.append(state[0])
    if reverse:
        outs.reverse()
    return outs, state


def _rnn(mode: str, input: Tensor, batch_sizes, hx: tuple, params, has_biases: bool,
         num_layers: int, dropout: float, train: bool, bidirectional: bool):
    """The recurrent network over a time-major input (T, N, I), or the data (sum of lengths,
    I) of a packed sequence with its ``batch_sizes``. ``hx`` holds h0 (and c0 for an LSTM),
    (num_layers * num_directions, N, H); ``params`` are PyTorch's flat weights. Returns the
    output (T, N, D * H_out) or packed data, and the stacked final states."""
    dirs = 2 if bidirectional else 1
    per = len(params) // (num_layers * dirs)
    sizes = None if batch_sizes is None else [int(b) for b in batch_sizes.tolist()]
    x, finals = input, [[] for _ in hx]
    for layer in range(num_layers):
        outs = []
        for d in range(dirs):
            w = params[(layer * dirs + d) * per:(layer * dirs + d + 1) * per]
            w_ih, w_hh = w[0], w[1]
            b_ih, b_hh = (w[2], w[3]) if has_biases else (None, None)
            w_hr = w[-1] if per in (3, 5) else None
            gx = _project(x, w_ih, b_ih)
            steps = gx.unbind(0) if sizes is None else gx.split(sizes)
            k = layer * dirs + d
            out, state = _direction(_step_fn(mode, w_hh, b_hh, w_hr), steps,
                                    tuple(h[k] for h in hx), sizes, reverse=d == 1)
            outs.append(F.stack(out) if sizes is None else F.cat(out))
            for f, s in zip(finals, state):
                f.append(s)
        x = outs[0] if dirs == 1 else F.cat(outs, -1)
        if train and dropout and layer < num_layers - 1:
            x = _dropout(x, dropout)
    return x, tuple(F.stack(f) for f in finals)


def _network(mode: str, input: Tensor, rest: tuple):
    """Parse the two overloads of ``ember.lstm``/``gru``/``rnn_*``: (input, hx, params,
    has_biases, num_layers, dropout, train, bidirectional, batch_first) and (data, batch_sizes,
    hx, params, has_biases, num_layers, dropout, train, bidirectional)."""
    lstm = mode == "LSTM"
    packed = isinstance(rest[0] if lstm else rest[1], Tensor)
    if packed:
        batch_sizes, hx, params, has_biases, layers, p, train, bidir = rest
        batch_first = False
    else:
        batch_sizes = None
        hx, params, has_biases, layers, p, train, bidir, batch_first = rest
    hx = tuple(hx) if lstm else (hx,)
    x = input.transpose(0, 1) if batch_first else input
    out, states = _rnn(mode, x, batch_sizes, hx, list(params), has_biases, layers, p, train,
                       bidir)
    return (out.transpose(0, 1) if batch_first else out, *states)


@autocast_listed
def lstm(input: Tensor, *args) -> tuple[Tensor, Tensor, Tensor]:
    """A multi-layer LSTM: ``lstm(input, (h0, c0), params, has_biases, num_layers, dropout,
    train, bidirectional, batch_first)`` or ``lstm(data, batch_sizes, (h0, c0), params, ...)``
    for a packed sequence; returns ``(output, h_n, c_n)`` (``nn.LSTM`` is built on it).

    >>> w = [ember.ones(8, 3), ember.ones(8, 2)]
    >>> out, h, c = ember.lstm(ember.ones(5, 1, 3), (ember.zeros(1, 1, 2), ember.zeros(1, 1, 2)),
    ...                        w, False, 1, 0.0, False, False, False)
    >>> out.shape
    ember.Size([5, 1, 2])
    """
    return _network("LSTM", input, args)


@autocast_listed
def gru(input: Tensor, *args) -> tuple[Tensor, Tensor]:
    """A multi-layer GRU: ``gru(input, h0, params, has_biases, num_layers, dropout, train,
    bidirectional, batch_first)`` or ``gru(data, batch_sizes, h0, params, ...)``; returns
    ``(output, h_n)``.

    >>> ember.gru(ember.ones(5, 1, 3), ember.zeros(1, 1, 2), [ember.ones(6, 3), ember.ones(6, 2)],
    ...           False, 1, 0.0, False, False, False)[0].shape
    ember.Size([5, 1, 2])
    """
    return _network("GRU", input, args)


@autocast_listed
def rnn_tanh(input: Tensor, *args) -> tuple[Tensor, Tensor]:
    """A multi-layer Elman RNN with tanh, with ``gru``'s signatures; returns ``(output, h_n)``.

    >>> ember.rnn_tanh(ember.ones(5, 1, 3), ember.zeros(1, 1, 2),
    ...                [ember.ones(2, 3), ember.ones(2, 2)], False, 1, 0.0, False, False,
    ...                False)[0].shape
    ember.Size([5, 1, 2])
    """
    return _network("RNN_TANH", input, args)


@autocast_listed
def rnn_relu(input: Tensor, *args) -> tuple[Tensor, Tensor]:
    """A multi-layer Elman RNN with ReLU, with ``gru``'s signatures; returns ``(output, h_n)``.

    >>> ember.rnn_relu(ember.ones(5, 1, 3), ember.zeros(1, 1, 2),
    ...                [ember.ones(2, 3), ember.ones(2, 2)], False, 1, 0.0, False, False,
    ...                False)[0].shape
    ember.Size([5, 1, 2])
    """
    return _network("RNN_RELU", input, args)


for _f in (lstm_cell, gru_cell, rnn_tanh_cell, rnn_relu_cell, lstm, gru, rnn_tanh, rnn_relu):
    _export(_f, method=False)
