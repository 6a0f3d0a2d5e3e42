"""Creation functions against real PyTorch: values bit for bit, dtypes, strides and errors.

``check(program)`` runs ``program(torch)`` and ``program(ember)`` and compares what they return
or raise; the other Tensor-API test files use it too.
"""

from __future__ import annotations

import itertools
import warnings

import ml_dtypes
import numpy as np
import pytest
import torch

import ember


def _host(t) -> np.ndarray:
    t = t.detach()
    if t.dtype in (torch.bfloat16, ember.bfloat16):
        a = np.asarray(t.float().numpy() if isinstance(t, torch.Tensor) else t.numpy())
        return a.astype(ml_dtypes.bfloat16)
    return np.asarray(t.resolve_conj().numpy() if isinstance(t, torch.Tensor) else t.numpy())


def norm(v):
    """A comparable form of a result: tensors by dtype, shape, strides and exact bits."""
    if isinstance(v, (torch.Tensor, ember.Tensor)):
        a = _host(v)
        bits = a.view(f"u{a.itemsize}") if a.dtype.kind in "fc" or a.itemsize == 2 else a
        return ("tensor", str(v.dtype).split(".")[-1], tuple(v.shape), tuple(v.stride()),
                v.requires_grad, bits.tolist())
    if isinstance(v, (torch.Size, ember.Size)):
        return ("size", tuple(v))
    if isinstance(v, (torch.dtype, ember.dtype, torch.device, ember.device, torch.layout,
                      ember.layout, torch.memory_format, ember.memory_format)):
        return repr(v).replace("torch.", "ember.")
    if isinstance(v, (tuple, list)):
        return type(v)(norm(x) for x in v)
    if isinstance(v, str):
        return v.replace("torch.", "ember.").replace("torch", "ember")
    if isinstance(v, float) and v != v:
        return "nan"
    return v


def run(program, lib):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return ("ok", norm(program(lib)))
        except Exception as e:  # noqa: BLE001 - the exception is what is compared
            return ("raises", type(e).__name__, norm(str(e)))


def check(program, *, message: bool = True):
    """``program(torch)`` and ``program(ember)`` return equal results or raise alike: the same
    exception type, ember's message containing torch's (ember's ops name the op and inputs)."""
    want, got = run(program, torch), run(program, ember)
    if want[0] == got[0] == "raises" and want[1] == got[1]:
        if not message or want[2] in got[2]:
            return
    assert got == want, f"\ntorch: {want}\nember: {got}"


@pytest.fixture(autouse=True)
def _restore_defaults():
    yield
    ember.set_default_dtype(ember.float32)
    torch.set_default_dtype(torch.float32)


# -- tensor() -----------------------------------------------------------------------------------

