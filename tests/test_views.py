"""Views against real PyTorch: strides, storage offsets, contiguity, ``_base``, memory sharing
in both directions, and version counters after in-place ops on a base or a view."""

from __future__ import annotations

import numpy as np
import pytest

from tests.test_creation import check

# name -> (base shape, view program). Each program takes the library and the base tensor.
VIEWS = {
    "view": ((2, 3, 4), lambda m, x: x.view(6, 4)),
    "view_infer": ((2, 3, 4), lambda m, x: x.view(-1)),
    "view_tuple": ((2, 3, 4), lambda m, x: x.view((4, 6))),
    "view_as": ((2, 3, 4), lambda m, x: x.view_as(m.ones(4, 6))),
    "view_of_transpose": ((2, 3, 4), lambda m, x: x.transpose(1, 2).view(2, 4, 3)),
    "view_split_dim_of_transpose": ((4, 6), lambda m, x: x.t().view(3, 2, 4)),
    "reshape_view": ((2, 3, 4), lambda m, x: x.reshape(3, 8)),
    "reshape_copy": ((2, 3, 4), lambda m, x: x.transpose(0, 1).reshape(6, 4)),
    "reshape_same": ((2, 3, 4), lambda m, x: x.reshape(2, 3, 4)),
    "reshape_of_slice": ((4, 6), lambda m, x: x[:, :3].reshape(12)),
    "reshape_of_rows": ((4, 6), lambda m, x: x[1:3].reshape(12)),
    "reshape_as": ((2, 3, 4), lambda m, x: x.reshape_as(m.ones(6, 4))),
    "flatten": ((2, 3, 4), lambda m, x: x.flatten()),
    "flatten_partial": ((2, 3, 4), lambda m, x: x.flatten(1)),
    "flatten_transposed": ((2, 3, 4), lambda m, x: x.transpose(1, 2).flatten(1)),
    "flatten_0d": ((), lambda m, x: x.flatten()),
    "flatten_same": ((2, 3, 4), lambda m, x: x.flatten(1, 1)),
    "unflatten": ((2, 12), lambda m, x: x.unflatten(1, (3, 4))),
    "unflatten_infer": ((2, 12), lambda m, x: x.unflatten(-1, (-1, 4))),
    "squeeze": ((2, 1, 3, 1), lambda m, x: x.squeeze()),
    "squeeze_dim": ((2, 1, 3, 1), lambda m, x: x.squeeze(1)),
    "squeeze_dims": ((2, 1, 3, 1), lambda m, x: x.squeeze((1, 3))),
    "squeeze_noop": ((2, 1, 3, 1), lambda m, x: x.squeeze(0)),
    "unsqueeze": ((2, 3), lambda m, x: x.unsqueeze(1)),
    "unsqueeze_last": ((2, 3), lambda m, x: x.unsqueeze(-1)),
    "unsqueeze_of_transpose": ((2, 3), lambda m, x: x.t().unsqueeze(1)),
    "expand": ((3, 1), lambda m, x: x.expand(2, 3, 4)),
    "expand_keep": ((3, 1), lambda m, x: x.expand(-1, 5)),
    "expand_as": ((3, 1), lambda m, x: x.expand_as(m.ones(3, 4))),
    "broadcast_to": ((3, 1), lambda m, x: m.broadcast_to(x, (2, 3, 2))),
    "transpose": ((2, 3, 4), lambda m, x: x.transpose(0, 2)),
    "swapaxes": ((2, 3, 4), lambda m, x: x.swapaxes(0, 1)),
    "swapdims": ((2, 3, 4), lambda m, x: m.swapdims(x, 1, 2)),
    "t": ((2, 3), lambda m, x: x.t()),
    "T": ((2, 3), lambda m, x: x.T),
    "mT": ((2, 3, 4), lambda m, x: x.mT),
    "permute": ((2, 3, 4), lambda m, x: x.permute(2, 0, 1)),
    "permute_tuple": ((2, 3, 4), lambda m, x: x.permute((1, 2, 0))),
    "permute_neg": ((2, 3, 4), lambda m, x: m.permute(x, (-1, 0, 1))),
    "movedim": ((2, 3, 4), lambda m, x: x.movedim(0, -1)),
    "movedim_multi": ((2, 3, 4), lambda m, x: m.movedim(x, (0, 1), (2, 0))),
    "moveaxis": ((2, 3, 4), lambda m, x: m.moveaxis(x, 1, 0)),
    "narrow": ((4, 5), lambda m, x: x.narrow(1, 1, 3)),
    "narrow_neg": ((4, 5), lambda m, x: x.narrow(0, -2, 2)),
    "select": ((2, 3, 4), lambda m, x: x.select(1, 2)),
    "select_neg": ((2, 3, 4), lambda m, x: x.select(-1, -1)),
    "unbind": ((3, 4), lambda m, x: x.unbind(1)),
    "split": ((5, 4), lambda m, x: x.split(2)),
    "split_sizes": ((5, 4), lambda m, x: x.split([1, 3], dim=1)),
    "chunk": ((5, 4), lambda m, x: x.chunk(3)),
    "chunk_dim": ((5, 4), lambda m, x: x.chunk(2, 1)),
    "diagonal": ((3, 4), lambda m, x: x.diagonal()),
    "diagonal_offset": ((3, 4), lambda m, x: x.diagonal(1)),
    "diagonal_neg": ((3, 4), lambda m, x: x.diagonal(-1)),
    "diagonal_dims": ((2, 3, 4), lambda m, x: x.diagonal(0, 1, 2)),
    "diagonal_dims_swapped": ((2, 3, 4), lambda m, x: x.diagonal(1, 2, 0)),
    "as_strided": ((4, 5), lambda m, x: x.as_strided((2, 2), (1, 2))),
    "as_strided_offset": ((4, 5), lambda m, x: x.as_strided((3,), (5,), 1)),
    "as_strided_of_view": ((4, 5), lambda m, x: x[1:].as_strided((2,), (1,))),
    "unfold": ((8,), lambda m, x: x.unfold(0, 3, 2)),
    "unfold_2d": ((3, 6), lambda m, x: x.unfold(1, 2, 1)),
    "slice": ((6, 5), lambda m, x: x[1:4]),
    "slice_step": ((6, 5), lambda m, x: x[::2, 1::3]),
    "slice_neg": ((6, 5), lambda m, x: x[-3:-1]),
    "slice_empty": ((6, 5), lambda m, x: x[4:2]),
    "index_int": ((6, 5), lambda m, x: x[2]),
    "index_int_neg": ((6, 5), lambda m, x: x[-1, 2:]),
    "index_none": ((6, 5), lambda m, x: x[None, :, None]),
    "index_ellipsis": ((2, 3, 4), lambda m, x: x[..., 1]),
    "index_ellipsis_none": ((2, 3, 4), lambda m, x: x[1, ..., None]),
    "index_ellipsis_only": ((2, 3, 4), lambda m, x: x[...]),
    "index_all": ((2, 3, 4), lambda m, x: x[:, :, :]),
    "index_scalar_0d": ((), lambda m, x: x[None]),
    "index_tensor_int": ((6, 5), lambda m, x: x[m.tensor(2)]),
    "chained": ((4, 6), lambda m, x: x[1:].t()[::2].unsqueeze(0)),
    "real": ((3,), lambda m, x: x.to(m.complex64).real),
    "detach": ((2, 3), lambda m, x: x.detach()),
}


