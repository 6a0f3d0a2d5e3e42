"""Recurrent layer benchmark: ember against PyTorch in the same process, on the same weights and
inputs, calls interleaved; prints the median time per call of each and the ember/torch ratio.

    python bench/bench_rnn.py            # LSTM/GRU/RNN, seq 50, batch 32, input 128, hidden 256
    python bench/bench_rnn.py --quick    # fewer repeats
    python bench/bench_rnn.py --filter LSTM --json out.json
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

import ember

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the shared harness beside us
import harness  # noqa: E402

SEQ, BATCH, INPUT, HIDDEN, LAYERS = 50, 32, 128, 256, 2


def _cases(seq, batch, inp, hidden):
    """(name, make(lib) -> zero-arg callable) for lib in (ember, torch)."""
    x = np.random.default_rng(0).standard_normal((seq, batch, inp)).astype(np.float32)

    def net(name, **kw):
        def build(lib, requires_grad):
            torch.manual_seed(0)
            t = getattr(torch.nn, name)(inp, hidden, LAYERS, **kw)
            if lib is torch:
                m = t
            else:
                m = getattr(ember.nn, name)(inp, hidden, LAYERS, **kw)
                m.load_state_dict({k: ember.tensor(v.detach().numpy())
                                   for k, v in t.state_dict().items()})
            return m, lib.tensor(x).requires_grad_(requires_grad)
        return build

    def fwd(build):
        def make(lib):
            m, xs = build(lib, False)

            def run():
                with lib.no_grad():
                    m(xs)
            return run
        return make

    def fwd_bwd(build):
        def make(lib):
            m, xs = build(lib, True)

            def run():
                m.zero_grad()
                xs.grad = None
                out, _ = m(xs)
                out.sum().backward()
            return run
        return make

    lstm, gru, rnn = net("LSTM"), net("GRU"), net("RNN")
    return [
        ("LSTM fwd", fwd(lstm)),
        ("LSTM fwd+bwd", fwd_bwd(lstm)),
        ("GRU fwd", fwd(gru)),
        ("GRU fwd+bwd", fwd_bwd(gru)),
        ("RNN tanh fwd", fwd(rnn)),
        ("RNN tanh fwd+bwd", fwd_bwd(rnn)),
    ]


def main(argv=None) -> int:
    args = harness.parse_args(__doc__, argv, extra=lambda p: p.add_argument(
        "--small", action="store_true", help="tiny sizes (a smoke run)"))
    sizes = (4, 2, 3, 5) if args.small else (SEQ, BATCH, INPUT, HIDDEN)
    print(f"seq {sizes[0]}, batch {sizes[1]}, input {sizes[2]}, hidden {sizes[3]}, {LAYERS} "
          f"layers, float32; torch {torch.__version__}, {torch.get_num_threads()} threads")
    harness.compare(_cases(*sizes), args, rounds=3 if args.quick else 11, title="case",
                    width=24, runs=lambda make: {"ember": make(ember), "torch": make(torch)})
    return 0

if __name__ == "__main__":
    raise SystemExit(main())
