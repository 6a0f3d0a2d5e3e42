"""The main job: train a small CNN on scikit-learn's handwritten digits, end to end.

The 1797 8x8 digit images bundled with scikit-learn (no download) are normalised and split
80/20 into train and validation sets; a two-block CNN (conv, batch norm, ReLU, max pool) is
trained with AdamW and a one-cycle learning-rate schedule. Each epoch prints the train loss and
the validation loss and accuracy; the best epoch's checkpoint (model, optimizer, epoch) is
saved with ``save``, reloaded with ``load`` at the end and evaluated again; the loss curves are
drawn to a PNG and the numbers written to JSON.

    pip install -e ".[examples]"
    python -m ember.examples.digits [--epochs 20] [--batch-size 32] [--lr 0.01] [--seed 0]
                                    [--out runs/digits] [--workers 0]

The code is plain PyTorch: with ``import torch`` in place of ``import ember as torch`` (and
``torch`` for ``ember`` in the ``from`` imports) it runs unchanged under PyTorch.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time

import ember as torch  # the code below is plain PyTorch
from ember import nn
from ember.nn import functional as F
from ember.utils.data import DataLoader, TensorDataset, random_split

try:
    from tqdm import tqdm
except ImportError:  # the per-epoch summary line is printed either way
    tqdm = None


class DigitsNet(nn.Module):
    """(N, 1, 8, 8) images -> (N, 10) logits: two conv/BN/ReLU/max-pool blocks, dropout, linear.

    >>> tuple(DigitsNet()(torch.zeros(4, 1, 8, 8)).shape)
    (4, 10)
    """

    def __init__(self, dropout: float = 0.25):
        super().__init__()
        # no conv bias before batch norm: the norm cancels it, and its gradient would be
        # rounding noise that AdamW scales up into full-size steps
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(32)
        self.pool = nn.MaxPool2d(2)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(32 * 2 * 2, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        x = self.pool(F.relu(self.bn2(self.conv2(x))))
        return self.fc(self.dropout(x.flatten(1)))


def load_data(seed: int):
    """The digits as (N, 1, 8, 8) float32 images and int64 labels, split 80/20 with a generator
    seeded by ``seed``, and normalised with the training images' mean and standard deviation."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1)
    labels = torch.tensor(digits.target, dtype=torch.long)
    dataset = TensorDataset(images, labels)
    train_set, val_set = random_split(dataset, [0.8, 0.2],
                                      generator=torch.Generator().manual_seed(seed))
    train_images = images[torch.tensor(train_set.indices)]
    images.sub_(train_images.mean()).div_(train_images.std())
    return train_set, val_set


def evaluate(model, loader):
    """Mean cross-entropy and accuracy of ``model`` over ``loader``, in eval mode."""
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for x, y in loader:
            logits = model(x)
            total_loss += F.cross_entropy(logits, y, reduction="sum").item()
            correct += (logits.argmax(1) == y).sum().item()
            count += len(y)
    return total_loss / count, correct / count


def _progress(loader, desc: str):
    if tqdm is None:
        return loader
    return tqdm(loader, desc=desc, leave=False, disable=None, dynamic_ncols=True)


