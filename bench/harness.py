"""The timing loop the nn benchmark scripts share: ember and PyTorch called alternately on the
same inputs, medians per case, ember/torch ratios printed and optionally written as JSON."""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

import ember


def set_threads(n: int) -> None:
    """``set_num_threads(n)`` in ember (its BLAS and worker pools) and PyTorch alike."""
    if n:
        ember.set_num_threads(n)
        torch.set_num_threads(n)


def parse_args(doc: str, argv=None, extra=None) -> argparse.Namespace:
    """``--quick``, ``--filter``, ``--json`` and ``--threads`` (applied here); ``extra``
    may add a script's own options to the parser."""
    p = argparse.ArgumentParser(description=doc)
    if extra is not None:
        extra(p)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--filter", default="")
    p.add_argument("--json")
    p.add_argument("--threads", type=int, default=0,
                   help="set_num_threads in both frameworks (0: their default, the cores)")
    args = p.parse_args(argv)
    set_threads(args.threads)
    return args


def compare(cases, args, rounds: int, title: str = "case (fwd+bwd)", width: int = 32,
            warmup: int = 1, runs=lambda make: make()) -> list[dict]:
    """Time each ``(name, make)`` of ``cases`` whose name contains ``args.filter``;
    ``runs(make)`` gives ``{"ember": fn, "torch": fn}``. Prints a row per case; returns the
    rows."""
    rows = []
    print(f"{title:<{width}}{'ember ms':>10}{'torch ms':>10}{'ratio':>8}")
    for name, make in cases:
        if args.filter not in name:
            continue
        fns = runs(make)
        times = {k: [] for k in fns}
        for fn in fns.values():
            for _ in range(warmup):
                fn()
        for _ in range(rounds):  # alternate, so that machine noise hits both alike
            for k, fn in fns.items():
                t0 = time.perf_counter()
                fn()
                times[k].append(time.perf_counter() - t0)
        e, t = statistics.median(times["ember"]), statistics.median(times["torch"])
        rows.append({"case": name, "ember_s": e, "torch_s": t, "ratio": e / t})
        print(f"{name:<{width}}{e * 1e3:>10.2f}{t * 1e3:>10.2f}{e / t:>8.2f}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"threads": torch.get_num_threads(), "rows": rows}, f, indent=1)
    return rows
