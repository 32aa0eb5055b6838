"""Small statistics for reporting experiments: a confidence interval for a proportion."""

from __future__ import annotations

import math
from statistics import NormalDist


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval (low, high) for a success probability from `successes` of `trials`.

    Unlike the textbook p +- z*sqrt(p(1-p)/n), it stays inside [0, 1] and is sensible when
    nothing or everything succeeded (e.g. 0 of 50 gives (0.0, 0.071)).
    """
    if isinstance(trials, bool) or not isinstance(trials, int) or trials <= 0:
        raise ValueError(f"trials must be a whole number > 0, got {trials!r}")
    if isinstance(successes, bool) or not isinstance(successes, int):
        raise ValueError(f"successes must be a whole number, got {successes!r}")
    if not 0 <= successes <= trials:
        raise ValueError(f"successes must be between 0 and trials={trials}, got {successes}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (e.g. 0.95), got {confidence}")
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / trials
    scale = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / scale
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials**2)) / scale
    return max(0.0, centre - half), min(1.0, centre + half)


__all__ = ["wilson_interval"]
