"""The backward engine: backward/grad options, accumulation, higher order, graph freeing and
error cases, each checked against torch."""

import numpy as np
import pytest

from .compare import raises_same, same

pytestmark = pytest.mark.filterwarnings("ignore:Using backward.. with create_graph=True")

A = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
B = np.array([0.3, -0.2, 1.1])


def leaf(m, v=A, dtype=None):
    return m.tensor(v, dtype=dtype or m.float64, requires_grad=True)


def test_diamond_dependency_counting():
    def f(m):
        x = leaf(m)
        y = x.exp()
        a, b = y * 2, y.sin()
        c = a * b + y
        d = c.sum() + (a * 3).mean()
        d.backward()
        return x.grad
    same(f)


def test_accumulates_over_several_backwards():
    def f(m):
        x = leaf(m)
        (x * x).sum().backward()
        g1 = x.grad.clone()
        (x.sin()).sum().backward()
        g2 = x.grad.clone()
        x.grad = None
        x.sum().backward()
        return g1, g2, x.grad
    same(f)


def test_accumulated_grad_is_not_the_incoming_buffer():
    def f(m):
        x = leaf(m)
        y = x * 1
        y.sum().backward()
        g = x.grad
        (x * 2).sum().backward()
        return g is x.grad, g  # torch accumulates in place into the existing grad
    same(f)


def test_backward_gradient_argument():
    def f(m):
        x = leaf(m)
        y = x * x
        y.backward(gradient=m.tensor(A * 3, dtype=m.float64))
        return x.grad
    same(f)


def test_backward_gradient_list_form():
    def f(m):
        x = leaf(m)
        y, z = x * 2, x.exp()
        m.autograd.backward([y, z], [m.ones_like(y), m.full_like(z, 0.5)])
        return x.grad
    same(f)


def test_retain_graph_and_second_backward_error():
    def twice(retain):
        def f(m):
            x = leaf(m)
            y = x.exp().sum()
            y.backward(retain_graph=retain)
            y.backward()
            return x.grad
        return f
    same(twice(True))
    raises_same(twice(False))


def test_second_backward_fine_when_nothing_saved():
    def f(m):
        x = leaf(m)
        y = (x + 1).sum() * 2  # add, sum and mul-by-scalar save nothing
        y.backward()
        y.backward()
        return x.grad
    same(f)


def test_second_backward_after_autograd_grad():
    def f(m):
        x = leaf(m)
        y = (x * x).sum()
        m.autograd.grad(y, x)
        return m.autograd.grad(y, x)
    raises_same(f)


def test_create_graph_second_and_third_derivative():
    def f(m):
        x = leaf(m, B)
        y = (x.sin() * x.exp() + x ** 3).sum()
        (g,) = m.autograd.grad(y, x, create_graph=True)
        (gg,) = m.autograd.grad(g.sum(), x, create_graph=True)
        (ggg,) = m.autograd.grad(gg.sum(), x)
        return g, gg, ggg, g.requires_grad, gg.requires_grad, ggg.requires_grad
    same(f)


def test_create_graph_backward_grad_has_grad_fn():
    def f(m):
        x = leaf(m, B)
        y = (x.tanh() * x).sum()
        y.backward(create_graph=True)
        g = x.grad
        out = (g.requires_grad, g.grad_fn is not None)
        x.grad = None
        g.sum().backward()
        return out, x.grad
    same(f)


def test_double_backward_of_composite_matrix_expression():
    def f(m):
        w = leaf(m)
        v = leaf(m, B)
        y = ((w @ v).tanh() ** 2).sum() + (w.exp() * w).sum()
        gw, gv = m.autograd.grad(y, (w, v), create_graph=True)
        hv = m.autograd.grad((gw * gw).sum() + gv.sum(), (w, v))
        return gw, gv, hv
    same(f, rtol=1e-10)


def test_backward_inputs_leaf():
    def f(m):
        x, w = leaf(m), leaf(m, B)
        y = (x * w).sum()
        y.backward(inputs=[w])
        return x.grad, w.grad
    same(f)


def test_backward_inputs_non_leaf_accumulates_into_grad():
    def f(m):
        x = leaf(m)
        h = x * 2
        y = (h * h).sum()
        y.backward(inputs=[h], retain_graph=True)
        y.backward(inputs=h)
        return x.grad, h.grad
    same(f)


def test_backward_inputs_empty_error():
    def f(m):
        x = leaf(m)
        x.sum().backward(inputs=[])
    raises_same(f)


def test_grad_outputs_and_multiple_inputs_outputs():
    def f(m):
        x, w = leaf(m), leaf(m, B)
        y1, y2 = x * w, (x ** 2).sum(1)
        go1, go2 = m.tensor(A, dtype=m.float64), m.tensor([1.0, -2.0], dtype=m.float64)
        gs = m.autograd.grad([y1, y2], [x, w], grad_outputs=[go1, go2])
        return gs, x.grad, w.grad
    same(f)


