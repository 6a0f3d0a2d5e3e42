"""Saved-tensor hooks (saved_tensors_hooks, save_on_cpu, disable_saved_tensors_hooks) and
graph-node introspection, against torch."""

import numpy as np
import pytest

import ember

from .compare import raises_same, same

A = [[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]


def leaf(m):
    return m.tensor(A, dtype=m.float64, requires_grad=True)


def graph_hooks(m):
    return m.autograd.graph


def test_hooks_see_saved_tensors_and_gradients_are_unchanged():
    def f(m):
        x = leaf(m)
        packed, unpacked = [], []

        def pack(t):
            packed.append(t.detach().clone())
            return t.detach().numpy().copy()  # keep a NumPy copy only

        def unpack(a):
            unpacked.append(1)
            return m.from_numpy(a)

        with graph_hooks(m).saved_tensors_hooks(pack, unpack):
            y = x.exp().sin()
        assert packed and not unpacked
        (g,) = m.autograd.grad(y.sum(), x, create_graph=True)
        (gg,) = m.autograd.grad(g.sum(), x)  # double backward through unpacked tensors
        assert len(unpacked) >= len(packed)
        return y, g, gg
    same(f)


def test_hooks_apply_to_custom_function_save_for_backward():
    def f(m):
        class Square(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return 2 * g * x

        seen = []
        x = leaf(m)
        with graph_hooks(m).saved_tensors_hooks(lambda t: seen.append(tuple(t.shape)) or t * 1,
                                                lambda t: t * 10):
            y = Square.apply(x)
        y.sum().backward()
        return seen, x.grad  # the unpacked tensor is 10x: so is the gradient
    same(f)


def test_nesting_innermost_wins_and_exit_restores():
    def f(m):
        log = []
        x = leaf(m)
        h = graph_hooks(m).saved_tensors_hooks
        with h(lambda t: log.append("outer") or t, lambda t: t):
            a = x.exp()
            with h(lambda t: log.append("inner") or t, lambda t: t):
                b = a.sin()
            c = b.cos()
        d = c.tanh()  # outside: no hook
        d.sum().backward()
        return log, x.grad
    same(f)


def test_leaf_gradient_reaches_the_original_leaf():
    def f(m):
        x, w = leaf(m), m.tensor([1.0, 2.0, 3.0], dtype=m.float64, requires_grad=True)
        with graph_hooks(m).saved_tensors_hooks(lambda t: t.detach().clone(), lambda t: t):
            y = (x * w).sum()
        y.backward()
        return x.grad, w.grad
    same(f)


def test_save_on_cpu():
    def f(m):
        x = leaf(m)
        with graph_hooks(m).save_on_cpu():
            y = (x * x).exp()
        with graph_hooks(m).save_on_cpu(pin_memory=True):
            z = y.log1p()
        z.sum().backward()
        return z, x.grad
    same(f)


def test_hook_errors():
    def bad_unpack(m):
        x = leaf(m)
        with graph_hooks(m).saved_tensors_hooks(lambda t: t, lambda p: 5):
            y = x.exp()
        y.sum().backward()
    raises_same(bad_unpack)

    def modifies_input(m):
        x = leaf(m)
        with graph_hooks(m).saved_tensors_hooks(lambda t: t.add_(1), lambda p: p):
            (x * 1).exp()
    raises_same(modifies_input)

    def disabled(m):
        with graph_hooks(m).disable_saved_tensors_hooks("no hooks here"):
            with graph_hooks(m).saved_tensors_hooks(lambda t: t, lambda p: p):
                pass
    raises_same(disabled)

    def disabled_while_active(m):
        x = leaf(m)
        with graph_hooks(m).saved_tensors_hooks(lambda t: t, lambda p: p):
            with graph_hooks(m).disable_saved_tensors_hooks("not now"):
                x.exp()
    raises_same(disabled_while_active)

    def freed(m):
        x = leaf(m)
        with graph_hooks(m).saved_tensors_hooks(lambda t: t, lambda p: p):
            y = x.exp()
        y.sum().backward()
        y.sum().backward()
    raises_same(freed)


def test_disable_saved_tensors_hooks_as_decorator_restores():
    @ember.autograd.graph.disable_saved_tensors_hooks("off")
    def inside():
        with ember.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            pass
    with pytest.raises(RuntimeError, match="off"):
        inside()
    with ember.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
        pass


def test_no_version_check_through_hooks():
    # what the hooks keep is theirs: an in-place change of the original goes unnoticed
    def f(m):
        x = leaf(m)
        a = x * 1
        with graph_hooks(m).saved_tensors_hooks(lambda t: t.detach().clone(), lambda t: t):
            y = a.sin()
        with m.no_grad():
            a.add_(1)
        y.sum().backward()
        return x.grad
    same(f)


def test_node_introspection():
    def f(m):
        x = leaf(m)
        y = x.exp()
        z = (y * x).sum(0)
        fn = z.grad_fn
        return (fn.name(), [(None if n is None else n.name(), i) for n, i in fn.next_functions],
                y.grad_fn._saved_result, (y * x).grad_fn._saved_self,
                (x * x).grad_fn._saved_self is x)
    same(f)
    assert leaf(ember).sum(1).grad_fn._saved_dim in (1, (1,))  # an op parameter

    def freed(m):
        y = leaf(m).exp()
        y.sum().backward()
        return y.grad_fn._saved_result
    raises_same(freed)

    def raw(m):
        x = leaf(m)
        y = x.exp()
        s = y.grad_fn._raw_saved_result
        s.register_hooks(lambda t: t * 1, lambda t: t * 2)
        y.sum().backward()
        out = x.grad
        s.register_hooks(lambda t: t, lambda t: t)
        return out
    raises_same(raw)


def test_node_hooks():
    def f(m):
        x = leaf(m)
        y = x.exp()
        z = y * 2
        log = []
        z.grad_fn.register_prehook(lambda go: log.append(("pre", go[0].sum().item())))
        y.grad_fn.register_hook(lambda gi, go: (gi[0] * 3,))
        z.sum().backward()
        return log, x.grad
    same(f)


def test_raw_saved_tensor_hooks_round_trip():
    x = ember.tensor(np.arange(3.0), requires_grad=True)
    y = x.exp()
    seen = []
    y.grad_fn._raw_saved_result.register_hooks(lambda t: seen.append("pack") or t.clone(),
                                               lambda t: seen.append("unpack") or t)
    y.sum().backward()
    assert seen == ["pack", "unpack"]
    np.testing.assert_allclose(x.grad.numpy(), np.exp(np.arange(3.0)))
