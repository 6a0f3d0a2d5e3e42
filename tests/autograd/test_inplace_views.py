"""In-place ops under autograd: saved-tensor version checks, leaf checks, views of non-leaves
(CopySlices), view-creation restrictions, ``.data``/``detach()`` and ``_version``."""

import numpy as np
import pytest

from .compare import raises_same, same

A = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
X = np.array([0.3, -0.2])


def leaf(m, v=A):
    return m.tensor(v, dtype=m.float64, requires_grad=True)


# -- saved tensors modified in place --------------------------------------------------------------

def test_modified_saved_output_error():
    def f(m):
        x = leaf(m)
        y = x.exp()  # saves its output
        y.add_(1)
        y.sum().backward()
    e = raises_same(f)
    assert "saved for backward by 'exp'" in str(e) and "modified in place by 'add_'" in str(e)


def test_modified_saved_input_error():
    def f(m):
        x = leaf(m)
        h = x * 1
        y = h.sin()  # saves its input h
        h.mul_(2)
        y.sum().backward()
    e = raises_same(f)
    assert "saved for backward by 'sin'" in str(e) and "modified in place by 'mul_'" in str(e)
    assert "output 0 of Mul," in str(e)


def test_saved_input_error_names_its_current_history():
    # torch 2.13 names the saved input's grad_fn at unpack time: the in-place op's node
    def f(m):
        x = leaf(m)
        h = x.tanh()
        y = h * h
        h.add_(1)
        y.sum().backward()
    raises_same(f)


def test_modified_saved_leaf_error():
    def f(m):
        x = leaf(m)
        w = m.tensor(A)
        y = x * w
        w.add_(1)
        y.sum().backward()
    e = raises_same(f)
    assert "which is" not in str(e).split("It was saved")[0]


def test_modified_saved_tensor_through_a_view():
    def f(m):
        x = leaf(m)
        h = x.exp()
        h[0].zero_()  # a view sharing h's version counter
        h.sum().backward()
    raises_same(f)


def test_modified_after_backward_is_fine():
    def f(m):
        x = leaf(m)
        y = x.exp()
        y.sum().backward()
        y.add_(1)
        return x.grad, y, y._version
    same(f)


def test_unsaved_input_may_be_modified():
    def f(m):
        x = leaf(m)
        h = x * 1
        y = h + 2  # add saves nothing
        h.mul_(5)
        y.sum().backward()
        return x.grad
    same(f)


# -- leaves ---------------------------------------------------------------------------------------

def test_inplace_on_leaf_requiring_grad_error():
    def f(m):
        x = leaf(m)
        x.add_(1)
    raises_same(f)


def test_setitem_on_leaf_requiring_grad_error():
    def f(m):
        x = leaf(m)
        x[0] = 1.0
    raises_same(f)


def test_inplace_on_view_of_leaf_error():
    def f(m):
        x = leaf(m)
        x[0].mul_(2)
    raises_same(f)


def test_inplace_on_leaf_under_no_grad():
    def f(m):
        x = leaf(m)
        with m.no_grad():
            x.mul_(2)
            x[0, 0] = 7.0
        (x * x).sum().backward()
        return x, x.grad, x._version, x.requires_grad, x.is_leaf
    same(f)


def test_inplace_on_non_leaf_records_history():
    def f(m):
        x = leaf(m)
        y = x * 2
        y.exp_()
        y.mul_(x)
        y.sum().backward()
        return x.grad, y.grad_fn.name(), y._version
    same(f)


def test_inplace_makes_tensor_require_grad():
    def f(m):
        x = leaf(m)
        c = m.zeros(2, 3, dtype=m.float64)
        c.add_(x)
        c[0] = x[1] * 3
        c.mul_(2)
        (c * c).sum().backward()
        return c.requires_grad, c.is_leaf, c.grad_fn.name(), x.grad
    same(f)


# -- views of non-leaves --------------------------------------------------------------------------

def test_issue_example_view_inplace_chain():
    def f(m):
        a = leaf(m)
        x = leaf(m, X)
        b = a * 2
        b[0].mul_(3)
        b[:, 1] += x
        b.sum().backward()
        return a.grad, x.grad, b._version
    same(f)


def test_basic_setitem_history_is_copy_slices():
    def f(m):
        b = leaf(m) * 2
        b[:, 1] = 0.0
        return b.grad_fn.name()
    same(f)


