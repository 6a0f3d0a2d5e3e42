"""ember on a real GPU against PyTorch on the same GPU: the op table, transfers, streams and
events, the allocator's counters and OOM error, CUDA graphs, autocast float16 + GradScaler, and
training parity with the CPU. Skipped without a GPU (CuPy and torch with CUDA).

    python -m pytest -q tests/cuda/test_cuda_gpu.py
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
import torch

import ember

from ..ops import test_ops
from ..ops.opinfo import OPS, A

pytestmark = pytest.mark.skipif(
    not (ember.cuda.is_available() and torch.cuda.is_available()),
    reason="needs a GPU with CuPy and PyTorch CUDA")


# -- the op table on CUDA --------------------------------------------------------------------------

def _dev(m, x, requires_grad=False):
    if isinstance(x, A):
        t = test_ops._tensor(m, x, False).to("cuda")
        if requires_grad and x.grad and (t.is_floating_point() or t.is_complex()):
            t = t.detach().requires_grad_(True)
        return t
    if isinstance(x, tuple):
        return tuple(_dev(m, v, requires_grad) for v in x)
    if isinstance(x, list):
        return [_dev(m, v, requires_grad) for v in x]
    return x


def _run(m, op, sample, requires_grad=False):
    args = _dev(m, sample.args, requires_grad)
    kwargs = {k: _dev(m, v, requires_grad) for k, v in sample.kwargs.items()}
    return args, kwargs, op.fn(m, *args, **kwargs)


def _cpu(out):
    if isinstance(out, (tuple, list)):
        return type(out)(_cpu(o) for o in out) if not hasattr(out, "_fields") else \
            [_cpu(o) for o in out]
    return out.detach().cpu() if isinstance(out, (torch.Tensor, ember.Tensor)) else out


# CuPy compiles each kernel on first use (seconds per op and dtype on a fresh machine), so by
# default the table runs in float32, float16 and int64; EMBER_CUDA_DTYPES=all runs every dtype
_DTYPES = os.environ.get("EMBER_CUDA_DTYPES", "float32,float16,int64")


def _forward_cases():
    return [pytest.param(op, d, id=f"{op.name}-{d}") for op in OPS for d in op.dtypes
            if d != "bfloat16" and (_DTYPES == "all" or d in _DTYPES.split(","))]


def _cpu_error(fn):
    """PyTorch's error on the CPU (``fn`` runs a sample there), or None. Error cases are
    settled there: on the GPU a bad index is a device-side assert, which spoils the CUDA
    context of the whole process (every later test would fail); ember raises PyTorch's CPU
    error on both."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - mirror whatever torch raises
        return e
    return None


def _has_tensor(sample) -> bool:
    return any(isinstance(a, A) for a in test_ops._flat(list(sample.args)) +
               test_ops._flat(list(sample.kwargs.values())))


@pytest.mark.parametrize("op,dtype", _forward_cases())
def test_forward_on_cuda(op, dtype):
    """Values, dtypes and shapes equal PyTorch's on CUDA (or both raise). Where PyTorch's CUDA
    build has no kernel for a dtype (NotImplementedError), ember gives its CPU result."""
    for sample in test_ops._samples(op, dtype):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            e = _cpu_error(lambda sample=sample: test_ops._run(torch, op, sample))
            if e is not None:
                with pytest.raises(type(e)):
                    _run(ember, op, sample)
                continue
            try:
                _, _, ref = _run(torch, op, sample)
            except NotImplementedError:
                _, _, ref = test_ops._run(torch, op, sample)
            _, _, ours = _run(ember, op, sample)
        flat = test_ops._flat(ours)
        if _has_tensor(sample):
            assert all(o.is_cuda for o in flat if isinstance(o, ember.Tensor)), op.name
        test_ops._compare(_cpu(ours), _cpu(ref), op)


