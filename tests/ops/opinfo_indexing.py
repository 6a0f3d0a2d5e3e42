"""Op table entries: indexing ops (see ``opinfo.py``)."""

from __future__ import annotations

import numpy as np

from .opinfo import ALL, ALL_REAL, FLOATS, HALF, INTS, A, ErrorCase, Sample, add, arr

F32 = np.float32


def _i(*v):
    return A(np.array(v, dtype=np.int64))


def _ones(*shape, dtype=F32):
    return A(np.ones(shape, dtype))


# -- x[index] and x[index] = v: PyTorch's reading of every kind of index --------------------------

def _mask(shape, seed=1):
    return A(np.random.default_rng(seed).random(shape) > 0.4)


_GET = [  # indices into a (4, 5, 3) tensor
    (1, slice(None), [0, 2]),  # an int among tensor indices is a select (NumPy: broadcast)
    ([0, 1], None, [0, 1]),  # separated by None: the indexed dims go first
    ([0, 1], slice(1, 3), [0, 2]),  # separated by a slice: first
    (slice(None), [0, 2], [1, 1]),  # adjacent: in place
    (Ellipsis, [0, 2]),
    ([[0, 1], [3, 2]], slice(None), -1),
    (_i(-1, -4),),
    (_mask((4, 5)),),  # a mask over two dims
    (slice(None), _mask((5, 3))),
    (_mask((4,)), slice(1, None), [2]),
    (True,), (False,), (A(np.array(True)),), ([0, 1], True),
    ([],), (A(np.array([1, 3], np.int32)),),
    (None, [0, 1], None, [0, 2]),
    (A(np.array([[0], [2]])), A(np.array([0, 1, 4]))),  # index tensors broadcast
]


_SMALL_GET = [(1, slice(None), [0, 1]), ([0, 2], None, [1, 0]), (_mask((3, 2)),)]


def _getitem_samples(dtype, rng):
    # small ones first: gradcheck takes the first few with at most 30 elements
    out = [Sample((A(arr(rng, (3, 2, 2), dtype)), i), name=f"small {k}")
           for k, i in enumerate(_SMALL_GET)]
    out += [Sample((A(arr(rng, (4, 5, 3), dtype)), i), name=str(k)) for k, i in enumerate(_GET)]
    out.append(Sample((A(arr(rng, (3, 5, 4), dtype), noncontig=True), ([0, 3], 1)),
                      name="noncontig"))
    out.append(Sample((A(arr(rng, (), dtype)), (_mask(()),)), name="0d mask"))
    out.append(Sample((A(arr(rng, (0, 3), dtype)), ([], 1)), name="empty"))
    return out


def _get(m, x, idx):
    return x[idx]


_IDX_ERRORS = (
    ErrorCase((_ones(4, 5), ([0, 3], [5, 0])), match="out of bounds for dimension 1 with size 5"),
    ErrorCase((_ones(4, 5), ([0, 1], [0, 1, 2])), match="[2], [3]"),
    ErrorCase((_ones(4, 5), (_mask((5,)),)), match="The shape of the mask [5] at index 0"),
    ErrorCase((_ones(4, 5), (A(np.array([0, 1], np.int16)),)), match="long, int, byte or bool"),
    ErrorCase((_ones(4, 5), (A(np.array([0.0])),)), match="long, int, byte or bool"),
    ErrorCase((_ones(4, 5), (0, 0, [0])), match="too many indices"),
    ErrorCase((_ones(4, 5), (slice(None), 7)), match="out of bounds for dimension 1 with size 5"),
)
add("getitem_torch", fn=_get, samples=_getitem_samples, dtypes=ALL, errors=_IDX_ERRORS)


def _set(m, x, idx, v):
    y = x.clone()
    y[idx] = v
    return y