TENSOR_CASES = {
    "nested": lambda m: m.tensor([[1, 2], [3, 4]]),
    "tuple": lambda m: m.tensor(((1, 2), (3, 4))),
    "bool_int": lambda m: m.tensor([True, 2]),
    "int_float": lambda m: m.tensor([1, 2.5]),
    "float_complex": lambda m: m.tensor([1.5, 2j]),
    "bool_complex": lambda m: m.tensor([[True], [2j]]),
    "bools": lambda m: m.tensor([True, False]),
    "empty": lambda m: m.tensor([]),
    "empty_2d": lambda m: m.tensor([[], []]),
    "empty_nested": lambda m: m.tensor([[[]]]),
    "empty_ragged": lambda m: m.tensor([[], [1]]),
    "empty_int": lambda m: m.tensor([], dtype=m.int32),
    "scalar": lambda m: m.tensor(3.5),
    "scalar_int": lambda m: m.tensor(-7),
    "scalar_complex": lambda m: m.tensor(1 - 2j),
    "deep": lambda m: m.tensor([[[[1]]]]),
    "range": lambda m: m.tensor(range(3)),
    "memoryview": lambda m: m.tensor(memoryview(b"ab")),
    "bytearray": lambda m: m.tensor(bytearray(b"ab")),
    "size": lambda m: m.tensor(m.Size([2, 3])),
    "ragged": lambda m: m.tensor([[1, 2], [3]]),
    "ragged_deep": lambda m: m.tensor([[[1], [2]], [[3], [4, 5]]]),
    "ragged_longer": lambda m: m.tensor([[1, 2], [3, 4, 5]]),
    "ragged_scalar_then_list": lambda m: m.tensor([1, [2, 3]]),
    "ragged_list_then_scalar": lambda m: m.tensor([[1, 2], 3]),
    "str": lambda m: m.tensor("abc"),
    "bytes": lambda m: m.tensor(b"ab"),
    "str_in_list": lambda m: m.tensor(["a"]),
    "empty_str_in_list": lambda m: m.tensor([""]),
    "none": lambda m: m.tensor(None),
    "none_in_list": lambda m: m.tensor([None]),
    "none_typed": lambda m: m.tensor([None], dtype=m.float32),
    "dict": lambda m: m.tensor({}),
    "generator": lambda m: m.tensor(x for x in range(3)),
    "np_scalar_f32": lambda m: m.tensor(np.float32(1.5)),
    "np_scalar_i16": lambda m: m.tensor(np.int16(3)),
    "np_scalar_u8": lambda m: m.tensor(np.uint8(3)),
    "np_scalar_bool": lambda m: m.tensor(np.bool_(True)),
    "np_scalar_c64": lambda m: m.tensor(np.complex64(1j)),
    "np_scalars_f32_int": lambda m: m.tensor([np.float32(1.5), 2]),
    "np_scalars_f64_f32": lambda m: m.tensor([1.5, np.float64(1.5), np.float32(2)]),
    "np_scalars_i16_int": lambda m: m.tensor([np.int16(1), 2]),
    "np_scalars_i16_float": lambda m: m.tensor([np.int16(1), 2.5]),
    "np_scalars_u8_i8": lambda m: m.tensor([np.uint8(1), np.int8(2)]),
    "np_scalars_f16": lambda m: m.tensor([np.float16(1), 1]),
    "np_f32_into_int": lambda m: m.tensor([np.float32(2.5)], dtype=m.int32),
    "np_f64_into_int": lambda m: m.tensor([np.float64(2.7)], dtype=m.int32),
    "zero_d_tensors": lambda m: m.tensor([m.tensor(1.5), m.tensor(2.5)]),
    "zero_d_int16": lambda m: m.tensor([m.tensor(1, dtype=m.int16), 2]),
    "zero_d_int16_float": lambda m: m.tensor([m.tensor(1, dtype=m.int16), 2.5]),
    "zero_d_float64": lambda m: m.tensor([m.tensor(1, dtype=m.float64), 2]),
    "zero_d_bool": lambda m: m.tensor([m.tensor(True), False]),
    "one_elem_tensors": lambda m: m.tensor([m.tensor([1.5]), m.tensor([2.5])]),
    "one_elem_int": lambda m: m.tensor([m.tensor([3])], dtype=m.int64),
    "multi_elem_tensors": lambda m: m.tensor([m.tensor([1, 2]), m.tensor([3, 4])]),
    "multi_elem_float": lambda m: m.tensor([m.tensor([1.5, 2])]),
    "float_tensor_into_int": lambda m: m.tensor([m.tensor(1.5)], dtype=m.int64),
    "float_tensor_into_bool": lambda m: m.tensor([m.tensor(1.5)], dtype=m.bool),
    "complex_tensor_into_float": lambda m: m.tensor([m.tensor(1.5j)], dtype=m.float32),
    "float_tensor_into_complex": lambda m: m.tensor([m.tensor(1.5)], dtype=m.complex64),
    "grad_tensor_in_list": lambda m: m.tensor([m.tensor(1., requires_grad=True)]),
    "arrays_in_list": lambda m: m.tensor([np.array([1, 2]), np.array([3, 4])]),
    "f32_arrays_in_list": lambda m: m.tensor([np.ones(2, np.float32), np.zeros(2, np.float32)]),
    "array_and_list": lambda m: m.tensor([np.array([2.5]), [1.]]),
    "list_and_f32_array": lambda m: m.tensor([[1.], np.array([2.5], dtype=np.float32)]),
    "2d_array_in_list": lambda m: m.tensor([np.zeros((2, 2))]),
    "empty_array_in_list": lambda m: m.tensor([np.zeros(0)]),
    "zero_d_array_in_list": lambda m: m.tensor([np.array(2.5)]),
    "zero_d_array": lambda m: m.tensor(np.array(2.5)),
    "int_overflow": lambda m: m.tensor(2**63),
    "int_overflow_list": lambda m: m.tensor([1, 2**64]),
    "int_min": lambda m: m.tensor(-2**63),
    "int8_overflow": lambda m: m.tensor(300, dtype=m.int8),
    "int8_overflow_list": lambda m: m.tensor([100, -129], dtype=m.int8),
    "uint8_wraps_negatives": lambda m: m.tensor([-1, -255], dtype=m.uint8),
    "uint8_overflow": lambda m: m.tensor([-256], dtype=m.uint8),
    "uint8_overflow_high": lambda m: m.tensor([256], dtype=m.uint8),
    "float_truncates": lambda m: m.tensor([1.7, -1.7, 300.0], dtype=m.int32),
    "float_int8_overflow": lambda m: m.tensor([300.5], dtype=m.int8),
    "float_int32_overflow": lambda m: m.tensor([1e10], dtype=m.int32),
    "nan_into_int": lambda m: m.tensor([float("nan")], dtype=m.int32),
    "inf_into_int": lambda m: m.tensor([float("inf")], dtype=m.int64),
    "complex_into_float": lambda m: m.tensor([1 + 2j], dtype=m.float32),
    "complex_into_int": lambda m: m.tensor(1.5j, dtype=m.int32),
    "complex_into_bool": lambda m: m.tensor([1j, 0j], dtype=m.bool),
    "float_into_bool": lambda m: m.tensor([0.5, 0.0, float("nan")], dtype=m.bool),
    "bool_into_float64": lambda m: m.tensor([True], dtype=m.float64),
    "mixed_into_int": lambda m: m.tensor([True, 2.5], dtype=m.int32),
    "bf16": lambda m: m.tensor([1.1, 2.2, 1e-40, 3.4e38], dtype=m.bfloat16),
    "f16": lambda m: m.tensor([1.1, 70000, 1e-8, -0.0], dtype=m.float16),
    "f32_rounding": lambda m: m.tensor([0.1, 1e300, 1e-50, 16777217]),
    "inf_nan": lambda m: m.tensor([float("inf"), -float("inf"), float("nan")]),
    "bigint_into_float64": lambda m: m.tensor([2**63, 2**64 + 1], dtype=m.float64),
    "int_into_f16": lambda m: m.tensor([65519, 65520, 2049], dtype=m.float16),
    "tensor_of_tensor": lambda m: m.tensor(m.tensor([1, 2])),
    "tensor_of_tensor_dtype": lambda m: m.tensor(m.tensor([1, 2]), dtype=m.float32),
    "tensor_of_transposed": lambda m: m.tensor(m.arange(6.).reshape(2, 3).T),
    "tensor_of_grad_tensor": lambda m: m.tensor(m.ones(2, requires_grad=True)),
    "requires_grad": lambda m: m.tensor([1.], requires_grad=True),
    "requires_grad_int": lambda m: m.tensor([1], requires_grad=True),
    "f64_from_ints": lambda m: m.tensor([1, 2], dtype=m.float64),
    "complex128_from_floats": lambda m: m.tensor([0.1, 2], dtype=m.complex128),
    "complex64_from_complex": lambda m: m.tensor([0.1 + 0.2j], dtype=m.complex64),
}


