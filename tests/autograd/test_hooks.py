"""Tensor hooks, retain_grad, post-accumulate-grad hooks and Node hooks, against torch."""

import numpy as np
import pytest

from .compare import raises_same, same

A = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])


def leaf(m, v=A):
    return m.tensor(v, dtype=m.float64, requires_grad=True)


def test_leaf_hook_modifies_grad_and_chains_in_order():
    def f(m):
        x = leaf(m)
        seen = []
        x.register_hook(lambda g: seen.append(("a", g.clone())) or g * 2)
        x.register_hook(lambda g: seen.append(("b", g.clone())))  # None keeps the grad
        x.register_hook(lambda g: g + 1)
        (x * x).sum().backward()
        return x.grad, seen
    same(f)


def test_non_leaf_hook_changes_upstream_gradient():
    def f(m):
        x = leaf(m)
        h = x.exp()
        h.register_hook(lambda g: g * 10)
        (h * 3).sum().backward()
        return x.grad
    same(f)


def test_hook_removal_by_handle():
    def f(m):
        x = leaf(m)
        h = x * 2
        handle = h.register_hook(lambda g: g * 100)
        handle2 = x.register_hook(lambda g: g * 7)
        handle.remove()
        handle2.remove()
        handle2.remove()  # twice is fine
        h.sum().backward()
        return x.grad
    same(f)


def test_hook_on_tensor_not_requiring_grad_error():
    raises_same(lambda m: m.tensor(A).register_hook(lambda g: g))


def test_hook_sees_grad_with_autograd_grad():
    def f(m):
        x = leaf(m)
        x.register_hook(lambda g: g * 3)
        h = x * 2
        h.register_hook(lambda g: g + 1)
        return m.autograd.grad((h * h).sum(), x)
    same(f)


def test_hook_on_captured_non_leaf_with_autograd_grad():
    def f(m):
        x = leaf(m)
        h = x * 2
        h.register_hook(lambda g: g * 5)
        return m.autograd.grad((h * h).sum(), h)
    same(f)


def test_hook_changing_shape_error():
    def f(m):
        x = leaf(m)
        h = x * 2
        h.register_hook(lambda g: g.sum())
        h.sum().backward()
    raises_same(f)


def test_hook_runs_once_per_backward_with_summed_grad():
    def f(m):
        x = leaf(m)
        h = x * 2
        calls = []
        h.register_hook(lambda g: calls.append(g.clone()))
        (h * h + h.exp()).sum().backward()
        return calls
    same(f)


def test_retain_grad_accumulates_and_sees_hooked_grad():
    def f(m):
        x = leaf(m)
        h = x.sin()
        h.retain_grad()
        h.register_hook(lambda g: g * 2)  # registered after, still seen by retain_grad
        y = (h * h).sum()
        y.backward(retain_graph=True)
        g1 = h.grad.clone()
        y.backward()
        return h.retains_grad, g1, h.grad, x.grad, x.retains_grad
    same(f)


def test_retain_grad_on_leaf_is_noop_and_not_requiring_grad_error():
    def f(m):
        x = leaf(m)
        x.retain_grad()
        x.sum().backward()
        return x.retains_grad, x.grad
    same(f)
    raises_same(lambda m: m.tensor(A).retain_grad())


def test_retain_grad_with_autograd_grad_and_create_graph():
    def f(m):
        x = leaf(m)
        h = x * 2
        h.retain_grad()
        h2 = h * 3
        h2.retain_grad()
        (g,) = m.autograd.grad((h2 * h2).sum(), x, create_graph=True)
        return g, h.grad, h2.grad, h.grad.requires_grad
    same(f)


def test_retain_grad_follows_inplace():
    def f(m):
        x = leaf(m)
        h = x * 2
        h.retain_grad()
        h.mul_(3)
        (h * h).sum().backward()
        return h.grad, x.grad
    same(f)


def test_post_accumulate_grad_hook():
    def f(m):
        x = leaf(m)
        seen = []

        def hook(t):
            seen.append((t is x, t.grad.clone()))
            with m.no_grad():
                t.grad.mul_(0.5)

        handle = x.register_post_accumulate_grad_hook(hook)
        (x * x).sum().backward()
        (x * 3).sum().backward()
        handle.remove()
        x.sum().backward()
        return seen, x.grad
    same(f)


