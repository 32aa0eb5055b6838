"""The weights of a 6-h-1 network for the mirror-symmetry task as a mapping of tensors: a checked
copy (the keys and shapes are labutils.symmetry_task's). Re-exported by labutils.network_facts."""

from __future__ import annotations

from collections.abc import Mapping

import torch

from labutils.symmetry_task import N_INPUTS, WEIGHT_KEYS, Weights, weight_shapes


def check_weights(weights: Mapping[str, torch.Tensor], batched: bool = False) -> int:
    """Check the keys and shapes of a weight mapping and return its number of hidden units.

    `batched` weights hold S networks with one more leading dimension: (S, h, 6), (S, h),
    (S, 1, h), (S, 1). Raises ValueError naming the offending key, the expected and the actual
    shape.
    """
    if not isinstance(weights, Mapping):
        raise ValueError(
            f"weights must be a mapping with keys {', '.join(WEIGHT_KEYS)} "
            f"(e.g. a state_dict), got {type(weights).__name__}"
        )
    missing = [key for key in WEIGHT_KEYS if key not in weights]
    if missing:
        raise ValueError(
            f"weights lack {', '.join(missing)}; expected the keys {', '.join(WEIGHT_KEYS)}"
        )
    lead = 1 if batched else 0
    first = tuple(torch.as_tensor(weights["hidden.weight"]).shape)
    if len(first) != lead + 2 or first[-1] != N_INPUTS or first[lead] < 1:
        want = "(S, h, 6)" if batched else "(h, 6)"
        raise ValueError(f"hidden.weight: expected shape {want} with h >= 1, got {first}")
    hidden = first[lead]
    for key, shape in weight_shapes(hidden).items():
        got = tuple(torch.as_tensor(weights[key]).shape)
        if got != first[:lead] + shape:
            raise ValueError(f"{key}: expected shape {first[:lead] + shape}, got {got}")
    return hidden


def as_weights(
    weights: Mapping[str, torch.Tensor], batched: bool = False, dtype: torch.dtype = torch.float64
) -> Weights:
    """A checked, detached copy of `weights` as a plain dict of `dtype` tensors."""
    check_weights(weights, batched)
    return {key: torch.as_tensor(weights[key]).detach().to(dtype).clone() for key in WEIGHT_KEYS}


__all__ = ["as_weights", "check_weights"]
