"""The demo main job: fit y = sin(x) on [-pi, pi] with bare tensors and autograd.

First a cubic polynomial (the classic PyTorch tutorial, same numbers as PyTorch), then a small
tanh network trained with a hand-written momentum SGD step under ``no_grad``.

    python -m ember.examples.fit [--steps 2000] [--seed 0]
"""

from __future__ import annotations

import argparse
import math
import time

import ember as torch  # the code below is plain PyTorch


def fit_polynomial(steps: int) -> float:
    x = torch.linspace(-math.pi, math.pi, 2000)
    y = torch.sin(x)
    a, b, c, d = (torch.randn((), requires_grad=True) for _ in range(4))
    lr = 1e-6
    for t in range(steps):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = (y_pred - y).pow(2).sum()
        if t % 500 == 499:
            print(f"  step {t + 1:5d}  loss {loss.item():.4f}")
        loss.backward()
        with torch.no_grad():
            for p in (a, b, c, d):
                p -= lr * p.grad
                p.grad = None
    print(f"  y = {a.item():.4f} + {b.item():.4f} x + {c.item():.4f} x^2 + {d.item():.4f} x^3")
    return loss.item()


def fit_network(steps: int, hidden: int = 32) -> float:
    x = torch.linspace(-math.pi, math.pi, 256).unsqueeze(1)
    y = torch.sin(x)
    w1 = (torch.randn(1, hidden) * 1.0).requires_grad_()
    b1 = torch.zeros(hidden, requires_grad=True)
    w2 = (torch.randn(hidden, 1) / math.sqrt(hidden)).requires_grad_()
    b2 = torch.zeros(1, requires_grad=True)
    params = [w1, b1, w2, b2]
    velocity = [torch.zeros_like(p) for p in params]
    lr, momentum = 0.05, 0.9
    for t in range(steps):
        pred = torch.tanh(x @ w1 + b1) @ w2 + b2
        loss = ((pred - y) ** 2).mean()
        if t % 500 == 499:
            print(f"  step {t + 1:5d}  mse {loss.item():.6f}")
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p, v in zip(params, velocity):
                v.mul_(momentum).add_(p.grad)
                p.sub_(lr * v)
    with torch.no_grad():
        err = (torch.tanh(x @ w1 + b1) @ w2 + b2 - y).abs().max().item()
    print(f"  max |error| on the grid: {err:.4f}")
    return loss.item()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    torch.manual_seed(args.seed)
    start = time.perf_counter()
    print("cubic polynomial, plain gradient descent:")
    fit_polynomial(args.steps)
    print("tanh network (1-32-1), momentum SGD:")
    mse = fit_network(args.steps)
    print(f"done in {time.perf_counter() - start:.1f} s; final mse {mse:.6f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
