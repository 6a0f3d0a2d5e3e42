"""A tiny GPT-style language model: token and position embeddings, a causal
nn.TransformerEncoder (pre-norm, GELU), the output layer's weight tied to the token embedding,
AdamW with a warmup schedule and gradient clipping, trained on a synthetic token stream; then
greedy generation."""

import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB, CONTEXT, WIDTH, HEADS, LAYERS = 24, 16, 32, 4, 2


class TinyGPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.tokens = nn.Embedding(VOCAB, WIDTH)
        self.positions = nn.Parameter(torch.zeros(1, CONTEXT, WIDTH))
        layer = nn.TransformerEncoderLayer(WIDTH, HEADS, dim_feedforward=4 * WIDTH, dropout=0.1,
                                           activation="gelu", batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, LAYERS, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(WIDTH)
        self.head = nn.Linear(WIDTH, VOCAB, bias=False)
        self.head.weight = self.tokens.weight  # weight tying
        self.drop = nn.Dropout(0.1)
        nn.init.normal_(self.positions, std=0.02)
        nn.init.normal_(self.tokens.weight, std=0.02)

    def forward(self, idx):
        t = idx.shape[1]
        mask = nn.Transformer.generate_square_subsequent_mask(t)
        x = self.drop(self.tokens(idx) + self.positions[:, :t])
        x = self.blocks(x, mask=mask, is_causal=True)
        return self.head(self.norm(x))


def token_stream(n):
    """Counting modulo VOCAB with random restarts: predictable, but not trivially."""
    out, cur = [], 0
    jumps = torch.rand(n) < 0.1
    starts = torch.randint(0, VOCAB, (n,))
    for i in range(n):
        cur = starts[i].item() if jumps[i] else (cur + 1) % VOCAB
        out.append(cur)
    return torch.tensor(out)


def batches(data, batch_size):
    ix = torch.randint(0, len(data) - CONTEXT - 1, (batch_size,))
    x = torch.stack([data[i:i + CONTEXT] for i in ix])
    y = torch.stack([data[i + 1:i + CONTEXT + 1] for i in ix])
    return x, y


@torch.no_grad()
def generate(model, idx, steps):
    model.eval()
    for _ in range(steps):
        logits = model(idx[:, -CONTEXT:])[:, -1]
        idx = torch.cat([idx, logits.argmax(-1, keepdim=True)], dim=1)
    return idx


def main():
    torch.manual_seed(0)
    data = token_stream(2000)
    model = TinyGPT()
    params = sum(p.numel() for p in model.parameters())
    print("parameters", params, "tied", model.head.weight is model.tokens.weight)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=3e-3, betas=(0.9, 0.95))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 10))
    for step in range(40):
        model.train()
        x, y = batches(data, 16)
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % 5 == 0:
            print(f"step {step:2d} loss {loss.item():.5f} grad norm {norm.item():.5f} "
                  f"lr {sched.get_last_lr()[0]:.5f}")
    print("generated", generate(model, torch.tensor([[3, 4, 5]]), 10).tolist())


if __name__ == "__main__":
    main()