@pytest.mark.parametrize("name", list(TENSOR_CASES))
def test_tensor(name):
    check(TENSOR_CASES[name])


NP_DTYPES = [np.bool_, np.uint8, np.int8, np.int16, np.int32, np.int64, np.float16, np.float32,
             np.float64, np.complex64, np.complex128]
NP_UNSUPPORTED = [np.longdouble, np.object_, np.str_]


@pytest.mark.parametrize("np_dtype", NP_DTYPES + NP_UNSUPPORTED, ids=lambda d: d.__name__)
@pytest.mark.parametrize("how", ["tensor", "as_tensor", "from_numpy", "tensor_f32",
                                 "as_tensor_f64"])
def test_numpy_arrays(np_dtype, how):
    a = np.array([1, 0, 2, 3]).astype(np_dtype).reshape(2, 2)
    fn = {"tensor": lambda m: m.tensor(a), "as_tensor": lambda m: m.as_tensor(a),
          "from_numpy": lambda m: m.from_numpy(a),
          "tensor_f32": lambda m: m.tensor(a, dtype=m.float32),
          "as_tensor_f64": lambda m: m.as_tensor(a, dtype=m.float64)}[how]
    if np_dtype in NP_UNSUPPORTED:  # ember's list of supported types lacks uint16/32/64
        with pytest.raises(TypeError) as te:
            fn(torch)
        with pytest.raises(TypeError) as ee:
            fn(ember)
        head = str(te.value).split(" The only")[0]
        assert str(ee.value).startswith(head)
        return
    check(fn)


