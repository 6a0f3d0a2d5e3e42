"""A sequence-to-sequence nn.Transformer (sequence-first layout) learning to reverse digit
strings: padded source batches with src_key_padding_mask, a causal target mask, teacher
forcing, Adam with a Noam-style warmup; greedy decoding in eval mode (PyTorch's inference fast
path) and the attention weights of one nn.MultiheadAttention call.

Training is kept short: Adam normalises gradients that are analytically zero (the key bias:
softmax ignores a shift shared by all keys), so float noise grows into visible differences
after about 20 steps (torch with 1 and with 2 threads parts the same way)."""

import torch
import torch.nn as nn
import torch.nn.functional as F

PAD, BOS, EOS, VOCAB, WIDTH = 0, 1, 2, 13, 32


class Seq2Seq(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, WIDTH, padding_idx=PAD)
        self.pos = nn.Embedding(16, WIDTH)
        self.transformer = nn.Transformer(WIDTH, nhead=4, num_encoder_layers=2,
                                          num_decoder_layers=2, dim_feedforward=64,
                                          dropout=0.1)
        self.out = nn.Linear(WIDTH, VOCAB)

    def embed_seq(self, tokens):  # (T, N) -> (T, N, E)
        positions = torch.arange(tokens.shape[0]).unsqueeze(1)
        return self.embed(tokens) + self.pos(positions)

    def forward(self, src, tgt):
        tgt_mask = self.transformer.generate_square_subsequent_mask(tgt.shape[0])
        pad = (src == PAD).t()
        h = self.transformer(self.embed_seq(src), self.embed_seq(tgt), tgt_mask=tgt_mask,
                             src_key_padding_mask=pad, memory_key_padding_mask=pad)
        return self.out(h)


def make_batch(n):
    """Random digit strings (tokens 3..12) of length 2..6, padded; targets reversed."""
    lengths = torch.randint(2, 7, (n,))
    src = torch.full((8, n), PAD)
    tgt = torch.full((9, n), PAD)
    for i, length in enumerate(lengths.tolist()):
        digits = torch.randint(3, VOCAB, (length,))
        src[:length, i] = digits
        tgt[0, i] = BOS
        tgt[1:length + 1, i] = digits.flip(0)
        tgt[length + 1, i] = EOS
    return src, tgt


@torch.no_grad()
def greedy(model, src, steps=8):
    model.eval()
    pad = (src == PAD).t()
    memory = model.transformer.encoder(model.embed_seq(src), src_key_padding_mask=pad)
    ys = torch.full((1, src.shape[1]), BOS)
    for _ in range(steps):
        mask = model.transformer.generate_square_subsequent_mask(ys.shape[0])
        h = model.transformer.decoder(model.embed_seq(ys), memory, tgt_mask=mask,
                                      memory_key_padding_mask=pad)
        ys = torch.cat([ys, model.out(h[-1]).argmax(-1, keepdim=True).t()])
    return ys


def main():
    torch.manual_seed(0)
    model = Seq2Seq()
    src, tgt = make_batch(4)
    print("source", src.t().tolist())
    with torch.no_grad():
        x = model.embed_seq(src)
        mha = model.transformer.encoder.layers[0].self_attn
        out, weights = mha(x, x, x, key_padding_mask=(src == PAD).t())
        print("attention", tuple(out.shape), tuple(weights.shape),
              [round(v, 5) for v in weights[1, 2].tolist()])
        model.eval()
        print(f"eval logits sum {model(src, tgt[:-1]).sum().item():.4f}")
    print("decoded", greedy(model, src).t().tolist())

    opt = torch.optim.Adam(model.parameters(), lr=1.0, betas=(0.9, 0.98))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: WIDTH ** -0.5 * min((s + 1) ** -0.5, (s + 1) * 10 ** -1.5))
    for step in range(20):
        model.train()
        src, tgt = make_batch(16)
        logits = model(src, tgt[:-1])
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), tgt[1:].reshape(-1),
                               ignore_index=PAD)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 5 == 0 or step == 19:
            print(f"step {step:2d} loss {loss.item():.5f} lr {sched.get_last_lr()[0]:.6f}")

    model.eval()
    with torch.no_grad():
        logits = model(src, tgt[:-1])
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), tgt[1:].reshape(-1), ignore_index=PAD)
    print(f"final eval loss {loss.item():.4f}", "decoded shape", tuple(greedy(model, src).shape))


if __name__ == "__main__":
    main()
