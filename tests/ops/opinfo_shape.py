"""Op table entries: shape ops (see ``opinfo.py``)."""

from __future__ import annotations

import numpy as np

from .opinfo import ALL, ALL_REAL, FLOATS, A, ErrorCase, Sample, add, arr

_F = np.float32


def _ones(*shape, dtype=_F):
    return A(np.ones(shape, dtype))


def _calls(shape, *calls, noncontig=True):
    """Samples calling the op on an input of ``shape`` with each call's extra args (a tuple) or
    keywords (a dict); each also on a non-contiguous input of that shape."""
    def gen(dtype, rng):
        out = []
        for c in calls:
            args, kw = ((), c) if isinstance(c, dict) else (tuple(c), {})
            out.append(Sample((A(arr(rng, shape, dtype)),) + args, kw, name=str(c)))
            if noncontig and len(shape) > 1:
                out.append(Sample((A(arr(rng, shape[::-1], dtype), noncontig=True),) + args, kw,
                                  name=f"noncontig {c}"))
        return out
    return gen


def _on(shapes_calls):
    """Samples from ``[(shape, args or kwargs), ...]``."""
    def gen(dtype, rng):
        out = []
        for shape, c in shapes_calls:
            args, kw = ((), c) if isinstance(c, dict) else (tuple(c), {})
            out.append(Sample((A(arr(rng, shape, dtype)),) + args, kw, name=f"{shape} {c}"))
        return out
    return gen


def _meth(name):
    return lambda m, x, *a, **k: getattr(x, name)(*a, **k)


# -- joining --------------------------------------------------------------------------------------

def _list_samples(shape_lists, dims=(None,)):
    def gen(dtype, rng):
        out = []
        for shapes in shape_lists:
            for d in dims:
                ts = [A(arr(rng, s, dtype)) for s in shapes]
                out.append(Sample((ts,) if d is None else (ts, d), name=f"{shapes} {d}"))
        out.append(Sample(([A(arr(rng, (3, 2), dtype), noncontig=True),
                            A(arr(rng, (2, 3), dtype))],), name="noncontig"))
        return out
    return gen


_STACKABLE = [[(3,), (3,)], [(), ()], [(2, 3), (2, 3)], [(2, 3, 2), (2, 3, 2)], [(0,), (0,)]]
for _n in ("hstack", "vstack", "row_stack", "dstack", "column_stack"):
    add(_n, samples=_list_samples(_STACKABLE), dtypes=ALL,
        errors=(ErrorCase(([],), match="non-empty"),))
add("hstack_mixed", fn=lambda m, ts: m.hstack(ts), samples=_list_samples(
    [[(2, 3), (2, 1)], [(), (3,)], [(2,), (3,)]]), dtypes=FLOATS)
add("vstack_promote", fn=lambda m, a, b: m.vstack([a, b]), samples=lambda d, r: [
    Sample((A(arr(r, (3,), d)), A(arr(r, (2, 3), "float64"))))], dtypes=ALL_REAL)
add("column_stack_2d", fn=lambda m, ts: m.column_stack(ts), samples=_list_samples(
    [[(2,), (2, 3), ()], [(3, 2), (3,)]]), dtypes=FLOATS)
for _n in ("concat", "concatenate"):
    add(_n, samples=_list_samples([[(2, 3), (1, 3)], [(2, 3), (2, 2)]], dims=(0, -1)),
        dtypes=FLOATS + ("int64", "bool"),
        errors=(ErrorCase(([_ones(2, 3), _ones(3, 2)],), match="Sizes of tensors must match"),))


def _atleast_samples(dtype, rng):
    out = [Sample((A(arr(rng, s, dtype)),), name=str(s)) for s in [(), (3,), (2, 3), (2, 1, 3),
                                                                  (1, 2, 3, 1), (0,)]]
    out.append(Sample((A(arr(rng, (3, 2), dtype), noncontig=True),), name="noncontig"))
    out.append(Sample((A(arr(rng, (), dtype)), A(arr(rng, (2,), dtype))), name="varargs"))
    out.append(Sample(([A(arr(rng, (), dtype)), A(arr(rng, (2, 2), dtype))],), name="list"))
    out.append(Sample(([A(arr(rng, (3,), dtype))],), name="list of one"))
    return out


for _n in ("atleast_1d", "atleast_2d", "atleast_3d"):
    add(_n, samples=_atleast_samples, dtypes=ALL)


