"""benchmarks/honest_seeds.py, small: honest float32 solutions (fixed seeds 0-9, each with its
own 50-seed study) lose no automatic points under the rhw1986 plug-in's judge. The cap is 600
sweeps here so that the test stays short (a few of the runs learn within it, most do not: both
ways are replayed); `python -m benchmarks.honest_seeds` runs the 200 seeds with cap 5,000."""

from __future__ import annotations

from benchmarks.honest_seeds import run


def test_ten_honest_seeds_lose_no_automatic_points():
    results = run(seeds=10, cap=600, jobs=2)
    assert [seed for seed, _, _ in results] == list(range(10))
    assert [(seed, lost, why) for seed, lost, why in results if lost] == []
