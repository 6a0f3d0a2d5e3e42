"""Custom autograd Functions, checked with gradcheck and gradgradcheck, then trained."""

import torch
from torch.autograd import Function, gradcheck, gradgradcheck


class LegendrePolynomial3(Function):
    """P3(x) = (5x^3 - 3x) / 2, differentiable twice because backward uses tensor ops."""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


class ScaledSoftplus(Function):
    """softplus(beta * x) / beta with a non-tensor argument; saves its output."""

    @staticmethod
    def forward(ctx, x, beta):
        out = torch.log1p(torch.exp(beta * x)) / beta
        ctx.save_for_backward(x)
        ctx.beta = beta
        return out

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        grad_x = grad_out * torch.sigmoid(ctx.beta * x) if ctx.needs_input_grad[0] else None
        return grad_x, None


class SortWithIndices(Function):
    """Two outputs, one of them non-differentiable."""

    @staticmethod
    def forward(ctx, x):
        values, indices = torch.sort(x)
        ctx.mark_non_differentiable(indices)
        ctx.save_for_backward(indices)
        return values, indices

    @staticmethod
    def backward(ctx, grad_values, grad_indices):
        (indices,) = ctx.saved_tensors
        grad = torch.zeros_like(grad_values)
        grad.scatter_(0, indices, grad_values)
        return grad


torch.manual_seed(2)
inp = torch.randn(6, dtype=torch.double, requires_grad=True)
print("P3 gradcheck", gradcheck(LegendrePolynomial3.apply, (inp,), eps=1e-6, atol=1e-4))
print("P3 gradgradcheck", gradgradcheck(LegendrePolynomial3.apply, (inp,)))
print("softplus gradcheck", gradcheck(lambda t: ScaledSoftplus.apply(t, 2.0), (inp,)))
print("sort gradcheck", gradcheck(lambda t: SortWithIndices.apply(t)[0], (inp,)))

values, indices = SortWithIndices.apply(inp)
print(values.requires_grad, indices.requires_grad, indices.tolist())
(values * torch.arange(6, dtype=torch.double)).sum().backward()
print("grad", inp.grad.tolist())

x = torch.linspace(-2.0, 2.0, 200)
target = 1.3 * torch.nn.functional.softplus(x, beta=2.5) + 0.1 * x + 0.05 * torch.cos(3 * x)
w = torch.tensor(0.5, requires_grad=True)
shift = torch.tensor(0.0, requires_grad=True)
for step in range(300):
    pred = ScaledSoftplus.apply(w * x, 3.0) + shift * x
    loss = (pred - target).pow(2).mean()
    loss.backward()
    with torch.no_grad():
        w -= 0.2 * w.grad
        shift -= 0.2 * shift.grad
        w.grad = None
        shift.grad = None
    if step % 100 == 99:
        print(step, loss.item(), w.item(), shift.item())
print(pred.grad_fn is not None, pred.requires_grad, loss.dtype)