def _block_diag_samples(dtype, rng):
    return [Sample((A(arr(rng, (2, 3), dtype)), A(arr(rng, (), dtype)), A(arr(rng, (3,), dtype)),
                    A(arr(rng, (0, 2), dtype)), A(arr(rng, (2, 2), dtype), noncontig=True))),
            Sample((A(arr(rng, (2, 2), dtype)),), name="one"),
            Sample((A(arr(rng, (2,), dtype)), A(arr(rng, (2,), "float64"))), name="promote"),
            Sample((), name="none")]


add("block_diag", samples=_block_diag_samples, dtypes=ALL,
    errors=(ErrorCase((_ones(2, 2, 2),), match="2 or fewer dimensions"),))

# -- splitting ------------------------------------------------------------------------------------

add("tensor_split", samples=_calls((7, 4), (3,), (2, 1), (1,), (8,), ([1, 5],), ([2, 2, 9], 0),
                                   ([-2],), ([],), ({"sections": 3, "dim": -1}),
                                   ({"indices": [1], "dim": 1})),
    dtypes=ALL, errors=(ErrorCase((_ones(3), 0), match="larger than 0"),
                        ErrorCase((A(np.ones((), _F)), 2), match="at least a 1-dimensional"),
                        ErrorCase((_ones(3), 2, 1), match="Dimension out of range")))


def _tensor_split_t(dtype, rng):
    x = arr(rng, (7, 4), dtype)
    return [Sample((A(x), A(np.array(idx, np.int64)), d), name=f"{idx}") for idx, d in
            [([1, 5], 0), (3, 0), ([2], 1), (2, -1), ([], 0)]]


add("tensor_split_tensor", fn=lambda m, x, t, d: m.tensor_split(x, t, d),
    samples=_tensor_split_t, dtypes=FLOATS + ("int64", "bool"),
    errors=(ErrorCase((_ones(4), A(np.array([1.0])), 0), match="long"),
            ErrorCase((_ones(4), A(np.array([[1]])), 0), match="one-dimensional")))
add("hsplit", samples=_on([((6,), (3,)), ((2, 6), (2,)), ((2, 6), ([1, 4],)),
                           ((2, 6, 2), (6,))]), dtypes=ALL,
    errors=(ErrorCase((_ones(2, 6), 4), match="not divisible"),
            ErrorCase((A(np.ones((), _F)), 1), match="at least 1 dimension")))
add("vsplit", samples=_on([((6, 2), (3,)), ((6, 2, 2), ([1, 4],)), ((4, 3), (1,))]), dtypes=ALL,
    errors=(ErrorCase((_ones(6), 2), match="at least 2 dimensions"),
            ErrorCase((_ones(5, 2), 2), match="not divisible")))
add("dsplit", samples=_on([((2, 2, 6), (3,)), ((1, 2, 4), ([1, 3],))]), dtypes=ALL,
    errors=(ErrorCase((_ones(2, 6), 2), match="at least 3 dimensions"),))
add("split_with_sizes", samples=_calls((5, 4), ([1, 4],), ([2, 2], 1), ([0, 5],),
                                       ([1, 1, 2], -1)),
    dtypes=ALL, errors=(ErrorCase((_ones(5), [2, 2]), match="sum exactly"),))

# -- repeating ------------------------------------------------------------------------------------

add("repeat", fn=_meth("repeat"), samples=_on(
    [((2, 3), (2, 1)), ((2, 3), (1, 2, 3)), ((3,), (2,)), ((3,), ((2, 2),)), ((), (2, 3)),
     ((0, 3), (2, 2)), ((2, 3), (0, 2)), ((2, 1, 2), (1, 2, 1, 2))]),
    dtypes=ALL, errors=(ErrorCase((_ones(2, 3), 2), match="can not be smaller"),
                        ErrorCase((_ones(3), -1), match="negative dimension")))
add("repeat_noncontig", fn=lambda m, x: x.repeat(2, 3), samples=lambda d, r: [
    Sample((A(arr(r, (3, 2), d), noncontig=True),))], dtypes=FLOATS)
add("tile", samples=_on([((2, 3), ((2,),)), ((2, 3), ((2, 1, 2),)), ((3,), ((2, 2),)),
                         ((), ((3,),)), ((2, 3), ((),)), ((0, 2), ((2, 2),))]), dtypes=ALL,
    errors=(ErrorCase((_ones(3), (2, -1)), match="negative dimension"),))


