"""The backend-generic CUDA plumbing on the fake CUDA backend (tests/cuda/fake_backend.py):
dispatch, transfers, cross-device errors, autograd, generators, memory accounting, and every
op of the op table run on the 'device' without its results leaking to the CPU."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ember

from ..ops.opinfo import OPS, A
from .fake_backend import FakeCudaArray, fake_cuda


@pytest.fixture
def cuda(monkeypatch):
    with fake_cuda(monkeypatch) as backend:
        yield backend


def test_transfers_keep_values_and_dtype(cuda):
    x = ember.arange(6, dtype=ember.float32).reshape(2, 3)
    y = x.cuda()
    assert type(y._data) is FakeCudaArray and y.device == ember.device("cuda:0")
    assert y.is_cuda and not y.is_cpu and y.get_device() == 0
    assert y.dtype is ember.float32 and y.shape == (2, 3)
    assert y.cpu().tolist() == x.tolist()
    assert y.to("cuda:1").device == ember.device("cuda:1")
    assert y.to("cuda:1").to("cuda:0").cpu().tolist() == x.tolist()
    assert y.to("cuda") is y and y.cuda() is y
    assert x.to("cuda", non_blocking=True).device.type == "cuda"
    assert x.cuda(non_blocking=True).cpu().tolist() == x.tolist()
    assert y.to(ember.float64).device == y.device
    assert y.to("cpu", ember.float64).dtype is ember.float64


def test_creation_on_device(cuda):
    for t in (ember.zeros(2, device="cuda"), ember.ones(2, device="cuda:1"),
              ember.full((2,), 3.0, device="cuda:1"), ember.tensor([1.0], device="cuda:1"),
              ember.arange(3, device="cuda:1"), ember.empty(2, device="cuda:1")):
        assert t.is_cuda
    assert ember.ones(2, device="cuda:1").device.index == 1
    y = ember.ones(2, device="cuda:1")
    assert ember.zeros_like(y).device == y.device
    assert y.new_zeros(3).device == y.device


def test_ops_run_on_the_device(cuda):
    x = ember.randn(3, 4, device="cuda")
    w = ember.randn(4, 5, device="cuda")
    for r in (x + 1, x * x, x @ w, x.sum(), x.mean(1), x.exp(), x.relu(), x[0], x.t(),
              ember.cat([x, x]), x.max(), ember.nn.functional.softmax(x, -1), x > 0):
        assert type(r._data) is FakeCudaArray, r
        assert r.device == x.device
    assert np.allclose((x @ w).cpu().numpy(), x.cpu().numpy() @ w.cpu().numpy(), atol=1e-6)


def test_inplace_and_setitem(cuda):
    x = ember.zeros(4, device="cuda")
    x.add_(1)
    x[1:3] = 5
    x[0] = ember.tensor(7.0, device="cuda")
    assert x.cpu().tolist() == [7.0, 5.0, 5.0, 1.0] and x.is_cuda


def test_cross_device_errors_are_pytorchs(cuda):
    a, c = ember.ones(3, device="cuda"), ember.ones(3)
    msg = "Expected all tensors to be on the same device, but found at least two devices, " \
          "cuda:0 and cpu!"
    for fn in (lambda: a + c, lambda: c + a, lambda: ember.cat([c, a]),
               lambda: ember.ones(2, 3) @ ember.ones(3, 2, device="cuda")):
        with pytest.raises(RuntimeError, match=msg):
            fn()
    b = ember.ones(3, device="cuda:1")
    with pytest.raises(RuntimeError, match="found at least two devices, cuda:0 and cuda:1!"):
        a + b
    with pytest.raises(RuntimeError, match="found at least two devices, cuda:1 and cuda:0!"):
        b.mul_(a)
    assert b.cpu().tolist() == [1.0, 1.0, 1.0] and b._version == 0
    with pytest.raises(RuntimeError, match="same device"):
        b.add_(a)                       # the direct in-place kernel path (no graph)


def test_ops_run_on_their_inputs_device(cuda):
    """An op on cuda:1 tensors runs on cuda:1 whatever the current device."""
    b = ember.ones(3, device="cuda:1")
    r = (b * 2).sum()
    assert r.device.index == 1 and r._data.dev == 1


def test_autograd_on_device(cuda):
    x = ember.randn(4, 3, device="cuda", requires_grad=True)
    w = ember.randn(3, 2, device="cuda", requires_grad=True)
    loss = (x @ w).tanh().pow(2).mean()
    loss.backward()
    assert x.grad.is_cuda and w.grad.is_cuda
    xc, wc = x.detach().cpu().requires_grad_(), w.detach().cpu().requires_grad_()
    (xc @ wc).tanh().pow(2).mean().backward()
    assert np.allclose(x.grad.cpu().numpy(), xc.grad.numpy(), atol=1e-6)
    assert np.allclose(w.grad.cpu().numpy(), wc.grad.numpy(), atol=1e-6)


def test_gradient_through_transfer(cuda):
    x = ember.randn(3, requires_grad=True)
    (x.cuda() * 3).sum().backward()
    assert x.grad.device.type == "cpu" and x.grad.tolist() == [3.0, 3.0, 3.0]


def test_module_and_optimizer_on_device(cuda):
    ember.manual_seed(0)
    model = ember.nn.Sequential(ember.nn.Linear(4, 8), ember.nn.ReLU(), ember.nn.Linear(8, 1))
    ref = ember.nn.Sequential(ember.nn.Linear(4, 8), ember.nn.ReLU(), ember.nn.Linear(8, 1))
    ref.load_state_dict(model.state_dict())
    model.cuda()
    assert all(p.is_cuda for p in model.parameters())
    x, y = ember.randn(16, 4), ember.randn(16, 1)
    losses = []
    for m, dev in ((model, "cuda"), (ref, "cpu")):
        opt = ember.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
        out = []
        for _ in range(3):
            opt.zero_grad()
            loss = ember.nn.functional.mse_loss(m(x.to(dev)), y.to(dev))
            loss.backward()
            opt.step()
            out.append(loss.item())
        losses.append(out)
    assert np.allclose(losses[0], losses[1], rtol=1e-5)


def test_cuda_generators(cuda):
    ember.manual_seed(3)
    a = ember.randn(5, device="cuda")
    ember.manual_seed(3)
    assert np.array_equal(a.cpu().numpy(), ember.randn(5).numpy())  # NOTE [ CUDA generators ]
    gens = ember.cuda.random._generators()
    assert len(gens) == 2 and str(gens[1].device) == "cuda:1"
    ember.cuda.manual_seed_all(5)
    s = ember.cuda.get_rng_state()
    b = ember.rand(3, device="cuda")
    ember.cuda.set_rng_state(s)
    assert np.array_equal(ember.rand(3, device="cuda").cpu().numpy(), b.cpu().numpy())
    assert ember.cuda.initial_seed() == 5
    x = ember.empty(100, device="cuda").bernoulli_(0.5)
    assert x.is_cuda and set(np.unique(x.cpu().numpy())) <= {0.0, 1.0}


def test_memory_accounting_follows_tensors(cuda):
    base = ember.cuda.memory_allocated()
    x = ember.ones(1000, device="cuda")        # 4000 bytes: 4096 as PyTorch counts
    assert ember.cuda.memory_allocated() - base == 4096
    y = x * 2
    assert ember.cuda.memory_allocated() - base == 8192
    v = y[10:20]                                # a view allocates nothing
    assert ember.cuda.memory_allocated() - base == 8192
    del y
    assert ember.cuda.memory_allocated() - base == 8192   # the view keeps its base
    del v
    assert ember.cuda.memory_allocated() - base == 4096
    assert ember.cuda.max_memory_allocated() >= base + 8192
    assert ember.cuda.memory_reserved() >= ember.cuda.memory_allocated()
    ember.cuda.reset_peak_memory_stats()
    assert ember.cuda.max_memory_allocated() == ember.cuda.memory_allocated()
    stats = ember.cuda.memory_stats()
    assert stats["allocated_bytes.all.current"] == ember.cuda.memory_allocated()
    assert ember.cuda.memory_stats_as_nested_dict()["allocated_bytes"]["all"]["current"] == \
        ember.cuda.memory_allocated()
    assert "ember CUDA memory summary, device ID 0" in ember.cuda.memory_summary()
    del x
    ember.cuda.empty_cache()
    assert ember.cuda.memory_reserved() == ember.cuda.memory_allocated() == base


def test_training_step_frees_its_activations(cuda):
    model = ember.nn.Linear(64, 64).cuda()
    x = ember.randn(32, 64, device="cuda")
    model(x).sum().backward()
    after_first = ember.cuda.memory_allocated()
    for _ in range(3):
        model.zero_grad(set_to_none=False)
        model(x).sum().backward()
    assert ember.cuda.memory_allocated() == after_first


# -- the op table on the fake device ---------------------------------------------------------------

def _to_fake(v):
    if isinstance(v, A):
        t = ember.tensor(v.array)
        if v.noncontig and t.ndim > 1:
            t = t.permute(tuple(range(t.ndim - 1, -1, -1)))
        return t.cuda()
    if isinstance(v, tuple):
        return tuple(_to_fake(x) for x in v)
    if isinstance(v, list):
        return [_to_fake(x) for x in v]
    return v


def _to_cpu(v):
    if isinstance(v, A):
        t = ember.tensor(v.array)
        if v.noncontig and t.ndim > 1:
            t = t.permute(tuple(range(t.ndim - 1, -1, -1)))
        return t
    if isinstance(v, tuple):
        return tuple(_to_cpu(x) for x in v)
    if isinstance(v, list):
        return [_to_cpu(x) for x in v]
    return v


def _has_tensor(v) -> bool:
    if isinstance(v, A):
        return True
    if isinstance(v, dict):
        return any(_has_tensor(x) for x in v.values())
    return isinstance(v, (tuple, list)) and any(_has_tensor(x) for x in v)


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [y for o in out for y in _flat(o)]
    return [out]


@pytest.mark.parametrize("op", [pytest.param(op, id=op.name) for op in OPS])
def test_op_table_stays_on_device(cuda, op):
    """Each op's float32 samples run on the fake device: results are device tensors with the
    CPU's values (or the same error as on the CPU)."""
    dtype = "float32" if "float32" in op.dtypes else op.dtypes[0]
    if dtype == "bfloat16":
        pytest.skip("no bfloat16 on CUDA (CuPy has none)")
    for sample in op.samples(dtype, np.random.default_rng(0))[:4]:
        if not _has_tensor((sample.args, sample.kwargs)):
            continue  # a factory (tril_indices, fftfreq): made on the default device
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                ref = op.fn(ember, *_to_cpu(sample.args),
                            **{k: _to_cpu(v) for k, v in sample.kwargs.items()})
            except Exception as e:  # noqa: BLE001 - mirror the CPU's error
                with pytest.raises(type(e)):
                    op.fn(ember, *_to_fake(sample.args),
                          **{k: _to_fake(v) for k, v in sample.kwargs.items()})
                continue
            out = op.fn(ember, *_to_fake(sample.args),
                        **{k: _to_fake(v) for k, v in sample.kwargs.items()})
        for o, r in zip(_flat(out), _flat(ref)):
            if isinstance(r, ember.Tensor):
                assert isinstance(o, ember.Tensor) and o.is_cuda, \
                    f"{op.name} ({sample.name}): result on {getattr(o, 'device', type(o))}"
                if op.nondeterministic_ties:
                    continue
                ours, theirs = o.detach().cpu(), r.detach()
                if not ours.dtype.is_complex:
                    ours, theirs = ours.double(), theirs.double()
                np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6,
                                           equal_nan=True, err_msg=op.name)