def _cases(names):
    return list(names)


def _base(m, shape):
    n = int(np.prod(shape)) if shape else 1
    return m.arange(float(n)).reshape(shape)


def _observe(m, v, x):
    vs = v if isinstance(v, tuple) else (v,)
    return [(u, u.shape, u.stride(), u.storage_offset(), u.is_contiguous(), u._base is x,
             u._is_view(), u.data_ptr() == x.data_ptr()) for u in vs]


@pytest.mark.parametrize("name", _cases(VIEWS))
def test_view_layout(name):
    shape, fn = VIEWS[name]

    def program(m):
        x = _base(m, shape)
        return _observe(m, fn(m, x), x)
    check(program)


@pytest.mark.parametrize("name", _cases(VIEWS))
def test_writes_show_both_ways(name):
    shape, fn = VIEWS[name]

    def program(m):
        x = _base(m, shape)
        v = fn(m, x)
        v = v[0] if isinstance(v, tuple) else v
        if v.numel() == 0:
            return None
        if v.dtype.is_complex:
            return x
        w = v if v.ndim else v.view(1)
        if name.startswith(("expand", "broadcast", "as_strided", "unfold")):
            x.add_(100)  # overlapping views: write through the base only
            return (x, v, x._version, v._version)
        w.view(-1)[0].fill_(-1) if w.is_contiguous() else w.fill_(-1)
        after_view = x.clone()
        x.mul_(2)
        return (after_view, v, x._version, v._version)
    check(program)


def _mask(m, t):
    return m.arange(t.numel()) % 2 == 0