@pytest.mark.parametrize("np_dtype", [np.uint16, np.uint32, np.uint64])
def test_wide_unsigned_numpy_converts_with_dtype(np_dtype):
    a = np.array([1, 2, 65535], dtype=np_dtype)
    check(lambda m: m.tensor(a, dtype=m.float32))
    check(lambda m: m.tensor(a, dtype=m.int64))


def test_numpy_transposed_keeps_strides():
    a = np.arange(6.).reshape(2, 3).T
    check(lambda m: m.tensor(a))
    check(lambda m: m.tensor(a, dtype=m.float32))
    check(lambda m: m.as_tensor(a))


@pytest.mark.parametrize("fn", ["tensor", "as_tensor", "from_numpy"])
def test_numpy_errors(fn):
    reversed_ = np.arange(4.)[::-1]
    big_endian = np.arange(4.).astype(">f8")
    for a in (reversed_, big_endian):
        check(lambda m, a=a: getattr(m, fn)(a))


def test_from_numpy_type_errors():
    for obj in ([1, 2], np.float64(1.0), 3):
        check(lambda m, obj=obj: m.from_numpy(obj))
    check(lambda m: m.from_numpy(np.array(1.5)))


def test_numpy_memory_sharing():
    a = np.zeros(3, np.float32)
    t = ember.from_numpy(a)
    t[0] = 5
    a[1] = 7
    assert t.tolist() == [5, 7, 0]
    assert t.numpy() is a or np.shares_memory(t.numpy(), a)
    assert np.shares_memory(ember.as_tensor(a)._data, a)
    assert not np.shares_memory(ember.tensor(a)._data, a)
    assert not np.shares_memory(ember.as_tensor(a, dtype=ember.float64)._data, a)
    strided = np.arange(8.)[::2]
    t = ember.as_tensor(strided)
    assert t.stride() == torch.as_tensor(strided).stride() == (2,)
    t[1] = 100
    assert strided[1] == 100


def test_non_writeable_numpy_warns_and_shares():
    a = np.arange(3.)
    a.flags.writeable = False
    with pytest.warns(UserWarning, match="not writable"):
        t = ember.from_numpy(a)
    assert np.shares_memory(t.numpy(), a)
    assert not np.shares_memory(ember.tensor(a).numpy(), a)


def test_as_tensor_sharing_rules():
    t = ember.ones(3)
    assert ember.as_tensor(t) is t
    assert ember.as_tensor(t, dtype=ember.float32) is t
    assert ember.as_tensor(t, device="cpu") is t
    assert ember.as_tensor(t, dtype=ember.float64).dtype is ember.float64
    check(lambda m: m.as_tensor([1, 2], dtype=m.float32))
    check(lambda m: m.as_tensor(1))
    check(lambda m: m.as_tensor(np.float32(1.5)))


ASARRAY_CASES = {
    "share": lambda m, t, a: m.asarray(t) is t,
    "copy": lambda m, t, a: m.asarray(t, copy=True).data_ptr() == t.data_ptr(),
    "numpy_share": lambda m, t, a: m.asarray(a).data_ptr() == a.__array_interface__["data"][0],
    "numpy_no_copy": lambda m, t, a: m.asarray(a, copy=False).dtype,
    "numpy_cast_no_copy": lambda m, t, a: m.asarray(a, dtype=m.float32, copy=False),
    "numpy_cast": lambda m, t, a: m.asarray(a, dtype=m.float32),
    "sequence_no_copy": lambda m, t, a: m.asarray([1, 2], copy=False),
    "sequence": lambda m, t, a: m.asarray([1., 2]),
    "scalar": lambda m, t, a: m.asarray(1.5),
    "np_scalar": lambda m, t, a: m.asarray(np.float32(1.5)),
    "requires_grad": lambda m, t, a: m.asarray(t, requires_grad=True).requires_grad,
    "requires_grad_same": lambda m, t, a: m.asarray(t, requires_grad=True) is t,
}


