"""``nn.functional`` benchmark: forward + backward of batch_norm, layer_norm, cross_entropy and
gelu, ember against PyTorch in the same process on the same inputs.

The two frameworks run interleaved (one call of each per round) so that machine noise hits
both alike; each case prints both medians and the ember/torch ratio.

    PYTHONPATH=. python bench/bench_nn_functional.py            # full run
    PYTHONPATH=. python bench/bench_nn_functional.py --quick    # fewer rounds

On a busy machine PyTorch's thread pool (and OpenBLAS's) suffer most from contention; compare
with ``--threads 1`` there.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as TF

import ember
from ember._api import activation, loss, normalization

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the shared harness beside us
import harness  # noqa: E402

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
    args = harness.parse_args(__doc__, argv)
    tf = {n: getattr(TF, n) for n in EF}
    harness.compare(_cases(), args, rounds=5 if args.quick else 21, width=28,
                    runs=lambda make: {"ember": make(ember, EF), "torch": make(torch, tf)})
    return 0

if __name__ == "__main__":
    sys.exit(main())