def _setitem_samples(dtype, rng):
    def x():
        return A(arr(rng, (4, 5, 3), dtype))

    def v(*shape):
        return A(arr(rng, shape, dtype))

    small = A(arr(rng, (2, 2, 2), dtype))
    return [
        Sample((small, ([1, 0], 1), v(1, 2)), name="small"),
        Sample((small, (_mask((2, 2)),), v()), name="small mask"),
        Sample((small, (slice(None), [1], [0, 1]), v(2, 1)), name="small broadcast"),
        Sample((x(), (1, slice(None), [0, 2]), v(5, 2)), name="int among tensors"),
        Sample((x(), ([0, 1], slice(1, 3), [0, 2]), v(2)), name="separated, broadcast"),
        Sample((x(), (_mask((4, 5)),), v(3)), name="mask"),
        Sample((x(), (_mask((4,)),), 1), name="mask scalar"),
        Sample((x(), ([2, 0, 2],), v(3, 5, 3)), name="duplicates"),
        Sample((x(), (Ellipsis, [1]), v(4, 5, 1)), name="ellipsis"),
        Sample((x(), ([[0], [1]], [1, 2]), v(1, 1, 3)), name="leading ones"),
        Sample((x(), (slice(1, 3), 2), v(3)), name="basic"),
        Sample((x(), (0, 1), v()), name="basic 0d value"),
        Sample((x(), ([0], [1], [2]), 2.5), name="scalar value"),
    ]


add("setitem", fn=_set, samples=_setitem_samples, dtypes=ALL_REAL, errors=(
    ErrorCase((_ones(4, 5), ([0, 1],), A(np.ones(3, F32))), match="cannot be broadcast"),
    ErrorCase((_ones(4, 5), ([0, 1],), A(np.ones(5, np.float64))), match="dtypes match"),
))


def _iadd(m, x, idx, v):
    y = x.clone()
    y[idx] += v
    return y


add("setitem_iadd", fn=_iadd, samples=lambda d, r: [
    Sample((A(arr(r, (5, 3), d)), [0, 0, 4], A(arr(r, (3, 3), d))), name="duplicates"),
    Sample((A(arr(r, (5, 3), d)), (slice(1, 3), 0), A(arr(r, (2,), d))), name="basic"),
    Sample((A(arr(r, (5, 3), d)), _mask((5, 3)), 1), name="mask")], dtypes=INTS[1:] + FLOATS,
    skip_gradcheck_samples=("duplicates",))  # torch's gradient counts every duplicate too


# -- index_put ------------------------------------------------------------------------------------

def _index_put_samples(dtype, rng):
    x = arr(rng, (4, 3), dtype)
    return [
        Sample((A(x), (_i(0, 2),), A(arr(rng, (2, 3), dtype))), name="rows"),
        Sample((A(x), (_i(0, 0, 3), _i(1, 1, 2)), A(arr(rng, (3,), dtype)), True),
               name="accumulate duplicates"),
        Sample((A(x), (_i(0, 0, 3), _i(1, 1, 2)), A(arr(rng, (), dtype)), True), name="0d"),
        Sample((A(x), (_mask((4, 3)),), A(arr(rng, (), dtype))), name="mask"),
        Sample((A(arr(rng, (3, 4), dtype), noncontig=True), (_i(1),), A(arr(rng, (3,), dtype)),
                True), name="noncontig"),
    ]


add("index_put", samples=_index_put_samples, dtypes=ALL_REAL, inplace="index_put_", errors=(
    ErrorCase((_ones(4, 3), (_i(0),), A(np.ones(3))), match="dtypes match"),
    ErrorCase((_ones(4, 3), (_i(0),) * 3, _ones(3)), match="too many indices"),
    ErrorCase((_ones(4, 3), (_i(0), 1), _ones(3)), match="expected Tensor"),
    ErrorCase((_ones(4, 3), (_i(5),), _ones(3)), match="out of bounds"),
))


# -- gather / scatter family ----------------------------------------------------------------------

