"""``nn`` layer benchmark: forward + backward through the modules (BatchNorm2d, LayerNorm,
CrossEntropyLoss) and an MLP training step (forward, loss, backward, ``optim.SGD`` step),
ember against PyTorch in the same process on the same inputs and weights.

The two frameworks run interleaved (one call of each per round) so that machine noise hits
both alike; each case prints both medians and the ember/torch ratio.

    PYTHONPATH=. python bench/bench_nn_layers.py                    # full run
    PYTHONPATH=. python bench/bench_nn_layers.py --quick            # fewer rounds
    PYTHONPATH=. python bench/bench_nn_layers.py --threads 1  # on a busy machine
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

import ember

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the shared harness beside us
import harness  # noqa: E402


def _state(module) -> dict:
    return {k: v.detach().numpy().copy() for k, v in module.state_dict().items()}


def _layer(make_module, x, target=None):
    """make(lib) -> zero-arg callable: ``module(x)`` (or ``module(x, target)``) and backward,
    with the same weights in both frameworks."""
    def make(lib):
        torch.manual_seed(0)
        ref = make_module(torch)
        m = make_module(lib)
        m.load_state_dict({k: lib.tensor(v) for k, v in _state(ref).items()})
        xt = lib.tensor(x).requires_grad_(True)
        args = (xt,) if target is None else (xt, lib.tensor(target))

        def run():
            out = m(*args)
            out.backward(lib.ones_like(out) if out.dim() else None)
            xt.grad = None
            for p in m.parameters():
                p.grad = None
        return run
    return make


def _mlp_step(x, y):
    """make(lib) -> zero-arg callable: one SGD training step of a 784-512-512-10 MLP."""
    def net(lib):
        return lib.nn.Sequential(lib.nn.Linear(784, 512), lib.nn.ReLU(), lib.nn.Linear(512, 512),
                                 lib.nn.ReLU(), lib.nn.Linear(512, 10))

    def make(lib):
        torch.manual_seed(0)
        ref = net(torch)
        model = net(lib)
        model.load_state_dict({k: lib.tensor(v) for k, v in _state(ref).items()})
        opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        loss_fn = lib.nn.CrossEntropyLoss()
        xs, ys = lib.tensor(x), lib.tensor(y)

        def run():
            opt.zero_grad()
            loss_fn(model(xs), ys).backward()
            opt.step()
        return run
    return make


def _cases():
    """(name, make(lib) -> zero-arg callable)."""
    rng = np.random.default_rng(0)

    def arr(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    return [
        ("BatchNorm2d(64) (32,64,32,32)", _layer(lambda L: L.nn.BatchNorm2d(64),
                                                 arr(32, 64, 32, 32))),
        ("LayerNorm(512) (32,128,512)", _layer(lambda L: L.nn.LayerNorm(512),
                                               arr(32, 128, 512))),
        ("CrossEntropyLoss (256,1000)", _layer(lambda L: L.nn.CrossEntropyLoss(),
                                               arr(256, 1000), rng.integers(0, 1000, 256))),
        ("MLP train step (128,784)", _mlp_step(arr(128, 784), rng.integers(0, 10, 128))),
    ]


def main(argv=None) -> int:
    args = harness.parse_args(__doc__, argv)
    harness.compare(_cases(), args, rounds=5 if args.quick else 31, warmup=2,
                    runs=lambda make: {"ember": make(ember), "torch": make(torch)})
    return 0

if __name__ == "__main__":
    sys.exit(main())
