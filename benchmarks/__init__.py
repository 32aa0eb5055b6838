"""Benchmarks of the course's slow spots: `make bench` (python -m benchmarks).

Every figure is a ratio against a baseline measured in the same run (median of repeats), so the
numbers mean something on a noisy shared machine. Benchmarks never fail on speed.
"""
