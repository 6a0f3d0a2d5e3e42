"""A small CNN trained on synthetic images (augmented with torch's RNG inside the workers)
through a two-worker DataLoader, then a checkpoint round trip: model and optimizer state saved
with torch.save, loaded into fresh ones, training continued from there."""

import os
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.dropout = nn.Dropout(0.25)
        self.fc = nn.Linear(16 * 4 * 4, 3)

    def forward(self, x):
        x = self.features(x)
        x = torch.flatten(x, 1)
        return self.fc(self.dropout(x))


def synthetic_images(n):
    """Three classes: a bright top half, a bright left half, or noise only."""
    labels = torch.randint(0, 3, (n,))
    images = torch.randn(n, 1, 16, 16)
    images[labels == 0, :, :8, :] += 0.3
    images[labels == 1, :, :, :8] += 0.3
    return images, labels


class Augmented(Dataset):
    """Random horizontal flips and noise, drawn from torch's RNG inside the loader's workers."""

    def __init__(self, images, labels):
        self.images, self.labels = images, labels

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        image = self.images[i]
        if torch.rand(()) < 0.5 and self.labels[i] != 1:
            image = image.flip(-1)
        return image + 0.1 * torch.randn_like(image), self.labels[i]


def train_epoch(model, opt, loader, epoch):
    model.train()
    total = 0.0
    for step, (x, y) in enumerate(loader):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        total += loss.item()
        if step % 2 == 0:
            print(f"epoch {epoch} step {step} loss {loss.item():.6f}")
    return total / len(loader)


@torch.no_grad()
def evaluate(name, model, x, y):
    model.eval()
    logits = model(x)
    loss = F.cross_entropy(logits, y).item()
    accuracy = (logits.argmax(1) == y).float().mean().item()
    print(f"{name} loss {loss:.6f} accuracy {accuracy:.4f}")


def main():
    torch.manual_seed(0)
    images, labels = synthetic_images(192)
    test_x, test_y = synthetic_images(64)
    loader = DataLoader(Augmented(images, labels), batch_size=32, shuffle=True, num_workers=2)

    model = Net()
    opt = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9, weight_decay=1e-4)
    for epoch in range(2):
        print(f"epoch {epoch} mean loss {train_epoch(model, opt, loader, epoch):.6f}")
    evaluate("eval", model, test_x, test_y)

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "checkpoint.pt")
        torch.save({"epoch": 2, "model": model.state_dict(), "optimizer": opt.state_dict()},
                   path)
        checkpoint = torch.load(path)

    restored = Net()
    restored_opt = torch.optim.SGD(restored.parameters(), lr=0.02, momentum=0.9,
                                   weight_decay=1e-4)
    print(restored.load_state_dict(checkpoint["model"]))
    restored_opt.load_state_dict(checkpoint["optimizer"])
    print("checkpoint epoch", checkpoint["epoch"], "keys", sorted(checkpoint["model"])[:4],
          checkpoint["model"]["fc.weight"].dtype, checkpoint["model"]["fc.weight"].shape)
    print("buffers", restored.features[1].num_batches_tracked.item(),
          restored.features[1].running_var[:3].tolist())
    print("momentum buffers", len(restored_opt.state),
          all(torch.equal(restored_opt.state[p]["momentum_buffer"], opt.state[q]["momentum_buffer"])
              for p, q in zip(restored.parameters(), model.parameters())))
    evaluate("restored eval", restored, test_x, test_y)

    for epoch in range(2, 3):
        print(f"epoch {epoch} mean loss {train_epoch(restored, restored_opt, loader, epoch):.6f}")
    evaluate("final eval", restored, test_x, test_y)


if __name__ == "__main__":
    main()
