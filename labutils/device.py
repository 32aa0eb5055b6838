"""Choose where tensors live: the GPU when there is one (e.g. on Colab), else the CPU.

Every lesson asks this one helper, so switching a whole course run to the CPU is one argument.
"""

from __future__ import annotations

import torch


def pick_device(prefer: str | torch.device | None = None) -> torch.device:
    """`prefer` when given and usable, else CUDA when available, else the CPU.

    Apple's "mps" is only used when asked for: for the small models of this course it is
    often slower than the CPU. Asking for a device that is not there raises a ValueError.
    """
    if prefer is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(prefer)
    except (RuntimeError, TypeError) as err:
        raise ValueError(
            f"{prefer!r} is not a device name; use 'cpu', 'cuda', 'cuda:0' or 'mps'."
        ) from err
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            "CUDA was asked for but no GPU is visible to PyTorch. On Colab choose "
            "Runtime > Change runtime type > GPU, or call pick_device() to use the CPU."
        )
    if device.type == "cuda" and device.index is not None:
        if device.index >= torch.cuda.device_count():
            raise ValueError(
                f"{device} was asked for but only {torch.cuda.device_count()} GPU(s) exist."
            )
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError("'mps' was asked for but this machine has no usable Apple GPU.")
    return device