def test_post_accumulate_grad_hook_errors():
    raises_same(lambda m: (leaf(m) * 2).register_post_accumulate_grad_hook(lambda t: None))
    raises_same(lambda m: m.tensor(A).register_post_accumulate_grad_hook(lambda t: None))


def test_node_hooks_and_prehooks():
    def f(m):
        x = leaf(m)
        w = leaf(m, A * 2)
        y = x * w
        seen = []

        def pre(gout):
            seen.append(("pre", gout))
            return (gout[0] * 2,)

        def post(gin, gout):
            seen.append(("post", gin, gout))
            return (gin[0], gin[1] * 0)

        y.grad_fn.register_prehook(pre)
        y.grad_fn.register_hook(post)
        y.sum().backward()
        return seen, x.grad, w.grad
    same(f)


def test_node_hook_removal():
    def f(m):
        x = leaf(m)
        y = x.exp()
        h1 = y.grad_fn.register_prehook(lambda g: (g[0] * 2,))
        h2 = y.grad_fn.register_hook(lambda gi, go: (gi[0] * 3,))
        h1.remove()
        h2.remove()
        y.sum().backward()
        return x.grad
    same(f)


def test_accumulate_grad_node_hooks():
    def f(m):
        x = leaf(m)
        y = x * 2
        acc = y.grad_fn.next_functions[0][0]
        seen = []
        acc.register_prehook(lambda g: seen.append(("pre", g)))
        acc.register_hook(lambda gi, go: seen.append(("post", gi, go)))
        y.sum().backward()
        return acc.name(), seen, x.grad
    same(f)


def test_hook_execution_order():
    def f(m):
        order = []
        x = leaf(m)
        x.register_hook(lambda g: order.append("x tensor hook"))
        x.register_post_accumulate_grad_hook(lambda t: order.append("x post acc"))
        a = x * 2
        b = a.exp()
        c = a.sin()
        a.register_hook(lambda g: order.append("a tensor hook"))
        a.retain_grad()
        a.grad_fn.register_prehook(lambda g: order.append("a prehook"))
        a.grad_fn.register_hook(lambda gi, go: order.append("a posthook"))
        b.register_hook(lambda g: order.append("b tensor hook"))
        c.register_hook(lambda g: order.append("c tensor hook"))
        b.grad_fn.register_hook(lambda gi, go: order.append("b posthook"))
        c.grad_fn.register_prehook(lambda g: order.append("c prehook"))
        (b + c).sum().backward()
        return order
    same(f)


def test_grad_fn_names():
    def f(m):
        x = leaf(m)
        v = leaf(m, A[0])
        outs = [x * 2, x + 1, x - v, x / 2, x.exp(), x.sum(), x.mean(), x.view(6), x[:, 1:],
                x.unsqueeze(0), x.clone(), x.tanh(), x @ x.t(), -x, x ** 2, x.transpose(0, 1),
                x.permute(1, 0), x.expand(4, 2, 3), x.abs(), x.sqrt(), x[[0, 1]], x.relu(),
                x.sigmoid(), m.cat([x, x]), m.stack([x, x]), x.amax(0), x.max(0)[0],
                x.to(m.float32), x.flatten(), x.diagonal(), x.unbind(0)[0], x.split(1)[0],
                m.where(x > 0, x, v), x.prod(), x.var(), x.std(), x.norm(), x.logsumexp(0),
                x.masked_fill(x > 0, 0.0), x.reshape(3, 2)]
        return [o.grad_fn.name() for o in outs]
    same(f)


@pytest.mark.parametrize("expr", ["x.sum(0)", "x.mean(1)", "x.t()", "x[0]", "x @ v",
                                  "x.t().reshape(6)", "x.unsqueeze(0).squeeze(0)", "x.max()",
                                  "x.narrow(1, 0, 2)", "x.clamp(0, 1)", "1 - x", "1 / x",
                                  "x.sum()", "x[None]", "x[1:3, 0]", "x[...]", "v @ x.t()",
                                  "x.pow(2)", "2 ** x", "x.square()", "x.split([1, 2])[0]",
                                  "x.round(decimals=1)", "x.squeeze()", "x.min()"])
