"""Tests of labutils.device: pick_device."""

import pytest
import torch

from labutils.device import pick_device


@pytest.mark.parametrize("has_gpu, expected", [(True, "cuda"), (False, "cpu")])
def test_pick_device_takes_the_gpu_exactly_when_there_is_one(monkeypatch, has_gpu, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: has_gpu)
    assert pick_device() == torch.device(expected)
    assert pick_device("cpu") == torch.device("cpu")  # asking for the CPU always works


def test_pick_device_checks_the_gpu_index_and_names(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert pick_device("cuda:0") == torch.device("cuda", 0)
    with pytest.raises(ValueError, match=r"cuda:3 was asked for but only 1 GPU"):
        pick_device("cuda:3")
    with pytest.raises(ValueError, match="not a device name"):
        pick_device("gpu")


def test_pick_device_without_cuda_says_how_to_get_one(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="no GPU is visible"):
        pick_device("cuda")