def _repeat_interleave_samples(dtype, rng):
    x = arr(rng, (2, 3), dtype)
    return [Sample((A(x), 2), name="int flat"),
            Sample((A(x), 2, 1), name="int dim"),
            Sample((A(x), 3, -2), {"output_size": 6}, name="output_size"),
            Sample((A(x), 0, 0), name="zero"),
            Sample((A(arr(rng, (), dtype)), 2), name="0d"),
            Sample((A(arr(rng, (3, 2), dtype), noncontig=True), 2, 0), name="noncontig"),
            Sample((A(x), A(np.array([1, 0, 2])), 1), name="tensor"),
            Sample((A(x), A(np.array([2, 1], np.int32)), 0), {"output_size": 3}, name="int32"),
            Sample((A(x), A(np.array(2))), name="0d repeats flat"),
            Sample((A(x), A(np.array([3])), 1), name="one repeat"),
            Sample((A(arr(rng, (0, 2), dtype)), A(np.array([], np.int64)), 0), name="empty")]


add("repeat_interleave", samples=_repeat_interleave_samples, dtypes=ALL,
    errors=(ErrorCase((_ones(3), -1), match="non-negative"),
            ErrorCase((_ones(3), A(np.array([1, 2]))), match="same size as input"),
            ErrorCase((_ones(3), A(np.array([1, -1, 1]))), match="can not be negative"),
            ErrorCase((_ones(3), A(np.array([[1, 1, 1]]))), match="0-dim or 1-dim"),
            ErrorCase((_ones(3), 2), {"output_size": 5}, match="Invalid output_size"),
            ErrorCase((_ones(3), A(np.array([1, 1, 1]))), {"output_size": 4},
                      match="does not match"),
            ErrorCase((A(np.ones((), _F)), 2, 0), match="Dimension out of range")))
add("repeat_interleave_counts", fn=lambda m, r, **k: m.repeat_interleave(r, **k),
    samples=lambda d, r: [Sample((A(np.array([1, 0, 3, 2], d)),)),
                          Sample((A(np.array([2, 1], d)),), {"output_size": 3}),
                          Sample((A(np.array([], d)),))],
    dtypes=("int32", "int64"), grad=False,
    errors=(ErrorCase((A(np.array([1.0, 2.0])),), match="not implemented for"),
            ErrorCase((A(np.array(2)),), match="1D vector"),
            ErrorCase((A(np.array([1, -1])),), match="can not be negative")))

# -- flipping and rotating ------------------------------------------------------------------------

add("fliplr", samples=_on([((2, 3), ()), ((2, 3, 2), ()), ((0, 2), ())]), dtypes=ALL,
    errors=(ErrorCase((_ones(3),), match=">= 2-d"),))
add("flipud", samples=_on([((2, 3), ()), ((3,), ()), ((0, 2), ())]), dtypes=ALL,
    errors=(ErrorCase((A(np.ones((), _F)),), match=">= 1-d"),))
add("flipud_noncontig", fn=lambda m, x: m.flipud(x), samples=_calls((2, 3), ()),
    dtypes=FLOATS)
add("roll", samples=_calls((3, 4), (1,), (-5,), (2, 0), (1, -1), ((1, 2), (0, 1)),
                           ((1, 1), (1, 1)), ((5,), (1,)), (1, ())),
    dtypes=ALL, inplace=None,
    errors=(ErrorCase((_ones(3, 4), (1, 2)), match="must align"),
            ErrorCase((_ones(3, 4), 1, (0, 1)), match="must align"),
            ErrorCase((_ones(3, 4), 1, 3), match="Dimension out of range"),
            ErrorCase((A(np.ones((), _F)), 1, 0), match="no dimensions")))
add("roll_0d_empty", fn=lambda m, x, *a: m.roll(x, *a), samples=_on(
    [((), (1,)), ((0, 3), (1, 0)), ((0, 3), (2,))]), dtypes=FLOATS)
add("rot90", samples=_calls((2, 3), (), (1,), (2,), (3,), (-1,), (0,), (5, (1, 0)),
                            (1, (-1, 0))),
    dtypes=ALL, errors=(ErrorCase((_ones(3),), match="total dims >= 2"),
                        ErrorCase((_ones(3, 3), 1, (0, 0)), match="dims to be different"),
                        ErrorCase((_ones(3, 3), 1, (0, 1, 2)), match="rotation dims == 2"),
                        ErrorCase((_ones(3, 3), 1, (0, 5)), match="Dimension out of range")))