add("gather_more", fn=lambda m, *a, **k: m.gather(*a, **k), samples=lambda d, r: [
    Sample((A(arr(r, (3, 4), d)), 1, A(np.array([[0, 3], [1, 1]], np.int32))), name="int32"),
    Sample((A(arr(r, (4, 3), d), noncontig=True), 0, A(np.array([[2, 0, 1, 1]]))),
           name="noncontig"),
    Sample((A(arr(r, (), d)), 0, A(np.array(0))), name="0d"),
    Sample((A(arr(r, (3, 4), d)), -1, A(np.array([[-1, 0]]))), {"sparse_grad": False},
           name="negative"),
    Sample((A(arr(r, (3, 4), d)), 0, A(np.zeros((0, 4), np.int64))), name="empty")],
    dtypes=ALL, errors=(
        ErrorCase((_ones(3, 4), 0, A(np.array([[0]], np.int16))), match="int32/int64"),
        ErrorCase((_ones(3, 4), 0, A(np.array([0]))), match="same number of dimensions"),
        ErrorCase((_ones(3, 4), 2, A(np.array([[0]]))), match="Dimension out of range")))


def _scatter_reduce_samples(reduce):
    def gen(dtype, rng):
        x = arr(rng, (3, 4), dtype, 0.5, 2)
        idx = A(np.array([[2, 0, 2, 1], [2, 1, 0, 1]]))
        out = [Sample((A(x), 0, idx, A(arr(rng, (2, 4), dtype, 0.5, 2)), reduce), name="dim0"),
               Sample((A(x), 0, idx, A(arr(rng, (2, 4), dtype, 0.5, 2)), reduce),
                      {"include_self": False}, name="exclude self"),
               Sample((A(x), 1, A(np.array([[3, 3, 0]] * 2)), A(arr(rng, (2, 3), dtype, 0.5, 2)),
                       reduce), name="dim1"),
               Sample((A(x), -1, A(np.array([[0, 0], [1, 3], [2, 2]])),
                       A(arr(rng, (3, 2), dtype, 0.5, 2)), reduce), {"include_self": False},
                      name="exclude self dim -1")]
        if reduce == "prod" and dtype in FLOATS:
            z = np.array([[0.0, 1.5, 2.0, 0.0], [0.0, 0.7, 1.2, 0.0]], dtype)
            out.append(Sample((A(x), 0, idx, A(z), reduce), name="zeros"))
            out.append(Sample((A(np.array([[0.0, 1.0], [2.0, 0.0]], dtype)), 0,
                               A(np.array([[1, 1]])), A(np.array([[1.5, 0.0]], dtype)), reduce),
                              name="zero in self"))
        return out
    return gen


_SCATTER_ERRORS = (
    ErrorCase((_ones(3, 4), 0, A(np.array([[0]])), A(np.ones((1, 1))), "sum"),
              match="dtype"),
    ErrorCase((_ones(3, 4), 0, A(np.array([[0]])), _ones(1, 1), "foo"), match="reduce argument"),
    ErrorCase((_ones(3, 4), 0, A(np.array([[3]])), _ones(1, 1), "sum"), match="out of bounds"))
for _red in ("sum", "prod", "mean", "amax", "amin"):
    add("scatter_reduce" if _red == "sum" else f"scatter_reduce_{_red}",
        fn=lambda m, *a, **k: m.scatter_reduce(*a, **k), samples=_scatter_reduce_samples(_red),
        dtypes=INTS[1:] + HALF + FLOATS, atol=1e-4, rtol=1e-4,
        inplace="scatter_reduce_" if _red in ("sum", "amax") else None,
        errors=_SCATTER_ERRORS if _red == "sum" else ())


