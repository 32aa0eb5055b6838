"""Shared fixtures: a tiny synthetic MNIST mirror, so data tests never touch the network."""

from __future__ import annotations

import gzip
import struct
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def idx_bytes(name: str, count: int) -> bytes:
    """A valid IDX file body for one of the four MNIST files, with `count` items."""
    if "images" in name:
        pixels = bytes(i % 256 for i in range(count * 784))
        return struct.pack(">IIII", 2051, count, 28, 28) + pixels
    return struct.pack(">II", 2049, count) + bytes(i % 10 for i in range(count))


@pytest.fixture
def tiny_mirror(tmp_path: Path) -> Path:
    """A mirror folder laid out like data/: MNIST/raw/<name>.gz with 20 items each."""
    raw = tmp_path / "mirror" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                 "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (raw / f"{name}.gz").write_bytes(gzip.compress(idx_bytes(name, 20), mtime=0))
    return tmp_path / "mirror"


@pytest.fixture
def no_download(monkeypatch):
    """Make torchvision's download fail as it does offline, without touching the network."""
    from torchvision.datasets import MNIST

    def offline(self):
        if self._check_exists():  # as torchvision does: files present, nothing to fetch
            return
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz: Tried (offline in tests)")

    monkeypatch.setattr(MNIST, "download", offline)


@pytest.fixture(autouse=True)
def close_figures():
    """Close every matplotlib figure a test opened, so figures never pile up across tests."""
    yield
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