add("rot90_3d", fn=lambda m, x, *a: m.rot90(x, *a), samples=_on(
    [((2, 3, 4), (1, (1, 2))), ((2, 3, 4), (3, (2, 0))), ((0, 2), (1,))]), dtypes=FLOATS)

# -- triangles and diagonals ----------------------------------------------------------------------

for _n in ("tril", "triu"):
    add(_n, samples=_calls((3, 4), (), (1,), (-1,), (5,), (-6,), {"diagonal": 2}),
        dtypes=ALL, inplace=_n + "_",
        errors=(ErrorCase((_ones(3),), match="at least 2 dimensions"),))
    add(_n + "_batch", fn=(lambda n: lambda m, x, *a: getattr(m, n)(x, *a))(_n), samples=_on(
        [((2, 3, 3), ()), ((2, 2, 3), (-1,)), ((0, 3, 3), ()), ((3, 0), ())]), dtypes=ALL_REAL,
        inplace=_n + "_")


def _tri_indices_samples(dtype, rng):
    return [Sample((r, c, o, dtype), name=f"{r},{c},{o}") for r, c, o in
            [(3, 3, 0), (3, 4, 1), (4, 3, -1), (3, 3, 5), (3, 3, -5), (0, 4, 0), (1, 1, 0),
             (5, 2, -2)]]


for _n in ("tril_indices", "triu_indices"):
    add(_n, fn=(lambda n: lambda m, r, c, o, dt: getattr(m, n)(r, c, o, dtype=getattr(m, dt)))(
        _n), samples=_tri_indices_samples, dtypes=("int32", "int64"), grad=False,
        errors=(ErrorCase((-1, 3, 0, "int64"), match="row must be non-negative"),
                ErrorCase((3, -1, 0, "int64"), match="col must be non-negative"),
                ErrorCase((3, 3, 0, "float32"), match="not implemented for 'Float'")))
    add(_n + "_default", fn=(lambda n: lambda m: getattr(m, n)(3, 2))(_n),
        samples=lambda d, r: [Sample(())], dtypes=("int64",), grad=False)

add("diag", samples=_on([((3,), ()), ((3,), (1,)), ((3,), (-2,)), ((3, 4), ()), ((3, 4), (1,)),
                         ((3, 4), (-2,)), ((3, 4), (9,)), ((0,), ()), ((0, 3), ())]), dtypes=ALL,
    errors=(ErrorCase((A(np.ones((), _F)),), match="1D or 2D"),
            ErrorCase((_ones(2, 2, 2),), match="1D or 2D")))
add("diag_noncontig", fn=lambda m, x, *a: m.diag(x, *a), samples=_calls((3, 4), (), (1,)),
    dtypes=FLOATS)
add("diag_embed", samples=_calls((2, 3), (), (1,), (-1, 0, 2), (0, 2, 0), (2, -1, 1)),
    dtypes=ALL, errors=(ErrorCase((_ones(3), 0, 0, 0), match="cannot be identical"),
                        ErrorCase((A(np.ones((), _F)),), match="out of range")))
add("diag_embed_1d", fn=lambda m, x, *a: m.diag_embed(x, *a), samples=_on(
    [((3,), ()), ((3,), (-2,)), ((0,), ())]), dtypes=FLOATS)
add("diagflat", samples=_on([((3,), ()), ((2, 2), (1,)), ((2, 2), (-1,)), ((), ()), ((0,), ())]),
    dtypes=ALL)
add("diagflat_noncontig", fn=lambda m, x: m.diagflat(x), samples=_calls((2, 3), ()),
    dtypes=FLOATS)


# -- scatters into views --------------------------------------------------------------------------

def _scatter_samples(cases):
    """``cases``: (input shape, src shape, extra args, noncontig input)."""
    def gen(dtype, rng):
        return [Sample((A(arr(rng, x, dtype), noncontig=nc), A(arr(rng, s, dtype))) + args,
                       name=f"{x} {args}") for x, s, args, nc in cases]
    return gen


_MISMATCH = ErrorCase((_ones(3, 3), _ones(2)), match="src size = [2]")
add("diagonal_scatter", samples=_scatter_samples(
    [((3, 4), (3,), (), False), ((3, 4), (3,), (1,), False), ((3, 4), (2,), (-1,), False),
     ((2, 3, 4), (4, 2), (0, 0, 1), False), ((2, 3, 4), (2, 2), (1, 2, 0), False),
     ((4, 3), (3,), (), True), ((3, 4), (0,), (5,), False)]), dtypes=ALL,
    errors=(_MISMATCH,))