@pytest.mark.parametrize("op", [pytest.param(op, id=op.name) for op in OPS if op.grad])
def test_grad_on_cuda(op):
    """float64 gradients on CUDA equal PyTorch's on CUDA."""
    for sample in test_ops._samples(op, "float64"):
        def grads(m, sample=sample):
            args, kwargs, out = _run(m, op, sample, requires_grad=True)
            ins = test_ops._diff_inputs(args, kwargs, m)
            outs = [o for o in test_ops._flat(out) if isinstance(o, m.Tensor) and o.requires_grad]
            if not ins or not outs:
                return None
            gos = [g.to("cuda") for g in test_ops._grad_outputs(m, outs)]
            gs = m.autograd.grad(outs, ins, gos, allow_unused=True)
            return [None if g is None else g.detach().cpu().numpy() for g in gs]
        e = _cpu_error(lambda sample=sample: test_ops._grads(torch, op, sample))
        if e is not None:
            with pytest.raises(type(e)):
                grads(ember)
            continue
        ref = grads(torch)
        ours = grads(ember)
        if ref is None:
            continue
        for g, r in zip(ours, ref):
            if r is not None and g is not None:
                np.testing.assert_allclose(g, r, rtol=1e-6, atol=1e-8, err_msg=op.name)


# -- devices and transfers -------------------------------------------------------------------------

def test_device_queries_match_torch():
    assert ember.cuda.device_count() == torch.cuda.device_count()
    assert ember.cuda.current_device() == torch.cuda.current_device()
    assert ember.cuda.get_device_name() == torch.cuda.get_device_name()
    assert ember.cuda.get_device_capability() == torch.cuda.get_device_capability()
    p, q = ember.cuda.get_device_properties(0), torch.cuda.get_device_properties(0)
    assert (p.name, p.major, p.minor, p.multi_processor_count) == \
        (q.name, q.major, q.minor, q.multi_processor_count)
    assert abs(p.total_memory - q.total_memory) < 1 << 30
    assert ember.cuda.is_initialized()
    with ember.cuda.device(0):
        assert ember.cuda.current_device() == 0
    free, total = ember.cuda.mem_get_info()
    assert 0 < free <= total


def test_transfers():
    x = ember.arange(12, dtype=ember.float32).reshape(3, 4)
    y = x.cuda()
    assert y.is_cuda and y.device == ember.device("cuda:0") and y.get_device() == 0
    assert y.cpu().tolist() == x.tolist()
    assert y.to("cpu", ember.float64).dtype is ember.float64
    assert x.t().cuda().cpu().tolist() == x.t().tolist()
    with pytest.raises(TypeError, match="can't convert cuda"):
        y.numpy()
    p = x.pin_memory()
    assert p.is_pinned() and not x.is_pinned() and p.tolist() == x.tolist()
    z = p.to("cuda", non_blocking=True)
    back = z.to("cpu", non_blocking=True)
    ember.cuda.synchronize()
    assert back.tolist() == x.tolist() and back.is_pinned()
    with pytest.raises(TypeError, match="bfloat16"):
        x.bfloat16().cuda()


def test_cross_device_error_is_torchs():
    a, c = ember.ones(3, device="cuda"), ember.ones(3)
    with pytest.raises(RuntimeError) as t:
        torch.ones(3, device="cuda") + torch.ones(3)
    with pytest.raises(RuntimeError) as e:
        a + c
    assert "Expected all tensors to be on the same device, but found at least two devices, " \
           "cuda:0 and cpu!" in str(e.value)
    assert "cuda:0 and cpu" in str(t.value)


def test_generators():
    ember.manual_seed(0)
    a = ember.randn(5, device="cuda")
    ember.manual_seed(0)
    assert a.cpu().tolist() == ember.randn(5).tolist()
    s = ember.cuda.get_rng_state()
    b = ember.rand(4, device="cuda")
    ember.cuda.set_rng_state(s)
    assert ember.rand(4, device="cuda").cpu().tolist() == b.cpu().tolist()
    ember.cuda.manual_seed(7)
    assert ember.cuda.initial_seed() == 7
    d = ember.nn.functional.dropout(ember.ones(1000, device="cuda"), 0.5)
    assert d.is_cuda and 300 < int((d == 0).sum()) < 700


def test_tf32_switch():
    a = ember.randn(512, 512, device="cuda")
    exact = (a.double() @ a.double()).float()
    ember.set_float32_matmul_precision("highest")
    e_hi = float((a @ a - exact).abs().max())
    ember.set_float32_matmul_precision("high")
    try:
        e_tf = float((a @ a - exact).abs().max())
    finally:
        ember.set_float32_matmul_precision("highest")
    assert e_hi < 1e-3 and (e_tf > e_hi or ember.cuda.get_device_capability()[0] < 8)


# -- streams and events ----------------------------------------------------------------------------