@pytest.mark.parametrize("name", list(ASARRAY_CASES))
def test_asarray(name):
    def program(m):
        return ASARRAY_CASES[name](m, m.ones(3), np.arange(3.))
    check(program)


def test_dlpack_round_trips():
    a = np.arange(6.).reshape(2, 3)
    t = ember.from_dlpack(a)
    assert np.shares_memory(t.numpy(), a)
    back = np.from_dlpack(t)
    assert np.shares_memory(back, a)
    tt = torch.arange(6.).reshape(2, 3).T
    e = ember.from_dlpack(tt)
    assert e.stride() == tt.stride() and e.tolist() == tt.tolist()
    tt[0, 0] = 42
    assert e[0, 0].item() == 42
    x = ember.arange(6.).reshape(2, 3)
    tx = torch.from_dlpack(x)
    x[1, 1] = -1
    assert tx[1, 1].item() == -1
    assert torch.utils.dlpack.from_dlpack(x.__dlpack__()).tolist() == x.tolist()
    for dt in ("bool", "uint8", "int64", "float16", "complex64"):
        src = torch.zeros(3, dtype=getattr(torch, dt))
        assert str(ember.from_dlpack(src).dtype) == f"ember.{dt}"
    y = ember.ones(2)
    assert ember.from_dlpack(y) is not y and ember.from_dlpack(y).data_ptr() == y.data_ptr()
    with pytest.raises(RuntimeError, match="Can't export tensors that require gradient"):
        ember.ones(2, requires_grad=True).__dlpack__()


def test_tensor_from_torch_tensor_copies():
    src = torch.arange(4.)
    t = ember.tensor(src)
    src[0] = 9
    assert t.tolist() == [0, 1, 2, 3] and t.dtype is ember.float32
    assert ember.as_tensor(src).tolist() == [9, 1, 2, 3]


# -- sized factories ----------------------------------------------------------------------------

SIZE_CASES = [(2, 3), ((2, 3),), ([2, 3],), ((),), ([],), (0,), (np.int64(2),),
              ("tensor",), (2, -1), (-1,), ((2, 2.5),), (2.5,), (True,), ((2, -3),), ()]


@pytest.mark.parametrize("fn", ["zeros", "ones", "empty", "rand", "randn"])
@pytest.mark.parametrize("size", SIZE_CASES, ids=str)
def test_size_arguments(fn, size):
    def program(m):
        args = tuple(m.tensor(2) if s == "tensor" else s for s in size)
        t = getattr(m, fn)(*args)
        return (t.shape, t.dtype, t.stride())
    check(program, message=bool(size) or fn not in ("rand", "randn"))  # torch lists overloads


def test_size_keyword():
    check(lambda m: m.zeros(size=(2, 3)).shape)
    check(lambda m: m.ones(size=[4]).shape)
    check(lambda m: m.zeros(m.Size([2, 3])).shape)


@pytest.mark.parametrize("fn", ["zeros", "ones"])
@pytest.mark.parametrize("dtype", ["bool", "uint8", "int32", "int64", "float16", "bfloat16",
                                   "float32", "float64", "complex64", "complex128"])
def test_zeros_ones_dtypes(fn, dtype):
    check(lambda m: getattr(m, fn)(2, 3, dtype=getattr(m, dtype)))


FULL_CASES = [1.5, 2, True, 1j, np.float64(1.5), np.int32(3), "t1.5", "t_int32", "t_f64",
              "t_vec", None, 2**70, 2**63, -2**63 - 1, float("nan"), float("inf")]
FULL_DTYPES = [None, "int8", "uint8", "int32", "int64", "bool", "float16", "bfloat16", "float32",
               "float64", "complex64"]


@pytest.mark.parametrize("value", FULL_CASES, ids=str)
@pytest.mark.parametrize("dtype", FULL_DTYPES)
def test_full(value, dtype):
    def program(m):
        v = {"t1.5": m.tensor(1.5), "t_int32": m.tensor(1, dtype=m.int32),
             "t_f64": m.tensor(1.5, dtype=m.float64), "t_vec": m.tensor([1.])}.get(
            value, value) if isinstance(value, str) else value
        return m.full((2,), v, dtype=None if dtype is None else getattr(m, dtype))
    check(program)


