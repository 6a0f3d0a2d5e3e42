"""Eager-mode benchmark: ember against PyTorch in the same process, on the same inputs.

Prints, for each case, the median time per call of both frameworks and the ember/torch ratio,
then the median ratio of the small-op (overhead) group and of the large-op group.

    python bench/bench_core.py            # full run
    python bench/bench_core.py --quick    # fewer repeats
    python bench/bench_core.py --json out.json
    python bench/bench_core.py --threads 1   # one core each
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import timeit

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import set_threads  # noqa: E402

import ember  # noqa: E402


def _cases():
    """(group, name, make(m) -> zero-arg callable) for m in (ember, torch)."""
    rng = np.random.default_rng(0)

    def t(m, shape, grad=False):
        a = rng.standard_normal(shape).astype(np.float32)
        x = m.tensor(a)
        return x.requires_grad_(True) if grad else x

    def small(name, fn, shapes, grad=False):
        def make(m):
            rng_state = rng.bit_generator.state
            xs = [t(m, s, grad) for s in shapes]
            rng.bit_generator.state = rng_state
            if grad:
                def run():
                    out = fn(m, *xs)
                    out.sum().backward()
                return run
            return lambda: fn(m, *xs)
        return make

    cases = []
    for grad in (False, True):
        suffix = " fwd+bwd" if grad else ""
        g = "small" + suffix
        cases += [
            (g, "add" + suffix, small("add", lambda m, a, b: a + b, [(8, 8), (8, 8)], grad)),
            (g, "mul" + suffix, small("mul", lambda m, a, b: a * b, [(8, 8), (8, 8)], grad)),
            (g, "matmul 8x8" + suffix, small("mm", lambda m, a, b: a @ b, [(8, 8), (8, 8)],
                                             grad)),
            (g, "sum" + suffix, small("sum", lambda m, a: a.sum(), [(8, 8)], grad)),
            (g, "view" + suffix, small("view", lambda m, a: a.view(4, 16), [(8, 8)], grad)),
            (g, "index" + suffix, small("index", lambda m, a: a[2:5, 1], [(8, 8)], grad)),
            (g, "linear addmm" + suffix, small(
                "addmm", lambda m, x, w, b: m.addmm(b, x, w.t()), [(16, 32), (64, 32), (64,)],
                grad)),
            (g, "exp+tanh chain" + suffix, small(
                "chain", lambda m, a: (a.exp() * 0.5).tanh(), [(8, 8)], grad)),
        ]
    cases += _breadth_cases(rng)
    cases += [
        ("large", "matmul 1024", small("mm", lambda m, a, b: a @ b, [(1024, 1024)] * 2)),
        ("large", "add 4M", small("add", lambda m, a, b: a + b, [(2048, 2048)] * 2)),
        ("large", "mul 4M", small("mul", lambda m, a, b: a * b, [(2048, 2048)] * 2)),
        ("large", "exp 4M", small("exp", lambda m, a: a.exp(), [(2048, 2048)])),
        ("large", "sum 4M", small("sum", lambda m, a: a.sum(), [(2048, 2048)])),
        ("large", "sum dim 4M", small("sumd", lambda m, a: a.sum(1), [(2048, 2048)])),
        ("large", "mean 4M", small("mean", lambda m, a: a.mean(), [(2048, 2048)])),
        ("large", "amax dim 4M", small("amax", lambda m, a: a.amax(0), [(2048, 2048)])),
    ]
    return cases


def _breadth_cases(rng):
    """Small ops from the op-breadth issue: gather/scatter, advanced indexing, sort/topk and a
    batched solve, each forward and forward+backward."""
    x = rng.standard_normal((16, 16)).astype(np.float32)
    idx = rng.integers(0, 16, (16, 4))
    rows = rng.integers(0, 16, 8)
    spd = rng.standard_normal((8, 4, 4)) + 4 * np.eye(4)
    rhs = rng.standard_normal((8, 4, 1))

    def make(fn, *arrays, grad=False):
        def build(m):
            ts = [m.tensor(a) for a in arrays]
            if grad:
                ts[0].requires_grad_(True)

                def run():
                    fn(m, *ts).sum().backward()
                return run
            return lambda: fn(m, *ts)
        return build

    ops = [
        ("gather", lambda m, a, i: a.gather(1, i), (x, idx)),
        ("scatter_add", lambda m, a, i: a.scatter_add(1, i, a[:, :4]), (x, idx)),
        ("advanced index", lambda m, a, r: a[r, 2:10], (x, rows)),
        ("sort", lambda m, a: a.sort(dim=1).values, (x,)),
        ("topk", lambda m, a: a.topk(3, dim=1).values, (x,)),
        ("batched solve", lambda m, a, b: m.linalg.solve(a, b), (spd, rhs)),
    ]
    cases = []
    for grad in (False, True):
        suffix = " fwd+bwd" if grad else ""
        cases += [("breadth" + suffix, name + suffix, make(fn, *arrays, grad=grad))
                  for name, fn, arrays in ops]
    return cases


def _time(fn, repeat: int, target: float) -> float:
    fn()
    timer = timeit.Timer(fn)
    n, _ = timer.autorange()
    n = max(1, int(n * target / 0.2))
    return statistics.median(timer.repeat(repeat, n)) / n


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--json")
    p.add_argument("--filter", default="")
    p.add_argument("--threads", type=int, default=0,
                   help="set_num_threads in both frameworks (0: their default, the cores)")
    args = p.parse_args(argv)
    set_threads(args.threads)
    repeat, target = (5, 0.05) if args.quick else (9, 0.2)
    rows = []
    print(f"{'case':<28}{'ember us':>12}{'torch us':>12}{'ratio':>8}")
    for group, name, make in _cases():
        if args.filter not in name:
            continue
        # interleave the two frameworks so that machine noise hits both alike
        e_fn, t_fn = make(ember), make(torch)
        te, tt = [], []
        for _ in range(3):
            te.append(_time(e_fn, repeat, target))
            tt.append(_time(t_fn, repeat, target))
        e, tr = min(te), min(tt)
        rows.append({"group": group, "case": name, "ember_s": e, "torch_s": tr, "ratio": e / tr})
        print(f"{name:<28}{e * 1e6:>12.2f}{tr * 1e6:>12.2f}{e / tr:>8.2f}", flush=True)
    summary = {}
    for group in dict.fromkeys(r["group"] for r in rows):
        ratios = [r["ratio"] for r in rows if r["group"] == group]
        summary[group] = statistics.median(ratios)
        print(f"median ratio [{group}]: {summary[group]:.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"date": time.strftime("%Y-%m-%d"), "machine": platform.platform(),
                       "processor": platform.processor(), "python": sys.version.split()[0],
                       "numpy": np.__version__, "torch": torch.__version__,
                       "ember": ember.__version__, "threads": torch.get_num_threads(),
                       "rows": rows, "median_ratio": summary}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
