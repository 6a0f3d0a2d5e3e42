"""Recurrent layer benchmark: ember against PyTorch in the same process, on the same weights and
inputs, calls interleaved; prints the median time per call of each and the ember/torch ratio.

    python bench/bench_rnn.py            # LSTM/GRU/RNN, seq 50, batch 32, input 128, hidden 256
    python bench/bench_rnn.py --quick    # fewer repeats
    python bench/bench_rnn.py --filter LSTM --json out.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
import torch

import ember

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
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true", help="fewer repeats")
    p.add_argument("--small", action="store_true", help="tiny sizes (a smoke run)")
    p.add_argument("--filter", default="", help="only cases whose name contains this")
    p.add_argument("--json", help="write the results here")
    args = p.parse_args(argv)
    sizes = (4, 2, 3, 5) if args.small else (SEQ, BATCH, INPUT, HIDDEN)
    repeats = 3 if args.quick else 11
    rows = []
    print(f"seq {sizes[0]}, batch {sizes[1]}, input {sizes[2]}, hidden {sizes[3]}, {LAYERS} "
          f"layers, float32; torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"{'case':24s} {'ember ms':>10s} {'torch ms':>10s} {'ratio':>7s}")
    for name, make in _cases(*sizes):
        if args.filter not in name:
            continue
        runs = {"ember": make(ember), "torch": make(torch)}
        for fn in runs.values():
            fn()  # warm up
        times = {k: [] for k in runs}
        for _ in range(repeats):  # interleaved, so both see the same machine load
            for k, fn in runs.items():
                t0 = time.perf_counter()
                fn()
                times[k].append(time.perf_counter() - t0)
        te, tt = statistics.median(times["ember"]), statistics.median(times["torch"])
        rows.append({"case": name, "ember_s": te, "torch_s": tt, "ratio": te / tt})
        print(f"{name:24s} {te * 1e3:10.2f} {tt * 1e3:10.2f} {te / tt:7.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
