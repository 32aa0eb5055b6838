"""The Part 5 study as data for the grader: the start of every run and how it ended.

The notebook asks for five names next to the six of the contract (Part 5 says what each holds):
`study_starts` (each run's initial weights, in any form `initial_weights` may take),
`study_sweeps` (the weight changes each run made), `study_learned` (whether each run learned
the task: every output on the correct side of 0.5), and the statistics the notebook computed
from them, `study_success_rate` (share of runs that learned) and `study_median_sweeps` (median
sweeps of the runs that learned). `study_data` turns them into plain tensors with flat keys;
the grader replays a sample of the runs it picks itself and recomputes the statistics.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from labutils.checks._read import as_count, find_weights

STUDY_NAMES = ("study_starts", "study_sweeps", "study_learned", "study_success_rate",
               "study_median_sweeps")
"""The globals of Part 5 the grader collects."""

MAX_STUDY_RUNS = 1_000
"""Longer studies are not collected (the notebook asks for at least 50 runs)."""

STUDY_KEYS = ("hidden.weight", "hidden.bias", "output.weight", "output.bias")
"""The four tensors of each run's start, stacked as "study/<key>" (runs first)."""


def study_data(namespace: Mapping) -> dict[str, torch.Tensor]:
    """The study's names as plain tensors: "study/<key>" (runs, ...) float64 starts,
    "study/sweeps" and "study/learned" (runs,) int64, "study/success_rate" and
    "study/median_sweeps" () float64. A missing or unreadable name is left out; never raises."""
    out: dict[str, torch.Tensor] = {}
    for read in (_starts, _sweeps, _learned, _statistics):
        try:
            out.update(read(namespace))
        except Exception:  # noqa: BLE001 - unreadable names are left out, by contract
            pass
    return out


def _runs(value) -> list:
    runs = list(value.values()) if isinstance(value, Mapping) else list(value)
    if not 0 < len(runs) <= MAX_STUDY_RUNS:
        raise ValueError(f"{len(runs)} runs (1 to {MAX_STUDY_RUNS} are collected)")
    return runs


def _starts(namespace: Mapping) -> dict[str, torch.Tensor]:
    starts = [find_weights(run, "study_starts") for run in _runs(namespace["study_starts"])]
    return {f"study/{key}": torch.stack([w[key].detach().to(torch.float64) for w in starts])
            for key in STUDY_KEYS}


def _sweeps(namespace: Mapping) -> dict[str, torch.Tensor]:
    counts = [as_count(n, "study_sweeps") for n in _runs(namespace["study_sweeps"])]
    return {"study/sweeps": torch.tensor(counts, dtype=torch.int64)}


def _learned(namespace: Mapping) -> dict[str, torch.Tensor]:
    flags = []
    for flag in _runs(namespace["study_learned"]):
        value = flag.item() if isinstance(flag, torch.Tensor) else flag
        if value not in (True, False):  # 0/1 and True/False, nothing else
            raise ValueError("not a yes/no")
        flags.append(int(bool(value)))
    return {"study/learned": torch.tensor(flags, dtype=torch.int64)}


def _statistics(namespace: Mapping) -> dict[str, torch.Tensor]:
    out = {}
    for name in ("success_rate", "median_sweeps"):
        value = namespace.get(f"study_{name}")
        if value is not None and not isinstance(value, bool):
            number = float(value.item() if hasattr(value, "item") else value)
            out[f"study/{name}"] = torch.tensor(number, dtype=torch.float64)
    return out
