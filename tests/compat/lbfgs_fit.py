"""Full-batch fitting with LBFGS and optimizer.step(closure): a small MLP regression with the
strong-Wolfe line search and with the default fixed step, in float64 as such fits usually are,
then in float32 (where LBFGS amplifies rounding differences: the test compares those lines
within a band), and a least-squares problem checked against torch.linalg.lstsq."""

import torch
import torch.nn as nn


def fit(dtype, line_search_fn, x, y):
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 1)).to(dtype)
    x, y = x.to(dtype), y.to(dtype)
    opt = torch.optim.LBFGS(model.parameters(), lr=1, max_iter=20, history_size=10,
                            line_search_fn=line_search_fn)
    calls = 0

    def closure():
        nonlocal calls
        calls += 1
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        return loss

    name = f"{str(dtype).split('.')[1]} {line_search_fn}"
    for outer in range(4):
        loss = opt.step(closure)
        print(f"{name} outer {outer} loss {loss.item():.8f}")
    state = opt.state[opt._params[0]]
    print(f"{name} final {closure().item():.8f} closure calls {calls} "
          f"iterations {state['n_iter']} evaluations {state['func_evals']}")


def main():
    torch.manual_seed(0)
    x = torch.linspace(-2, 2, 64, dtype=torch.float64).unsqueeze(1)
    y = torch.sin(2 * x) + 0.05 * torch.randn_like(x)
    fit(torch.float64, "strong_wolfe", x, y)
    fit(torch.float64, None, x, y)
    fit(torch.float32, "strong_wolfe", x, y)

    a = torch.randn(30, 4, dtype=torch.float64)
    b = a @ torch.tensor([1.0, -2.0, 0.5, 3.0], dtype=torch.float64) + \
        0.01 * torch.randn(30, dtype=torch.float64)
    w = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w], lr=1, max_iter=50, tolerance_grad=1e-12,
                            tolerance_change=1e-14, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = ((a @ w - b) ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    exact = torch.linalg.lstsq(a, b.unsqueeze(1)).solution.squeeze(1)
    print("least squares", [round(v, 8) for v in w.tolist()])
    print("matches lstsq", torch.allclose(w, exact, atol=1e-8))


if __name__ == "__main__":
    main()
