"""The task of experiment 1: is a 6-bit vector symmetric about its centre?

All 64 vectors are the training set. Case i is the 6-bit binary of i, most significant bit first,
so case 0 is 000000, case 1 is 000001 and case 63 is 111111; 8 of them are mirror-symmetric.
"""

from __future__ import annotations

import torch

N_INPUTS = 6
"""Input units (bits) of the network."""

N_CASES = 2**N_INPUTS
"""Training cases: every 6-bit vector once."""


def symmetry_dataset(dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """All 64 cases: inputs (64, 6) of 0/1 and targets (64, 1), 1 for the 8 symmetric vectors.

    Row i holds the bits of i, most significant first (row 5 is 0 0 0 1 0 1).
    """
    case = torch.arange(N_CASES)
    shifts = torch.arange(N_INPUTS - 1, -1, -1)
    bits = (case[:, None] >> shifts) & 1
    symmetric = (bits == bits.flip(1)).all(dim=1)
    return bits.to(dtype), symmetric.to(dtype)[:, None]


def is_symmetric(bits: torch.Tensor) -> torch.Tensor:
    """True where a (..., 6) tensor of 0/1 reads the same from both ends."""
    return (bits == bits.flip(-1)).all(dim=-1)


def case_label(index: int) -> str:
    """Case `index` written as its six bits, e.g. '001100'."""
    if not 0 <= index < N_CASES:
        raise ValueError(f"case index must be in 0..{N_CASES - 1}, got {index}")
    return format(index, f"0{N_INPUTS}b")
