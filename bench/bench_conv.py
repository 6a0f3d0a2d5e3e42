"""Convolution and pooling benchmark: ember against PyTorch in the same process, on the same
inputs, calls interleaved; prints the median time per call of each and the ember/torch ratio.

    python bench/bench_conv.py            # full run
    python bench/bench_conv.py --quick    # fewer repeats
    python bench/bench_conv.py --filter conv2d --json out.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as TF

import ember
import ember._api.conv as EF

N, C, H, W = 32, 64, 32, 32


def _cases():
    """(name, make(m, F) -> zero-arg callable) for (m, F) = (ember, its functional) and
    (torch, torch.nn.functional)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, C, H, W)).astype(np.float32)
    w = (rng.standard_normal((64, C, 3, 3)) * 0.05).astype(np.float32)
    b = rng.standard_normal(64).astype(np.float32)
    wt = (rng.standard_normal((C, 32, 4, 4)) * 0.05).astype(np.float32)

    def fwd(fn, *arrays):
        def make(m, F):
            ts = [m.tensor(a) for a in arrays]
            return lambda: fn(F, *ts)
        return make

    def fwd_bwd(fn, *arrays):
        def make(m, F):
            ts = [m.tensor(a).requires_grad_(True) for a in arrays]

            def run():
                for t in ts:
                    t.grad = None
                fn(F, *ts).sum().backward()
            return run
        return make

    def conv(F, x, w, b):
        return F.conv2d(x, w, b, padding=1)

    return [
        ("conv2d 64->64 3x3 pad 1", fwd(conv, x, w, b)),
        ("conv2d 64->64 3x3 pad 1 fwd+bwd", fwd_bwd(conv, x, w, b)),
        ("conv_transpose2d 64->32 4x4 stride 2", fwd(
            lambda F, x, w: F.conv_transpose2d(x, w, stride=2, padding=1), x, wt)),
        ("conv_transpose2d fwd+bwd", fwd_bwd(
            lambda F, x, w: F.conv_transpose2d(x, w, stride=2, padding=1), x, wt)),
        ("max_pool2d 2x2", fwd(lambda F, x: F.max_pool2d(x, 2), x)),
        ("max_pool2d 2x2 fwd+bwd", fwd_bwd(lambda F, x: F.max_pool2d(x, 2), x)),
        ("avg_pool2d 2x2", fwd(lambda F, x: F.avg_pool2d(x, 2), x)),
        ("avg_pool2d 2x2 fwd+bwd", fwd_bwd(lambda F, x: F.avg_pool2d(x, 2), x)),
    ]


def _median_time(fn, number):
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - t0) / number


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true", help="fewer repeats")
    p.add_argument("--filter", default="", help="only cases whose name contains this")
    p.add_argument("--json", help="write the results here")
    args = p.parse_args(argv)
    repeats = 3 if args.quick else 9
    rows = []
    print(f"input ({N}, {C}, {H}, {W}) float32; torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    print(f"{'case':40s} {'ember ms':>10s} {'torch ms':>10s} {'ratio':>7s}")
    for name, make in _cases():
        if args.filter not in name:
            continue
        runs = {"ember": make(ember, EF), "torch": make(torch, TF)}
        for fn in runs.values():
            fn()  # warm up
        times = {k: [] for k in runs}
        for _ in range(repeats):  # interleaved, so both see the same machine load
            for k, fn in runs.items():
                times[k].append(_median_time(fn, 1))
        te, tt = statistics.median(times["ember"]), statistics.median(times["torch"])
        rows.append({"case": name, "ember_s": te, "torch_s": tt, "ratio": te / tt})
        print(f"{name:40s} {te * 1e3:10.2f} {tt * 1e3:10.2f} {te / tt:7.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
