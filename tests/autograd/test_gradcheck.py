"""gradcheck / gradgradcheck: the same verdict as torch's on correct and wrong gradients, real
and complex, contiguous and not."""

import numpy as np
import pytest

from .compare import raises_same, same

RNG = np.random.default_rng(0)
A = RNG.standard_normal((2, 3))
B = RNG.standard_normal(3)
Z = RNG.standard_normal(3) + 1j * RNG.standard_normal(3)


def leaf(m, v=A):
    return m.tensor(v, requires_grad=True)


def gradcheck_error(m):
    if m.__name__ == "torch":
        from torch.autograd.gradcheck import GradcheckError
    else:
        from ember.autograd.gradcheck import GradcheckError
    return GradcheckError


def wrong_exp(m, conj=True, scale=1.0):
    class WrongExp(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * (y.conj() if conj else y) * scale
    return WrongExp.apply


@pytest.mark.parametrize("name", ["poly", "matmul", "two_outputs", "views", "broadcast"])
def test_gradcheck_passes(name):
    fns = {
        "poly": lambda m, x, w: (x ** 3 * w.exp()).sum(1),
        "matmul": lambda m, x, w: (x @ w).tanh(),
        "two_outputs": lambda m, x, w: (x * w, (x.sin() * w).sum()),
        "views": lambda m, x, w: x.t()[1:] * w[1:].unsqueeze(1),
        "broadcast": lambda m, x, w: x / (w * w + 1),
    }

    def f(m):
        x, w = leaf(m), leaf(m, B)
        fn = fns[name]
        return (m.autograd.gradcheck(lambda a, b: fn(m, a, b), (x, w)),
                m.autograd.gradgradcheck(lambda a, b: fn(m, a, b), (x, w)))
    same(f)


def test_gradcheck_non_tensor_and_non_differentiable_inputs():
    def f(m):
        x = leaf(m)
        c = m.tensor(A * 2)
        return m.autograd.gradcheck(lambda a, k, b: (a * k + b).exp(), (x, 3.0, c))
    same(f)


def test_gradcheck_wrong_function_raises():
    def f(m):
        try:
            m.autograd.gradcheck(wrong_exp(m, scale=1.1), (leaf(m),))
        except gradcheck_error(m) as e:
            return str(e).split(",")[0]
        return "passed"
    same(f)


def test_gradcheck_raise_exception_false():
    def f(m):
        fn = wrong_exp(m, scale=1.1)
        return (m.autograd.gradcheck(fn, (leaf(m),), raise_exception=False),
                m.autograd.gradgradcheck(lambda x: fn(x) * x, (leaf(m),),
                                         raise_exception=False))
    same(f)


def test_gradgradcheck_catches_wrong_double_backward():
    def f(m):
        class WrongDouble(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 2

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * 2 * x.detach()  # first order right, second order zero

        x = leaf(m)
        return (m.autograd.gradcheck(WrongDouble.apply, (x,)),
                m.autograd.gradgradcheck(WrongDouble.apply, (x,), raise_exception=False))
    same(f)


@pytest.mark.parametrize("name", ["mul_conj", "mul_conj_real", "exp", "abs", "mixed",
                                  "real_to_complex"])
def test_gradcheck_complex_matches_torch_verdict(name):
    fns = {
        "mul_conj": lambda m, z: z * z.conj(),
        "mul_conj_real": lambda m, z: (z * z.conj()).real,
        "exp": lambda m, z: z.exp(),
        "abs": lambda m, z: (z * 2).abs(),
        "mixed": lambda m, z: (z * z).sum() * z.conj(),
        "real_to_complex": None,
    }

    def f(m):
        if name == "real_to_complex":
            x = leaf(m, B)
            return m.autograd.gradcheck(lambda a: a * m.tensor(Z), (x,))
        z = m.tensor(Z, requires_grad=True)
        return (m.autograd.gradcheck(lambda a: fns[name](m, a), (z,)),
                m.autograd.gradgradcheck(lambda a: fns[name](m, a), (z,)))
    same(f)


@pytest.mark.parametrize("conj", [True, False])
def test_gradcheck_complex_wrong_conjugation(conj):
    def f(m):
        z = m.tensor(Z, requires_grad=True)
        return m.autograd.gradcheck(wrong_exp(m, conj=conj), (z,), raise_exception=False)
    same(f)


def test_gradcheck_non_contiguous_inputs():
    def f(m):
        base = m.tensor(RNG.standard_normal((3, 4)))
        x = base.t()[::2].detach().requires_grad_()  # (2, 3), strides not row-major
        w = m.tensor(RNG.standard_normal((3, 2)))[:, 1].detach().requires_grad_()
        return (x.is_contiguous(), w.is_contiguous(),
                m.autograd.gradcheck(lambda a, b: (a * b).sin(), (x, w)),
                m.autograd.gradgradcheck(lambda a, b: (a * b).sin(), (x, w)))
    same(f)


def test_gradcheck_leaves_inputs_unchanged():
    def f(m):
        x = leaf(m)
        before = x.detach().clone()
        m.autograd.gradcheck(lambda a: a.exp(), (x,))
        return (x - before).abs().max(), x.grad
    same(f)


def test_gradcheck_needs_an_input_requiring_grad():
    raises_same(lambda m: m.autograd.gradcheck(lambda a: a * 2, (m.tensor(A),)))


@pytest.mark.parametrize("name", ["detached", "constant", "integer", "unused_input"])
def test_gradcheck_outputs_without_grad(name):
    fns = {"detached": lambda m, a, b: a.detach() * 2,
           "constant": lambda m, a, b: m.ones(2, dtype=m.float64),
           "integer": lambda m, a, b: (a > 0).long(),
           "unused_input": lambda m, a, b: a * 2}

    def f(m):
        x, w = leaf(m, B[:2]), leaf(m, B[:1])
        fn = fns[name]
        try:
            return m.autograd.gradcheck(lambda a, b: fn(m, a, b), (x, w))
        except gradcheck_error(m) as e:
            return str(e)
    same(f)
