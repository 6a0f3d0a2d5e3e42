"""PyTorch programs, written for torch, run unchanged with ``torch`` bound to ember and print the
same numbers (within float tolerance) and the same text."""

from __future__ import annotations

import contextlib
import io
import re
import textwrap

import pytest
import torch

import ember

# "Learning PyTorch with examples", first step: the polynomial fit with gradients by hand.
POLYNOMIAL_MANUAL = """
import math

torch.manual_seed(1)
x = torch.linspace(-math.pi, math.pi, 2000)
y = torch.sin(x)
a, b, c, d = torch.randn(()), torch.randn(()), torch.randn(()), torch.randn(())
learning_rate = 1e-6
for t in range(2000):
    y_pred = a + b * x + c * x ** 2 + d * x ** 3
    loss = (y_pred - y).pow(2).sum().item()
    if t % 250 == 249:
        print(t, loss)
    grad_y_pred = 2.0 * (y_pred - y)
    grad_a = grad_y_pred.sum()
    grad_b = (grad_y_pred * x).sum()
    grad_c = (grad_y_pred * x ** 2).sum()
    grad_d = (grad_y_pred * x ** 3).sum()
    a -= learning_rate * grad_a
    b -= learning_rate * grad_b
    c -= learning_rate * grad_c
    d -= learning_rate * grad_d
print(f'Result: y = {a.item()} + {b.item()} x + {c.item()} x^2 + {d.item()} x^3')
"""

# The tutorial's custom autograd Function, plus gradcheck of it in double precision.
LEGENDRE = """
import math


class LegendrePolynomial3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


torch.manual_seed(2)
inp = torch.randn(6, dtype=torch.double, requires_grad=True)
print("gradcheck", torch.autograd.gradcheck(LegendrePolynomial3.apply, (inp,), eps=1e-6,
                                            atol=1e-4))
dtype = torch.float
x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
y = torch.sin(x)
a = torch.full((), 0.0, dtype=dtype, requires_grad=True)
b = torch.full((), -1.0, dtype=dtype, requires_grad=True)
c = torch.full((), 0.0, dtype=dtype, requires_grad=True)
d = torch.full((), 0.3, dtype=dtype, requires_grad=True)
learning_rate = 5e-6
for t in range(2000):
    P3 = LegendrePolynomial3.apply
    y_pred = a + b * P3(c + d * x)
    loss = (y_pred - y).pow(2).sum()
    if t % 200 == 199:
        print(t, loss.item())
    loss.backward()
    with torch.no_grad():
        a -= learning_rate * a.grad
        b -= learning_rate * b.grad
        c -= learning_rate * c.grad
        d -= learning_rate * d.grad
        a.grad = None
        b.grad = None
        c.grad = None
        d.grad = None
print(f'Result: y = {a.item()} + {b.item()} * P3({c.item()} + {d.item()} x)')
"""

# A small MLP with bare tensors: regression, seeded init, plain SGD under no_grad.
MLP = """
torch.manual_seed(0)
N, D_in, H, D_out = 64, 8, 32, 1
x = torch.randn(N, D_in)
y = torch.sin(2 * x[:, :1]) - 0.5 * x[:, 1:2] ** 2
w1 = (torch.randn(D_in, H) / D_in ** 0.5).requires_grad_()
b1 = torch.zeros(H, requires_grad=True)
w2 = (torch.randn(H, D_out) / H ** 0.5).requires_grad_()
b2 = torch.zeros(D_out, requires_grad=True)
params = [w1, b1, w2, b2]
lr = 0.05
for step in range(300):
    h = torch.tanh(x @ w1 + b1)
    y_pred = h @ w2 + b2
    loss = ((y_pred - y) ** 2).mean()
    if step % 50 == 0:
        print(step, loss.item())
    loss.backward()
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
            p.grad.zero_()
print("final", loss.item(), y_pred.shape, y_pred.dtype, w1.grad.abs().sum().item())
print("norms", [round(p.detach().norm().item(), 4) for p in params])
"""