def _scatter_more_samples(dtype, rng):
    x = arr(rng, (3, 4), dtype)
    idx = np.array([[2, 0, 2, 1]])
    return [Sample((A(x), 0, A(idx), A(arr(rng, (1, 4), dtype))), {"reduce": "add"}, name="add"),
            Sample((A(x), 0, A(idx)), {"value": 2, "reduce": "multiply"}, name="multiply value"),
            Sample((A(x), 1, A(idx.astype(np.int32) % 4)), {"value": 3}, name="int32 value"),
            Sample((A(arr(rng, (4, 3), dtype), noncontig=True), 0, A(idx % 3),
                    A(arr(rng, (2, 4), dtype))), {"reduce": "multiply"}, name="noncontig")]


add("scatter_more", fn=lambda m, *a, **k: m.scatter(*a, **k), samples=_scatter_more_samples,
    dtypes=INTS[1:] + FLOATS, grad=False, inplace="scatter_", errors=(
        ErrorCase((_ones(3, 4), 0, A(np.array([[0]])), A(np.ones((1, 1)))), match="dtype"),
        ErrorCase((_ones(3, 4), 0, A(np.array([[0]])), _ones(1, 1)), {"reduce": "mean"},
                  match="add or multiply")))


# -- the index_* family ---------------------------------------------------------------------------

def _index_dim_samples(extra=None, unique=False):
    """Samples of ``op(x, dim, index, *extra(dtype, rng, source shape))`` over several dims
    and shapes; by default the extra argument is a source tensor."""
    def gen(dtype, rng):
        def s(shape):
            return extra(dtype, rng) if extra else (A(arr(rng, shape, dtype)),)
        return [
            Sample((A(arr(rng, (4, 3), dtype)), 0, _i(3, 0, 2) if unique else _i(3, 0, 3, 1))
                   + s((3 if unique else 4, 3)), name="dim0"),
            Sample((A(arr(rng, (4, 3), dtype)), 1, _i(2, 0)) + s((4, 2)), name="dim1"),
            Sample((A(arr(rng, (2, 4, 3), dtype)), -2, _i(1)) + s((2, 1, 3)), name="3d"),
            Sample((A(arr(rng, (3, 4), dtype), noncontig=True), 1, _i(0, 2)) + s((4, 2)),
                   name="noncontig"),
            Sample((A(arr(rng, (), dtype)), 0, _i(0)) + s(()), name="0d"),
            Sample((A(arr(rng, (4, 3), dtype)), 0, A(np.zeros(0, np.int64))) + s((0, 3)),
                   name="empty index"),
        ]
    return gen


add("index_select", samples=_index_dim_samples(lambda d, r: ()), dtypes=ALL, errors=(
    ErrorCase((_ones(3, 4), 0, A(np.array([[0]]))), match="vector"),
    ErrorCase((_ones(3, 4), 0, _i(3)), match="index out of range"),
    ErrorCase((_ones(3, 4), 0, A(np.array([0.0]))), match="int32 or int64")))
add("index_select_int32", fn=lambda m, *a: m.index_select(*a), samples=lambda d, r: [
    Sample((A(arr(r, (4, 3), d)), 0, A(np.array([1, 1, 0], np.int32)))),
    Sample((A(arr(r, (4, 3), d)), 1, A(np.array(2))), name="0d index")], dtypes=FLOATS)
add("index_add", samples=_index_dim_samples(), dtypes=INTS[1:] + HALF + FLOATS + ("complex64",),
    inplace="index_add_", atol=1e-3, errors=(
        ErrorCase((_ones(3, 4), 0, _i(0), A(np.ones((1, 4)))), match="same scalar type"),
        ErrorCase((_ones(3, 4), 0, _i(0), _ones(1, 3)), match="source tensor shape"),
        ErrorCase((_ones(3, 4), 0, _i(3), _ones(1, 4)), match="out of bounds"),
        ErrorCase((_ones(3, 4), 0, A(np.array([[0]])), _ones(1, 4)), match="vector")))
add("index_add_alpha", fn=lambda m, *a: m.index_add(*a, alpha=2), samples=_index_dim_samples(),
    dtypes=INTS[1:] + FLOATS)