@pytest.mark.parametrize("value,dtype", [
    (300, "int8"), (2.5, "int32"), (-1, "uint8"), (-255, "uint8"), (-256, "uint8"),
    (1e300, "float32"), (1e300, "float16"), (1e20, "int16"), (1e20, "uint8"),
    (1 + 0j, "float32"), (1.5, "bool"), (0.3, "float32"), (1e20, "complex64"),
    (70000, "float16"), (float("nan"), "int32"),
])
def test_full_conversions(value, dtype):
    check(lambda m: m.full((1,), value, dtype=getattr(m, dtype)))


def test_full_errors():
    check(lambda m: m.full(2, 1.))
    check(lambda m: m.full((2, -1), 1.))
    check(lambda m: m.full((2, 2.5), 1.))
    check(lambda m: m.full([], 1.5))


LIKE_INPUTS = {
    "contiguous": lambda m: m.ones(3, 2, dtype=m.int32),
    "transposed": lambda m: m.ones(3, 2).T,
    "sliced": lambda m: m.ones(3, 2)[::2],
    "expanded": lambda m: m.ones(3, 2).expand(2, 3, 2),
    "column_slice": lambda m: m.ones(4, 3)[:, ::2],
    "permuted": lambda m: m.ones(2, 3, 4).permute(2, 0, 1),
    "permuted_sliced": lambda m: m.ones(2, 3, 4).permute(2, 0, 1)[::2],
    "size1_dims": lambda m: m.ones(3, 1).T,
    "requires_grad": lambda m: m.ones(2, requires_grad=True),
    "scalar": lambda m: m.tensor(2.5),
}


@pytest.mark.parametrize("src", list(LIKE_INPUTS))
@pytest.mark.parametrize("fn", ["zeros_like", "ones_like", "full_like", "empty_like",
                                "rand_like", "randn_like"])
def test_like(src, fn):
    def program(m):
        m.manual_seed(0)
        x = LIKE_INPUTS[src](m)
        args = (x, 2.7) if fn == "full_like" else (x,)
        out = getattr(m, fn)(*args)
        if fn == "empty_like":
            return (out.shape, out.dtype, out.stride(), out.requires_grad)
        return out
    check(program)


def test_like_keywords():
    check(lambda m: m.zeros_like(m.ones(2, dtype=m.int32), dtype=m.float64))
    check(lambda m: m.full_like(m.ones(2, dtype=m.int32), 2.7, dtype=m.float64))
    check(lambda m: m.ones_like(m.ones(2), requires_grad=True))
    check(lambda m: m.zeros_like(m.ones(3, 2).T, memory_format=m.contiguous_format))
    check(lambda m: m.zeros_like([1, 2]))


def test_out_argument():
    check(lambda m: m.zeros(2, 2, out=m.ones(2, 2)))
    check(lambda m: m.zeros(2, 2, out=m.ones(2, 2), dtype=m.int32))
    check(lambda m: m.zeros(2, out=m.ones(3)))
    check(lambda m: m.arange(3, out=m.ones(3)))
    check(lambda m: m.linspace(0, 1, 3, out=m.ones(3, dtype=m.float64)))
    t = ember.ones(2, 2)
    assert ember.zeros(2, 2, out=t) is t and t.tolist() == [[0, 0], [0, 0]]


# -- ranges -------------------------------------------------------------------------------------

ARANGE_ERRORS = [
    lambda m: m.arange(5, dtype=m.bool), lambda m: m.arange(5, dtype=m.complex64),
    lambda m: m.arange(float("nan")), lambda m: m.arange(0, float("inf")),
    lambda m: m.arange(0, 5, -1), lambda m: m.arange(5, 0), lambda m: m.arange(0, 5, 0),
    lambda m: m.arange(0, 1, 1e-20), lambda m: m.arange(3, 1j),
    lambda m: m.arange(0, 5, 0.5, dtype=m.int64), lambda m: m.arange(m.tensor([5])),
    lambda m: m.arange(-2**62, 2**62, 2**61),
]


@pytest.mark.parametrize("i", range(len(ARANGE_ERRORS)))
def test_arange_errors(i):
    check(ARANGE_ERRORS[i])


