"""The choices a training run takes, their names, and the checks that reject a bad choice with
a message listing the valid ones. Shared by the single trainer and the batched engine."""

from __future__ import annotations

import math
from collections.abc import Callable

CRITERIA = {"half": 0.5, "0.2": 0.2, "0.1": 0.1}
"""Stopping criteria: a run stops when every output is within this distance of its target.
The paper states no criterion (its Figure 1 caption only gives 1,425 sweeps); "half", every
output on the right side of 0.5, is OUR choice: the loosest one under which the network
answers every case correctly."""

OPTIMIZERS = ("sgd", "adam")
"""Update rules: "sgd" with momentum is the paper's rule; "adam" is torch.optim.Adam's."""

MOMENTUM_FORMS = ("paper", "torch")
"""How "sgd" applies momentum when the step size eps(t) changes (a schedule):
"paper": dw(t) = -eps(t) * dE/dw + alpha * dw(t-1), the paper's equation;
"torch": torch.optim.SGD's v(t) = alpha * v(t-1) + dE/dw, w -= eps(t) * v(t), which is
dw(t) = -eps(t) * dE/dw + alpha * (eps(t) / eps(t-1)) * dw(t-1).
With a constant eps the two are the same rule."""

LOSSES = ("sse", "cross_entropy")
"""Training losses, both summed over the 64 cases: the paper's 1/2 sum (y - d)^2, or the
binary cross-entropy of the output unit."""

WARMUP_SWEEPS = 200
"""Length of the "warmup" learning-rate schedule, in sweeps."""


def _cosine(max_sweeps: int) -> Callable[[int], float]:
    return lambda t: 0.5 * (1.0 + math.cos(math.pi * min(t, max_sweeps) / max_sweeps))


def _step(max_sweeps: int) -> Callable[[int], float]:
    every = max(1, max_sweeps // 5)
    return lambda t: 0.5 ** (t // every)


def _warmup(max_sweeps: int) -> Callable[[int], float]:
    return lambda t: min(1.0, (t + 1) / WARMUP_SWEEPS)


SCHEDULERS: dict[str, Callable[[int], Callable[[int], float]]] = {
    "cosine": _cosine,
    "step": _step,
    "warmup": _warmup,
}
"""Learning-rate schedules by name: each maps max_sweeps to a function sweep -> factor on eps.
"cosine" anneals eps to 0 at the cap, "step" halves it five times, "warmup" grows it linearly
from eps/WARMUP_SWEEPS to eps over the first WARMUP_SWEEPS sweeps. A callable sweep -> factor
may be passed instead of a name."""

Schedule = str | Callable[[int], float] | None


def check_choice(kind: str, value: str, valid: tuple[str, ...]) -> str:
    """Return `value` if it is in `valid`, else raise ValueError naming `kind` and the choices."""
    if value not in valid:
        raise ValueError(f"unknown {kind} {value!r}; valid ones are: {', '.join(valid)}")
    return value


def check_criterion(criterion: str | float | None) -> float:
    """The tolerance of `criterion` ("half", "0.2", "0.1"; None trains to the cap: tolerance 0)."""
    if criterion is None:
        return 0.0
    key = criterion if isinstance(criterion, str) else f"{criterion:g}"
    key = "half" if key == "0.5" else key
    if key not in CRITERIA:
        raise ValueError(
            f"unknown criterion {criterion!r}; valid ones are: {', '.join(CRITERIA)} "
            "(or None to train until the sweep cap)"
        )
    return CRITERIA[key]


def check_rates(lr: float, momentum: float) -> None:
    """Raise ValueError unless lr > 0 and 0 <= momentum < 1."""
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr}")
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum must be in [0, 1), got {momentum}")


def check_count(name: str, value: int, smallest: int) -> int:
    """Return `value` if it is a whole number >= `smallest`, else raise ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, int) or value < smallest:
        raise ValueError(f"{name} must be a whole number >= {smallest}, got {value!r}")
    return value


def schedule_factor(scheduler: Schedule, max_sweeps: int) -> Callable[[int], float] | None:
    """The function sweep -> factor on eps for `scheduler` (a name of SCHEDULERS, a callable,
    or None for a constant rate)."""
    if scheduler is None or callable(scheduler):
        return scheduler
    if scheduler not in SCHEDULERS:
        raise ValueError(
            f"unknown scheduler {scheduler!r}; valid ones are: {', '.join(SCHEDULERS)} "
            "(or None, or a function sweep -> factor)"
        )
    return SCHEDULERS[scheduler](max(1, max_sweeps))


def check_options(
    max_sweeps: int,
    criterion: str | float | None,
    optimizer: str,
    momentum_form: str,
    loss: str,
    lr: float,
    momentum: float,
    scheduler: Schedule,
) -> tuple[float, Callable[[int], float] | None]:
    """Check the options both trainers share; return (criterion tolerance, schedule factor)."""
    check_count("max_sweeps", max_sweeps, 0)
    tolerance = check_criterion(criterion)
    check_choice("optimizer", optimizer, OPTIMIZERS)
    check_choice("momentum_form", momentum_form, MOMENTUM_FORMS)
    check_choice("loss", loss, LOSSES)
    check_rates(lr, momentum)
    return tolerance, schedule_factor(scheduler, max_sweeps)
