"""Training throughput on one GPU, ember against PyTorch in the same process: ResNet-50
(batch 64, 224x224), AlexNet and VGG-16 (images/s; the three models of the PyTorch paper's
table) in float32 and AMP (autocast float16 + GradScaler), and a GPT-2 small (124M) training
step with its model FLOPs utilisation. Each model is defined once below and built in both
frameworks. Results go to bench/results/cuda-<gpu>-<date>.json with the GPU, versions and date.

    python bench/bench_cuda.py                      # everything (a GPU with CuPy and torch)
    python bench/bench_cuda.py --filter resnet50 --steps 5
    python bench/bench_cuda.py --device cpu --tiny  # a smoke run of the code paths on CPU
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import statistics
import sys
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import torch  # noqa: E402

import ember  # noqa: E402

# -- the models, written once against a framework module ``fw`` (torch or ember) -------------------


def resnet50(fw, num_classes=1000):
    nn = fw.nn

    class Bottleneck(nn.Module):
        def __init__(self, cin, width, stride):
            super().__init__()
            cout = width * 4
            self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(width)
            self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(width)
            self.conv3 = nn.Conv2d(width, cout, 1, bias=False)
            self.bn3 = nn.BatchNorm2d(cout)
            self.relu = nn.ReLU(inplace=True)
            self.downsample = None if stride == 1 and cin == cout else nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            idt = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.relu(self.bn2(self.conv2(out)))
            return self.relu(self.bn3(self.conv3(out)) + idt)

    layers, cin = [], 64
    for width, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for i in range(blocks):
            layers.append(Bottleneck(cin, width, stride if i == 0 else 1))
            cin = width * 4
    return nn.Sequential(
        nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True),
        nn.MaxPool2d(3, 2, 1), *layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(2048, num_classes))


def alexnet(fw, num_classes=1000):
    nn = fw.nn
    return nn.Sequential(
        nn.Conv2d(3, 64, 11, 4, 2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.AdaptiveAvgPool2d((6, 6)), nn.Flatten(), nn.Dropout(0.5),
        nn.Linear(256 * 36, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Linear(4096, num_classes))


def vgg16(fw, num_classes=1000):
    nn = fw.nn
    layers, cin = [], 3
    for v in (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
              512, 512, 512, "M"):
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(cin, v, 3, padding=1), nn.ReLU(inplace=True)]
            cin = v
    return nn.Sequential(
        *layers, nn.AdaptiveAvgPool2d((7, 7)), nn.Flatten(),
        nn.Linear(512 * 49, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
        nn.Linear(4096, num_classes))


def gpt2(fw, vocab=50257, ctx=1024, d=768, layers=12, heads=12, dropout=0.0):
    nn, F = fw.nn, fw.nn.functional

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1, self.ln_2 = nn.LayerNorm(d), nn.LayerNorm(d)
            self.c_attn, self.c_proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
            self.c_fc, self.mlp_proj = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

        def forward(self, x):
            b, t, _ = x.shape
            q, k, v = self.c_attn(self.ln_1(x)).split(d, dim=2)
            q, k, v = (z.view(b, t, heads, d // heads).transpose(1, 2) for z in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=dropout
                                               if self.training else 0.0)
            x = x + self.c_proj(y.transpose(1, 2).reshape(b, t, d))
            return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte, self.wpe = nn.Embedding(vocab, d), nn.Embedding(ctx, d)
            self.h = nn.ModuleList(Block() for _ in range(layers))
            self.ln_f = nn.LayerNorm(d)
            self.lm_head = nn.Linear(d, vocab, bias=False)
            self.lm_head.weight = self.wte.weight

        def forward(self, idx):
            pos = fw.arange(idx.shape[1], device=idx.device)
            x = self.wte(idx) + self.wpe(pos)
            for blk in self.h:
                x = blk(x)
            return self.lm_head(self.ln_f(x))

    return GPT()


CNNS = {"resnet50": resnet50, "alexnet": alexnet, "vgg16": vgg16}

# dense peak TFLOP/s by GPU name: (float16 tensor cores, TF32, plain float32)
PEAKS = {"H100 80GB HBM3": (989.4, 494.7, 66.9), "H100 PCIe": (756.0, 378.0, 51.2),
         "H200": (989.4, 494.7, 66.9), "A100": (312.0, 156.0, 19.5)}


def peak_tflops(name: str, amp: bool, tf32: bool) -> float | None:
    for key, (fp16, t32, fp32) in PEAKS.items():
        if key in name:
            return fp16 if amp else (t32 if tf32 else fp32)
    return None


# -- timing ----------------------------------------------------------------------------------------

def make_step(fw, model, inputs, target, amp: bool, device: str, gpt: bool):
    """One training step (forward, loss, backward, optimizer) of ``model`` in framework ``fw``."""
    F = fw.nn.functional
    opt = fw.optim.AdamW(model.parameters(), lr=1e-4) if gpt else \
        fw.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    scaler = fw.amp.GradScaler(device) if amp else None

    def step():
        opt.zero_grad(set_to_none=True)
        with fw.autocast(device_type=device, dtype=fw.float16, enabled=amp):
            out = model(inputs)
            loss = F.cross_entropy(out.reshape(-1, out.shape[-1]), target.reshape(-1))
        if scaler is None:
            loss.backward()
            opt.step()
        else:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        return loss
    return step


def sync(fw, device):
    if device == "cuda":
        fw.cuda.synchronize()


def bench_case(name, build, batch, shape, amp, args, gpt=False):
    """Median seconds per step for ember and torch (alternating rounds), and the last losses."""
    device = args.device
    steps, rows = {}, {}
    for fw in (ember, torch):
        fw.manual_seed(0)
        model = build(fw).to(device).train()
        if gpt:
            x = fw.randint(0, args.vocab, (batch, shape), device=device)
            y = fw.randint(0, args.vocab, (batch, shape), device=device)
        else:
            x = fw.randn(batch, 3, shape, shape, device=device)
            y = fw.randint(0, 1000, (batch,), device=device)
        steps[fw.__name__] = make_step(fw, model, x, y, amp, device, gpt)
    times = {k: [] for k in steps}
    losses = {}
    for k, step in steps.items():
        fw = ember if k == "ember" else torch
        for _ in range(args.warmup):
            step()
        sync(fw, device)
    for _ in range(args.rounds):
        for k, step in steps.items():
            fw = ember if k == "ember" else torch
            sync(fw, device)
            t0 = time.perf_counter()
            for _ in range(args.steps):
                loss = step()
            sync(fw, device)
            times[k].append((time.perf_counter() - t0) / args.steps)
            losses[k] = float(loss.item())
    for k in steps:
        rows[k] = statistics.median(times[k])
    return rows, losses


def gpt_flops_per_token(n_params, layers, ctx, d):
    return 6 * n_params + 12 * layers * ctx * d   # PaLM's appendix B count


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cuda")
    p.add_argument("--filter", default="")
    p.add_argument("--steps", type=int, default=5, help="steps per timed round")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--gpt-batch", type=int, default=8)
    p.add_argument("--tiny", action="store_true", help="small shapes: a smoke run of the code")
    p.add_argument("--tf32", action="store_true", help="float32 matmuls in TF32 in both")
    p.add_argument("--out", default=None, help="JSON path (default bench/results/...)")
    args = p.parse_args(argv)
    if args.tiny:
        args.batch, args.gpt_batch, args.steps, args.rounds, args.warmup = 2, 2, 1, 1, 1
    args.vocab = 50257 if not args.tiny else 128
    precision = "high" if args.tf32 else "highest"
    torch.set_float32_matmul_precision(precision)
    ember.set_float32_matmul_precision(precision)
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.allow_tf32 = args.tf32

    if args.device == "cuda":
        gpu = torch.cuda.get_device_name()
        import cupy
        versions = {"ember": ember.__version__, "torch": torch.__version__,
                    "cupy": cupy.__version__, "cuda_runtime": cupy.cuda.runtime.runtimeGetVersion(),
                    "cudnn_torch": torch.backends.cudnn.version()}
    else:
        gpu, versions = platform.processor() or "cpu", {"ember": ember.__version__,
                                                         "torch": torch.__version__}
    image = 64 if args.tiny else 224
    cases = []
    for name, build in CNNS.items():
        for amp in (False, True):
            cases.append((f"{name} {'amp' if amp else 'fp32'}", build, args.batch, image, amp,
                          False))
    gpt_cfg = dict(vocab=args.vocab, ctx=64, d=64, layers=2, heads=2) if args.tiny else {}
    ctx = gpt_cfg.get("ctx", 1024)
    for amp in (False, True):
        cases.append((f"gpt2 {'amp' if amp else 'fp32'}",
                      lambda fw, c=gpt_cfg: gpt2(fw, **c), args.gpt_batch, ctx, amp, True))

    results = []
    print(f"GPU: {gpu}\n{'case':<16}{'ember ms':>10}{'torch ms':>10}{'ember/s':>10}"
          f"{'torch/s':>10}{'ratio':>8}  (ratio = torch time / ember time, target >= 0.9)")
    for name, build, batch, shape, amp, gpt in cases:
        if args.filter not in name:
            continue
        row = {"case": name, "batch": batch, "amp": amp}
        try:
            t, losses = bench_case(name, build, batch, shape, amp, args, gpt)
        except Exception as e:  # noqa: BLE001 - report the failure and go on to the next case
            row["error"] = f"{type(e).__name__}: {e}"
            row["traceback"] = traceback.format_exc(limit=8)
            print(f"{name:<16} FAILED {row['error'][:200]}", flush=True)
            results.append(row)
            continue
        unit = batch * (shape if gpt else 1)      # tokens or images per step
        row.update(ember_s=t["ember"], torch_s=t["torch"], ratio=t["torch"] / t["ember"],
                   ember_per_s=unit / t["ember"], torch_per_s=unit / t["torch"],
                   unit="tokens" if gpt else "images", losses=losses)
        if gpt:
            cfg = {"vocab": args.vocab, "ctx": 1024, "d": 768, "layers": 12, **gpt_cfg}
            m = gpt2(torch, **cfg)
            n = sum(p.numel() for p in m.parameters())
            fpt = gpt_flops_per_token(n, cfg["layers"], cfg["ctx"], cfg["d"])
            peak = peak_tflops(gpu, amp, args.tf32)
            row["params"] = n
            if peak:
                row["ember_mfu"] = fpt * row["ember_per_s"] / (peak * 1e12)
                row["torch_mfu"] = fpt * row["torch_per_s"] / (peak * 1e12)
                row["peak_tflops"] = peak
        print(f"{name:<16}{t['ember'] * 1e3:>10.1f}{t['torch'] * 1e3:>10.1f}"
              f"{row['ember_per_s']:>10.1f}{row['torch_per_s']:>10.1f}{row['ratio']:>8.2f}"
              + (f"  MFU ember {row['ember_mfu']:.1%} torch {row['torch_mfu']:.1%}"
                 if "ember_mfu" in row else ""), flush=True)
        results.append(row)
    ok = [r["ratio"] for r in results if "ratio" in r]
    if ok:
        print(f"geometric mean ratio (torch/ember time): "
              f"{math.exp(statistics.mean(math.log(r) for r in ok)):.2f}")
    date = datetime.datetime.now(datetime.timezone.utc)
    out = args.out or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "results",
        f"cuda-{gpu.replace(' ', '_')}-{date:%Y%m%d-%H%M}.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump({"gpu": gpu, "device": args.device, "date": date.isoformat(),
                   "versions": versions, "tf32": args.tf32, "steps": args.steps,
                   "rounds": args.rounds, "rows": results}, f, indent=1)
    print(f"wrote {out}")
    return results


if __name__ == "__main__":
    main()
