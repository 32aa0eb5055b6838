"""Comparisons the exercise checks share: tensors equal up to rounding, a constant ratio."""

from __future__ import annotations

import torch


def close(found: torch.Tensor, wanted: torch.Tensor) -> bool:
    """True when both have one shape and agree up to float32 rounding."""
    found = torch.as_tensor(found, dtype=torch.float64)
    wanted = torch.as_tensor(wanted, dtype=torch.float64)
    return found.shape == wanted.shape and torch.allclose(found, wanted, rtol=1e-4, atol=1e-6)


def same_everywhere_ratio(found: torch.Tensor, wanted: torch.Tensor) -> float | None:
    """The factor c with found == c * wanted at every point (c != 1), else None."""
    nonzero = wanted.abs() > 1e-6
    if not nonzero.any() or not torch.all(found[~nonzero].abs() < 1e-6):
        return None
    ratios = found[nonzero] / wanted[nonzero]
    ratio = ratios.median().item()
    if abs(ratio - 1) < 1e-4 or not close(ratios, torch.full_like(ratios, ratio)):
        return None
    return round(ratio, 4)
