"""ember.fft behaviour beyond the op table: graphs as PyTorch builds them, gradient
conventions through real-valued losses, round trips, and the helpers."""

import numpy as np
import pytest

from .autograd.compare import raises_same, same

RNG = np.random.default_rng(0)
REAL = RNG.standard_normal((3, 6))
HALF = RNG.standard_normal((3, 4)) + 1j * RNG.standard_normal((3, 4))


@pytest.mark.parametrize("name,data", [("fft", REAL), ("fft", HALF), ("ifft", REAL),
                                       ("rfft", REAL), ("irfft", HALF), ("hfft", HALF),
                                       ("ihfft", REAL), ("fftn", REAL), ("rfftn", REAL),
                                       ("irfftn", HALF), ("hfftn", HALF)])
def test_grad_fn_names_follow_pytorch(name, data):
    def f(m):
        x = m.tensor(data, requires_grad=True)
        fn = getattr(m.fft, name)(x).grad_fn
        return fn.name(), [None if n is None else n.name() for n, _ in fn.next_functions]
    same(f)


@pytest.mark.parametrize("loss", ["abs", "real", "angle_free"])
def test_gradients_through_real_losses(loss):
    """rfft/irfft/hfft chained with nonlinear real losses: PyTorch's gradient conventions
    (the half-spectrum doubling of c2r, the zero-filled r2c adjoint) end to end."""
    def f(m):
        x = m.tensor(REAL, requires_grad=True)
        z = m.tensor(HALF, requires_grad=True)
        spec = m.fft.rfft(x, norm="ortho")
        if loss == "abs":
            a = (spec.real ** 2 + spec.imag ** 2).sqrt().sum()
        elif loss == "real":
            a = (spec.real * spec.imag).sum()
        else:
            a = (m.fft.irfft(spec * 2, n=6) ** 2).sum()
        b = (m.fft.irfft(z, n=7) ** 3).sum() + m.fft.hfft(z).exp().sum()
        (a + b).backward()
        return x.grad, z.grad
    same(f)


@pytest.mark.parametrize("n", [5, 6])
def test_round_trips(n):
    xs = RNG.standard_normal((2, n))
    cs = RNG.standard_normal((2, n)) + 1j * RNG.standard_normal((2, n))

    def f(m):
        x, c = m.tensor(xs), m.tensor(cs)
        return (m.fft.irfft(m.fft.rfft(x), n=n), m.fft.ifft(m.fft.fft(c)),
                m.fft.irfftn(m.fft.rfftn(x), s=x.shape), m.fft.hfft(m.fft.ihfft(x), n=n),
                m.fft.ifftshift(m.fft.fftshift(x)))
    same(f, atol=1e-12)


def test_dtypes_follow_pytorch():
    def f(m):
        out = []
        for dt in (m.int32, m.bool, m.float32, m.float64, m.complex64):
            x = m.ones(4, dtype=dt)
            out.append([str(getattr(m.fft, n)(x).dtype) for n in ("fft", "irfft", "hfft")])
        m.set_default_dtype(m.float64)
        out.append(str(m.fft.fft(m.ones(4, dtype=m.int64)).dtype))
        out.append(str(m.fft.fftfreq(4).dtype))
        m.set_default_dtype(m.float32)
        return out
    same(f)


def test_frequency_helpers():
    def f(m):
        return (m.fft.fftfreq(8, d=0.25), m.fft.rfftfreq(9, 0.1, dtype=m.float64),
                m.fft.fftshift(m.fft.fftfreq(7)), m.fft.fftfreq(5, requires_grad=True),
                m.fft.fftshift(m.arange(12).reshape(3, 4), dim=(0,)),
                m.fft.ifftshift(m.arange(12).reshape(3, 4), dim=-1))
    same(f)


def test_fftshift_errors():
    raises_same(lambda m: m.fft.fftshift(m.ones(2, 3), dim=()))
    raises_same(lambda m: m.fft.ifftshift(m.tensor(1.0)))


def test_fftshift_is_a_copy_and_differentiable():
    def f(m):
        x = m.tensor(REAL, requires_grad=True)
        y = m.fft.fftshift(x, dim=1)
        (y * m.arange(6.0, dtype=m.float64)).sum().backward()
        row = x.detach()[:1]
        z = m.fft.fftshift(row, dim=0)  # nothing moves, still a new tensor
        return x.grad, z.data_ptr() != row.data_ptr()
    same(f)
