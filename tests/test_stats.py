"""Tests of labutils.stats: the Wilson interval."""

from __future__ import annotations

import pytest

from labutils.stats import wilson_interval

# --- statistics -------------------------------------------------------------------------------


def test_wilson_interval_known_values_and_bad_input():
    low, high = wilson_interval(657, 1000)
    assert low == pytest.approx(0.6270, abs=1e-4) and high == pytest.approx(0.6858, abs=1e-4)
    assert wilson_interval(0, 50)[0] == 0.0 and wilson_interval(0, 50)[1] == pytest.approx(
        0.0713, abs=1e-4
    )
    assert wilson_interval(50, 50)[1] == 1.0
    wide, narrow = wilson_interval(30, 60, 0.99), wilson_interval(30, 60, 0.9)
    assert wide[0] < narrow[0] and wide[1] > narrow[1]
    for bad in ((1, 0), (5, 3), (-1, 3), (1.5, 3)):
        with pytest.raises(ValueError):
            wilson_interval(*bad)
    with pytest.raises(ValueError, match="confidence"):
        wilson_interval(1, 3, confidence=95)
