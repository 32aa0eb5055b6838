"""Tests of labutils.batches: TensorBatches, mini-batches of tensors in memory."""

import pytest
import torch

from labutils.batches import TensorBatches


def test_tensor_batches_in_order():
    x = torch.arange(10)
    batches = list(TensorBatches(x, x * 2, batch_size=4))
    assert [b[0].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert all(torch.equal(b[1], b[0] * 2) for b in batches)
    assert len(TensorBatches(x, batch_size=4)) == 3
    assert len(TensorBatches(x, batch_size=4, drop_last=True)) == 2
    assert [len(b[0]) for b in TensorBatches(x, batch_size=4, drop_last=True)] == [4, 4]
    assert "3 batches" in repr(TensorBatches(x, batch_size=4))


def test_tensor_batches_shuffle_every_example_once_per_epoch_reproducibly():
    x = torch.arange(100)
    loader = TensorBatches(x, -x, batch_size=32, shuffle=True, seed=1)
    first = torch.cat([b[0] for b in loader])
    second = torch.cat([b[0] for b in loader])
    assert sorted(first.tolist()) == list(range(100)) == sorted(second.tolist())
    assert not torch.equal(first, second)  # a new order every epoch
    again = TensorBatches(x, -x, batch_size=32, shuffle=True, seed=1)
    assert torch.equal(torch.cat([b[0] for b in again]), first)  # same seed, same order
    assert all(torch.equal(b[1], -b[0]) for b in loader)  # pairs stay together


def test_tensor_batches_bad_input():
    with pytest.raises(ValueError, match="at least one tensor"):
        TensorBatches(batch_size=2)
    with pytest.raises(ValueError, match=r"\(3,\), \(4,\)"):
        TensorBatches(torch.zeros(3), torch.zeros(4), batch_size=2)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        TensorBatches(torch.zeros(3), batch_size=0)
    with pytest.raises(TypeError, match="pass tensors"):
        TensorBatches([1, 2, 3], batch_size=2)