def test_view_inplace_then_use_base_and_view():
    def f(m):
        a = leaf(m)
        b = a.exp()
        v = b[:, 1:]
        v.mul_(a[:, :2])
        loss = (b * b).sum() + (v ** 3).sum()
        loss.backward()
        return a.grad, v.grad_fn.name(), b.grad_fn.name()
    same(f)


def test_views_of_views_inplace():
    def f(m):
        a = leaf(m)
        b = a * 1
        v = b.t()
        w = v[1:]
        w[0].add_(10)
        w.mul_(2)
        (b * a).sum().backward()
        return a.grad, b, w
    same(f)


def test_view_used_after_base_modified_in_place():
    def f(m):
        a = leaf(m)
        b = a * 3
        v = b[0]
        b.mul_(a)  # base modified: v's history is regenerated from b
        (v * v).sum().backward()
        return a.grad, v.grad_fn.name()
    same(f)


def test_view_of_view_used_after_base_modified():
    def f(m):
        a = leaf(m)
        b = a.sin()
        v = b.view(3, 2)[1:]
        b.add_(a * a)
        v.sum().backward()
        return a.grad
    same(f)


def test_inplace_on_view_with_saved_base():
    def f(m):
        a = leaf(m)
        b = a * 1
        c = b.exp()  # saves its output c
        c[0].zero_()
        c.sum().backward()
    raises_same(f)


def test_setitem_with_tensor_value():
    def f(m):
        a = leaf(m)
        x = leaf(m, X)
        b = a.clone()
        b[:, 0] = x * x
        b[1, 1:] = x
        (b * b).sum().backward()
        return a.grad, x.grad
    same(f)


def test_inplace_on_expand_view_error():
    def f(m):
        a = leaf(m, X)
        b = (a * 1).unsqueeze(0).expand(3, 2)
        b.mul_(2)
    raises_same(f)


def test_unbind_outputs_modified_inplace_error():
    def f(m):
        a = leaf(m)
        u, _ = (a * 1).unbind(0)
        u.mul_(2)
    raises_same(f, upto="Such functions")


def test_split_outputs_modified_inplace_error():
    def f(m):
        a = leaf(m)
        u, _ = (a * 1).split(1)
        u.add_(2)
    raises_same(f, upto="Such functions")


def test_unbind_without_grad_allows_inplace():
    def f(m):
        a = m.tensor(A)
        u, w = a.unbind(0)
        u.mul_(2)
        return a
    same(f)


def test_view_created_in_no_grad_modified_with_grad_error():
    def f(m):
        a = leaf(m)
        b = a * 1
        with m.no_grad():
            v = b[0]
        v.mul_(2)
    raises_same(f, upto="Given that")


def test_view_created_in_no_grad_modified_in_no_grad():
    def f(m):
        a = leaf(m)
        b = a * 1
        with m.no_grad():
            v = b[0]
            v.mul_(2)
        b.sum().backward()
        return a.grad, b
    same(f)


def test_view_of_leaf_created_in_no_grad_then_modified():
    def f(m):
        a = leaf(m)
        with m.no_grad():
            v = a[0]
        v.mul_(2)
    raises_same(f, upto="Given that")


def test_multiple_inplace_on_overlapping_views():
    def f(m):
        a = leaf(m)
        x = leaf(m, X)
        b = a + 0
        b[:, 0].mul_(x)
        b[1].add_(b[0].detach())
        b[:, :2] *= x
        (b ** 2).sum().backward()
        return a.grad, x.grad
    same(f)


def test_inplace_view_double_backward():
    def f(m):
        a = leaf(m)
        b = a * a
        b[0].mul_(a[1])
        (g,) = m.autograd.grad(b.sum(), a, create_graph=True)
        return g, m.autograd.grad((g * g).sum(), a)
    same(f)


# -- .data, detach, versions ----------------------------------------------------------------------

def test_data_shares_storage_and_skips_autograd():
    def f(m):
        x = leaf(m)
        d = x.data
        d.mul_(2)
        v0 = x._version
        y = x * 3
        x.data.add_(1)  # not tracked: backward reads the modified value silently
        y.sum().backward()
        return x, d.requires_grad, d.is_leaf, v0, x._version, x.grad
    same(f)


def test_data_setter():
    def f(m):
        x = leaf(m)
        x.data = m.zeros(2, 3, dtype=m.float64)
        (x + 1).sum().backward()
        return x, x.grad, x.requires_grad
    same(f)


