"""Comparing two networks' weights in the engine's tests (test_rhw1986*.py)."""

from labutils.symmetry_task import WEIGHT_KEYS


def max_difference(a, b) -> float:
    """The largest absolute difference between two weight dicts, over every tensor."""
    return max(float((a[k] - b[k]).abs().max()) for k in WEIGHT_KEYS)