# Classification with a hand-written softmax cross-entropy, minibatches from randperm, momentum.
CLASSIFIER = """
torch.manual_seed(3)
n, d, k = 120, 4, 3
centers = torch.randn(k, d) * 3
labels = torch.randint(0, k, (n,))
x = centers[labels] + torch.randn(n, d)
w = torch.zeros(d, k, requires_grad=True)
b = torch.zeros(k, requires_grad=True)
velocity = [torch.zeros_like(w), torch.zeros_like(b)]
for epoch in range(15):
    perm = torch.randperm(n)
    for i in range(0, n, 40):
        idx = perm[i:i + 40]
        logits = x[idx] @ w + b
        logp = logits - logits.logsumexp(dim=1, keepdim=True)
        loss = -logp.gather(1, labels[idx].unsqueeze(1)).mean()
        loss.backward()
        with torch.no_grad():
            for p, v in zip((w, b), velocity):
                v.mul_(0.9).add_(p.grad)
                p.sub_(0.1 * v)
                p.grad = None
    if epoch % 5 == 4:
        with torch.no_grad():
            acc = ((x @ w + b).argmax(dim=1) == labels).float().mean()
        print(epoch, round(loss.item(), 5), acc.item())
print(w.detach().sum(0).tolist(), b.detach().tolist())
"""

# Tensor API odds and ends a typical script touches.
TENSOR_API = """
torch.manual_seed(4)
t = torch.arange(12, dtype=torch.float32).reshape(3, 4)
print(t.shape, t.size(1), t.dtype, t.device, t.ndim, t.numel(), t.stride(), t.is_contiguous())
print(t.T.is_contiguous(), t.T.contiguous().stride(), t[:, 1::2].tolist())
print(t.view(4, 3)[1].tolist(), t.flatten()[-3:].tolist(), t.unsqueeze(0).shape)
print(torch.cat([t, t], dim=0).shape, torch.stack([t, t]).shape, t.chunk(2, dim=1)[1].shape)
print(t.sum().item(), t.mean(dim=0).tolist(), t.max().item(), t.argmax().item())
print(t.to(torch.int64).dtype, t.long().sum().item(), t.half().dtype, t.double().dtype)
print(torch.zeros(2, 3).dtype, torch.ones(2, dtype=torch.int32).tolist(), torch.eye(2).tolist())
print(torch.full((2,), 7).tolist(), torch.arange(0, 1, 0.25).tolist(), torch.tensor([1, 2.5]))
print(torch.rand(2, 2).tolist(), torch.randint(0, 10, (5,)).tolist(), torch.randperm(5).tolist())
x = torch.tensor([[1., 2.], [3., 4.]], requires_grad=True)
z = (x * x).sum()
z.backward()
print(x.grad, x.is_leaf, z.grad_fn is not None, x.requires_grad)
print(repr(torch.tensor([0.5, 1.5])), torch.tensor(3), torch.tensor([True, False]))
print(torch.get_default_dtype(), torch.tensor(1.).item(), int(torch.tensor(7)), len(t))
print([row.sum().item() for row in t], float(t[0, 1]), t.new_zeros(2).tolist())
print(torch.Size([2, 3]), t.shape == (3, 4), isinstance(t, torch.Tensor), torch.is_tensor(t))
"""