def test_grad_fn_names_of_ops(expr):
    def f(m):
        return eval(expr, {}, {"x": leaf(m), "v": leaf(m, A[0])}).grad_fn.name()
    same(f)


def test_next_functions_of_accumulate_and_none_edges():
    def f(m):
        x = leaf(m)
        c = m.tensor(A)
        y = c * x
        (n0, i0), (n1, i1) = y.grad_fn.next_functions
        return n0, i0, n1.name(), i1, n1.next_functions, n1.variable is x
    same(f)


def test_grad_fn_metadata_and_identity():
    def f(m):
        x = leaf(m)
        y = x * 2
        y.grad_fn.metadata["k"] = 1
        return y.grad_fn.metadata, y.grad_fn is y.grad_fn, x.grad_fn
    same(f)


def test_hook_result_validation():
    def returns(value):
        def f(m):
            x = leaf(m)
            h = x * 2

            def hook(g):
                return value(m, g)

            h.register_hook(hook)
            h.sum().backward()
        return f
    raises_same(returns(lambda m, g: g.float()))
    raises_same(returns(lambda m, g: 3))


def test_node_hook_result_validation():
    def f(m):
        x = leaf(m)
        y = x * 2
        y.grad_fn.register_hook(lambda gi, go: (gi[0], gi[0]))
        y.sum().backward()
    raises_same(f)

    def g(m):
        x = leaf(m)
        y = x.exp()
        y.grad_fn.register_prehook(lambda go: 3)
        y.sum().backward()
    raises_same(g)

    def h(m):
        x, w = leaf(m), leaf(m)
        y = x * w
        y.grad_fn.register_hook(lambda gi, go: (gi[0],))
        y.sum().backward()
    raises_same(h)


def test_node_hook_may_drop_a_gradient():
    def f(m):
        x, w = leaf(m), leaf(m)
        y = x * w
        y.grad_fn.register_hook(lambda gi, go: (None, gi[1]))
        y.sum().backward()
        return x.grad, w.grad
    same(f)


def test_hook_called_with_none_for_unused_output():
    def f(m):
        a = leaf(m)
        u, v = (a * 1).unbind()
        seen = []
        v.register_hook(lambda g: seen.append(g))
        u.sum().backward()
        return seen, a.grad
    same(f)


def test_hook_registered_before_inplace_stays_with_old_value():
    def f(m):
        x = leaf(m)
        h = x * 2
        seen = []
        h.register_hook(lambda g: seen.append(("old", g.clone())))
        h.mul_(3)
        h.register_hook(lambda g: seen.append(("new", g.clone())))
        (h * h).sum().backward()
        return seen, x.grad
    same(f)


def test_hooks_on_function_outputs_and_multi_output_ops():
    def f(m):
        x = leaf(m)
        a, b = (x * 1).split(1)
        b.register_hook(lambda g: g * 3)
        a.register_hook(lambda g: g * 5)
        (a.sum() + (b * b).sum()).backward()
        return x.grad
    same(f)


def test_node_execution_order_with_several_leaves():
    def f(m):
        order = []
        x, w, b = leaf(m), leaf(m), leaf(m)
        for name, t in (("x", x), ("w", w), ("b", b)):
            t.register_post_accumulate_grad_hook(lambda t, name=name: order.append(name))
        y = x * w
        z = (y.exp() + b).tanh() + x.sin()
        s = (z * y).sum()
        stack = [s.grad_fn]
        seen = set()
        while stack:
            fn = stack.pop()
            if fn is None or fn in seen:
                continue
            seen.add(fn)
            name = fn.name()
            fn.register_prehook(lambda g, n=name: order.append(n))
            stack.extend(n for n, _ in fn.next_functions)
        s.backward()
        return order
    same(f)


def test_autograd_grad_runs_leaf_hooks_but_not_post_accumulate_hooks():
    def f(m):
        x = leaf(m)
        seen = []
        x.register_post_accumulate_grad_hook(lambda t: seen.append("post"))
        x.register_hook(lambda g: seen.append("hook"))
        g = m.autograd.grad((x * 2).sum(), x)
        return g, seen, x.grad
    same(f)