def test_grad_single_tensor_input_returns_tuple():
    def f(m):
        x = leaf(m)
        g = m.autograd.grad(x.sum(), x)
        return type(g).__name__, len(g), g[0]
    same(f)


def test_grad_unused_input():
    def unused(**kw):
        def f(m):
            x, z = leaf(m), leaf(m, B)
            return m.autograd.grad((x * 2).sum(), [x, z], **kw)
        return f
    raises_same(unused())
    same(unused(allow_unused=True))
    same(unused(materialize_grads=True))
    raises_same(unused(allow_unused=False, materialize_grads=True))


def test_grad_input_not_requiring_grad():
    def f(m):
        x = leaf(m)
        z = m.tensor(B)
        return m.autograd.grad((x * 2).sum(), [x, z])
    raises_same(f)


def test_grad_wrt_intermediate():
    def f(m):
        x = leaf(m)
        h = x.exp()
        y = (h * h).sum()
        return m.autograd.grad(y, h), x.grad
    same(f)


def test_grad_does_not_touch_leaf_grad():
    def f(m):
        x = leaf(m)
        w = leaf(m, B)
        m.autograd.grad((x * w).sum(), x)
        return x.grad, w.grad
    same(f)


def test_non_scalar_implicit_grad_error():
    raises_same(lambda m: (leaf(m) * 2).backward())
    raises_same(lambda m: m.autograd.grad(leaf(m) * 2, leaf(m)))


def test_output_not_requiring_grad_error():
    raises_same(lambda m: m.tensor(A).sum().backward())
    raises_same(lambda m: m.autograd.grad(m.tensor(A).sum(), leaf(m)))


def test_input_not_in_graph_error():
    def f(m):
        x, z = leaf(m), leaf(m, B)
        return m.autograd.grad((x * 3).sum(), z)
    raises_same(f)


def test_grad_shape_mismatch_error():
    def f(m):
        x = leaf(m)
        (x * 2).backward(m.ones(3, dtype=m.float64))
    raises_same(f)


def test_integer_output_implicit_grad_error():
    def f(m):
        x = leaf(m)
        y = x.sum().long()
        return y.requires_grad
    same(f)


def test_broadcast_and_dtype_reduction():
    def f(m):
        x = leaf(m, B, m.float32)
        w = leaf(m, A)
        y = (x * w).sum()  # float32 * float64 -> float64
        y.backward()
        return x.grad, w.grad
    same(f, rtol=1e-6)


def test_leaf_used_twice_and_unused_branch():
    def f(m):
        x = leaf(m)
        z = leaf(m, B)
        _ = z * 2  # a branch not reaching the output
        y = (x * x * x).sum()
        y.backward()
        return x.grad, z.grad
    same(f)


def test_backward_through_views_and_indexing():
    def f(m):
        x = leaf(m)
        y = x.t()[1:, ::2] * 3 + x[0].unsqueeze(1)[:2]
        z = y.reshape(-1)[[0, 2, 2]]
        z.sum().backward()
        return x.grad
    same(f)


def test_requires_grad_propagation_and_is_leaf():
    def f(m):
        x = leaf(m)
        c = m.tensor(B)
        y = x * c
        d = y.detach()
        return (y.requires_grad, y.is_leaf, c.is_leaf, d.is_leaf, d.requires_grad,
                (c * 2).requires_grad, x.is_leaf)
    same(f)


def test_requires_grad_on_non_leaf_error():
    def f(m):
        y = leaf(m) * 2
        y.requires_grad_(False)
    raises_same(f)


def test_requires_grad_on_integer_error():
    raises_same(lambda m: m.tensor([1, 2]).requires_grad_())


def test_grad_setter_validation():
    def f(m):
        x = leaf(m)
        x.grad = m.ones(3, dtype=m.float64)
    raises_same(f)

    def g(m):
        x = leaf(m)
        x.grad = m.ones(2, 3, dtype=m.float32)
    raises_same(g)


def test_grad_of_non_leaf_is_none_without_retain():
    def f(m):
        x = leaf(m)
        y = x * 2
        y.sum().backward()
        return y.grad, x.grad
    with pytest.warns(UserWarning):
        same(f)


def test_complex_backward():
    def f(m):
        z = m.tensor(np.array([1 + 2j, -0.5 + 0.25j]), requires_grad=True)
        y = (z * z.conj()).real.sum() + (z.exp()).abs().sum()
        y.backward()
        return z.grad
    same(f)


def test_real_to_complex_backward_casts():
    def f(m):
        x = leaf(m, B)
        y = (x * m.tensor(np.array([1j, 2 + 1j, -1j]))).abs().sum()
        y.backward()
        return x.grad
    same(f)