ARANGE_CASES = [
    lambda m: m.arange(5), lambda m: m.arange(5, 5), lambda m: m.arange(0, 10, 3),
    lambda m: m.arange(10, 0, -3), lambda m: m.arange(-3, 3), lambda m: m.arange(5.),
    lambda m: m.arange(m.tensor(5)), lambda m: m.arange(m.tensor(5.)),
    lambda m: m.arange(m.tensor(5, dtype=m.int32)), lambda m: m.arange(np.int64(3)),
    lambda m: m.arange(np.float32(3)), lambda m: m.arange(True),
    lambda m: m.arange(start=1, end=4), lambda m: m.arange(end=4),
    lambda m: m.arange(1, end=4, step=2), lambda m: m.arange(0.5, 5, 1.5, dtype=m.int64),
    lambda m: m.arange(0, 5, 0.5, dtype=m.int32), lambda m: m.arange(0.7, 5.2, 1.3, dtype=m.int32),
    lambda m: m.arange(-3.5, 2, 1.5, dtype=m.int32),
    lambda m: m.arange(-3.5, 2, 1.5, dtype=m.int64),
    lambda m: m.arange(0, 300, 7, dtype=m.uint8), lambda m: m.arange(0, 300, 100, dtype=m.int8),
    lambda m: m.arange(0, 2**40, 2**37, dtype=m.int32),
    lambda m: m.arange(0, 2**40, 2**37, dtype=m.float32), lambda m: m.arange(10, dtype=m.float64),
    lambda m: m.arange(0, 1, 0.1), lambda m: m.arange(1, 0, -0.1, dtype=m.float64),
    lambda m: m.arange(0, 5, 0.5, dtype=m.float16), lambda m: m.arange(0, 5, 0.3, dtype=m.bfloat16),
    lambda m: m.arange(-1, 1, 0.01), lambda m: m.arange(3, requires_grad=True),
    lambda m: m.arange(3., requires_grad=True),
]


@pytest.mark.parametrize("i", range(len(ARANGE_CASES)))
def test_arange(i):
    check(ARANGE_CASES[i])


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16", None])
def test_arange_float_values_bit_exact(dtype):
    rng = np.random.default_rng(1)
    for trial in range(60):
        start = float(rng.uniform(-10, 10)) if trial % 3 else float(rng.integers(-5, 5))
        step = float(rng.choice([0.1, 0.3, 1 / 3, 0.7, -0.1, 2.5, 1e-3, rng.uniform(-1, 1)]))
        n = int(rng.integers(1, 150))
        end = start + step * n - step * 0.5
        check(lambda m, a=(start, end, step): m.arange(*a, dtype=dtype and getattr(m, dtype)))


@pytest.mark.parametrize("n,step", [(40000, 0.1), (70001, 1 / 3), (100000, 0.37)])
def test_arange_across_parallel_chunks(n, step):
    # a float arange is computed per parallel_for chunk: both libraries get PyTorch's default
    # thread count (the tests run torch on one thread otherwise)
    from ember._threads import default_threads
    before = ember.get_num_threads(), torch.get_num_threads()
    ember.set_num_threads(default_threads())
    torch.set_num_threads(default_threads())
    try:
        for dt in ("float32", "float64", "bfloat16"):
            check(lambda m, dt=dt: m.arange(0.5, 0.5 + n * step, step, dtype=getattr(m, dt)))
    finally:
        ember.set_num_threads(before[0])
        torch.set_num_threads(before[1])


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16", "int64", "int32",
                                   "uint8", "complex64", "complex128"])
def test_linspace_values_bit_exact(dtype):
    rng = np.random.default_rng(2)
    ends = [(0, 1), (-1, 1), (0, 10), (1e-3, 1e3), (3, -7.25), (-5.5, 100)]
    ends += [tuple(rng.uniform(-100, 100, 2)) for _ in range(10)]
    if dtype == "uint8":
        ends = [(0, 255), (3, 200), (250, 0)]
    for (start, end), steps in itertools.product(ends, [1, 2, 3, 5, 7, 10, 33, 100, 257]):
        check(lambda m, a=(start, end, steps): m.linspace(*a, dtype=getattr(m, dtype)))


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16", "int64", "int32"])
def test_logspace_values_bit_exact(dtype):
    ends = [(0, 1), (-1, 1), (0, 2), (-3, 3), (1.5, -2.25), (0, 10)]
    for (start, end), steps, base in itertools.product(ends, [1, 2, 3, 7, 50], [10.0, 2, 0.5]):
        check(lambda m, a=(start, end, steps, base): m.logspace(*a, dtype=getattr(m, dtype)))


