"""torch.utils.data end to end: a map-style Dataset subclass returning dicts, random_split with a
seeded generator, DataLoader shuffling with a seeded generator, default_collate on dicts, tuples
and nested lists, drop_last, a WeightedRandomSampler, a BatchSampler, a custom collate_fn, an
IterableDataset split across two workers, ConcatDataset and Subset."""

import torch
from torch.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    SequentialSampler,
    Subset,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    get_worker_info,
    random_split,
)


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {"index": i, "x": torch.tensor([float(i), float(i * i)]),
                "meta": (i % 3, f"item{i}")}


class Stream(IterableDataset):
    """Yields start..end-1, each worker its own share."""

    def __init__(self, start, end):
        self.start, self.end = start, end

    def __iter__(self):
        info = get_worker_info()
        if info is None:
            return iter(range(self.start, self.end))
        per = (self.end - self.start + info.num_workers - 1) // info.num_workers
        lo = self.start + info.id * per
        return iter(range(lo, min(lo + per, self.end)))


def show(batch):
    if isinstance(batch, torch.Tensor):
        return f"{batch.dtype}{list(batch.shape)}{batch.tolist()}"
    if isinstance(batch, dict):
        return "{" + ", ".join(f"{k}: {show(v)}" for k, v in batch.items()) + "}"
    if isinstance(batch, (list, tuple)):
        return type(batch).__name__ + "(" + ", ".join(show(v) for v in batch) + ")"
    return repr(batch)


def main():
    torch.manual_seed(0)
    data = Squares(20)
    train, val, test = random_split(data, [0.6, 0.2, 0.2],
                                    generator=torch.Generator().manual_seed(42))
    print("split sizes", len(train), len(val), len(test), "val indices", val.indices)
    a, b = random_split(range(10), [7, 3], generator=torch.Generator().manual_seed(1))
    print("split of a range", list(a), list(b))

    loader = DataLoader(train, batch_size=5, shuffle=True, drop_last=True,
                        generator=torch.Generator().manual_seed(7))
    for epoch in range(2):
        for i, batch in enumerate(loader):
            print(f"epoch {epoch} batch {i}", show(batch))
    print("len(loader)", len(loader))

    print("collate tuples", show(default_collate([(1, 2.0, True), (3, 4.0, False)])))
    print("collate nested", show(default_collate([[torch.ones(2), {"a": 1}],
                                                  [torch.zeros(2), {"a": 2}]])))

    tensors = TensorDataset(torch.arange(12).float().view(6, 2), torch.tensor([0, 0, 0, 0, 1, 1]))
    weights = torch.tensor([0.5, 0.5, 0.5, 0.5, 1.0, 1.0])
    sampler = WeightedRandomSampler(weights, num_samples=12, replacement=True)
    labels = torch.cat([y for _, y in DataLoader(tensors, batch_size=4, sampler=sampler)])
    print("weighted labels", labels.tolist(), "ones", int(labels.sum()))
    sampler = WeightedRandomSampler(weights.tolist(), num_samples=4, replacement=False,
                                    generator=torch.Generator().manual_seed(3))
    print("without replacement", list(sampler))

    batches = BatchSampler(SequentialSampler(range(10)), batch_size=4, drop_last=False)
    print("batch sampler", list(batches))
    loader = DataLoader(tensors, batch_sampler=BatchSampler(SequentialSampler(tensors), 4, False),
                        collate_fn=lambda items: torch.stack([x.sum() for x, _ in items]))
    print("custom collate", [b.tolist() for b in loader])

    stream = DataLoader(Stream(0, 10), batch_size=3, num_workers=2)
    print("iterable two workers", sorted(sum((b.tolist() for b in stream), [])))
    print("iterable in process", [b.tolist() for b in DataLoader(Stream(0, 7), batch_size=3)])

    both = ConcatDataset([Subset(tensors, [5, 4]), TensorDataset(torch.ones(2, 2),
                                                                 torch.tensor([7, 8]))])
    print("concat", len(both), [both[i][1].item() for i in range(len(both))],
          both.cumulative_sizes)
    print("default rng after", torch.rand(2).tolist())


if __name__ == "__main__":
    main()