add("select_scatter", samples=_scatter_samples(
    [((3, 4), (4,), (0, 1), False), ((3, 4), (3,), (1, -1), False),
     ((2, 3, 4), (2, 4), (1, 2), False), ((4, 3), (4,), (1, 0), True), ((3,), (), (0, 2), False)]),
    dtypes=ALL, errors=(ErrorCase((_ones(3, 3), _ones(2), 0, 0), match="src size = [2]"),
                        ErrorCase((_ones(3, 3), _ones(3), 0, 5), match="out of range")))
add("slice_scatter", samples=_scatter_samples(
    [((4, 3), (2, 3), (0, 1, 3), False), ((4, 3), (4, 1), (1, 2), False),
     ((4, 3), (2, 3), (0, None, None, 2), False), ((4, 3), (4, 3), (), False),
     ((5, 4), (2, 4), (0, -3, -1), False), ((3, 4), (3, 2), (1, 0, 4, 2), True),
     ((4, 3), (0, 3), (0, 3, 1), False), ((4, 3), (1, 3), (0, 3, 10), False)]), dtypes=ALL,
    errors=(ErrorCase((_ones(3, 3), _ones(2, 3), 0, 0, 1), match="src size = [2, 3]"),))
# PyTorch's gradient for as_strided_scatter's input is wrong (it is src's gradient placed in
# the window; torch.autograd.gradcheck fails on it): ember's is the true one, checked in
# test_shape_ops.py. Here only src requires grad.
def _as_strided_scatter_samples(dtype, rng):
    return [Sample((A(arr(rng, (3, 4), dtype), grad=False), A(arr(rng, s, dtype))) + args,
                   name=f"{args}") for s, args in
            [((2, 2), ((2, 2), (4, 1))), ((3,), ((3,), (5,))), ((2, 3), ((2, 3), (1, 2), 1)),
             ((4,), ((4,), (1,), 4))]]


add("as_strided_scatter", samples=_as_strided_scatter_samples, dtypes=ALL,
    errors=(ErrorCase((_ones(3, 3), _ones(2), (3,), (1,)), match="src size = [2]"),))


# -- grids and combinations -----------------------------------------------------------------------

def _grid_samples(dtype, rng):
    return [Sample((A(arr(rng, (3,), dtype)), A(arr(rng, (2,), dtype))), name="2"),
            Sample((A(arr(rng, (3,), dtype)), A(arr(rng, (), dtype)), A(arr(rng, (2,), dtype))),
                   name="3"),
            Sample((A(arr(rng, (4,), dtype)),), name="1"),
            Sample((A(arr(rng, (3,), dtype)), A(arr(rng, (0,), dtype))), name="empty")]


for _ix in ("ij", "xy"):
    add(f"meshgrid_{_ix}", fn=(lambda ix: lambda m, *ts: m.meshgrid(*ts, indexing=ix))(_ix),
        samples=_grid_samples, dtypes=ALL)
add("meshgrid", fn=lambda m, *ts: m.meshgrid(list(ts), indexing="xy"), samples=_grid_samples,
    dtypes=FLOATS, errors=(ErrorCase((_ones(2, 2),), match="0D or 1D"),
                           ErrorCase((_ones(2), A(np.ones(2, np.float64))), match="same dtype")))
add("meshgrid_bad_indexing", fn=lambda m, x: m.meshgrid(x, indexing="foo"),
    samples=lambda d, r: [], grad=False, errors=(ErrorCase((_ones(2),), match="received: foo"),))
add("cartesian_prod", samples=lambda d, r: [
    Sample((A(arr(r, (3,), d)), A(arr(r, (2,), d)))),
    Sample((A(arr(r, (2,), d)), A(arr(r, (2,), d)), A(arr(r, (2,), d)))),
    Sample((A(arr(r, (3,), d)),)), Sample((A(arr(r, (3,), d)), A(arr(r, (0,), d))))],
    dtypes=ALL, errors=(ErrorCase((_ones(2, 2), _ones(2)), match="1D vector"),))
add("combinations", samples=_on([((4,), ()), ((4,), (3,)), ((4,), (1,)), ((3,), (0,)),
                                 ((3,), (4,)), ((3,), (2, True)), ((3,), (3, True)), ((0,), ()),
                                 ((1,), ())]),
    dtypes=ALL, errors=(ErrorCase((_ones(2, 2),), match="1D vector"),
                        ErrorCase((_ones(3), -1), match="non-negative")))


