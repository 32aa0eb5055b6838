"""The results of a study (many runs of one protocol) and their statistics."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import torch

from labutils.instructor.rhw1986.model import initial_weights
from labutils.network_weights import check_weights
from labutils.stats import wilson_interval
from labutils.symmetry_task import WEIGHT_KEYS

Weights = dict[str, torch.Tensor]


def stack_weights(runs: list[Mapping[str, torch.Tensor]]) -> Weights:
    """Batched weights (S, ...) from a list of S single-network weight mappings."""
    if not runs:
        raise ValueError("stack_weights needs at least one set of weights, got an empty list")
    for run in runs:
        check_weights(run)
    return {key: torch.stack([torch.as_tensor(run[key]) for run in runs]) for key in WEIGHT_KEYS}


def unstack_weights(weights: Mapping[str, torch.Tensor], index: int) -> Weights:
    """The weights of network `index` out of batched weights (a copy)."""
    check_weights(weights, batched=True)
    return {key: weights[key][index].clone() for key in WEIGHT_KEYS}


@dataclass
class StudyResult:
    """Many independent runs of the same protocol, one per seed index.

    sweeps[i]: sweeps network i took, or None if unsolved. final_errors[i]: its E when it stopped.
    weights: its final weights, batched (S, ...). labels[i]: "solved" or the failure label of
    classify_failure. history: E every `history_every` sweeps (rows: history_sweeps; NaN once a
    run has stopped). tail_errors[i]: E at sweep tail_sweep (80% of the cap), used to tell a run
    still improving from a stuck one.
    """

    config: dict
    sweeps: list[int | None]
    final_errors: torch.Tensor
    weights: Weights
    labels: list[str]
    history: torch.Tensor
    history_sweeps: list[int]
    tail_errors: torch.Tensor
    tail_sweep: int
    seconds: float = 0.0
    initial: Weights | None = field(default=None, repr=False)

    @property
    def n_seeds(self) -> int:
        return len(self.sweeps)

    @property
    def solved(self) -> torch.Tensor:
        """Bool tensor (S,): which runs met the criterion."""
        return torch.tensor([s is not None for s in self.sweeps], dtype=torch.bool)

    @property
    def n_solved(self) -> int:
        return sum(s is not None for s in self.sweeps)

    @property
    def success_rate(self) -> float:
        return self.n_solved / self.n_seeds

    def success_interval(self, confidence: float = 0.95) -> tuple[float, float]:
        """Wilson confidence interval of the success rate."""
        return wilson_interval(self.n_solved, self.n_seeds, confidence)

    @property
    def solved_sweeps(self) -> torch.Tensor:
        """Sweeps of the solved runs (float64, for quantiles)."""
        return torch.tensor([s for s in self.sweeps if s is not None], dtype=torch.float64)

    def sweep_quantiles(self, qs: tuple[float, ...] = (0.25, 0.5, 0.75)) -> list[float]:
        """Quantiles of sweeps over the solved runs (NaN if none solved)."""
        solved = self.solved_sweeps
        if solved.numel() == 0:
            return [math.nan] * len(qs)
        return torch.quantile(solved, torch.tensor(qs, dtype=torch.float64)).tolist()

    @property
    def median_sweeps(self) -> float:
        return self.sweep_quantiles((0.5,))[0]

    def label_counts(self) -> dict[str, int]:
        """How many runs got each label ("solved" and the failure labels), most common first."""
        counts: dict[str, int] = {}
        for label in self.labels:
            counts[label] = counts.get(label, 0) + 1
        return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))

    def run_weights(self, index: int) -> Weights:
        """The final weights of run `index`."""
        return unstack_weights(self.weights, index)

    def start_weights(self, index: int) -> Weights:
        """The weights run `index` started from (float64), to re-run it with train_single."""
        if self.initial is not None:
            return unstack_weights(self.initial, index)
        c = self.config
        return initial_weights(c["seed"], index, c["hidden"], c["init_range"], torch.float64)

    def summary(self) -> dict[str, float]:
        """Headline numbers: seeds, success rate and its 95% interval, sweep quartiles."""
        low, high = self.success_interval()
        q1, median, q3 = self.sweep_quantiles()
        return {
            "seeds": self.n_seeds,
            "solved": self.n_solved,
            "success_rate": self.success_rate,
            "ci_low": low,
            "ci_high": high,
            "median_sweeps": median,
            "q1_sweeps": q1,
            "q3_sweeps": q3,
        }

    def __repr__(self) -> str:
        return f"StudyResult({self})"

    def __str__(self) -> str:
        s = self.summary()
        return (
            f"{s['solved']}/{s['seeds']} solved ({100 * s['success_rate']:.1f}%, 95% CI "
            f"{100 * s['ci_low']:.1f}-{100 * s['ci_high']:.1f}%), "
            + (f"median sweeps {s['median_sweeps']:.0f}" if s["solved"] else "median sweeps -")
        )
