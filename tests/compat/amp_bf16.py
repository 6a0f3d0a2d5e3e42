"""Mixed precision on the CPU: a small conv + MLP classifier trained under
torch.autocast("cpu", dtype=torch.bfloat16) with a GradScaler, printing the dtypes autocast
gives each layer's output, a region with autocast disabled, and the losses."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(2, 8, 3, padding=1)
        self.norm = nn.LayerNorm(8 * 16)
        self.fc1 = nn.Linear(8 * 16, 32)
        self.fc2 = nn.Linear(32, 3)

    def forward(self, x, trace=None):
        h = torch.relu(self.conv(x))
        flat = self.norm(h.flatten(1))
        z = self.fc1(flat)
        logits = self.fc2(torch.tanh(z))
        if trace is not None:
            trace.update(conv=h.dtype, layer_norm=flat.dtype, linear=z.dtype,
                         softmax=torch.softmax(logits, 1).dtype,
                         log_softmax=F.log_softmax(logits, 1).dtype)
        return logits


def main():
    torch.manual_seed(0)
    x = torch.randn(64, 2, 16)
    y = (x[:, 0].mean(1) > x[:, 1].mean(1)).long() + (x[:, 0, 0] > 1).long()
    model = Net()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 10)

    trace = {}
    with torch.autocast("cpu", dtype=torch.bfloat16):
        print("autocast enabled", torch.is_autocast_enabled("cpu"),
              torch.get_autocast_dtype("cpu"))
        model(x[:4], trace)
        with torch.autocast("cpu", enabled=False):
            print("inner enabled", torch.is_autocast_enabled("cpu"),
                  model.fc2(torch.ones(1, 32)).dtype)
    print("dtypes", {k: str(v) for k, v in trace.items()})
    print("params stay", model.fc1.weight.dtype, "outside", model(x[:1]).dtype)

    for step in range(30):
        idx = torch.randperm(64)[:32]
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits = model(x[idx])
            loss = F.cross_entropy(logits, y[idx])
        opt.zero_grad()
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        norm = nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        scaler.step(opt)
        scaler.update()
        if step % 5 == 0:
            print(f"step {step:2d} loss {loss.item():.4f} ({loss.dtype}) grad norm "
                  f"{norm.item():.4f} grad dtype {model.fc1.weight.grad.dtype} "
                  f"scale {scaler.get_scale()}")
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        accuracy = (model(x).argmax(1) == y).float().mean()
    print(f"accuracy {accuracy.item():.4f}")


if __name__ == "__main__":
    main()
