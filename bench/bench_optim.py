"""Optimizer step benchmark: ember against PyTorch in the same process, on the same values.

One ``step()`` with ``foreach=True`` in both frameworks, over two float32 parameter sets:

- ``mixed``: 100 parameters of mixed sizes and shapes, about 10M values in all;
- ``gpt``: the parameters of GPT-2 small (12 layers, width 768, vocabulary 50257, context
  1024, tied embedding: 148 tensors, 124M values), as nanoGPT lays them out.

Runs alternate between the frameworks (bench/harness.py) and medians are compared.

    python bench/bench_optim.py                      # both sets
    python bench/bench_optim.py --quick              # smaller sets, fewer repeats
    python bench/bench_optim.py --filter gpt --json out.json
    python bench/bench_optim.py --threads 1         # one core each
"""

from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
from harness import compare, parse_args  # noqa: E402

import ember  # noqa: E402

OPTIMIZERS = [("Adam", dict(lr=1e-3)), ("AdamW", dict(lr=1e-3, weight_decay=0.1)),
              ("SGD momentum", dict(lr=1e-3, momentum=0.9))]


def mixed_shapes(total: int, rng) -> list[tuple]:
    """100 shapes of mixed sizes summing to about ``total`` values: matrices, vectors and a
    few tiny biases."""
    raw = rng.integers(1_000, 200_000, 100)
    sizes = [max(1, int(s * total / raw.sum())) for s in raw]
    return [(s // 64, 64) if i % 3 == 0 and s >= 64 else (s,) for i, s in enumerate(sizes)]


def gpt_shapes(n_layer=12, d=768, vocab=50257, ctx=1024) -> list[tuple]:
    """GPT-2's parameter shapes (the output head is tied to the token embedding)."""
    layer = [(d,), (d,), (3 * d, d), (3 * d,), (d, d), (d,), (d,), (d,), (4 * d, d), (4 * d,),
             (d, 4 * d), (d,)]
    return [(vocab, d), (ctx, d)] + layer * n_layer + [(d,), (d,)]


def _params(m, arrays):
    ps = []
    for a, g in arrays:
        p = m.tensor(a, requires_grad=True)
        p.grad = m.tensor(g)
        ps.append(p)
    return ps


def main(argv=None) -> int:
    args = parse_args(__doc__, argv)
    rng = np.random.default_rng(0)
    sets = {"mixed": mixed_shapes(200_000 if args.quick else 10_000_000, rng),
            "gpt": gpt_shapes(n_layer=2, d=256) if args.quick else gpt_shapes()}

    def case(cls, kw, shapes):
        def make():
            arrays = [(rng.standard_normal(s, dtype=np.float32),
                       rng.standard_normal(s, dtype=np.float32)) for s in shapes]
            opts = {m.__name__: getattr(m.optim, cls)(_params(m, arrays), foreach=True, **kw)
                    for m in (ember, torch)}
            return {k: o.step for k, o in opts.items()}
        return make

    cases = []
    for set_name, shapes in sets.items():
        n = sum(int(np.prod(s)) for s in shapes)
        for name, kw in OPTIMIZERS:
            label = f"{name} {set_name} ({len(shapes)} tensors, {n / 1e6:.1f}M)"
            cases.append((label, case(name.split()[0], kw, shapes)))
    print(f"float32, foreach=True; threads: {ember.get_num_threads()}")
    compare(cases, args, rounds=5 if args.quick else 11, title="step()", width=44,
            runs=lambda make: make())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
