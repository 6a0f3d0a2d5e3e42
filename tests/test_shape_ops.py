"""Shape ops against real PyTorch where the op table cannot look: which results are views
(strides, offsets, ``_base``, shared memory, version counters) and which are copies, layouts of
copies, warnings, identity results, graph node names, and gradients PyTorch gets wrong."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ember
from tests.test_creation import check


def _base(m, shape):
    n = int(np.prod(shape)) if shape else 1
    return m.arange(float(n)).reshape(shape)


def _observe(v, x):
    vs = v if isinstance(v, tuple) else (v,)
    return [(u, u.stride(), u.storage_offset(), u.is_contiguous(), u._base is x, u._is_view(),
             u.data_ptr() == x.data_ptr()) for u in vs]


# name -> (base shape, program); each result's layout and aliasing must equal PyTorch's
RESULTS = {
    "tensor_split": ((7, 4), lambda m, x: m.tensor_split(x, 3)),
    "tensor_split_indices": ((7, 4), lambda m, x: x.tensor_split([1, 5], dim=1)),
    "tensor_split_tensor": ((7, 4), lambda m, x: m.tensor_split(x, m.tensor([2, 9]))),
    "hsplit": ((2, 6), lambda m, x: m.hsplit(x, 3)),
    "hsplit_1d": ((6,), lambda m, x: x.hsplit([2])),
    "vsplit": ((6, 2), lambda m, x: x.vsplit(2)),
    "dsplit": ((2, 2, 4), lambda m, x: m.dsplit(x, [1])),
    "split_with_sizes": ((5, 4), lambda m, x: x.split_with_sizes([2, 3])),
    "meshgrid_ij": ((3,), lambda m, x: m.meshgrid(x, x[:2], indexing="ij")),
    "meshgrid_xy": ((3,), lambda m, x: m.meshgrid(x, x[:2], x[1:], indexing="xy")),
    "broadcast_tensors": ((3, 1), lambda m, x: m.broadcast_tensors(x, m.ones(2, 1, 4))),
    "atleast_1d_0d": ((), lambda m, x: m.atleast_1d(x)),
    "atleast_2d": ((3,), lambda m, x: m.atleast_2d(x)),
    "atleast_3d_2d": ((2, 3), lambda m, x: m.atleast_3d(x)),
    "atleast_3d_1d": ((3,), lambda m, x: m.atleast_3d(x)),
    "atleast_3d_0d": ((), lambda m, x: m.atleast_3d(x)),
    "ravel": ((2, 3), lambda m, x: x.ravel()),
    "ravel_copy": ((2, 3), lambda m, x: x.t().ravel()),
    "ravel_strided": ((6,), lambda m, x: x[::2].ravel()),
    "view_as": ((2, 6), lambda m, x: x.view_as(m.empty(3, 4))),
    "expand_as": ((3, 1), lambda m, x: x.expand_as(m.empty(2, 3, 4))),
    "reshape_as_copy": ((2, 6), lambda m, x: x.t().reshape_as(m.empty(3, 4))),
    "swapaxes": ((2, 3, 4), lambda m, x: m.swapaxes(x, 0, 2)),
    "swapdims": ((2, 3, 4), lambda m, x: x.swapdims(-1, 1)),
    "moveaxis": ((2, 3, 4), lambda m, x: m.moveaxis(x, (0, 1), (2, 0))),
    "squeeze_dims": ((2, 1, 3, 1), lambda m, x: x.squeeze((1, 3))),
    "squeeze_no_dims": ((2, 1, 3, 1), lambda m, x: x.squeeze(())),
    "unflatten": ((2, 12), lambda m, x: x.unflatten(1, (3, -1))),
    "repeat_interleave": ((2, 3), lambda m, x: x.repeat_interleave(2, dim=1)),
    "repeat_interleave_flat": ((2, 3), lambda m, x: m.repeat_interleave(x, 2)),
    "repeat_interleave_tensor": ((2, 3), lambda m, x: x.repeat_interleave(m.tensor([1, 2]), 0)),
    "rot90": ((2, 3), lambda m, x: m.rot90(x)),
    "rot90_2": ((2, 3), lambda m, x: x.rot90(2)),
    "rot90_3": ((2, 3, 2), lambda m, x: x.rot90(3, (2, 0))),
    "rot90_0": ((2, 3), lambda m, x: x.t().rot90(0)),
    "repeat": ((2, 3), lambda m, x: x.repeat(2, 1, 2)),
    "tile": ((2, 3), lambda m, x: x.t().tile((2,))),
    "roll": ((2, 3), lambda m, x: x.t().roll(1, 0)),
    "flip": ((2, 3), lambda m, x: m.fliplr(x)),
    "tril": ((3, 3), lambda m, x: x.t().tril()),
    "diag_1d": ((3,), lambda m, x: m.diag(x, 1)),
    "diag_2d": ((3, 4), lambda m, x: x.diag(-1)),
    "diagflat": ((2, 2), lambda m, x: x.diagflat()),
    "diag_embed": ((2, 3), lambda m, x: x.diag_embed(0, 0, 2)),
    "narrow_copy": ((4, 5), lambda m, x: x.narrow_copy(1, 1, 2)),
    "diagonal_scatter_layout": ((4, 3), lambda m, x: m.diagonal_scatter(x.t(), m.zeros(3))),
    "select_scatter_layout": ((4, 3), lambda m, x: x.t().select_scatter(m.zeros(4), 0, 1)),
    "slice_scatter_layout": ((4, 3), lambda m, x: m.slice_scatter(x.t(), m.zeros(3, 2), 1, 1, 3)),
    "as_strided_scatter_layout": ((4, 3), lambda m, x: m.as_strided_scatter(
        x.t(), m.zeros(2), (2,), (1,))),
    "hstack": ((2, 3), lambda m, x: m.hstack((x, x))),
    "vstack": ((3,), lambda m, x: m.vstack([x, x])),
    "dstack": ((3,), lambda m, x: m.dstack([x, x])),
    "column_stack": ((3,), lambda m, x: m.column_stack([x, x.view(3, 1)])),
    "block_diag": ((2,), lambda m, x: m.block_diag(x, x.view(2, 1), m.tensor(5.))),
    "block_diag_none": ((2,), lambda m, x: m.block_diag()),
    "cartesian_prod": ((2,), lambda m, x: m.cartesian_prod(x, x + 1)),
    "combinations": ((4,), lambda m, x: m.combinations(x, 3)),
    "combinations_replacement": ((3,), lambda m, x: m.combinations(x, with_replacement=True)),
    "combinations_r0": ((3,), lambda m, x: m.combinations(x, 0)),
    "combinations_too_many": ((3,), lambda m, x: m.combinations(x, 4)),
    "tril_indices": ((), lambda m, x: m.tril_indices(4, 3, -1)),
    "triu_indices": ((), lambda m, x: m.triu_indices(3, 5, 2, dtype=m.int32)),
    "repeat_interleave_counts": ((), lambda m, x: m.repeat_interleave(m.tensor([2, 0, 1]))),
}


@pytest.mark.parametrize("name", list(RESULTS))
def test_result_layout(name):
    shape, fn = RESULTS[name]

    def program(m):
        x = _base(m, shape)
        return _observe(fn(m, x), x)
    check(program)


VIEWS = ["tensor_split", "hsplit", "vsplit", "dsplit", "split_with_sizes", "meshgrid_ij",
         "meshgrid_xy", "atleast_2d", "atleast_3d_2d", "ravel", "squeeze_dims", "unflatten",
         "swapaxes", "moveaxis"]


@pytest.mark.parametrize("name", VIEWS)
def test_views_share_memory_and_versions(name):
    shape, fn = RESULTS[name]

    def program(m):
        x = _base(m, shape)
        vs = fn(m, x)
        v = vs[0] if isinstance(vs, tuple) else vs
        x.add_(100)  # write through the base (meshgrid's views overlap)
        seen = v.clone(memory_format=m.contiguous_format)
        if v._base is not None and not any(s == 0 for s in v.stride()):
            v.mul_(-1)
        return seen, x, x._version, v._version
    check(program)


def test_split_outputs_are_plain_views():
    # tensor_split's outputs are narrow views (SliceBackward0) and may be modified in place;
    # split_with_sizes' are outputs of one multi-output op and may not
    def program(m):
        x = m.arange(6.).requires_grad_()
        y = x * 1
        a, b = y.tensor_split(2)
        a.mul_(2)
        names = (a.grad_fn.name(), b.mul(1).grad_fn.name())
        y.sum().backward()
        c, _ = (x * 1).split_with_sizes([3, 3])
        try:
            c.mul_(2)
            err = None
        except RuntimeError as e:
            err = str(e)[:60]
        return names, x.grad, err
    check(program)


GRAD_FN = {
    "repeat": lambda m, x: x.repeat(2, 1),
    "tile": lambda m, x: x.tile((2,)),
    "roll": lambda m, x: x.roll(1),
    "rot90": lambda m, x: x.rot90(),
    "tril": lambda m, x: x.tril(),
    "triu": lambda m, x: m.triu(x, 1),
    "diag_embed": lambda m, x: x.diag_embed(),
    "diag_1d": lambda m, x: x[0].diag(),
    "diagflat": lambda m, x: x.diagflat(),
    "tensor_split": lambda m, x: x.tensor_split(2)[1],
    "hsplit": lambda m, x: x.hsplit(3)[0],
    "split_with_sizes": lambda m, x: x.split_with_sizes([1, 1])[0],
    "meshgrid": lambda m, x: m.meshgrid(x[0], x[1], indexing="ij")[0],
    "broadcast_tensors": lambda m, x: m.broadcast_tensors(x, m.ones(2, 2, 3))[0],
    "atleast_3d": lambda m, x: m.atleast_3d(x),
    "hstack": lambda m, x: m.hstack([x, x]),
    "cartesian_prod": lambda m, x: m.cartesian_prod(x[0], x[1]),
    "combinations": lambda m, x: m.combinations(x[0]),
    "fliplr": lambda m, x: x.fliplr(),
    "repeat_interleave_int": lambda m, x: x.repeat_interleave(2),
}


@pytest.mark.parametrize("name", list(GRAD_FN))
def test_graph_node_names(name):
    def program(m):
        x = m.arange(6.).view(2, 3).requires_grad_()
        return GRAD_FN[name](m, x).grad_fn.name()
    check(program)


def test_meshgrid_warns_without_indexing():
    for m in (torch, ember):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            m.meshgrid(m.ones(2), m.ones(3))
            m.meshgrid(m.ones(2), m.ones(3), indexing="ij")
        assert len(w) == 1 and w[0].category is UserWarning
        assert "it will be required to pass the indexing argument" in str(w[0].message)


def test_identity_results():
    for m in (torch, ember):
        x = m.ones(3)
        assert m.cartesian_prod(x) is x
        assert m.atleast_1d(x) is x
        assert m.atleast_2d(m.ones(2, 2, 2)).ndim == 3


def test_inplace_triangles():
    def program(m):
        x = _base(m, (3, 4))
        v = x[1:]
        r = v.tril_(1)
        out = [r is v, x.clone(), x._version, v._version]
        y = m.ones(2, 3, 3).triu_(-1)
        leaf = m.ones(3, 3, requires_grad=True)
        try:
            leaf.tril_()
        except RuntimeError as e:
            out.append(str(e)[:70])
        z = m.ones(3, 3, requires_grad=True) * 2
        z.triu_()
        z.sum().backward()
        return out + [y, z.grad_fn.name()]
    check(program)


def test_as_strided_scatter_input_gradient_is_true():
    # PyTorch's own backward puts src's gradient into the window (gradcheck fails on it);
    # ember's is the gradient of the function
    x = ember.randn(3, 4, dtype=ember.float64, requires_grad=True)
    s = ember.randn(2, 2, dtype=ember.float64, requires_grad=True)
    fn = lambda a, b: ember.as_strided_scatter(a, b, (2, 2), (4, 1), 1)  # noqa: E731
    assert ember.autograd.gradcheck(fn, (x, s))
    assert ember.autograd.gradgradcheck(fn, (x, s))
    ember.as_strided_scatter(x, s, (2, 2), (4, 1), 1).sum().backward()
    expect = np.ones((3, 4))
    expect[0, 1:3] = expect[1, 1:3] = 0
    np.testing.assert_array_equal(x.grad.numpy(), expect)


def test_narrow_copy_gradient_with_negative_start():
    # PyTorch's NarrowCopyBackward0 fails here; ember's gradient passes gradcheck
    x = ember.randn(4, 5, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda a: a.narrow_copy(1, -2, 2), (x,))
    assert ember.autograd.gradcheck(lambda a: a.narrow_copy(1, 0, 0).sum() + a.sum(), (x,))


def test_broadcast_shapes_returns_size():
    check(lambda m: (m.broadcast_shapes(m.Size([2, 1]), [3], 1), m.broadcast_shapes()))


def test_repeat_interleave_output_size_and_devices():
    def program(m):
        x = m.arange(6.).view(2, 3)
        r = m.tensor([1, 2], dtype=m.int32)
        return (x.repeat_interleave(r, dim=0, output_size=3), m.repeat_interleave(r),
                m.repeat_interleave(m.tensor([[1.]]), m.tensor([3])))
    check(program)


RESTRIDE = {
    "squeeze_": lambda t: t.squeeze_(),
    "squeeze_dim": lambda t: t.squeeze_(1),
    "squeeze_dims": lambda t: t.squeeze_((0, 1)),
    "unsqueeze_": lambda t: t.unsqueeze_(-1),
    "transpose_": lambda t: t.transpose_(0, 2),
    "swapaxes_": lambda t: t.swapaxes_(1, 2),
    "swapdims_": lambda t: t.swapdims_(0, 1),
    "t_": lambda t: t.squeeze_(1).t_(),
    "t_3d": lambda t: t.t_(),
    "bad_dim": lambda t: t.unsqueeze_(5),
}


@pytest.mark.parametrize("name", list(RESTRIDE))
def test_inplace_view_ops(name):
    fn = RESTRIDE[name]

    def program(m):
        x = m.arange(6.).view(2, 1, 3)
        r = fn(x)
        out = [r is x, x, x.stride(), x._version]
        v = m.arange(6.).view(2, 1, 3)[:]  # a view: its base keeps its shape
        fn(v)
        out += [v, v._base.shape, v._version]
        leaf = m.ones(2, 1, 3, requires_grad=True)
        w = m.arange(6.).view(2, 1, 3).requires_grad_()
        y = w * 1
        fn(y)
        (y * m.arange(6.).view(tuple(y.shape))).sum().backward()
        out.append(w.grad)
        fn(leaf)
        return out
    check(program)


# edge cases of argument forms, dtypes, 0-d and empty inputs and errors
EDGE = {
    "repeat0d": lambda m: m.tensor(2.).repeat(),
    "repeat1d_none": lambda m: m.ones(2).repeat(),
    "repeat_size": lambda m: m.ones(2).repeat(m.Size([2, 2])),
    "repeat_list": lambda m: m.ones(2).repeat([2, 3]),
    "block_diag_mix": lambda m: m.block_diag(m.tensor(1.5, dtype=m.float64), m.ones(2),
                                             m.tensor([[1, 2]])),
    "block_diag_bool": lambda m: m.block_diag(m.tensor([True]), m.tensor([[False, True]])),
    "block_diag_cplx": lambda m: m.block_diag(m.tensor([1j]), m.tensor([[2]])),
    "block_diag_int0d": lambda m: m.block_diag(m.tensor(3), m.ones(1, dtype=m.int8)),
    "hstack_tuple": lambda m: m.hstack((m.ones(2), m.zeros(1))),
    "tensor_split_t": lambda m: m.ones(4, 3).t().tensor_split(m.tensor([1])),
    "diag_bool": lambda m: m.diag(m.tensor([True, False])),
    "bt_one": lambda m: m.broadcast_tensors(m.ones(2)),
    "cart_empty": lambda m: m.cartesian_prod(),
    "atleast_none": lambda m: m.atleast_2d(),
    "meshgrid_list_kw": lambda m: m.meshgrid([m.ones(2), m.zeros(3)], indexing="xy"),
    "meshgrid_0d_only": lambda m: m.meshgrid(m.tensor(1.), indexing="ij"),
    "roll_neg_dims": lambda m: m.arange(12).view(3, 4).roll((-1, 5), (-1, -2)),
    "roll_bigshift": lambda m: m.arange(5).roll(-13),
    "rot90_neg": lambda m: m.arange(6).view(2, 3).rot90(-3),
    "tril_inplace_int": lambda m: m.ones(3, 3, dtype=m.int64).tril_(-1),
    "triu_empty": lambda m: m.ones(0, 3).triu(),
    "diag_embed_neg": lambda m: m.arange(6.).view(2, 3).diag_embed(-2, 2, 0),
    "ri_bool": lambda m: m.tensor([True, False]).repeat_interleave(2),
    "ri_int32": lambda m: m.arange(3).repeat_interleave(m.tensor([1, 2, 3], dtype=m.int32)),
    "ri_uint8": lambda m: m.arange(3).repeat_interleave(m.tensor([1, 2, 3], dtype=m.uint8)),
    "combos_int": lambda m: m.combinations(m.arange(4), 2),
    "column_stack_0d": lambda m: m.column_stack([m.tensor(1.), m.tensor(2.)]),
    "dstack_0d": lambda m: m.dstack([m.tensor(1.), m.tensor(2.)]),
    "vstack_0d": lambda m: m.vstack([m.tensor(1.), m.tensor(2.)]),
    "hstack_0d": lambda m: m.hstack([m.tensor(1.), m.tensor(2.)]),
    "slice_scatter_none": lambda m: m.slice_scatter(m.zeros(4, 2), m.ones(2, 2), start=2),
    "slice_scatter_step0": lambda m: m.slice_scatter(m.zeros(4, 2), m.ones(2, 2), step=0),
    "select_scatter_0d_src": lambda m: m.select_scatter(m.zeros(3), m.tensor(5.), 0, -1),
    "diagonal_scatter_int": lambda m: m.diagonal_scatter(m.zeros(3, 3, dtype=m.int64),
                                                         m.ones(3, dtype=m.int64)),
    "tril_indices_big": lambda m: m.tril_indices(4, 4, 10),
    "narrow_copy_t": lambda m: m.arange(12.).view(3, 4).t().narrow_copy(0, 1, 2),
    "ravel_0d": lambda m: m.tensor(3.).ravel(),
    "squeeze_tuple_bad": lambda m: m.ones(2, 1).squeeze((5,)),
    "expand_as_t": lambda m: m.ones(3).expand_as(m.ones(2, 3).t()),
    "split_with_sizes_kw": lambda m: m.ones(5).split_with_sizes(split_sizes=[2, 3], dim=0),
    "tensor_split_kw_sections": lambda m: m.tensor_split(m.ones(5), sections=2, dim=0),
    "hsplit_list_tensor": lambda m: m.hsplit(m.ones(2, 4), m.tensor([1, 3])),
    "hsplit_0d_tensor": lambda m: m.hsplit(m.ones(2, 4), m.tensor(2)),
    "flip_method_varargs": lambda m: m.arange(6).view(2, 3).fliplr(),
    "broadcast_shapes_neg": lambda m: m.broadcast_shapes((2, 3), (-1,)),
    "broadcast_shapes_tensor_dim": lambda m: m.broadcast_shapes((2, 3), (3, 3)),
    "combinations_kw": lambda m: m.combinations(m.arange(3.), r=2, with_replacement=False),
}


@pytest.mark.parametrize("name", list(EDGE))
def test_edge_cases(name):
    check(EDGE[name], message=name != "hsplit_list_tensor")