def test_streams_and_events():
    s = ember.cuda.Stream()
    assert ember.cuda.current_stream() == ember.cuda.default_stream()
    x = ember.randn(1024, 1024, device="cuda")
    start, end = ember.cuda.Event(enable_timing=True), ember.cuda.Event(enable_timing=True)
    s.wait_stream(ember.cuda.current_stream())
    with ember.cuda.stream(s):
        assert ember.cuda.current_stream() == s
        start.record()
        y = x @ x
        end.record()
        y.record_stream(s)
    ember.cuda.current_stream().wait_stream(s)
    end.synchronize()
    assert end.query() and start.elapsed_time(end) > 0
    assert s.query() in (True, False)
    s.synchronize()
    assert s.query()
    ev = s.record_event()
    ev.wait()
    ember.cuda.synchronize()
    np.testing.assert_allclose(y.cpu().numpy(), (x.cpu() @ x.cpu()).numpy(), rtol=1e-3,
                               atol=1e-2)
    with pytest.raises(RuntimeError, match="enable_timing"):
        a, b = ember.cuda.Event(), ember.cuda.Event()
        a.record()
        b.record()
        b.synchronize()
        a.elapsed_time(b)


# -- memory ----------------------------------------------------------------------------------------

def test_memory_counters_match_torch():
    ember.cuda.synchronize()
    e0, t0 = ember.cuda.memory_allocated(), torch.cuda.memory_allocated()
    e = ember.empty(1000, device="cuda")
    t = torch.empty(1000, device="cuda")
    assert ember.cuda.memory_allocated() - e0 == torch.cuda.memory_allocated() - t0 == 4096
    del e, t
    assert ember.cuda.memory_allocated() == e0
    ember.cuda.reset_peak_memory_stats()
    big = ember.empty(1 << 20, device="cuda")
    assert ember.cuda.max_memory_allocated() >= e0 + (4 << 20)
    assert ember.cuda.memory_reserved() >= ember.cuda.memory_allocated()
    del big
    reserved = ember.cuda.memory_reserved()
    ember.cuda.empty_cache()
    assert ember.cuda.memory_reserved() <= reserved
    stats = ember.cuda.memory_stats()
    assert stats["allocated_bytes.all.current"] == ember.cuda.memory_allocated()
    assert "ember CUDA memory summary, device ID 0" in ember.cuda.memory_summary()


def test_out_of_memory_error():
    free, total = ember.cuda.mem_get_info()
    with pytest.raises(ember.cuda.OutOfMemoryError) as e:
        ember.empty(total, device="cuda")      # 4x the device's memory
    msg = str(e.value)
    assert isinstance(e.value, RuntimeError)
    assert msg.startswith("CUDA out of memory. Tried to allocate ")
    assert "GPU 0 has a total capacity of" in msg and "is allocated by ember" in msg
    assert ember.cuda.memory_stats()["num_ooms"] >= 1
    assert ember.ones(3, device="cuda").sum().item() == 3.0   # still usable


def test_caching_allocator_alloc_delete():
    p = ember.cuda.caching_allocator_alloc(1 << 20)
    assert p > 0
    ember.cuda.caching_allocator_delete(p)


# -- CUDA graphs -----------------------------------------------------------------------------------

def test_graph_capture_and_replay():
    x = ember.zeros(64, 64, device="cuda")
    w = ember.randn(64, 64, device="cuda")
    s = ember.cuda.Stream()
    s.wait_stream(ember.cuda.current_stream())
    with ember.cuda.stream(s):          # warm up (handles, allocator) outside the capture
        (x @ w).relu()
    ember.cuda.current_stream().wait_stream(s)
    g = ember.cuda.CUDAGraph()
    with ember.cuda.graph(g):
        y = (x @ w).relu() + 1
    src = ember.randn(64, 64, device="cuda")
    x.copy_(src)
    g.replay()
    ember.cuda.synchronize()
    expect = (src.cpu() @ w.cpu()).relu() + 1
    np.testing.assert_allclose(y.cpu().numpy(), expect.numpy(), rtol=1e-4, atol=1e-4)
    g.reset()


