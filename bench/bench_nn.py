"""nn layer benchmark: ember against PyTorch in the same process, on the same inputs and
weights, calls interleaved; prints the median time per call of each and the ember/torch ratio.

Cases: forward+backward of nn.Linear(1024, 1024) on (256, 1024) and of
nn.Conv2d(64, 64, 3, padding=1) on (32, 64, 32, 32), and one training step (forward, loss,
backward, manual SGD update under no_grad) of a small CNN (Conv-ReLU-MaxPool x2 + Linear) on
(64, 3, 32, 32), and one Adam step of a small transformer language model (2 encoder layers,
d 128) on (32, 64) tokens.

    PYTHONPATH=. python bench/bench_nn.py            # full run (this checkout's ember)
    PYTHONPATH=. python bench/bench_nn.py --quick    # fewer repeats
    PYTHONPATH=. python bench/bench_nn.py --filter cnn --json out.json
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

import ember

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the shared harness beside us
import harness  # noqa: E402


def _copy_weights(src: torch.nn.Module, dst: ember.nn.Module) -> None:
    dst.load_state_dict({k: ember.tensor(v.numpy()) for k, v in src.state_dict().items()})


def _layer_fwd_bwd(make, shape):
    """Forward + backward of ``make(nn)`` with the same weights and input in both."""
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)

    def build(lib):
        lib.manual_seed(0)
        return make(lib.nn)
    t = build(torch)
    e = build(ember)
    _copy_weights(t, e)

    def runner(lib, m):
        xt = lib.tensor(x).requires_grad_(True)

        def run():
            xt.grad = None
            m.zero_grad()
            m(xt).sum().backward()
        return run
    return {"ember": runner(ember, e), "torch": runner(torch, t)}


def _cnn(lib):
    nn = lib.nn

    class SmallCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 16, 3, padding=1)
            self.pool1 = nn.MaxPool2d(2)
            self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
            self.pool2 = nn.MaxPool2d(2)
            self.fc = nn.Linear(32 * 8 * 8, 10)

        def forward(self, x):
            x = self.pool1(self.conv1(x).relu())
            x = self.pool2(self.conv2(x).relu())
            return self.fc(x.flatten(1))

    return SmallCNN()


def _train_step():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3, 32, 32)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    torch.manual_seed(0)
    t = _cnn(torch)
    e = _cnn(ember)
    _copy_weights(t, e)

    def runner(lib, m):
        xt, yt = lib.tensor(x), lib.tensor(y)
        params = list(m.parameters())

        def run():
            out = m(xt)
            loss = -out.log_softmax(1).gather(1, yt[:, None]).mean()
            loss.backward()
            with lib.no_grad():
                for p in params:
                    p.add_(p.grad, alpha=-0.01)
                    p.grad = None
        return run
    return {"ember": runner(ember, e), "torch": runner(torch, t)}


def _transformer(lib):
    nn = lib.nn

    class SmallLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(1000, 128)
            self.enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(
                128, 4, 256, dropout=0.0, batch_first=True), 2, enable_nested_tensor=False)
            self.norm = nn.LayerNorm(128)
            self.head = nn.Linear(128, 1000)

        def forward(self, ids):
            return self.head(self.norm(self.enc(self.emb(ids))))

    return SmallLM()


def _transformer_step():
    """One Adam step of a 2-layer transformer LM (d 128, 4 heads) on (32, 64) tokens with
    next-token cross entropy."""
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 1000, (32, 65))
    torch.manual_seed(0)
    t = _transformer(torch)
    e = _transformer(ember)
    _copy_weights(t, e)

    def runner(lib, m):
        x, y = lib.tensor(ids[:, :-1]), lib.tensor(ids[:, 1:].reshape(-1))
        opt = lib.optim.Adam(m.parameters(), lr=1e-3)

        def run():
            opt.zero_grad()
            lib.nn.functional.cross_entropy(m(x).reshape(-1, 1000), y).backward()
            opt.step()
        return run
    return {"ember": runner(ember, e), "torch": runner(torch, t)}


def _cases():
    return [
        ("linear 1024->1024 (256, 1024) fwd+bwd",
         lambda: _layer_fwd_bwd(lambda nn: nn.Linear(1024, 1024), (256, 1024))),
        ("conv2d 64->64 3x3 pad 1 (32, 64, 32, 32) fwd+bwd",
         lambda: _layer_fwd_bwd(lambda nn: nn.Conv2d(64, 64, 3, padding=1), (32, 64, 32, 32))),
        ("cnn train step (64, 3, 32, 32)", _train_step),
        ("transformer train step (32, 64) tokens", _transformer_step),
    ]


def main(argv=None) -> int:
    args = harness.parse_args(__doc__, argv)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    harness.compare(_cases(), args, rounds=3 if args.quick else 11, title="case", width=50)
    return 0

if __name__ == "__main__":
    raise SystemExit(main())