add("index_copy", samples=_index_dim_samples(unique=True), dtypes=ALL, inplace="index_copy_",
    errors=(ErrorCase((_ones(3, 4), 0, _i(1, 2), _ones(1, 4)), match="Number of indices"),
            ErrorCase((_ones(3, 4), 0, _i(0), A(np.ones((1, 4)))), match="same dtype"),
            ErrorCase((_ones(3, 4), 0, A(np.array([0], np.int32)), _ones(1, 4)), match="long")))


def _fill_value(dtype, rng):
    return (-1.5 if dtype in FLOATS + HALF else 2,)


add("index_fill", samples=_index_dim_samples(_fill_value), dtypes=ALL_REAL,
    inplace="index_fill_", errors=(
        ErrorCase((_ones(3, 4), 0, _i(0), _ones(1)), match="0-dimensional"),
        ErrorCase((_ones(3, 4), 1, _i(4), 1.0), match="out of bounds"),
        ErrorCase((_ones(3, 4), 0, A(np.array([0], np.int32)), 1.0), match="int64")))
add("index_fill_negative", fn=lambda m, *a: m.index_fill(*a), samples=lambda d, r: [
    Sample((A(arr(r, (4, 3), d)), 1, _i(-1, 0), 2))], dtypes=INTS[1:] + FLOATS)
add("index_fill_tensor", fn=lambda m, *a: m.index_fill(*a),
    samples=_index_dim_samples(lambda d, r: (A(arr(r, (), d)),)), dtypes=FLOATS)


def _index_reduce_samples(reduce):
    def gen(dtype, rng):
        out = []
        for inc in (True, False):
            for x, dim, idx, s in [((4, 3), 0, [3, 0, 3, 1], (4, 3)), ((3, 4), 1, [2, 2], (3, 2)),
                                   ((), 0, [0], ())]:
                out.append(Sample((A(arr(rng, x, dtype, 0.5, 2)), dim, A(np.array(idx)),
                                   A(arr(rng, s, dtype, 0.5, 2)), reduce),
                                  {"include_self": inc}, name=f"{x} {inc}"))
        if reduce == "prod" and dtype in FLOATS:
            z = np.array([[0.0, 1.5], [0.5, 0.0], [0.0, 2.0]], dtype)
            out.append(Sample((A(arr(rng, (2, 2), dtype)), 0, _i(1, 0, 1), A(z), reduce),
                              name="zeros"))
        return out
    return gen


for _red in ("prod", "mean", "amax", "amin"):
    add("index_reduce" if _red == "prod" else f"index_reduce_{_red}",
        fn=lambda m, *a, **k: m.index_reduce(*a, **k), samples=_index_reduce_samples(_red),
        dtypes=INTS[1:] + HALF + FLOATS, atol=1e-4, rtol=1e-4,
        inplace="index_reduce_" if _red in ("prod", "mean") else None,
        errors=() if _red != "prod" else (
            ErrorCase((_ones(3, 4), 0, _i(0), _ones(1, 4), "sum"), match="Expected reduce"),
            ErrorCase((_ones(3, 4), 0, _i(3), _ones(1, 4), "prod"), match="out of range"),
            ErrorCase((_ones(3, 4), 0, _i(0), A(np.ones((1, 4))), "prod"), match="scalar type")))


# -- take / put -----------------------------------------------------------------------------------

add("take_more", fn=lambda m, *a: m.take(*a), samples=lambda d, r: [
    Sample((A(arr(r, (4, 3), d), noncontig=True), _i(0, 11, -1, 5))),
    Sample((A(arr(r, (), d)), _i(0, 0)), name="0d"),
    Sample((A(arr(r, (3,), d)), A(np.array(1))), name="0d index")], dtypes=ALL, errors=(
        ErrorCase((_ones(3, 4), A(np.array([0], np.int32))), match="long tensor"),
        ErrorCase((_ones(3, 4), _i(12)), match="out of range"),
        ErrorCase((A(np.ones(0, F32)), _i(0)), match="empty")))


