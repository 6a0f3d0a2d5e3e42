"""Optimizers and learning-rate schedulers driving an nn.Module classifier: SGD with momentum and
StepLR, Adam with OneCycleLR (momentum cycling), ReduceLROnPlateau on a validation loss, and
per-parameter-group options; each prints its lr and loss sequences."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim import lr_scheduler


def make_data():
    torch.manual_seed(0)
    x = torch.randn(256, 10)
    w = torch.randn(10, 4)
    y = (x @ w + 0.5 * torch.randn(256, 4)).argmax(1)
    return x[:192], y[:192], x[192:], y[192:]


def make_model():
    torch.manual_seed(1)
    return nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.LayerNorm(32), nn.Linear(32, 4))


def run(name, model, opt, sched, data, epochs=12, batch=32, per_batch=False, plateau=False):
    x, y, vx, vy = data
    lrs, losses = [], []
    g = torch.Generator().manual_seed(2)
    for _ in range(epochs):
        model.train()
        for idx in torch.randperm(len(x), generator=g).split(batch):
            opt.zero_grad()
            loss = F.cross_entropy(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
            if per_batch:
                sched.step()
        model.eval()
        with torch.no_grad():
            val = F.cross_entropy(model(vx), vy).item()
        if plateau:
            sched.step(val)
        elif not per_batch:
            sched.step()
        lrs.append(opt.param_groups[0]["lr"])
        losses.append(val)
    print(f"{name} lr", " ".join(f"{v:.6f}" for v in lrs))
    print(f"{name} val", " ".join(f"{v:.5f}" for v in losses))
    return opt, sched


def main():
    data = make_data()

    model = make_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True,
                          weight_decay=5e-4)
    run("sgd+step", model, opt, lr_scheduler.StepLR(opt, step_size=4, gamma=0.3), data)

    model = make_model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=0.02, epochs=12, steps_per_epoch=6,
                                    pct_start=0.25, anneal_strategy="cos")
    run("adam+onecycle", model, opt, sched, data, per_batch=True)
    print("onecycle betas", opt.param_groups[0]["betas"], "step", sched.last_epoch)

    model = make_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    sched = lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=1,
                                           threshold=1e-2, cooldown=1, min_lr=1e-3)
    run("sgd+plateau", model, opt, sched, data, plateau=True)
    print(f"plateau best {sched.best:.5f} bad epochs {sched.num_bad_epochs}")

    model = make_model()
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if name.endswith("bias") or name.startswith("2.") else decay).append(p)
    opt = torch.optim.AdamW([{"params": decay}, {"params": no_decay, "weight_decay": 0.0,
                                                  "lr": 3e-3}], lr=1e-2, weight_decay=0.05)
    sched = lr_scheduler.ChainedScheduler([
        lr_scheduler.ExponentialLR(opt, gamma=0.9),
        lr_scheduler.MultiStepLR(opt, milestones=[6, 9], gamma=0.5),
    ])
    run("adamw+chain", model, opt, sched, data)
    print("group lrs", [round(g["lr"], 8) for g in opt.param_groups],
          "weight decays", [g["weight_decay"] for g in opt.param_groups])
    print("scheduler state keys", sorted(sched.state_dict())[:3])


if __name__ == "__main__":
    main()
