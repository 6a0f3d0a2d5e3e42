"""``nn.functional`` benchmark: forward + backward of batch_norm, layer_norm, cross_entropy and
gelu, ember against PyTorch in the same process on the same inputs.

The two frameworks run interleaved (one call of each per round) so that machine noise hits
both alike; each case prints both medians and the ember/torch ratio.

    PYTHONPATH=. python bench/bench_nn_functional.py            # full run
    PYTHONPATH=. python bench/bench_nn_functional.py --quick    # fewer rounds

On a busy machine PyTorch's thread pool (and OpenBLAS's) suffer most from contention; compare
with ``--torch-threads 1`` and ``OPENBLAS_NUM_THREADS=1`` there.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as TF

import ember
from ember._api import activation, loss, normalization

# ember.nn.functional's functions (until that module is merged)
EF = {n: getattr(m, n) for m in (activation, normalization, loss) for n in m.__all__}


def _cases():
    """(name, make(m, F) -> zero-arg callable running forward + backward)."""
    rng = np.random.default_rng(0)

    def arrays(*shapes):
        return [rng.standard_normal(s).astype(np.float32) for s in shapes]

    def case(fn, *arrs, extra=()):
        def make(m, F):
            ts = [m.tensor(a).requires_grad_(True) for a in arrs]
            ex = [m.tensor(a) for a in extra]

            def run():
                out = fn(F, *ts, *ex)
                out.backward(m.ones_like(out) if out.dim() else None)
                for t in ts:
                    t.grad = None
            return run
        return make

    x_bn, w_bn, b_bn = arrays((32, 64, 32, 32), (64,), (64,))
    x_ln, w_ln, b_ln = arrays((32, 128, 512), (512,), (512,))
    (x_ce,) = arrays((256, 1000))
    y_ce = rng.integers(0, 1000, 256)
    (x_gelu,) = arrays((2048, 2048))
    return [
        ("batch_norm (32,64,32,32)", case(
            lambda F, x, w, b: F["batch_norm"](x, None, None, w, b, True), x_bn, w_bn, b_bn)),
        ("layer_norm (32,128,512)", case(
            lambda F, x, w, b: F["layer_norm"](x, (512,), w, b), x_ln, w_ln, b_ln)),
        ("cross_entropy (256,1000)", case(
            lambda F, x, y: F["cross_entropy"](x, y), x_ce, extra=(y_ce,))),
        ("gelu 4M", case(lambda F, x: F["gelu"](x), x_gelu)),
    ]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--filter", default="")
    p.add_argument("--json")
    p.add_argument("--torch-threads", type=int, default=0,
                   help="torch.set_num_threads (0: leave PyTorch's default)")
    args = p.parse_args(argv)
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    rounds = 5 if args.quick else 21
    tf = {n: getattr(TF, n) for n in EF}
    rows = []
    print(f"{'case (fwd+bwd)':<28}{'ember ms':>10}{'torch ms':>10}{'ratio':>8}")
    for name, make in _cases():
        if args.filter not in name:
            continue
        runs = {"ember": make(ember, EF), "torch": make(torch, tf)}
        times = {k: [] for k in runs}
        for fn in runs.values():  # warm up
            fn()
        for _ in range(rounds):
            for k, fn in runs.items():
                t0 = time.perf_counter()
                fn()
                times[k].append(time.perf_counter() - t0)
        e, t = statistics.median(times["ember"]), statistics.median(times["torch"])
        rows.append({"case": name, "ember_s": e, "torch_s": t, "ratio": e / t})
        print(f"{name:<28}{e * 1e3:>10.2f}{t * 1e3:>10.2f}{e / t:>8.2f}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"torch_threads": torch.get_num_threads(), "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
