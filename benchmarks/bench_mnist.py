"""MNIST MLP, 5 epochs on all 60,000 training images: lesson 04's DataLoader way vs labutils'
in-memory fast path vs the compute floor.

Same model (784-32-16-10, ReLU), optimizer (SGD lr 1e-2, momentum 0.9), loss, batch size and
epochs as lesson 04 in all three; only the way batches are made differs. Run alone with
`python -m benchmarks.bench_mnist [--repeats N] [--batch-size B]`.
"""

from __future__ import annotations

import argparse

import torch
from torch import nn
from torch.utils.data import DataLoader

from benchmarks.harness import Row, machine_description, median_time, table
from labutils.batches import TensorBatches
from labutils.data import mnist_datasets, mnist_transform, normalized_images
from labutils.training import fit

EPOCHS = 5
BATCH = 128
"""Lesson 04's batch size (notebooks/04_mnist_mlp.ipynb, the training DataLoader)."""


def make_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 16),
                         nn.ReLU(), nn.Linear(16, 10))


def _optimizer(model: nn.Module) -> torch.optim.Optimizer:
    return torch.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)


def baseline_dataloader(train, batch_size: int = BATCH) -> None:
    """The lesson's way: DataLoader over the dataset, ToTensor + Normalize image by image."""
    model, loss_fn = make_model(), nn.CrossEntropyLoss()
    optimizer = _optimizer(model)
    loader = DataLoader(train, batch_size=batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(0))
    for _ in range(EPOCHS):
        model.train()
        for images, labels in loader:
            optimizer.zero_grad()
            loss_fn(model(images), labels).backward()
            optimizer.step()


def ours_fast_path(images: torch.Tensor, labels: torch.Tensor, batch_size: int = BATCH) -> None:
    """The lesson's appendix: normalized tensors, shuffled index batches, labutils.training.fit."""
    model = make_model()
    batches = TensorBatches(images, labels, batch_size=batch_size, shuffle=True, seed=0)
    fit(model, batches, nn.CrossEntropyLoss(), _optimizer(model), EPOCHS, progress_bar=False)


def floor_prebatched(batches: list[tuple[torch.Tensor, torch.Tensor]]) -> None:
    """The compute floor: a bare loop over batches cut once, in a fixed order (no shuffling)."""
    model, loss_fn = make_model(), nn.CrossEntropyLoss()
    optimizer = _optimizer(model)
    for _ in range(EPOCHS):
        for images, labels in batches:
            optimizer.zero_grad()
            loss_fn(model(images), labels).backward()
            optimizer.step()


THREADS = 1
"""Torch threads for all three ways. This MLP's matrices are too small to gain much from a
second thread, and on a busy 2-core machine OpenMP threads waiting for each other made the
tensor work many times slower: in two runs under similar load, 5 epochs of the floor took 49 s
with 2 threads and 5.4 s with 1 (the fast path 196 s and 6.2 s), hiding the ratios measured
here."""


def run(repeats: int = 5, batch_size: int = BATCH) -> list[Row]:
    """Time the three ways in one run, with THREADS torch threads (restored afterwards)."""
    before = torch.get_num_threads()
    torch.set_num_threads(THREADS)
    try:
        return _run(repeats, batch_size)
    finally:
        torch.set_num_threads(before)


def _run(repeats: int, batch_size: int) -> list[Row]:
    train, _, _ = mnist_datasets(mnist_transform())
    images, labels = normalized_images(train)
    prebatched = [(images[i:i + batch_size], labels[i:i + batch_size])
                  for i in range(0, len(images), batch_size)]
    base_s, _ = median_time(lambda: baseline_dataloader(train, batch_size), repeats=repeats)
    ours_s, _ = median_time(lambda: ours_fast_path(images, labels, batch_size),
                            repeats=repeats, warmup=1)
    floor_s, _ = median_time(lambda: floor_prebatched(prebatched), repeats=repeats, warmup=1)
    what = (f"MNIST MLP, {EPOCHS} epochs on {len(train):,} images, batch {batch_size}, "
            f"{THREADS} thread")
    return [
        Row(what, "DataLoader + ToTensor + Normalize (lesson 04)", base_s, ours_s, repeats,
            target=">= 20x"),
        Row(f"{what}: floor / fast path", "fast path (TensorBatches + labutils.fit)",
            ours_s, floor_s, repeats, target="fast path within 1.5x of the floor: ratio <= 1.5"),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_mnist", description=__doc__)
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats per way")
    parser.add_argument("--batch-size", type=int, default=BATCH, help="mini-batch size")
    args = parser.parse_args()
    print(machine_description())
    print(table(run(args.repeats, args.batch_size)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
