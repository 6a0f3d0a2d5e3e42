"""Custom ``autograd.Function`` with the ctx API, against torch."""

import numpy as np

from .compare import raises_same, same

A = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
B = np.array([0.3, -0.2, 1.1])


def leaf(m, v=A):
    return m.tensor(v, dtype=m.float64, requires_grad=True)


def exp_fn(m):
    class Exp(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y
    return Exp


def test_save_for_backward_and_grad():
    def f(m):
        x = leaf(m)
        y = exp_fn(m).apply(x)
        (y * y).sum().backward()
        return y, x.grad, y.grad_fn.name(), y.requires_grad, y.is_leaf
    same(f)


def test_double_backward_through_function():
    def f(m):
        x = leaf(m, B)
        y = exp_fn(m).apply(x * 2)
        (g,) = m.autograd.grad(y.sum(), x, create_graph=True)
        (gg,) = m.autograd.grad(g.sum(), x)
        return g, gg
    same(f)


def test_needs_input_grad_and_non_tensor_args():
    def f(m):
        seen = []

        class Scale(m.autograd.Function):
            @staticmethod
            def forward(ctx, x, k, w, flag=None):
                ctx.k = k
                ctx.save_for_backward(x, w)
                return x * k * w

            @staticmethod
            def backward(ctx, g):
                seen.append(ctx.needs_input_grad)
                x, w = ctx.saved_tensors
                return g * ctx.k * w, None, g * ctx.k * x, None

        x, w = leaf(m), m.tensor(A * 3)
        Scale.apply(x, 2.0, w, "s").sum().backward()
        gx = x.grad
        x.grad = None
        w.requires_grad_()
        Scale.apply(x, 2.0, w).sum().backward()
        return gx, x.grad, w.grad, seen
    same(f)


def test_saved_tensors_access_after_backward_error():
    def f(m):
        x = leaf(m)
        y = exp_fn(m).apply(x)
        y.sum().backward()
        y.sum().backward()
    raises_same(f)


def test_saved_output_modified_in_place_error():
    def f(m):
        x = leaf(m)
        y = exp_fn(m).apply(x)
        y.mul_(2)
        y.sum().backward()
    raises_same(f)


def test_mark_dirty():
    def f(m):
        class AddOne(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                x.add_(1)
                ctx.mark_dirty(x)
                return x

            @staticmethod
            def backward(ctx, g):
                return g * 2

        a = leaf(m)
        b = a * 1
        v0 = b._version
        c = AddOne.apply(b)
        (c * c).sum().backward()
        return c is b, b.grad_fn.name(), v0, b._version, a.grad, c
    same(f)


def test_mark_dirty_on_leaf_error():
    def f(m):
        class AddOne(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                x.add_(1)
                ctx.mark_dirty(x)
                return x

            @staticmethod
            def backward(ctx, g):
                return g

        AddOne.apply(leaf(m))
    raises_same(f)


def test_inplace_without_mark_dirty_bumps_version():
    def f(m):
        class Sneaky(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                x.mul_(2)
                return x * 1

            @staticmethod
            def backward(ctx, g):
                return g

        b = leaf(m) * 1
        y = Sneaky.apply(b)
        return b._version, y._version
    same(f)


def test_mark_non_differentiable():
    def f(m):
        class SortLike(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                idx = (x > 0).to(m.float64)
                ctx.mark_non_differentiable(idx)
                return x * 2, idx

            @staticmethod
            def backward(ctx, g, gidx):
                return g * 2 + (0 if gidx is None else gidx)

        x = leaf(m)
        y, idx = SortLike.apply(x)
        (y.sum() + idx.sum()).backward()
        return idx.requires_grad, idx.grad_fn, y.requires_grad, x.grad
    same(f)


def test_materialize_grads_default_and_disabled():
    def run(materialize):
        def f(m):
            seen = []

            class Two(m.autograd.Function):
                @staticmethod
                def forward(ctx, x):
                    ctx.set_materialize_grads(materialize)
                    return x * 2, x * 3

                @staticmethod
                def backward(ctx, g1, g2):
                    seen.append((g1 is None, g2 is None))
                    return (g1 * 2 if g1 is not None else 0) + (g2 * 3 if g2 is not None else 0)

            x = leaf(m)
            a, _ = Two.apply(x)
            a.sum().backward()
            return seen, x.grad
        return f
    same(run(True))
    same(run(False))


def test_once_differentiable():
    def fn(m):
        class Cube(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 3

            @staticmethod
            @m.autograd.function.once_differentiable
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * 3 * x * x
        return Cube

    def first(m):
        x = leaf(m)
        (g,) = m.autograd.grad(fn(m).apply(x).sum(), x, create_graph=True)
        return g, g.requires_grad

    def second(m):
        x = leaf(m)
        (g,) = m.autograd.grad(fn(m).apply(x).sum(), x, create_graph=True)
        g.sum().backward()
    same(first)
    raises_same(second)


def test_setup_context_form():
    def f(m):
        class Mul(m.autograd.Function):
            @staticmethod
            def forward(x, w, k=1.0):
                return x * w * k

            @staticmethod
            def setup_context(ctx, inputs, output):
                x, w, k = inputs
                ctx.save_for_backward(x, w)
                ctx.k = k

            @staticmethod
            def backward(ctx, g):
                x, w = ctx.saved_tensors
                return g * w * ctx.k, g * x * ctx.k, None

        x, w = leaf(m), leaf(m, A * 2)
        y = Mul.apply(x, w, 3.0)
        y.sum().backward()
        return y, x.grad, w.grad
    same(f)


def test_returning_input_as_is():
    def f(m):
        class Ident(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x

            @staticmethod
            def backward(ctx, g):
                return g * 5

        x = leaf(m)
        y = Ident.apply(x)
        y.sum().backward()
        return y is x, y.grad_fn.name(), x.grad, y._base is x
    same(f)


def test_returning_input_then_modifying_output_error():
    def f(m):
        class Ident(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x

            @staticmethod
            def backward(ctx, g):
                return g

        y = Ident.apply(leaf(m) * 1)
        y.mul_(2)
    raises_same(f)


def test_returning_view_of_input_then_modifying_error():
    def f(m):
        class First(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x[0]

            @staticmethod
            def backward(ctx, g):
                out = g.new_zeros(2, 3)
                out[0] = g
                return out

        y = First.apply(leaf(m) * 1)
        y.mul_(2)
    raises_same(f)


def test_multiple_outputs_and_none_outputs():
    def f(m):
        class Split(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x[0] * 1, None, x[1] * 2, 7

            @staticmethod
            def backward(ctx, g0, gnone, g1, g7):
                out = m.zeros(2, 3, dtype=m.float64)
                out[0] = g0
                out[1] = g1 * 2
                return out

        x = leaf(m)
        a, n, b, k = Split.apply(x)
        (a.sum() * 3 + b.sum()).backward()
        return n, k, x.grad, a.grad_fn is b.grad_fn, a.output_nr, b.output_nr
    same(f)


def test_wrong_number_of_grads_error():
    def f(m):
        class Bad(m.autograd.Function):
            @staticmethod
            def forward(ctx, x, w):
                return x * w

            @staticmethod
            def backward(ctx, g):
                return g

        Bad.apply(leaf(m), leaf(m)).sum().backward()
    raises_same(f)


def test_extra_none_grads_allowed():
    def f(m):
        class Extra(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g * 2, None, None

        x = leaf(m)
        Extra.apply(x).sum().backward()
        return x.grad
    same(f)


def test_grad_for_non_differentiable_input_is_ignored():
    def f(m):
        class F(m.autograd.Function):
            @staticmethod
            def forward(ctx, x, c):
                return x * c

            @staticmethod
            def backward(ctx, g):
                return g * 2, g * 100

        x = leaf(m)
        F.apply(x, m.tensor(A)).sum().backward()
        return x.grad
    same(f)


def test_wrong_grad_shape_error():
    def f(m):
        class Bad(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g.sum(0)

        Bad.apply(leaf(m)).sum().backward()
    raises_same(f)


def test_no_grad_inputs_give_plain_output():
    def f(m):
        y = exp_fn(m).apply(m.tensor(A))
        with m.no_grad():
            z = exp_fn(m).apply(leaf(m))
        return y.requires_grad, y.grad_fn, z.requires_grad, z.grad_fn
    same(f)


def test_forward_runs_without_grad_and_ctx_attrs():
    def f(m):
        seen = []

        class F(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                seen.append(m.is_grad_enabled())
                y = x * 2
                seen.append(y.requires_grad)
                return y

            @staticmethod
            def backward(ctx, g):
                seen.append(m.is_grad_enabled())
                return g

        x = leaf(m)
        F.apply(x).sum().backward()
        y = F.apply(x)
        m.autograd.grad(y.sum(), x, create_graph=True)
        return seen
    same(f)


def test_function_with_hooks_and_next_functions():
    def f(m):
        x = leaf(m)
        h = x * 2
        y = exp_fn(m).apply(h)
        fn = y.grad_fn
        seen = []
        fn.register_hook(lambda gi, go: seen.append(len(gi)))
        y.register_hook(lambda g: g * 2)
        y.sum().backward()
        return fn.next_functions[0][0].name(), seen, x.grad
    same(f)


def test_gradcheck_on_custom_function():
    def f(m):
        x = leaf(m, B)
        return m.autograd.gradcheck(exp_fn(m).apply, (x,)), \
            m.autograd.gradgradcheck(exp_fn(m).apply, (x,))
    same(f)


def scale_inplace(m):
    class ScaleInplace(m.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            x.mul_(k)
            ctx.mark_dirty(x)
            ctx.k = k
            return x

        @staticmethod
        def backward(ctx, g):
            return g * ctx.k, None
    return ScaleInplace


def test_mark_dirty_on_a_view():
    def f(m):
        a = leaf(m)
        b = a * 1
        v = b[1]
        out = scale_inplace(m).apply(v, 3.0)
        (b * b).sum().backward()
        return out is v, b.grad_fn.name(), v.grad_fn.name(), a.grad, b
    same(f)


def test_mark_dirty_under_no_grad():
    def f(m):
        x = leaf(m)
        with m.no_grad():
            y = scale_inplace(m).apply(x, 2.0)
        return y is x, x._version, x.requires_grad, x.grad_fn, x
    same(f)


def test_gradient_for_non_tensor_input_error():
    def f(m):
        class G(m.autograd.Function):
            @staticmethod
            def forward(ctx, x, k):
                return x * k

            @staticmethod
            def backward(ctx, g):
                return g, g

        G.apply(leaf(m), 2).sum().backward()
    raises_same(f)


def test_non_differentiable_dtype_output_and_input_views():
    def f(m):
        class Argmax(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x.argmax(), x.view(6)

            @staticmethod
            def backward(ctx, gi, gv):
                return gv.view(2, 3)

        x = leaf(m)
        i, v = Argmax.apply(x)
        v.sum().backward()
        return i.requires_grad, i.grad_fn, v.grad_fn.name(), v._base is x, x.grad
    same(f)


def test_saved_tensor_of_intermediate_and_none():
    def f(m):
        class F(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                t = x.cos()
                ctx.save_for_backward(t, None, x)
                return x.sin()

            @staticmethod
            def backward(ctx, g):
                t, n, x = ctx.saved_tensors
                return g * t + (0 if n is None else 1)

        x = leaf(m)
        F.apply(x).sum().backward()
        return x.grad
    same(f)


def test_reentrant_grad_inside_backward():
    def f(m):
        class Cube(m.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                ctx.save_for_backward(a)
                return a * 1

            @staticmethod
            def backward(ctx, g):
                (a,) = ctx.saved_tensors
                with m.enable_grad():
                    a2 = a.detach().requires_grad_()
                    (ga,) = m.autograd.grad((a2 ** 3).sum(), a2)
                return g * ga

        z = leaf(m, B)
        Cube.apply(z).sum().backward()
        return z.grad
    same(f)


def test_save_for_backward_non_tensor_error():
    def f(m):
        class F(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x, 3)
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g

        no_grad = F.apply(m.tensor(A))  # nothing is saved when no graph is recorded
        F.apply(leaf(m))
        return no_grad
    raises_same(f)


def test_mark_dirty_view_with_several_outputs_error():
    def f(m):
        class Two(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                x.mul_(2)
                ctx.mark_dirty(x)
                return x, x * 3

            @staticmethod
            def backward(ctx, g1, g2):
                return g1 * 2 + g2 * 6

        b = leaf(m) * 1
        Two.apply(b[0])
    raises_same(f)