def train(epochs: int = 20, batch_size: int = 32, lr: float = 0.01, seed: int = 0,
          out: str = os.path.join("runs", "digits"), workers: int = 0, log=print) -> dict:
    """Train, checkpoint the best epoch to ``out/best.pt``, reload it and evaluate it again.

    Returns the history (per-epoch ``train_loss``, ``val_loss``, ``val_accuracy``), the best
    epoch's numbers and the reloaded checkpoint's (``reloaded_loss``, ``reloaded_accuracy``).
    """
    torch.manual_seed(seed)
    train_set, val_set = load_data(seed)
    train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=True, num_workers=workers,
                              generator=torch.Generator().manual_seed(seed))
    val_loader = DataLoader(val_set, batch_size=256)
    model = DigitsNet()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-2)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, epochs=epochs,
                                                    steps_per_epoch=len(train_loader))
    os.makedirs(out, exist_ok=True)
    checkpoint = os.path.join(out, "best.pt")
    history = {"train_loss": [], "val_loss": [], "val_accuracy": []}
    best = {"epoch": 0, "val_accuracy": -1.0, "val_loss": math.inf}
    for epoch in range(1, epochs + 1):
        model.train()
        total, count = 0.0, 0
        bar = _progress(train_loader, f"epoch {epoch}/{epochs}")
        for x, y in bar:
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += loss.item() * len(y)
            count += len(y)
            if tqdm is not None:
                bar.set_postfix(loss=f"{loss.item():.4f}")
        val_loss, val_acc = evaluate(model, val_loader)
        history["train_loss"].append(total / count)
        history["val_loss"].append(val_loss)
        history["val_accuracy"].append(val_acc)
        improved = (val_acc, -val_loss) > (best["val_accuracy"], -best["val_loss"])
        if improved:
            best = {"epoch": epoch, "val_accuracy": val_acc, "val_loss": val_loss}
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "epoch": epoch}, checkpoint)
        log(f"epoch {epoch:3d}/{epochs}  train loss {total / count:.4f}  val loss {val_loss:.4f}"
            f"  val accuracy {100 * val_acc:.2f}%{'  (saved)' if improved else ''}")

    state = torch.load(checkpoint)
    restored = DigitsNet()
    restored.load_state_dict(state["model"])
    restored_optimizer = torch.optim.AdamW(restored.parameters(), lr=lr, weight_decay=1e-2)
    restored_optimizer.load_state_dict(state["optimizer"])
    reloaded_loss, reloaded_acc = evaluate(restored, val_loader)
    if (reloaded_loss, reloaded_acc) != (best["val_loss"], best["val_accuracy"]):
        raise RuntimeError(f"the reloaded checkpoint evaluates to loss {reloaded_loss}, accuracy "
                           f"{reloaded_acc}; epoch {best['epoch']} gave {best['val_loss']}, "
                           f"{best['val_accuracy']}")
    log(f"reloaded {checkpoint} (epoch {state['epoch']}): val loss {reloaded_loss:.4f}  "
        f"val accuracy {100 * reloaded_acc:.2f}% (matches)")
    return {**history, "best_epoch": best["epoch"], "best_val_accuracy": best["val_accuracy"],
            "reloaded_loss": reloaded_loss, "reloaded_accuracy": reloaded_acc,
            "checkpoint": checkpoint}


def plot(history: dict, path: str) -> None:
    """Train and validation loss per epoch, and validation accuracy, drawn to a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.ticker import MaxNLocator

    epochs = range(1, len(history["train_loss"]) + 1)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    ax_loss.plot(epochs, history["train_loss"], label="train")
    ax_loss.plot(epochs, history["val_loss"], label="validation")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy", yscale="log", title="loss")
    ax_loss.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax_loss.legend()
    ax_acc.plot(epochs, [100 * a for a in history["val_accuracy"]], color="tab:green")
    ax_acc.set(xlabel="epoch", ylabel="%", title="validation accuracy")
    ax_acc.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax_acc.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None, prog=None) -> int:
    p = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=0.01, help="peak learning rate of the one cycle")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=os.path.join("runs", "digits"),
                   help="folder for best.pt, losses.png and history.json")
    p.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    args = p.parse_args(argv)
    start = time.perf_counter()
    result = train(args.epochs, args.batch_size, args.lr, args.seed, args.out, args.workers)
    figure = os.path.join(args.out, "losses.png")
    plot(result, figure)
    with open(os.path.join(args.out, "history.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(f"best val accuracy {100 * result['best_val_accuracy']:.2f}% at epoch "
          f"{result['best_epoch']}; checkpoint {result['checkpoint']}, curves {figure}; "
          f"{time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
