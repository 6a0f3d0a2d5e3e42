"""Convolution and pooling benchmark: ember against PyTorch in the same process, on the same
inputs, calls interleaved; prints the median time per call of each and the ember/torch ratio.

    PYTHONPATH=. python bench/bench_conv.py                    # full run
    PYTHONPATH=. python bench/bench_conv.py --quick            # fewer repeats
    PYTHONPATH=. python bench/bench_conv.py --threads 1  # on a busy machine
    PYTHONPATH=. python bench/bench_conv.py --filter conv2d --json out.json
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as TF

import ember
import ember._api.conv as EF

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the shared harness beside us
import harness  # noqa: E402

N, C, H, W = 32, 64, 32, 32


def _cases():
    """(name, make(m, F) -> zero-arg callable) for (m, F) = (ember, its functional) and
    (torch, torch.nn.functional)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, C, H, W)).astype(np.float32)
    w = (rng.standard_normal((64, C, 3, 3)) * 0.05).astype(np.float32)
    b = rng.standard_normal(64).astype(np.float32)
    wt = (rng.standard_normal((C, 32, 4, 4)) * 0.05).astype(np.float32)
    # the first layers of a small CNN: few input channels (NOTE [ im2col layout ])
    x3 = rng.standard_normal((64, 3, 32, 32)).astype(np.float32)
    w3 = (rng.standard_normal((16, 3, 3, 3)) * 0.2).astype(np.float32)
    b3 = rng.standard_normal(16).astype(np.float32)
    x16 = rng.standard_normal((64, 16, 16, 16)).astype(np.float32)
    w16 = (rng.standard_normal((32, 16, 3, 3)) * 0.1).astype(np.float32)
    b16 = rng.standard_normal(32).astype(np.float32)

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
        ("conv2d 3->16 3x3 pad 1 (64, 3, 32, 32)", fwd(conv, x3, w3, b3)),
        ("conv2d 3->16 fwd+bwd", fwd_bwd(conv, x3, w3, b3)),
        ("conv2d 16->32 3x3 pad 1 (64, 16, 16, 16)", fwd(conv, x16, w16, b16)),
        ("conv2d 16->32 fwd+bwd", fwd_bwd(conv, x16, w16, b16)),
        ("conv_transpose2d 64->32 4x4 stride 2", fwd(
            lambda F, x, w: F.conv_transpose2d(x, w, stride=2, padding=1), x, wt)),
        ("conv_transpose2d fwd+bwd", fwd_bwd(
            lambda F, x, w: F.conv_transpose2d(x, w, stride=2, padding=1), x, wt)),
        ("max_pool2d 2x2", fwd(lambda F, x: F.max_pool2d(x, 2), x)),
        ("max_pool2d 2x2 fwd+bwd", fwd_bwd(lambda F, x: F.max_pool2d(x, 2), x)),
        ("avg_pool2d 2x2", fwd(lambda F, x: F.avg_pool2d(x, 2), x)),
        ("avg_pool2d 2x2 fwd+bwd", fwd_bwd(lambda F, x: F.avg_pool2d(x, 2), x)),
    ]


def main(argv=None) -> int:
    args = harness.parse_args(__doc__, argv)
    print(f"input ({N}, {C}, {H}, {W}) float32; torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    harness.compare(_cases(), args, rounds=3 if args.quick else 9, title="case", width=44,
                    runs=lambda make: {"ember": make(ember, EF), "torch": make(torch, TF)})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
