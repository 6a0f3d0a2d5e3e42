"""A command-line PyTorch script: argparse, sys.argv and a __main__ guard."""

import argparse
import os
import sys

import torch


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Least squares by gradient descent.")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--features", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fail-above", type=float, default=None,
                        help="exit with status 3 if the final loss is above this")
    parser.add_argument("names", nargs="*")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    print("script", os.path.basename(sys.argv[0]), os.path.basename(__file__), __name__)
    print("argv", sys.argv[1:])
    print("names", args.names, "steps", args.steps, "lr", args.lr)
    print("script dir on path", os.path.dirname(os.path.abspath(__file__)) == sys.path[0])
    torch.manual_seed(args.seed)
    x = torch.randn(50, args.features)
    true_w = torch.arange(1, args.features + 1, dtype=torch.float32)
    y = x @ true_w + 0.01 * torch.randn(50)
    w = torch.zeros(args.features, requires_grad=True)
    for step in range(args.steps):
        loss = ((x @ w - y) ** 2).mean()
        w.grad = None
        loss.backward()
        with torch.no_grad():
            w -= args.lr * w.grad
        if step % 25 == 0:
            print(f"step {step:3d} loss {loss.item():.6f}")
    print("w", [round(v, 4) for v in w.tolist()], "dtype", w.dtype)
    if args.fail_above is not None and loss.item() > args.fail_above:
        print("loss too high", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