# in-place ops, each written for any 1-D float tensor ``t``
IN_PLACE = {
    "add_": lambda m, t: t.add_(1), "add_alpha": lambda m, t: t.add_(t, alpha=2),
    "sub_": lambda m, t: t.sub_(1), "mul_": lambda m, t: t.mul_(2),
    "div_": lambda m, t: t.div_(2), "pow_": lambda m, t: t.pow_(2), "neg_": lambda m, t: t.neg_(),
    "abs_": lambda m, t: t.abs_(), "sqrt_": lambda m, t: t.sqrt_(),
    "floor_": lambda m, t: t.floor_(), "round_": lambda m, t: t.round_(),
    "sigmoid_": lambda m, t: t.sigmoid_(),
    "relu_": lambda m, t: t.relu_(), "clamp_": lambda m, t: t.clamp_(0, 3),
    "clamp_min": lambda m, t: t.clamp_(min=1), "zero_": lambda m, t: t.zero_(),
    "fill_": lambda m, t: t.fill_(3), "fill_tensor": lambda m, t: t.fill_(m.tensor(2.)),
    "copy_": lambda m, t: t.copy_(m.ones(t.numel())), "copy_bcast": lambda m, t: t.copy_(
        m.ones(1)), "copy_int": lambda m, t: t.copy_(m.ones(t.numel(), dtype=m.int32)),
    "masked_fill_": lambda m, t: t.masked_fill_(_mask(m, t), 0),
    "setitem_int": lambda m, t: t.__setitem__(0, 5),
    "setitem_slice": lambda m, t: t.__setitem__(slice(0, 2), m.tensor([7., 8.])),
    "setitem_mask": lambda m, t: t.__setitem__(_mask(m, t), 9),
    "setitem_list": lambda m, t: t.__setitem__([0, 1], 4),
    "iadd": lambda m, t: t.__iadd__(1), "imul": lambda m, t: t.__imul__(3),
    "isub": lambda m, t: t.__isub__(m.ones(t.numel())), "itruediv": lambda m, t: t.__itruediv__(2),
    "scatter_": lambda m, t: t.scatter_(0, m.tensor([0, 1]), m.tensor([5., 6.])),
    "requires_grad_": lambda m, t: t.requires_grad_(False), "detach_": lambda m, t: t.detach_(),
}


@pytest.mark.parametrize("op", list(IN_PLACE))
def test_in_place_ops_bump_versions(op):
    fn = IN_PLACE[op]

    def program(m):
        x = m.arange(4.)
        v = x[1:]
        d = x.detach()
        r = fn(m, x)
        after_base = (x._version, v._version, d._version, r is x or r is None, x.clone())
        fn(m, v)
        return after_base + (x._version, v._version, d._version, x)
    check(program)


def test_versions_of_views_and_bases():
    def program(m):
        x = m.zeros(3, 4)
        a, b = x[0], x.t()
        out = [x._version]
        a.add_(1)
        out.append((x._version, a._version, b._version))
        b[1, 2] = 5
        out.append((x._version, a._version, b._version))
        x.zero_()
        out.append((x._version, a._version, b._version))
        c = x.clone()
        c.add_(1)
        out.append((x._version, c._version))
        with m.no_grad():
            x.mul_(2)
        out.append((x._version, a._version))
        x.data.add_(1)
        out.append(x._version)
        return out
    check(program)


def test_setitem_with_advanced_index_bumps_version():
    def program(m):
        x = m.zeros(5)
        x[[0, 2]] = 1
        x[m.tensor([4])] += 2
        return (x, x._version)
    check(program)


def test_numpy_views_share_and_version():
    def program(m):
        a = np.zeros(4, np.float32)
        t = m.from_numpy(a)
        v = t[1:3]
        a[1] = 3
        v.add_(1)
        return (t, a.tolist(), t._version, v._version, v._base is t, v.storage_offset())
    check(program)


def test_contiguous_returns_self_or_copy():
    def program(m):
        x = m.ones(2, 3)
        y = x.t()
        c = y.contiguous()
        return (x.contiguous() is x, c is y, c.is_contiguous(), c.stride(), c._base is None,
                c.data_ptr() == x.data_ptr())
    check(program)


def test_channels_last():
    def program(m):
        x = m.arange(120.).reshape(2, 3, 4, 5)
        c = x.contiguous(memory_format=m.channels_last)
        return (c, c.stride(), c.is_contiguous(), c.is_contiguous(memory_format=m.channels_last),
                x.is_contiguous(memory_format=m.channels_last),
                m.empty_like(x, memory_format=m.channels_last).stride(),
                m.ones(2, 1, 4, 5).contiguous(memory_format=m.channels_last).stride())
    check(program)
    check(lambda m: m.ones(2, 3).contiguous(memory_format=m.channels_last))


