"""Mini-batches cut from tensors already in memory: lesson 04's fast path.

One indexing operation per batch instead of one Python call per example (a DataLoader over a
TensorDataset), for data that fits in memory (benchmarks/bench_mnist.py measures the gain).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch

Batch = tuple[torch.Tensor, ...]


class TensorBatches:
    """Mini-batches of tensors already in memory: a fast stand-in for a DataLoader.

    `TensorBatches(images, labels, batch_size=256, shuffle=True, seed=0)` yields
    `(images[idx], labels[idx])` for consecutive slices `idx` of an index permutation that is
    drawn anew each epoch from a generator seeded once here: reproducible runs, fresh order
    every epoch. The tensors stay on their device (put them on the GPU first to train there).
    """

    def __init__(
        self,
        *tensors: torch.Tensor,
        batch_size: int,
        shuffle: bool = False,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if not tensors:
            raise ValueError("TensorBatches needs at least one tensor, e.g. (images, labels).")
        for position, tensor in enumerate(tensors):
            if not isinstance(tensor, torch.Tensor) or tensor.ndim == 0:
                raise TypeError(
                    f"TensorBatches argument {position} is a {type(tensor).__name__}"
                    f"{' (0-d)' if isinstance(tensor, torch.Tensor) else ''}; pass tensors "
                    "whose first dimension indexes the examples."
                )
        sizes = [len(t) for t in tensors]
        if len(set(sizes)) > 1:
            shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
            raise ValueError(
                f"TensorBatches tensors disagree on the number of examples (first dimension): "
                f"{shapes}. Pass matching tensors, e.g. images (N, ...) and labels (N,)."
            )
        devices = {t.device for t in tensors}
        if len(devices) > 1:
            raise ValueError(
                f"TensorBatches tensors are on different devices {sorted(map(str, devices))}; "
                "move them to one device with .to(device) first."
            )
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
        self.tensors = tensors
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.generator = torch.Generator().manual_seed(seed)

    @property
    def num_examples(self) -> int:
        return len(self.tensors[0])

    def __len__(self) -> int:
        """Number of batches per epoch (as for a DataLoader)."""
        if self.drop_last:
            return self.num_examples // self.batch_size
        return math.ceil(self.num_examples / self.batch_size)

    def __iter__(self) -> Iterator[Batch]:
        n, size = self.num_examples, self.batch_size
        stops = range(size, n + 1 if self.drop_last else n + size, size)
        if not self.shuffle:
            for stop in stops:
                yield tuple(t[stop - size : stop] for t in self.tensors)
            return
        order = torch.randperm(n, generator=self.generator).to(self.tensors[0].device)
        # One gather per batch: the batch is copied while it is used, in cache. Gathering the whole
        # epoch at once gives the same batches but copies all of MNIST's 188 MB through memory
        # first; for 60,000 images that took about 4x longer (benchmarks/README.md).
        for stop in stops:
            indices = order[stop - size : stop]
            yield tuple(torch.index_select(t, 0, indices) for t in self.tensors)

    def __repr__(self) -> str:
        shapes = ", ".join(str(tuple(t.shape)) for t in self.tensors)
        return (
            f"TensorBatches({shapes}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
            f"{len(self)} batches)"
        )
