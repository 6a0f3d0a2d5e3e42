"""ember.autograd.functional (jacobian, hessian, vjp, jvp, hvp, vhp) against torch."""

import pytest

from .compare import raises_same, same

X = [0.5, -1.0, 2.0]
Y = [[1.0, 2.0], [0.3, -0.7]]


def ins(m):
    return m.tensor(X, dtype=m.float64), m.tensor(Y, dtype=m.float64)


def cube_sin(a):
    return (a ** 3).sin()


def two_out(a, b):
    return a.sum() * b.exp(), a.cos()


def scalar2(a, b):
    return (a.sin() * b.sum()).sum() + (b ** 3).sum()


def cube_sum(a):
    return (a ** 3).sum()


@pytest.mark.parametrize("kw", [{}, {"vectorize": True},
                                {"vectorize": True, "strategy": "forward-mode"},
                                {"create_graph": True}, {"strict": True}])
def test_jacobian_structure_and_values(kw):
    def f(m):
        x, y = ins(m)
        jac = m.autograd.functional.jacobian
        return (jac(cube_sin, x, **kw), jac(two_out, (x, y), **kw), jac(cube_sin, (x,), **kw),
                jac(lambda a: (a * 2,), x, **kw))
    same(f)


def test_jacobian_create_graph_is_differentiable():
    def f(m):
        x, _ = ins(m)
        x.requires_grad_()
        j = m.autograd.functional.jacobian(cube_sin, x, create_graph=True)
        (g,) = m.autograd.grad(j.sum(), x)
        return j.requires_grad, g
    same(f)


def test_jacobian_unused_input_is_zero_or_strict_error():
    def unused(a, b):
        return a * 2

    same(lambda m: m.autograd.functional.jacobian(unused, ins(m)))
    raises_same(lambda m: m.autograd.functional.jacobian(unused, ins(m), strict=True))
    # an output that does not depend on the inputs at all
    raises_same(lambda m: m.autograd.functional.jacobian(
        lambda a: m.ones(2, dtype=m.float64), ins(m)[0], strict=True))
    same(lambda m: m.autograd.functional.jacobian(lambda a: m.ones(2, dtype=m.float64),
                                                  ins(m)[0]))


def test_jacobian_option_errors():
    raises_same(lambda m: m.autograd.functional.jacobian(cube_sin, ins(m)[0], strict=True,
                                                         vectorize=True))
    raises_same(lambda m: m.autograd.functional.jacobian(cube_sin, ins(m)[0],
                                                         strategy="forward-mode"))
    raises_same(lambda m: m.autograd.functional.jacobian(
        cube_sin, ins(m)[0], vectorize=True, strategy="forward-mode", create_graph=True))
    raises_same(lambda m: m.autograd.functional.jacobian(
        cube_sin, ins(m)[0], vectorize=True, strategy="forward-mode", strict=True))
    raises_same(lambda m: m.autograd.functional.jacobian(cube_sin, ins(m)[0], strategy="x"))
    raises_same(lambda m: m.autograd.functional.jacobian(cube_sin, [ins(m)[0]]))
    raises_same(lambda m: m.autograd.functional.jacobian(cube_sin, (ins(m)[0], 3)))


@pytest.mark.parametrize("kw", [{}, {"vectorize": True},
                                {"vectorize": True, "outer_jacobian_strategy": "forward-mode"},
                                {"create_graph": True}, {"strict": True}])
def test_hessian(kw):
    def f(m):
        x, y = ins(m)
        h = m.autograd.functional.hessian
        return h(cube_sum, x, **kw), h(scalar2, (x, y), **kw)
    if kw.get("outer_jacobian_strategy") == "forward-mode":
        # torch's forward-mode result carries a grad_fn from its forward-AD implementation
        same(lambda m: [[t.detach() for t in row] for row in f(m)[1]])
        same(lambda m: f(m)[0].detach())
    else:
        same(f)


def test_hessian_errors():
    h = "hessian"
    raises_same(lambda m: getattr(m.autograd.functional, h)(cube_sin, ins(m)[0]))
    raises_same(lambda m: getattr(m.autograd.functional, h)(two_out, ins(m)))
    # linear function: its jacobian does not depend on the input
    raises_same(lambda m: m.autograd.functional.hessian(lambda a: (a * 2).sum(), ins(m)[0],
                                                        strict=True))
    same(lambda m: m.autograd.functional.hessian(lambda a: (a * 2).sum(), ins(m)[0]))
    raises_same(lambda m: m.autograd.functional.hessian(cube_sum, ins(m)[0],
                                                        outer_jacobian_strategy="x"))


@pytest.mark.parametrize("create_graph", [False, True])
def test_vjp_jvp(create_graph):
    def f(m):
        x, y = ins(m)
        v = m.tensor([1.0, 2.0, 3.0], dtype=m.float64)
        F = m.autograd.functional
        return (F.vjp(cube_sin, x, v, create_graph=create_graph),
                F.vjp(two_out, (x, y), (y, v), create_graph=create_graph),
                F.vjp(cube_sum, x, create_graph=create_graph),
                F.jvp(cube_sin, x, v, create_graph=create_graph),
                F.jvp(two_out, (x, y), (v, y), create_graph=create_graph),
                F.jvp(lambda a: a * 3, m.tensor([2.0], dtype=m.float64)))
    same(f)


@pytest.mark.parametrize("create_graph", [False, True])
def test_hvp_vhp(create_graph):
    def f(m):
        x, y = ins(m)
        v = m.tensor([1.0, 2.0, 3.0], dtype=m.float64)
        F = m.autograd.functional
        return (F.hvp(scalar2, (x, y), (v, y), create_graph=create_graph),
                F.vhp(scalar2, (x, y), (v, y), create_graph=create_graph),
                F.hvp(cube_sum, x, v, create_graph=create_graph),
                F.vhp(cube_sum, x, v, create_graph=create_graph))
    same(f)


def test_vector_product_errors():
    def v3(m):
        return m.tensor([1.0, 2.0, 3.0], dtype=m.float64)

    F = "functional"
    raises_same(lambda m: getattr(m.autograd, F).vjp(cube_sin, ins(m)[0]))  # v needed
    raises_same(lambda m: getattr(m.autograd, F).jvp(cube_sin, ins(m)[0]))
    raises_same(lambda m: getattr(m.autograd, F).vjp(cube_sin, ins(m)[0], ins(m)[1]))
    raises_same(lambda m: getattr(m.autograd, F).jvp(two_out, ins(m), (v3(m),)))
    raises_same(lambda m: getattr(m.autograd, F).jvp(two_out, ins(m), (v3(m), v3(m))))
    raises_same(lambda m: getattr(m.autograd, F).hvp(cube_sin, ins(m)[0], v3(m)))
    raises_same(lambda m: getattr(m.autograd, F).vhp(two_out, ins(m), ins(m)))
    raises_same(lambda m: getattr(m.autograd, F).vjp(lambda a: a.detach(), ins(m)[0], v3(m),
                                                     strict=True))
    raises_same(lambda m: getattr(m.autograd, F).vjp(lambda a, b: a * 2, ins(m), v3(m) * 2,
                                                     strict=True))
    raises_same(lambda m: getattr(m.autograd, F).jvp(lambda a: a * 2, ins(m)[0], v3(m),
                                                     strict=True, create_graph=True))
    raises_same(lambda m: getattr(m.autograd, F).hvp(lambda a: (a * 2).sum(), ins(m)[0],
                                                     v3(m), strict=True))
    same(lambda m: getattr(m.autograd, F).hvp(lambda a: (a * 2).sum(), ins(m)[0], v3(m)))