def _put_samples(dtype, rng):
    return [Sample((A(arr(rng, (3, 4), dtype)), A(np.array([[0, 10], [-1, 5]])),
                    A(arr(rng, (4,), dtype))), name="reshaped source"),
            Sample((A(arr(rng, (3, 4), dtype)), _i(0, 0, 2), A(arr(rng, (3,), dtype)), True),
                   name="accumulate"),
            Sample((A(arr(rng, (4, 3), dtype), noncontig=True), _i(1, 7),
                    A(arr(rng, (2,), dtype))), name="noncontig"),
            Sample((A(arr(rng, (), dtype)), _i(0), A(arr(rng, (), dtype))), name="0d")]


add("put", samples=_put_samples, dtypes=ALL_REAL, inplace="put_", errors=(
    ErrorCase((_ones(3, 4), _i(0, 1), _ones(3)), match="same number of elements"),
    ErrorCase((_ones(3, 4), _i(0), A(np.ones(1))), match="same dtype"),
    ErrorCase((_ones(3, 4), _i(12), _ones(1)), match="out of range")))


def _take_along_samples(dtype, rng):
    x = A(arr(rng, (3, 4), dtype))
    return [Sample((x, A(np.array([[0], [3], [1]])), 1), name="dim1"),
            Sample((x, A(np.array([[0, 1]])), 1), name="broadcast index"),
            Sample((x, A(np.array([[2], [0]])), -2), name="broadcast input"),
            Sample((x, A(np.array([[0], [11], [-1]]))), name="flat"),
            Sample((A(arr(rng, (4, 3), dtype), noncontig=True), A(np.array([[1, 0, 2, 2]])), 0),
                   name="noncontig")]


add("take_along_dim", samples=_take_along_samples, dtypes=ALL, errors=(
    ErrorCase((_ones(3, 4), A(np.array([[0]], np.int32)), 1), match="Long"),
    ErrorCase((_ones(3, 4), _i(0), 1), match="same number of dimensions")))


# -- masked ---------------------------------------------------------------------------------------

def _masked_samples(with_source):
    def gen(dtype, rng):
        def src():
            return (A(arr(rng, (15,), dtype)),) if with_source else ()
        return [Sample((A(arr(rng, (3, 4), dtype)), _mask((3, 4))) + src(), name="same shape"),
                Sample((A(arr(rng, (3, 4), dtype)), _mask((4,))) + src(), name="broadcast mask"),
                Sample((A(arr(rng, (4,), dtype)), _mask((3, 4))) + src(), name="broadcast self"),
                Sample((A(arr(rng, (4, 3), dtype), noncontig=True), _mask((3, 1))) + src(),
                       name="noncontig"),
                Sample((A(arr(rng, (), dtype)), A(np.array(True))) + src(), name="0d"),
                Sample((A(arr(rng, (0, 3), dtype)), _mask((3,))) + src(), name="empty")]
    return gen


add("masked_select", samples=_masked_samples(False), dtypes=ALL, errors=(
    ErrorCase((_ones(3), A(np.ones(3, np.int64))), match="BoolTensor"),
    ErrorCase((_ones(3, 4), _mask((3,))), match="must match")))
add("masked_scatter", samples=_masked_samples(True), dtypes=ALL, inplace="masked_scatter_",
    errors=(ErrorCase((_ones(3, 4), A(np.ones((3, 4), bool)), _ones(5)), match="Number of"),
            ErrorCase((_ones(3), A(np.ones(3, bool)), A(np.ones(3))), match="same dtypes")))


# -- nonzero, searchsorted ------------------------------------------------------------------------

