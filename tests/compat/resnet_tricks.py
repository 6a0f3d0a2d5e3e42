"""The everyday tricks of model code on a tiny ResNet: residual blocks with BatchNorm and
AdaptiveAvgPool2d, custom init through model.apply, forward hooks collecting activations,
activation checkpointing, gradient accumulation, label smoothing, parameter freezing,
a self-attention head using F.scaled_dot_product_attention, saving a whole model object, and
inference_mode with BatchNorm in eval."""

import io

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Identity() if stride == 1 and cin == cout else nn.Sequential(
            nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class AttentionHead(nn.Module):
    """Self-attention over the spatial positions, then mean pooling."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):  # (N, C, H, W)
        seq = x.flatten(2).transpose(1, 2)  # (N, HW, C)
        n, t, c = seq.shape
        q, k, v = self.qkv(seq).view(n, t, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, k, v)
        return self.proj(out.transpose(1, 2).reshape(n, t, c)).mean(1)


class TinyResNet(nn.Module):
    def __init__(self, classes=4, use_checkpoint=True):
        super().__init__()
        self.use_checkpoint = use_checkpoint
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8),
                                  nn.ReLU(inplace=True))
        self.layers = nn.ModuleList([Block(8, 8, 1), Block(8, 16, 2)])
        self.attention = AttentionHead(16, 2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, classes)

    def forward(self, x):
        x = self.stem(x)
        for layer in self.layers:
            if self.use_checkpoint and self.training:
                x = checkpoint(layer, x, use_reentrant=False)
            else:
                x = layer(x)
        return self.fc(torch.cat([self.pool(x).flatten(1), self.attention(x)], dim=1))


def init_weights(m):
    if isinstance(m, nn.Conv2d):
        nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.ones_(m.weight)
        nn.init.zeros_(m.bias)
    elif isinstance(m, nn.Linear):
        nn.init.xavier_uniform_(m.weight)
        nn.init.zeros_(m.bias)


def main():
    torch.manual_seed(0)
    model = TinyResNet()
    model.apply(init_weights)
    print("parameters", sum(p.numel() for p in model.parameters()),
          "trainable", sum(p.numel() for p in model.parameters() if p.requires_grad),
          "buffers", [n for n, _ in model.named_buffers()][:3])
    print("modules", [n for n, m in model.named_modules() if isinstance(m, nn.BatchNorm2d)])

    activations = {}

    def save_output(name):
        def hook(module, inputs, output):
            activations[name] = output.detach()
        return hook

    handles = [model.layers[i].register_forward_hook(save_output(f"layer{i}"))
               for i in range(2)]

    x = torch.randn(32, 3, 8, 8)
    y = (x.mean((1, 2, 3)) > 0).long() + 2 * (x[:, 0].mean((1, 2)) > 0).long()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    for step in range(6):
        model.train()
        opt.zero_grad()
        for xb, yb in zip(x.split(16), y.split(16)):  # gradient accumulation
            loss = criterion(model(xb), yb) / 2
            loss.backward()
        grad = model.stem[0].weight.grad.norm().item()
        opt.step()
        print(f"step {step} loss {loss.item():.5f} stem grad {grad:.5f} "
              f"act {activations['layer1'].shape} {activations['layer1'].mean().item():.5f}")
    for h in handles:
        h.remove()
    print("hooks removed", len(model.layers[0]._forward_hooks))

    for p in model.stem.parameters():  # freeze the stem, fine-tune the rest
        p.requires_grad_(False)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    before = model.stem[0].weight.clone()
    for _ in range(2):
        opt.zero_grad()
        criterion(model(x), y).backward()
        opt.step()
    print("stem frozen", torch.equal(before, model.stem[0].weight),
          model.stem[0].weight.grad is None)

    buffer = io.BytesIO()
    torch.save(model, buffer)
    buffer.seek(0)
    clone = torch.load(buffer, weights_only=False)
    model.eval()
    clone.eval()
    with torch.inference_mode():
        a, b = model(x), clone(x)
        print("clone type", type(clone).__name__, "same", torch.equal(a, b),
              "inference", a.is_inference(), a.requires_grad)
        print("eval logits", [round(v, 4) for v in a[:2].flatten().tolist()])
        print("accuracy", (a.argmax(1) == y).float().mean().item())
    print("running mean", [round(v, 5) for v in model.stem[1].running_mean[:4].tolist()],
          "batches", model.stem[1].num_batches_tracked.item())


if __name__ == "__main__":
    main()