def test_make_graphed_callables_matches_eager():
    ember.manual_seed(0)
    model = ember.nn.Sequential(ember.nn.Linear(32, 64), ember.nn.ReLU(),
                                ember.nn.Linear(64, 8)).cuda()
    ref = ember.nn.Sequential(ember.nn.Linear(32, 64), ember.nn.ReLU(),
                              ember.nn.Linear(64, 8)).cuda()
    ref.load_state_dict(model.state_dict())
    x = ember.randn(16, 32, device="cuda", requires_grad=True)
    graphed = ember.cuda.make_graphed_callables(model, (x,))
    xin = ember.randn(16, 32, device="cuda", requires_grad=True)
    out = graphed(xin)
    out.sum().backward()
    xr = xin.detach().clone().requires_grad_()
    out_ref = ref(xr)
    out_ref.sum().backward()
    np.testing.assert_allclose(out.detach().cpu().numpy(), out_ref.detach().cpu().numpy(),
                               rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(xin.grad.cpu().numpy(), xr.grad.cpu().numpy(), rtol=1e-4,
                               atol=1e-5)
    for p, q in zip(model.parameters(), ref.parameters()):
        np.testing.assert_allclose(p.grad.cpu().numpy(), q.grad.cpu().numpy(), rtol=1e-4,
                                   atol=1e-5)


# -- mixed precision -------------------------------------------------------------------------------

def test_autocast_dtypes_match_torch():
    dtypes = {}
    for m in (torch, ember):
        a, b = m.randn(8, 8, device="cuda"), m.randn(8, 8, device="cuda")
        with m.autocast("cuda"):
            mm = a @ b
            loss = m.nn.functional.mse_loss(a @ b, b)
        dtypes[m.__name__] = [str(t.dtype).split(".")[-1] for t in (mm, loss)]
    assert dtypes["ember"] == dtypes["torch"] == ["float16", "float32"]


def test_amp_training_converges_with_grad_scaler():
    ember.manual_seed(0)
    model = ember.nn.Sequential(ember.nn.Linear(16, 64), ember.nn.ReLU(),
                                ember.nn.Linear(64, 1)).cuda()
    opt = ember.optim.SGD(model.parameters(), lr=0.05)
    scaler = ember.amp.GradScaler("cuda")
    x = ember.randn(256, 16, device="cuda")
    y = x[:, :1] * 2 - x[:, 1:2]
    losses = []
    for _ in range(200):
        opt.zero_grad()
        with ember.autocast("cuda", dtype=ember.float16):
            loss = ember.nn.functional.mse_loss(model(x).float(), y)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        losses.append(loss.item())
    assert losses[-1] < 0.1 * losses[0]
    assert scaler.get_scale() > 0 and "scale" in scaler.state_dict()


# -- training parity with the CPU ------------------------------------------------------------------

def _train(make, inputs, target, device, steps=5, loss_fn=None):
    ember.manual_seed(0)
    model = make().to(device)
    opt = ember.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = loss_fn or ember.nn.functional.cross_entropy
    x, y = inputs.to(device), target.to(device)
    out = []
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        out.append(loss.item())
    return out


def test_cnn_trains_like_on_cpu():
    nn = ember.nn

    def make():
        return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Conv2d(8, 16, 3), nn.ReLU(),
                             nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10))
    x, y = ember.randn(8, 3, 16, 16), ember.randint(0, 10, (8,))
    np.testing.assert_allclose(_train(make, x, y, "cuda"), _train(make, x, y, "cpu"),
                               rtol=1e-4)


def test_transformer_trains_like_on_cpu():
    nn = ember.nn

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(50, 32)
            self.enc = nn.TransformerEncoder(
                nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, batch_first=True), 2)
            self.out = nn.Linear(32, 50)

        def forward(self, idx):
            return self.out(self.enc(self.emb(idx))).reshape(-1, 50)

    x = ember.randint(0, 50, (4, 12))
    y = ember.randint(0, 50, (48,))
    np.testing.assert_allclose(_train(Model, x, y, "cuda"), _train(Model, x, y, "cpu"),
                               rtol=1e-4)


def test_lstm_trains_like_on_cpu():
    nn = ember.nn

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(8, 16, num_layers=2, batch_first=True)
            self.out = nn.Linear(16, 3)

        def forward(self, x):
            return self.out(self.lstm(x)[0][:, -1])

    x, y = ember.randn(4, 10, 8), ember.randint(0, 3, (4,))
    np.testing.assert_allclose(_train(Model, x, y, "cuda"), _train(Model, x, y, "cpu"),
                               rtol=1e-4)