# Op breadth: indexing, scatter/gather, sorting, reductions, linear algebra and FFT, with
# gradients flowing through them.
OPS_BREADTH = """
torch.manual_seed(7)
x = torch.randn(6, 5)
print(x[[0, 2, 4], 1:3].tolist(), x[x > 0.5].tolist())
m = x.clone()
m[m < 0] = 0
m[1, [0, 2]] += 10
print(m.sum().item(), x[torch.tensor([[0, 1], [2, 3]]), 0].shape, x[:, [1, 3]][None, ..., 0].shape)
y = torch.zeros(3, 5)
y.index_add_(0, torch.tensor([0, 2, 0]), x[:3])
print(y.tolist(), torch.nonzero(x > 1).tolist(), torch.where(x > 1)[1].tolist())
print(x.masked_select(x < -1).tolist(), x.index_select(1, torch.tensor([4, 0])).tolist())
idx = torch.randint(0, 5, (6, 3))
print(x.gather(1, idx).tolist())
print(torch.zeros(6, 5).scatter_add(1, idx, torch.ones(6, 3)).tolist())
src = torch.tensor([1.0, 5.0, 3.0, 2.0, 4.0])
print(torch.zeros(3).scatter_reduce(0, torch.tensor([0, 1, 0, 2, 1]), src, reduce="amax").tolist())
v, j = x.sort(dim=1, descending=True)
print(v[:, 0].tolist(), j[:, 0].tolist(), x.flatten().argsort()[:5].tolist())
print(x.topk(2, dim=0).values.tolist(), x.kthvalue(2, dim=0).indices.tolist())
print(torch.unique(torch.tensor([3, 1, 2, 3, 1]), return_counts=True))
print(x.median(dim=1).values.tolist(), x.msort()[0].tolist())
print(torch.searchsorted(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([0.5, 2.5, 3.5])).tolist())
print(x.cumsum(0)[-1].tolist(), x.cumprod(1)[:, -1].tolist(), x.std(0).tolist())
print(torch.var_mean(x, 1), torch.quantile(x, 0.3, dim=0).tolist(), x.logsumexp(1).tolist())
print(torch.histc(x, bins=4, min=-2, max=2).tolist(), x.aminmax(), x.nansum().item())
a = torch.randn(4, 4, dtype=torch.float64) + 4 * torch.eye(4, dtype=torch.float64)
b = torch.randn(4, 2, dtype=torch.float64)
sol = torch.linalg.solve(a, b)
print(sol.tolist(), (a @ sol - b).abs().max().item() < 1e-12)
print(torch.linalg.det(a).item(), torch.linalg.inv(a)[0].tolist(), torch.linalg.norm(a).item())
print(torch.linalg.svdvals(a).tolist(), torch.linalg.eigvalsh(a + a.T).tolist())
q, r = torch.linalg.qr(a)
print((q @ r - a).abs().max().item() < 1e-12, r.diagonal().abs().tolist())
print(torch.linalg.cholesky(a @ a.T).diagonal().tolist(), torch.linalg.slogdet(a))
print(torch.linalg.matrix_exp(a / 10)[0].tolist(), torch.linalg.lstsq(a, b).solution[0].tolist())
print(torch.kron(torch.eye(2), torch.ones(2, 2)).tolist(), torch.trace(a).item())
sig = torch.randn(8)
f = torch.fft.rfft(sig)
print(f.abs().tolist(), torch.fft.irfft(f, n=8).tolist(), torch.fft.fft2(x).real.sum().item())
print(torch.fft.fftfreq(5).tolist(), torch.fft.fftshift(torch.arange(6)).tolist())
w = torch.randn(5, requires_grad=True)
loss = (x @ w).sort().values[:3].sum() + torch.fft.rfft(w).abs().sum()
loss = loss + torch.linalg.norm(torch.outer(w, w)) + torch.cumsum(w, 0).prod()
loss.backward()
print(loss.item(), w.grad.tolist())
"""

# (the autograd version of the polynomial fit is tests/compat/polynomial_fit.py)
PROGRAMS = {"polynomial_manual": POLYNOMIAL_MANUAL,
            "legendre": LEGENDRE, "mlp": MLP, "classifier": CLASSIFIER, "tensor_api": TENSOR_API,
            "ops_breadth": OPS_BREADTH}

_NUMBER = re.compile(r"-?\d+\.?\d*(?:e[-+]?\d+)?")


def _run(source: str, lib) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(textwrap.dedent(source), "<program>", "exec"), {"torch": lib})
    return out.getvalue()


def _compare(want: str, got: str, rtol: float, atol: float) -> None:
    assert _NUMBER.sub("#", got) == _NUMBER.sub("#", want).replace("torch.", "ember."), \
        f"\ntorch:\n{want}\nember:\n{got}"
    for w, g in zip(_NUMBER.findall(want), _NUMBER.findall(got)):
        assert abs(float(g) - float(w)) <= atol + rtol * abs(float(w)), \
            f"{g} != {w}\ntorch:\n{want}\nember:\n{got}"


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_program_prints_what_pytorch_prints(name):
    torch_state, ember_state = torch.get_rng_state(), ember.get_rng_state()
    try:
        want = _run(PROGRAMS[name], torch)
        got = _run(PROGRAMS[name], ember)
    finally:
        torch.set_rng_state(torch_state)
        ember.set_rng_state(ember_state)
    _compare(want, got, rtol=2e-4, atol=1e-5)
