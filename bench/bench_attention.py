"""Attention benchmark: forward + backward of ``MultiheadAttention(256, 8)`` and of one
``TransformerEncoderLayer(256, 8)`` on sequences of 128, batch 16 (float32), plus the bare
``scaled_dot_product_attention``, ember against PyTorch in the same process with the same
weights and inputs.

The two frameworks run interleaved (one call of each per round) so that machine noise hits
both alike; each case prints both medians and the ember/torch ratio.

    PYTHONPATH=. python bench/bench_attention.py            # full run
    PYTHONPATH=. python bench/bench_attention.py --quick    # fewer rounds

On a busy machine PyTorch's thread pool (and OpenBLAS's) suffer most from contention; compare
with ``--threads 1`` there.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

import ember
from ember._api import attention as FA

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the shared harness beside us
import harness  # noqa: E402

E, HEADS, SEQ, BATCH = 256, 8, 128, 16


def _module_case(make, self_attention: bool):
    """A forward + backward of ``make(lib)`` (weights copied from torch's) on (N, L, E)."""
    x = np.random.default_rng(0).standard_normal((BATCH, SEQ, E)).astype(np.float32)

    def build(lib, state=None):
        lib.manual_seed(0)
        m = make(lib)
        if state is not None:
            m.load_state_dict({k: ember.tensor(v.numpy()) for k, v in state.items()})
        xt = lib.tensor(x).requires_grad_(True)

        def run():
            out = m(xt, xt, xt, need_weights=False)[0] if self_attention else m(xt)
            out.backward(lib.ones_like(out))
            xt.grad = None
            m.zero_grad()
        return run, m

    def both():
        tr, tm = build(torch)
        er, _ = build(ember, tm.state_dict())
        return {"ember": er, "torch": tr}
    return both


def _sdpa_case():
    rng = np.random.default_rng(1)
    arrs = [rng.standard_normal((BATCH, HEADS, SEQ, E // HEADS)).astype(np.float32)
            for _ in range(3)]

    def make(lib, fn):
        q, k, v = (lib.tensor(a).requires_grad_(True) for a in arrs)

        def run():
            out = fn(q, k, v, is_causal=True)
            out.backward(lib.ones_like(out))
            for t in (q, k, v):
                t.grad = None
        return run
    return lambda: {"ember": make(ember, FA.scaled_dot_product_attention),
                    "torch": make(torch, torch.nn.functional.scaled_dot_product_attention)}


def _cases():
    return [
        ("MultiheadAttention(256, 8)", _module_case(
            lambda lib: lib.nn.MultiheadAttention(E, HEADS, batch_first=True), True)),
        ("TransformerEncoderLayer(256, 8)", _module_case(
            lambda lib: lib.nn.TransformerEncoderLayer(E, HEADS, batch_first=True,
                                                       dropout=0.0), False)),
        ("sdpa causal (16,8,128,32)", _sdpa_case()),
    ]


def main(argv=None) -> int:
    args = harness.parse_args(__doc__, argv)
    print(f"seq {SEQ}, batch {BATCH}, float32; torch threads {torch.get_num_threads()}")
    harness.compare(_cases(), args, rounds=3 if args.quick else 15, width=34)
    return 0

if __name__ == "__main__":
    sys.exit(main())