# -- broadcasting ---------------------------------------------------------------------------------

add("broadcast_tensors", samples=lambda d, r: [
    Sample((A(arr(r, (3, 1), d)), A(arr(r, (4,), d)), A(arr(r, (), d)))),
    Sample((A(arr(r, (2, 3), d)),)), Sample((A(arr(r, (0, 1), d)), A(arr(r, (3,), d)))),
    Sample((A(arr(r, (3, 2), d), noncontig=True), A(arr(r, (2, 1, 1), d))))],
    dtypes=ALL, errors=(ErrorCase((_ones(3), _ones(4)), match="must match the size"),))
add("broadcast_shapes", fn=lambda m, *s: m.broadcast_shapes(*s), grad=False,
    samples=lambda d, r: [Sample(s) for s in [((3, 1), (4,)), (3, (2, 1)), ((2, 1, 3), (4, 1), ()),
                                               (), ((0, 1), (1, 5))]],
    dtypes=("float32",),
    errors=(ErrorCase(((2, 3), (4, 3)), match="Attempting to broadcast a dimension of length 4"),
            ErrorCase(((2, -1),), match="negative length")))


# -- copies, reshapes and aliases -----------------------------------------------------------------

add("narrow_copy", samples=_calls((4, 5), (0, 1, 2), (1, 3, 2)), dtypes=ALL,
    errors=(ErrorCase((_ones(3), 0, 2, 2), match="exceeds dimension size"),))
# PyTorch's NarrowCopyBackward0 fails (a shape error) for a negative start or an empty result;
# ember's gradient is checked by gradcheck in test_shape_ops.py
add("narrow_copy_neg", fn=lambda m, x, *a: m.narrow_copy(x, *a),
    samples=_calls((4, 5), (-1, 0, 0), (1, -2, 2)), dtypes=FLOATS, grad=False)
add("ravel", samples=_on([((2, 3), ()), ((), ()), ((0, 3), ())]), dtypes=ALL)
add("ravel_noncontig", fn=lambda m, x: x.ravel(), samples=_calls((2, 3), ()), dtypes=FLOATS)
add("view_as", fn=lambda m, x, s: x.view_as(m.empty(s)), samples=_on(
    [((2, 6), ((3, 4),)), ((4,), ((2, 2),)), ((), ((1, 1),))]), dtypes=ALL)
add("reshape_as", fn=lambda m, x, s: x.reshape_as(m.empty(s)), samples=_calls((2, 6), ((3, 4),)),
    dtypes=ALL)
add("expand_as", fn=lambda m, x, s: x.expand_as(m.empty(s)), samples=_on(
    [((3, 1), ((2, 3, 4),)), ((), ((2,),))]), dtypes=ALL,
    errors=(ErrorCase((_ones(3, 2), (3, 4)), match="must match"),))
for _n in ("swapaxes", "swapdims"):
    add(_n, samples=_calls((2, 3, 4), (0, 1), (-1, 0), (2, 2)), dtypes=ALL,
        errors=(ErrorCase((_ones(2, 3), 0, 2), match="Dimension out of range"),))
add("moveaxis", samples=_calls((2, 3, 4), (0, 2), ((0, 1), (2, 0)), (-1, 0)), dtypes=ALL,
    errors=(ErrorCase((_ones(2, 3), (0, 1), (0,)), match="same number of dims"),))
add("squeeze_dims", fn=lambda m, x, d: m.squeeze(x, d), samples=_on(
    [((2, 1, 3, 1), ((1, 3),)), ((2, 1, 3, 1), ((0, 1),)), ((2, 1, 3, 1), ((),)),
     ((2, 1, 3, 1), ((-1, -3),)), ((1,), ((0,),)), ((), ((0,),))]), dtypes=ALL,
    errors=(ErrorCase((_ones(2, 1), (0, 2)), match="Dimension out of range"),
            ErrorCase((_ones(2, 1), (1, 1)), match="appears multiple times")))
add("unflatten_more", fn=lambda m, x, *a: x.unflatten(*a), samples=_on(
    [((2, 12), (1, (3, 4))), ((2, 12), (-1, (2, -1, 3))), ((6,), (0, (1, 6, 1)))]), dtypes=FLOATS,
    errors=(ErrorCase((_ones(2, 12), 1, (5, 2)), match="don't multiply up"),))