LINSPACE_OTHER = [
    lambda m: m.linspace(0, 1, 0), lambda m: m.linspace(0, 1, -1),
    lambda m: m.linspace(0, 1, 5, dtype=m.bool), lambda m: m.linspace(0, 10, 5, dtype=m.int64),
    lambda m: m.linspace(-10.7, 10.2, 7, dtype=m.int32),
    lambda m: m.linspace(m.tensor(0.), m.tensor(1.), 3),
    lambda m: m.linspace(m.tensor(0, dtype=m.int32), 1, 3),
    lambda m: m.linspace(m.tensor([0.]), 1, 3), lambda m: m.linspace(0, 1j, 3),
    lambda m: m.linspace(float("inf"), 1, 3), lambda m: m.linspace(0, 1, 3, requires_grad=True),
    lambda m: m.logspace(0, 2, 3, dtype=m.bool), lambda m: m.logspace(0, 2, 1),
    lambda m: m.logspace(0, 2, 0),
]


@pytest.mark.parametrize("i", range(len(LINSPACE_OTHER)))
def test_linspace_logspace_other(i):
    check(LINSPACE_OTHER[i])


def test_linspace_steps_must_be_int():
    check(lambda m: m.linspace(0, 1, 2.5), message=False)  # torch lists its overloads


@pytest.mark.parametrize("args", [(0, 2, 3), (0, 1j, 3), (1 + 1j, -2, 6)], ids=str)
def test_logspace_complex(args):
    for dt in ("complex64", "complex128"):
        want = torch.logspace(*args, dtype=getattr(torch, dt))
        got = ember.logspace(*args, dtype=getattr(ember, dt))
        assert str(got.dtype) == str(want.dtype).replace("torch", "ember")
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


@pytest.mark.parametrize("args", [(3,), (2, 3), (0,), (3, 0), (-1,), (2, -1), (2.5,)], ids=str)
@pytest.mark.parametrize("dtype", [None, "int32", "bool", "complex64", "float64"])
def test_eye(args, dtype):
    # (torch's message for a float n lists its overloads)
    check(lambda m: m.eye(*args, dtype=dtype and getattr(m, dtype)), message=args != (2.5,))


# -- the legacy constructor ---------------------------------------------------------------------

LEGACY_CASES = {
    "sizes": lambda m: (m.Tensor(2, 3).shape, m.Tensor(2, 3).dtype),
    "no_args": lambda m: m.Tensor(),
    "list": lambda m: m.Tensor([1, 2]),
    "bools": lambda m: m.Tensor([True, False]),
    "tuple": lambda m: m.Tensor((1, 2)),
    "size": lambda m: m.Tensor(m.Size([2, 3])).shape,
    "long_tensor": lambda m: m.Tensor(m.ones(2, dtype=m.long)),
    "float_number": lambda m: m.Tensor(2.5),
    "numpy": lambda m: m.Tensor(np.arange(3)),
    "negative": lambda m: m.Tensor(-1),
    "zero": lambda m: m.Tensor(0),
    "ragged": lambda m: m.Tensor([[1, 2], [3]]),
    "empty_list": lambda m: m.Tensor([]),
    "np_int": lambda m: m.Tensor(np.int64(3)).shape,
    "device": lambda m: m.Tensor([1, 2], device="cpu"),
}


@pytest.mark.parametrize("name", list(LEGACY_CASES))
def test_legacy_constructor(name):
    check(LEGACY_CASES[name])


def test_legacy_constructor_aliases_and_subclasses():
    x = ember.ones(2)
    y = ember.Tensor(x)
    assert y is not x and y.data_ptr() == x.data_ptr()

    class My(ember.Tensor):
        pass

    m = My([1, 2])
    assert type(m) is My and m.tolist() == [1.0, 2.0] and isinstance(m, ember.Tensor)
    assert My(2).shape == (2,)
    ember.set_default_dtype(ember.float64)
    assert ember.Tensor([1, 2]).dtype is ember.float64
    assert isinstance(ember.zeros(1), ember.Tensor)
