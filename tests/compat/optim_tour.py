"""A tour of torch.optim on bare tensors: optimizers and learning-rate schedulers."""

import torch
from torch.optim import lr_scheduler


def rosenbrock(p):
    x, y = p[0], p[1]
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


def tour(name, make_opt, make_sched, steps=60, plateau=False):
    p = torch.tensor([-1.5, 2.0], requires_grad=True)
    opt = make_opt([p])
    sched = make_sched(opt)
    lrs = []
    for _ in range(steps):
        opt.zero_grad()
        loss = rosenbrock(p)
        loss.backward()
        opt.step()
        if plateau:
            sched.step(loss.item())
        else:
            sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    print(f"{name:9s} loss {rosenbrock(p).item():.6f} p {p.tolist()}")
    print(f"{'':9s} lr {lrs[0]:.6f} {lrs[len(lrs) // 2]:.6f} {lrs[-1]:.6f}")
    return opt, sched


torch.manual_seed(0)
tour("sgd", lambda ps: torch.optim.SGD(ps, lr=1e-3, momentum=0.9, nesterov=True),
     lambda o: lr_scheduler.StepLR(o, step_size=20, gamma=0.5))
tour("adam", lambda ps: torch.optim.Adam(ps, lr=0.05, betas=(0.9, 0.99)),
     lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=60, eta_min=1e-3))
tour("adamw", lambda ps: torch.optim.AdamW(ps, lr=0.05, weight_decay=0.1, amsgrad=True),
     lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=60))
tour("rmsprop", lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.9, centered=True),
     lambda o: lr_scheduler.ExponentialLR(o, gamma=0.97))
tour("adagrad", lambda ps: torch.optim.Adagrad(ps, lr=0.3),
     lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=0.5, patience=3), plateau=True)
tour("warmup", lambda ps: torch.optim.SGD(ps, lr=5e-4, momentum=0.5),
     lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.LinearLR(o, 0.1, total_iters=10),
                                             lr_scheduler.LambdaLR(o, lambda e: 0.98 ** e)],
                                         milestones=[10]))

opt, sched = tour("multistep", lambda ps: torch.optim.Adam(ps, lr=0.02),
                  lambda o: lr_scheduler.MultiStepLR(o, milestones=[15, 40], gamma=0.3))
state = opt.state_dict()
print(sorted(state["state"][0]), state["param_groups"][0]["lr"], sched.get_last_lr())
print(sched.state_dict()["milestones"], sched.last_epoch)

# Two parameter groups with their own learning rates.
w = torch.randn(3, 2, requires_grad=True)
b = torch.zeros(2, requires_grad=True)
x = torch.randn(16, 3)
y = x @ torch.tensor([[1.0, -1.0], [0.5, 2.0], [-0.3, 0.1]]) + 0.25
opt = torch.optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.2}], lr=0.05, momentum=0.8)
for _ in range(40):
    opt.zero_grad()
    loss = ((x @ w + b - y) ** 2).mean()
    loss.backward()
    opt.step()
print("groups", [g["lr"] for g in opt.param_groups], round(loss.item(), 6), b.tolist())
