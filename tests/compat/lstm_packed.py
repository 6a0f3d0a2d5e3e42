"""An LSTM language model on variable-length sentences: padded batches, pack_padded_sequence with
enforce_sorted=False, a two-layer LSTM, pad_packed_sequence, CrossEntropyLoss ignoring the pad
token, Adam and gradient clipping."""

import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

PAD, VOCAB = 0, 20


class LSTMLanguageModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, 16, padding_idx=PAD)
        self.lstm = nn.LSTM(16, 32, num_layers=2, batch_first=True, dropout=0.2)
        self.out = nn.Linear(32, VOCAB)

    def forward(self, tokens, lengths, state=None):
        packed = pack_padded_sequence(self.embed(tokens), lengths, batch_first=True,
                                      enforce_sorted=False)
        output, state = self.lstm(packed, state)
        padded, out_lengths = pad_packed_sequence(output, batch_first=True,
                                                  total_length=tokens.shape[1])
        return self.out(padded), out_lengths, state


def sentence():
    """A sequence of 3..12 tokens: a start token, then steps of +1 or +2 modulo the vocabulary."""
    n = int(torch.randint(3, 13, ()).item())
    steps = torch.randint(1, 3, (n - 1,))
    start = torch.randint(1, VOCAB, (1,))
    return torch.cat([start, (start + steps.cumsum(0)) % (VOCAB - 1) + 1])


def main():
    torch.manual_seed(0)
    corpus = [sentence() for _ in range(64)]
    model = LSTMLanguageModel()
    loss_fn = nn.CrossEntropyLoss(ignore_index=PAD)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)

    seqs = corpus[:4]
    lengths = torch.tensor([len(s) for s in seqs])
    packed = pack_padded_sequence(pad_sequence(seqs, batch_first=True), lengths,
                                  batch_first=True, enforce_sorted=False)
    print("lengths", lengths.tolist(), "batch_sizes", packed.batch_sizes.tolist())
    print("sorted_indices", packed.sorted_indices.tolist(),
          "unsorted_indices", packed.unsorted_indices.tolist())

    for epoch in range(3):
        model.train()
        order = torch.randperm(len(corpus))
        total = 0.0
        for b in range(0, len(corpus), 16):
            batch = [corpus[i] for i in order[b:b + 16]]
            lengths = torch.tensor([len(s) - 1 for s in batch])
            inputs = pad_sequence([s[:-1] for s in batch], batch_first=True, padding_value=PAD)
            targets = pad_sequence([s[1:] for s in batch], batch_first=True, padding_value=PAD)
            logits, _, _ = model(inputs, lengths)
            loss = loss_fn(logits.reshape(-1, VOCAB), targets.reshape(-1))
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            total += loss.item()
        print(f"epoch {epoch} loss {total / 4:.6f}")

    model.eval()
    with torch.no_grad():
        seqs = corpus[:5]
        lengths = torch.tensor([len(s) for s in seqs])
        logits, out_lengths, (h, c) = model(pad_sequence(seqs, batch_first=True), lengths)
        print("out lengths", out_lengths.tolist(), "h", tuple(h.shape), "c", tuple(c.shape))
        print("h[-1] sums", [round(v, 5) for v in h[-1].sum(1).tolist()])
        predictions = logits.argmax(-1)
        for s, p, n in zip(seqs, predictions, lengths):
            print(s.tolist(), "->", p[:n].tolist())


if __name__ == "__main__":
    main()