VIEW_ERRORS = [
    lambda m: m.ones(2, 3).t().view(6),
    lambda m: m.ones(2, 3).view(4),
    lambda m: m.ones(2, 3).view(-1, -1),
    lambda m: m.ones(2, 3).reshape(5),
    lambda m: m.ones(2, 3).expand(3, 3),
    lambda m: m.ones(2, 3).permute(0, 0),
    lambda m: m.ones(2, 3).narrow(1, 2, 2),
    lambda m: m.ones(2, 3).select(0, 2),
    lambda m: m.ones(2, 3).transpose(0, 2),
    lambda m: m.ones(2, 3).squeeze(2),
    lambda m: m.ones(2, 3).unsqueeze(3),
    lambda m: m.ones(2, 3).diagonal(0, 1, 1),
    lambda m: m.ones(2, 3).unfold(1, 4, 1),
    lambda m: m.ones(2, 3).as_strided((3, 3), (3, 1)),
    lambda m: m.ones(2, 3).flatten(1, 0),
    lambda m: m.ones(2, 3)[::-1],
    lambda m: m.ones(2, 3).chunk(0),
    lambda m: m.ones(5).split([2, 2]),
    lambda m: m.tensor(1.).unbind(),
    lambda m: m.ones(2, 3).view(m.float64).shape,
    lambda m: m.ones(5).view(m.float64),
    lambda m: m.tensor(1.).view(m.int16),
    lambda m: m.ones(2, 3).t().view(m.float16),
]
# messages that differ inside ops (reported): expand's type name, permute's "(sparse_coo)",
# unflatten's wording, NumPy's index errors, movedim's exception type
OP_VIEW_ERRORS = [
    lambda m: m.ones(2, 3).expand(3),
    lambda m: m.ones(2, 3).permute(0),
    lambda m: m.ones(2, 3).unflatten(1, (2, 2)),
    lambda m: m.ones(2, 3)[2],
    lambda m: m.ones(2, 3)[:, :, 0],
]


@pytest.mark.parametrize("i", range(len(VIEW_ERRORS)))
def test_view_errors(i):
    check(VIEW_ERRORS[i])


@pytest.mark.parametrize("i", range(len(OP_VIEW_ERRORS)))
def test_view_error_messages_inside_ops(i):
    check(OP_VIEW_ERRORS[i])


def test_movedim_mixed_argument_kinds_is_a_type_error():
    # PyTorch's message lists its argument parser's overloads; the type is what matters
    check(lambda m: m.ones(2, 3).movedim((0, 1), 0), message=False)


@pytest.mark.parametrize("dtype", ["float32", "int32", "float16", "float64", "uint8", "bool",
                                   "complex64", "bfloat16", "int16"])
@pytest.mark.parametrize("src", ["row", "transposed", "odd", "scalar", "sliced", "grad"])
def test_view_dtype(dtype, src):
    def program(m):
        x = {"row": lambda: m.arange(8.).reshape(2, 4),
             "transposed": lambda: m.arange(6.).reshape(2, 3).t(),
             "odd": lambda: m.arange(5.), "scalar": lambda: m.tensor(1.5),
             "sliced": lambda: m.arange(8.)[2:],
             "grad": lambda: m.ones(2, 4, requires_grad=True)}[src]()
        v = x.view(getattr(m, dtype))
        out = (v.shape, v.stride(), v.dtype, v.requires_grad, v._base is x, v.grad_fn,
               v.data_ptr() == x.data_ptr())
        if not x.requires_grad and dtype not in ("bool", "bfloat16"):
            v.zero_()
            out += (x, x._version)
        return out
    check(program)


def test_views_of_views_share_one_base():
    def program(m):
        x = m.ones(4, 4)
        a = x[1:]
        b = a[:, 1:]
        c = b.t().unsqueeze(0)
        return (a._base is x, b._base is x, c._base is x, c.storage_offset(), c.stride())
    check(program)


def test_shape_methods_accept_size_and_varargs():
    def program(m):
        x = m.arange(24.)
        s = m.Size([4, 6])
        return (x.view(s).shape, x.reshape(s).shape, x.view(2, 12).expand(3, 2, 12).shape,
                x.view(4, 6).permute([1, 0]).shape, x.view(4, 6).expand(m.Size([2, 4, 6])).shape)
    check(program)
