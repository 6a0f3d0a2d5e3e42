"""Optimizer step benchmark: ember against PyTorch in the same process, on the same values.

One ``step()`` over 100 float32 parameters of mixed sizes (about 10M values in all), with
``foreach=True`` in both frameworks; runs are interleaved and medians compared.

    PYTHONPATH=. python bench/bench_optim.py              # full run, from the repository root
    PYTHONPATH=. python bench/bench_optim.py --quick      # fewer values and repeats
    PYTHONPATH=. python bench/bench_optim.py --json out.json
    PYTHONPATH=. python bench/bench_optim.py --torch-threads 1
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
import torch

import ember

CASES = [("Adam", dict(lr=1e-3)), ("SGD momentum", dict(lr=1e-3, momentum=0.9))]


def _params(m, arrays):
    ps = []
    for a, g in arrays:
        p = m.tensor(a.copy(), requires_grad=True)
        p.grad = m.tensor(g.copy())
        ps.append(p)
    return ps


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json")
    ap.add_argument("--torch-threads", type=int, help="torch.set_num_threads (ember: one)")
    args = ap.parse_args(argv)
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    total = 200_000 if args.quick else 10_000_000
    repeats = 3 if args.quick else 15
    rng = np.random.default_rng(0)
    raw = rng.integers(1_000, 200_000, 100)
    sizes = [max(1, int(s * total / raw.sum())) for s in raw]
    # mixed shapes: matrices, vectors and a few tiny biases
    shapes = [(s // 64, 64) if i % 3 == 0 and s >= 64 else (s,) for i, s in enumerate(sizes)]
    arrays = [(rng.standard_normal(sh).astype(np.float32),
               rng.standard_normal(sh).astype(np.float32)) for sh in shapes]
    print(f"{len(arrays)} parameters, {sum(a.size for a, _ in arrays):,} values, float32, "
          f"foreach=True; torch threads: {torch.get_num_threads()}")
    rows = []
    for name, kw in CASES:
        cls = name.split()[0]
        opts = {m: getattr(m.optim, cls)(_params(m, arrays), foreach=True, **kw)
                for m in (ember, torch)}
        for o in opts.values():
            o.step()  # state made outside the timing
        times = {ember: [], torch: []}
        for _ in range(repeats):
            for m, o in opts.items():
                t0 = time.perf_counter()
                o.step()
                times[m].append(time.perf_counter() - t0)
        te, tt = statistics.median(times[ember]), statistics.median(times[torch])
        rows.append({"case": name, "ember_ms": te * 1e3, "torch_ms": tt * 1e3,
                     "ratio": te / tt})
        print(f"{name:14s} ember {te * 1e3:8.2f} ms   torch {tt * 1e3:8.2f} ms   "
              f"ratio {te / tt:5.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows}, f)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
