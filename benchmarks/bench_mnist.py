"""MNIST MLP, 5 epochs: the lesson's DataLoader way vs labutils' in-memory fast path vs the floor.

Same model (784-32-16-10, ReLU), optimizer (SGD lr 1e-2, momentum 0.9), loss, batch size (256)
and epochs (5) in all three; only the way batches are made differs.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.data import DataLoader

from benchmarks.harness import Row, median_time
from labutils.data import mnist_datasets, mnist_transform, normalized_images
from labutils.training import TensorBatches, fit

EPOCHS, BATCH = 5, 256


def make_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 16),
                         nn.ReLU(), nn.Linear(16, 10))


def _optimizer(model: nn.Module) -> torch.optim.Optimizer:
    return torch.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)


def baseline_dataloader(train) -> None:
    """The lesson's first way: DataLoader over the dataset with ToTensor + Normalize per item."""
    model, loss_fn = make_model(), nn.CrossEntropyLoss()
    optimizer = _optimizer(model)
    loader = DataLoader(train, batch_size=BATCH, shuffle=True,
                        generator=torch.Generator().manual_seed(0))
    for _ in range(EPOCHS):
        for images, labels in loader:
            optimizer.zero_grad()
            loss_fn(model(images), labels).backward()
            optimizer.step()


def ours_fast_path(images: torch.Tensor, labels: torch.Tensor) -> None:
    """labutils' fast path: normalized tensors, shuffled index batches, labutils.training.fit."""
    model = make_model()
    batches = TensorBatches(images, labels, batch_size=BATCH, shuffle=True, seed=0)
    fit(model, batches, nn.CrossEntropyLoss(), _optimizer(model), EPOCHS, progress_bar=False)


def floor_prebatched(batches: list[tuple[torch.Tensor, torch.Tensor]]) -> None:
    """The compute floor: a bare loop over batches made once, in a fixed order."""
    model, loss_fn = make_model(), nn.CrossEntropyLoss()
    optimizer = _optimizer(model)
    for _ in range(EPOCHS):
        for images, labels in batches:
            optimizer.zero_grad()
            loss_fn(model(images), labels).backward()
            optimizer.step()


def run(repeats: int = 5) -> list[Row]:
    """Time the three ways; rows: fast path vs DataLoader, and the floor vs the fast path."""
    train, _, _ = mnist_datasets(mnist_transform())
    images, labels = normalized_images(train)
    prebatched = [(images[i:i + BATCH], labels[i:i + BATCH]) for i in range(0, len(images), BATCH)]
    base_s, _ = median_time(lambda: baseline_dataloader(train), repeats=repeats)
    ours_s, _ = median_time(lambda: ours_fast_path(images, labels), repeats=repeats, warmup=1)
    floor_s, _ = median_time(lambda: floor_prebatched(prebatched), repeats=repeats, warmup=1)
    n = len(train)
    return [
        Row(f"MNIST MLP, 5 epochs on {n:,} images", "DataLoader + ToTensor + Normalize",
            base_s, ours_s, repeats, target=">= 20x"),
        Row(f"MNIST MLP, 5 epochs on {n:,} images (floor)", "fast path (labutils.fit)",
            ours_s, floor_s, repeats,
            target="fast path within 2x of floor: ratio <= 2"),
    ]