def test_retain_graph_defaults_to_create_graph():
    def f(m):
        x = leaf(m, B)
        y = (x.exp() * x).sum()
        y.backward(create_graph=True)
        y.backward()
        return x.grad
    same(f)


def test_grad_fn_next_functions_structure():
    def f(m):
        x = leaf(m)
        c = m.tensor(B)
        y = x * c + x.exp()
        fn = y.grad_fn
        names = []
        for nxt, nr in fn.next_functions:
            names.append((nxt.name() if nxt is not None else None, nr,
                          [(n.name() if n is not None else None, k)
                           for n, k in (nxt.next_functions if nxt is not None else ())]))
        acc = fn.next_functions[0][0].next_functions[0][0]
        return fn.name(), names, acc.variable is x
    same(f)


def test_leaf_grads_never_alias_each_other_or_user_tensors():
    def f(m):
        a, b = leaf(m), leaf(m)
        (a + b).sum().backward()  # one incoming gradient feeds both leaves
        a.grad.mul_(10)
        v = m.tensor(A, dtype=m.float64)
        x = leaf(m)
        (x + 1).backward(v)
        x.backward(v)  # accumulates in place into x.grad, never into v
        s = leaf(m, B)
        s.expand(2, 3).sum().backward()  # a broadcast gradient
        s.sum().backward()
        return a.grad, b.grad, v, x.grad, s.grad
    same(f)


def test_grad_layout_follows_the_leaf():
    def f(m):
        x = m.tensor(A.T.copy(), dtype=m.float64).t().detach().requires_grad_()
        (x * 2).sum().backward()
        return x.is_contiguous(), x.grad.stride(), x.grad
    same(f)


def test_backward_inputs_unused_and_not_requiring_grad():
    def f(m):
        x, z = leaf(m), leaf(m, B)
        (x * 2).sum().backward(inputs=[z])
        return x.grad, z.grad
    same(f)
    raises_same(lambda m: (leaf(m) * 2).sum().backward(inputs=[m.tensor(B)]))


def test_grad_inputs_forms_and_errors():
    def f(m):
        x, w = leaf(m), leaf(m, B)
        y = (x * w).sum()
        return m.autograd.grad(y, {"w": w, "x": x}, retain_graph=True)
    same(f)
    raises_same(lambda m: m.autograd.grad(leaf(m).sum(), []))


def test_gradient_argument_type_and_count_errors():
    raises_same(lambda m: (leaf(m) * 2).sum().backward(2.0))
    raises_same(lambda m: m.autograd.backward([leaf(m).sum(), leaf(m).sum()],
                                              [m.tensor(1.0, dtype=m.float64)]))


def test_root_gradient_is_cast_to_output_dtype():
    def f(m):
        x = leaf(m, B, m.float32)
        (x * 2).backward(m.ones(3, dtype=m.float64))
        return x.grad
    same(f)


def test_is_grads_batched():
    def f(m):
        x = leaf(m, B)
        y = x.exp() * 2
        eye = m.eye(3, dtype=m.float64)
        return m.autograd.grad(y, x, eye, is_grads_batched=True)
    same(f)


def test_materialize_grads_with_create_graph():
    def f(m):
        x, z = leaf(m), leaf(m, B)
        gx, gz = m.autograd.grad((x * x).sum(), [x, z], create_graph=True,
                                 materialize_grads=True)
        return gx, gz, gx.requires_grad, gz.requires_grad
    same(f)


def test_view_made_in_no_grad_of_a_leaf():
    # torch's quirk: the view reports requires_grad, yet no gradient reaches the base
    def f(m):
        x = leaf(m)
        with m.no_grad():
            v = x[0]
        y = (v * 2).sum()
        y.backward()
        return v.requires_grad, v.is_leaf, v.grad_fn, y.requires_grad, x.grad
    same(f)


def test_calling_grad_fn_directly():
    def f(m):
        x = leaf(m)
        y = x * x
        with m.no_grad():
            g = y.grad_fn(m.ones(2, 3, dtype=m.float64))
        return g
    same(f)


def test_graph_kept_alive_by_outputs_only():
    def f(m):
        x = leaf(m)
        y = x.sin().exp()
        fn = y.grad_fn
        inner = fn.next_functions[0][0]
        y.sum().backward(retain_graph=True)
        y.sum().backward()
        return x.grad, inner.name(), fn.name()
    same(f)


def test_saved_output_does_not_keep_its_tensor_alive():
    import weakref

    import ember
    x = ember.tensor(B, requires_grad=True)
    y = x.exp()  # exp saves its output
    z = (y + 1).sum()  # add and sum save nothing
    ref = weakref.ref(y)
    del y
    assert ref() is None  # freed by reference counting: no cycle through the graph
    z.backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp(B))
