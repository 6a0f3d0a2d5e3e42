"""Numerical gradient checks: finite differences against autograd's Jacobians."""

from __future__ import annotations

import numpy as np

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck`` when analytical and numerical gradients differ."""


def _as_tuple(x) -> tuple:
    return x if isinstance(x, tuple) else tuple(x) if isinstance(x, list) else (x,)


def _outputs(func, inputs):
    from .._tensor import Tensor
    out = _as_tuple(func(*inputs))
    return [o for o in out if isinstance(o, Tensor) and (o.is_floating_point() or
                                                          o.is_complex())]


def _numerical(func, inputs, diff_idx, outputs, eps):
    """J[i][o]: (numel(input_i) [x2 if complex], numel(output_o)) central differences."""
    jac = []
    for i in diff_idx:
        x = inputs[i]._data
        parts = [1.0] + ([1j] if x.dtype.kind == "c" else [])
        rows = [[] for _ in outputs]
        for unit in parts:
            # row-major element order whatever the strides (inputs may be non-contiguous)
            for j in np.ndindex(x.shape):
                orig = x[j].copy()
                x[j] = orig + eps * unit
                plus = [o.detach()._host().reshape(-1).copy() for o in _outputs(func, inputs)]
                x[j] = orig - eps * unit
                minus = [o.detach()._host().reshape(-1).copy()
                         for o in _outputs(func, inputs)]
                x[j] = orig
                for k, (p, m) in enumerate(zip(plus, minus)):
                    rows[k].append((p - m) / (2 * eps))
        jac.append([np.array(r).reshape(len(r), -1) if r else
                    np.zeros((0, outputs[k].numel())) for k, r in enumerate(rows)])
    return jac


def _analytical(inputs, diff_idx, outputs):
    """The same Jacobians by backpropagating each output unit vector (real and imaginary)."""
    from .. import _creation
    from . import grad as autograd_grad
    jac = [[None] * len(outputs) for _ in diff_idx]
    for k, o in enumerate(outputs):
        n = o.numel()
        units = [1.0] + ([1j] if o.is_complex() else [])
        cols = {pos: [] for pos in range(len(diff_idx))}
        for unit in units:
            for m in range(n):
                g = np.zeros(n, dtype=o._host().dtype)
                g[m] = unit
                go = _creation.tensor(g.reshape(tuple(o.shape)), dtype=o.dtype)
                gs = autograd_grad(o, [inputs[i] for i in diff_idx], go, retain_graph=True,
                                   allow_unused=True)
                for pos, (i, gi) in enumerate(zip(diff_idx, gs)):
                    x = inputs[i]
                    v = np.zeros(x.numel(), dtype=x._host().dtype) if gi is None else \
                        gi.detach()._host().reshape(-1)
                    cols[pos].append(v)
        for pos, i in enumerate(diff_idx):
            # (units*n, numel_i): grad of <unit_m, out>; an empty output has an empty Jacobian
            jac[pos][k] = np.array(cols[pos]).reshape(len(cols[pos]), inputs[i].numel())
    return jac


def _compare(num, ana, x_complex, o_complex):
    """Both Jacobians as real matrices d(output parts)/d(input parts), rows = input parts.

    ``num`` has a row per input perturbation (real [, imaginary]) and a complex column per
    output element; ``ana`` has a row per output unit (1 [, 1j]) and a column per input
    element holding the gradient of ``<unit, out>``, whose real and imaginary parts are the
    derivatives along the input's real and imaginary parts (PyTorch's convention)."""
    num = np.concatenate([num.real, num.imag], axis=1) if o_complex else num.real
    ana = np.concatenate([ana.real, ana.imag], axis=1) if x_complex else ana.real
    return num, ana.T


def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, nondet_tol: float = 0.0,
              check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
              check_batched_grad: bool = False, check_batched_forward_grad: bool = False,
              check_forward_ad: bool = False, check_backward_ad: bool = True,
              fast_mode: bool = False, masked=None) -> bool:
    """Check autograd's gradients of ``func`` at ``inputs`` against central finite differences
    (use float64 inputs with ``requires_grad=True``); returns True, or raises GradcheckError
    (returns False with ``raise_exception=False``)::

        x = ember.randn(3, dtype=ember.float64, requires_grad=True)
        ember.autograd.gradcheck(lambda t: (t * t).exp(), (x,))  # True
    """
    from .._tensor import Tensor
    inputs = _as_tuple(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not diff_idx:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but "
                         "none of them have requires_grad=True.")
    outputs = _outputs(func, inputs)
    num = _numerical(func, inputs, diff_idx, outputs, eps)
    keep = [k for k, o in enumerate(outputs) if o.requires_grad]
    if not keep:
        # nothing to differentiate: the function must not depend on its inputs
        if any(np.any(j != 0) for row in num for j in row):
            return _fail("Numerical gradient for function expected to be zero",
                         raise_exception)
        return True
    ana = _analytical(inputs, diff_idx, [outputs[k] for k in keep])
    for pos, i in enumerate(diff_idx):
        x = inputs[i]
        for a, k in enumerate(keep):
            o = outputs[k]
            n_mat, a_mat = _compare(num[pos][k], ana[pos][a], x.is_complex(), o.is_complex())
            if n_mat.shape != a_mat.shape or not np.allclose(a_mat, n_mat, rtol=rtol, atol=atol):
                return _fail(f"Jacobian mismatch for output {a} with respect to input {i},\n"
                             f"numerical:{n_mat}\nanalytical:{a_mat}\n", raise_exception)
    return True


def _fail(msg: str, raise_exception: bool) -> bool:
    if raise_exception:
        raise GradcheckError(msg)
    return False


def gradgradcheck(func, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, gen_non_contig_grad_outputs: bool = False,
                  raise_exception: bool = True, nondet_tol: float = 0.0,
                  check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
                  check_batched_grad: bool = False, check_fwd_over_rev: bool = False,
                  check_rev_over_rev: bool = True, fast_mode: bool = False,
                  masked=None) -> bool:
    """Check second derivatives: gradcheck of the function computing vector-Jacobian products
    (with random ``grad_outputs`` that are themselves differentiated)."""
    from .. import _creation
    from .._tensor import Tensor
    from . import grad as autograd_grad
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        outs = _outputs(func, inputs)
        grad_outputs = tuple(
            _creation.tensor(rng.standard_normal(tuple(o.shape)) + (
                1j * rng.standard_normal(tuple(o.shape)) if o.is_complex() else 0),
                dtype=o.dtype, requires_grad=True) for o in outs)
    grad_outputs = _as_tuple(grad_outputs)
    n_in = len(inputs)

    def vjp_fn(*args):
        ins, gos = args[:n_in], args[n_in:]
        outs = _outputs(func, ins)
        # outputs that do not require grad (an LU's permutation) have no VJP to check
        pairs = [(o, g) for o, g in zip(outs, gos) if o.requires_grad]
        d = [x for x in ins if isinstance(x, Tensor) and x.requires_grad]
        gs = autograd_grad([o for o, _ in pairs], d, [g for _, g in pairs], create_graph=True,
                           allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(vjp_fn, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