def _nonzero_samples(dtype, rng):
    return [Sample((A(arr(rng, s, dtype, -1, 1)),), name=str(s)) for s in
            [(3, 4), (5,), (), (0, 3), (2, 3, 2)]] + [
        Sample((A(np.zeros((), dtype)),), name="0d zero"),
        Sample((A(arr(rng, (4, 3), dtype), noncontig=True),), name="noncontig")]


add("nonzero", samples=_nonzero_samples, dtypes=ALL, grad=False)
add("nonzero_tuple", fn=lambda m, x: m.nonzero(x, as_tuple=True), samples=_nonzero_samples,
    dtypes=ALL_REAL, grad=False)
add("argwhere", samples=_nonzero_samples, dtypes=ALL_REAL, grad=False)


def _sorted(rng, shape, dtype):
    return np.sort(arr(rng, shape, dtype, -3, 3), axis=-1)


def _searchsorted_samples(dtype, rng):
    seq, seq2 = _sorted(rng, (6,), dtype), _sorted(rng, (2, 5), dtype)
    vals = A(arr(rng, (3, 4), dtype, -3, 3))
    out = [Sample((A(seq), vals), name="1d"),
           Sample((A(seq), vals), {"right": True}, name="right"),
           Sample((A(seq), vals), {"side": "right", "out_int32": True}, name="side"),
           Sample((A(seq2), A(arr(rng, (2, 3), dtype, -3, 3))), name="rows"),
           Sample((A(seq2), A(arr(rng, (2, 3), dtype, -3, 3))), {"right": True}, name="rows right"),
           Sample((A(seq), 1), name="scalar"),
           Sample((A(seq), A(seq)), name="equal values"),
           Sample((A(seq), A(seq)), {"side": "right"}, name="equal values right"),
           Sample((A(np.zeros(0, dtype)), vals), name="empty sequence"),
           Sample((A(seq), A(arr(rng, (), dtype))), name="0d value")]
    perm = rng.permutation(6)
    out.append(Sample((A(seq[perm]), vals), {"sorter": A(np.argsort(perm))}, name="sorter"))
    return out


add("searchsorted", samples=_searchsorted_samples, dtypes=INTS[1:] + HALF + FLOATS, grad=False,
    errors=(ErrorCase((_ones(3), _ones(2)), {"side": "left", "right": True}, match="opposites"),
            ErrorCase((_ones(3), _ones(2)), {"side": "middle"}, match="side can only"),
            ErrorCase((_ones(2, 3), _ones(3, 2)), match="first N-1 dimensions"),
            ErrorCase((A(np.ones((), F32)), _ones(2)), match="positive dimension"),
            ErrorCase((_ones(3), _ones(2)), {"sorter": _i(0, 1)}, match="same size"),
            ErrorCase((_ones(3), _ones(2)), {"sorter": _i(0, 1, 3)}, match="out of range")))
add("searchsorted_nan", fn=lambda m, *a, **k: m.searchsorted(*a, **k), samples=lambda d, r: [
    Sample((A(np.array([1.0, 3.0, np.nan], d)), A(np.array([np.nan, 2.0, 5.0], d))), k,
           name=str(k)) for k in ({}, {"right": True})] + [
    Sample((A(np.array([[1.0, np.nan], [0.0, 2.0]], d)), A(np.array([[np.nan], [1.0]], d))),
           name="rows")], dtypes=FLOATS, grad=False)
add("bucketize", samples=lambda d, r: [
    Sample((A(arr(r, (3, 4), d, -3, 3)), A(_sorted(r, (5,), d)))),
    Sample((A(arr(r, (3, 4), d, -3, 3)), A(_sorted(r, (5,), d))), {"right": True,
                                                                     "out_int32": True}),
    Sample((2, A(_sorted(r, (5,), d))), name="scalar")], dtypes=INTS[1:] + FLOATS, grad=False,
    errors=(ErrorCase((_ones(3), _ones(2, 2)), match="must be 1 dimension"),))