def test_detach_shares_storage_and_version_counter():
    def f(m):
        x = leaf(m)
        h = x.exp()
        d = h.detach()
        d.add_(1)
        versions = (d._version, h._version)
        out = (d.requires_grad, d.grad_fn, h)
        h.sum().backward()
        return versions, out
    raises_same(f)


def test_detach_modified_invalidates_saved():
    def f(m):
        x = leaf(m)
        y = x.sin()
        x.detach().mul_(2)
        y.sum().backward()
    raises_same(f)


def test_detach_inplace():
    def f(m):
        x = leaf(m)
        y = x * 2
        y.detach_()
        return y.requires_grad, y.grad_fn, y.is_leaf
    same(f)


def test_detach_inplace_on_view_error():
    def f(m):
        x = leaf(m)
        v = (x * 2)[0]
        v.detach_()
    raises_same(f)


@pytest.mark.parametrize("case", ["add_", "setitem", "view", "zero_", "copy_", "no_grad"])
def test_version_counts(case):
    def f(m):
        x = m.tensor(A)
        v = x[0]
        if case == "add_":
            x.add_(1).mul_(2)
        elif case == "setitem":
            x[0, 1] = 3.0
            x[:, 0] = m.tensor(X)
        elif case == "view":
            v.add_(1)
        elif case == "zero_":
            x.zero_()
            x.fill_(2.0)
        elif case == "copy_":
            x.copy_(m.ones(3, dtype=m.float64))
        else:
            with m.no_grad():
                x += 1
        return x._version, v._version, x.detach()._version, x.t()._version
    same(f)


def test_version_of_inplace_result_with_grad():
    def f(m):
        x = leaf(m)
        y = x * 1
        y.add_(1)
        y[0] = 2.0
        y[1].mul_(2)
        return y._version, (y * 1)._version, x._version
    same(f)


def test_stale_multi_output_view_error():
    def f(m):
        a = leaf(m)
        b = a * 1
        u, _ = b.unbind(0)
        b.mul_(2)
        (u * u).sum().backward()
    raises_same(f, upto="Such functions")


def test_stale_no_grad_view_error():
    def f(m):
        a = leaf(m)
        b = a * 1
        with m.no_grad():
            v = b[0]
        b.mul_(2)
        (v * 2).sum()
    raises_same(f, upto="Given that")


def test_view_of_no_grad_view_modified_error():
    def f(m):
        b = leaf(m) * 1
        with m.no_grad():
            v = b[0]
        v[1:].add_(1)
    raises_same(f, upto="Given that")


def test_inplace_on_view_of_tensor_not_requiring_grad():
    def f(m):
        x = leaf(m, X)
        b = m.zeros(3, 2, dtype=m.float64)
        b[1].add_(x)
        b[2].copy_(x * x)
        b[:, 0].zero_()
        (b * b).sum().backward()
        return b.requires_grad, b.is_leaf, b.grad_fn.name(), b, x.grad
    same(f)


def test_sibling_view_read_after_other_view_modified():
    def f(m):
        a = leaf(m)
        b = a.exp()
        w = b[1]
        d = b.diagonal()
        b[0].mul_(2)
        d.add_(a[0, :2])
        (w * w).sum().backward(retain_graph=True)
        g1 = a.grad.clone()
        (b * 3).sum().backward()
        return g1, a.grad, w, d
    same(f)


def test_whole_view_and_transposed_view_inplace():
    def f(m):
        a = leaf(m)
        x = leaf(m, A.T.copy())
        b = a.sin()
        b.view(6).add_(a.reshape(6))
        b.t().mul_(x)
        (b ** 2).sum().backward()
        return a.grad, x.grad
    same(f)


def test_retain_grad_on_view_across_inplace():
    def f(m):
        a = leaf(m)
        b = a * 2
        v = b[0]
        v.retain_grad()
        v.mul_(3)
        (b * b).sum().backward()
        return v.grad, a.grad
    same(f)


def test_inplace_with_grad_operand_on_detached_tensor():
    def f(m):
        x = leaf(m)
        w = leaf(m)
        h = x * 2
        d = h.detach()
        d.add_(w)
        (h.sum() + (d * d).sum()).backward()
        return h.grad_fn.name(), d.grad_fn.name(), x.grad, w.grad, h._version
    same(f)


def test_inplace_on_diagonal_and_narrow_views():
    def f(m):
        a = leaf(m, np.arange(9.0).reshape(3, 3) / 7)
        b = a.tanh()
        b.diagonal().mul_(a.diagonal())
        b.narrow(1, 1, 2).add_(1)
        (b * b).sum().backward()
        return a.grad
    same(f)
