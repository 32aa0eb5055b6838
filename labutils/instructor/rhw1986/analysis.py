"""Did a trained network learn the task the paper's way? And why did an unsolved run fail?

Solutions are judged by labutils.network_facts (the one implementation, shared with the
assignment's self-checks and the grader); this module adds the study-wide summary and the
failure labels of unsolved runs, which need the error history only the trainers keep.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch

from labutils.instructor.rhw1986.model import batched_forward
from labutils.network_facts import NetworkFacts, as_weights, many_network_facts
from labutils.network_facts import network_facts as analyse_solution
from labutils.symmetry_task import WEIGHT_KEYS

FACT_NAMES = {
    "solves": "solves the task (every output within 0.5, E below the constant answer's)",
    "mirror_antisymmetric": "every used hidden unit is anti-symmetric in each mirror pair",
    "paper_reason": "every asymmetric input gives each used hidden unit |sum| >= the margin "
    "(a fraction of the unit's largest input weight)",
    "twins": "the hidden units are sign-flipped twins",
    "paper_signs": "signs as in Figure 1 (after undoing complemented units)",
}
"""The network_facts summarised over a study by summarise_solutions, in report order."""


def summarise_solutions(weights: Mapping[str, torch.Tensor], **bounds: float) -> dict[str, float]:
    """Share of the networks in batched `weights` (S, ...) for which each of FACT_NAMES holds
    (`bounds` go to network_facts: margin, symmetric_tol, antisymmetry_tol, error_bound)."""
    facts = many_network_facts(weights, **bounds)
    if not facts:
        raise ValueError("summarise_solutions needs at least one network, got none")
    return {name: sum(bool(getattr(f, name)) for f in facts) / len(facts) for name in FACT_NAMES}


FAILURE_LABELS = {
    "plateau": 'answers "not symmetric" for all 64 inputs (E about 3.5 to 4)',
    "local_minimum": "stuck: the error no longer falls, yet some cases are wrong",
    "improving": "still improving when the sweep cap stopped it",
    "diverged": "the weights or the error became infinite or NaN",
}
"""Failure labels of unsolved runs and what they mean (see classify_failure)."""

IMPROVING_DROP = 0.05
"""An unsolved run whose E fell by more than this fraction over the last 20% of its sweeps is
"improving" rather than stuck."""


def _labels(
    outputs: torch.Tensor, final: torch.Tensor, tail: torch.Tensor, finite: torch.Tensor
) -> list[str]:
    labels = []
    for out, e_now, e_then, ok in zip(
        outputs, final.tolist(), tail.tolist(), finite.tolist(), strict=True
    ):
        if not ok or not math.isfinite(e_now):
            labels.append("diverged")
        elif math.isfinite(e_then) and e_then - e_now > IMPROVING_DROP * e_then:
            labels.append("improving")
        elif bool((out < 0.5).all()):
            labels.append("plateau")
        else:
            labels.append("local_minimum")
    return labels


def classify_failure(
    weights: Mapping[str, torch.Tensor], errors: Sequence[float], activation: str = "sigmoid"
) -> str:
    """Why a run did not reach its criterion: one of FAILURE_LABELS.

    `errors` is E after 0, 1, ..., n weight changes (TrainingRun.errors). "improving": E fell by
    more than IMPROVING_DROP over the last 20% of the run; "plateau": every output says
    "not symmetric"; "local_minimum": stuck with some outputs on the other side; "diverged": not
    finite.
    """
    if len(errors) == 0:
        raise ValueError("errors is empty; pass the run's error history (TrainingRun.errors)")
    w = {key: value[None] for key, value in as_weights(weights).items()}
    n = len(errors) - 1
    finite = torch.stack([torch.isfinite(w[k]).flatten(1).all(1) for k in WEIGHT_KEYS]).all(0)
    outputs = batched_forward(w, activation)
    final = torch.tensor([float(errors[-1])], dtype=torch.float64)
    tail = torch.tensor([float(errors[(4 * n) // 5])], dtype=torch.float64)
    return _labels(outputs, final, tail, finite)[0]


def classify_failures(
    weights: Mapping[str, torch.Tensor],
    sweeps: Sequence[int | None],
    final_errors: torch.Tensor,
    tail_errors: torch.Tensor,
    activation: str = "sigmoid",
) -> list[str]:
    """Labels for a whole study: "solved" where sweeps is not None, else a FAILURE_LABELS key.

    `tail_errors` holds E at 80% of the sweep cap (StudyResult.tail_errors).
    """
    w = as_weights(weights, batched=True)
    unsolved = torch.tensor([s is None for s in sweeps], dtype=torch.bool)
    labels = ["solved"] * len(sweeps)
    if bool(unsolved.any()):
        sub = {k: v[unsolved] for k, v in w.items()}
        finite = torch.stack([torch.isfinite(sub[k]).flatten(1).all(1) for k in WEIGHT_KEYS]).all(0)
        outputs = batched_forward(sub, activation)
        found = _labels(outputs, final_errors[unsolved], tail_errors[unsolved], finite)
        for index, label in zip(unsolved.nonzero().flatten().tolist(), found, strict=True):
            labels[index] = label
    return labels


__all__ = [
    "FACT_NAMES",
    "FAILURE_LABELS",
    "IMPROVING_DROP",
    "NetworkFacts",
    "analyse_solution",
    "classify_failure",
    "classify_failures",
    "summarise_solutions",
]
