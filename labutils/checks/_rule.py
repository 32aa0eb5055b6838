"""A private reference of the paper's learning rule (Rumelhart, Hinton & Williams 1986, eq. 3,
8 and 9), and the classic ways to get it wrong, for comparing a student's error trajectory with.
The numbers of the protocol come from labutils.checks._protocol; the hints below point at the
paper and at the evidence, never at those numbers.

This is deliberately not a trainer: it replays at most MAX_REPLAY sweeps, far fewer than the
task needs, and only to tell which rule produced the first errors a student recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from labutils.checks._protocol import protocol
from labutils.symmetry_task import cases, forward, gradient, summed_error

MAX_REPLAY = 50
"""Sweeps replayed at most: enough to tell the rules apart, far too few to learn the task."""

Weights = dict[str, torch.Tensor]


def _rule_gradient(w: Weights, x: torch.Tensor, d: torch.Tensor,
              broadcast: bool = False) -> tuple[float, Weights]:
    """(the paper's E, dE/dw) over the cases given; with `broadcast`, dE/dw is of
    1/2 sum_ij (y_i - d_j)^2 (outputs (64, 1) minus targets (64,)): since sum_j (y_i - d_j) =
    n (y_i - mean d), that is n times the gradient towards the mean target."""
    error, g = gradient(w, x, d)
    if broadcast:
        g = {k: len(d) * v for k, v in gradient(w, x, d.mean().expand(d.shape))[1].items()}
    return float(error), g


@dataclass(frozen=True)
class Rule:
    """One way of changing the weights each sweep: the paper's, or a classic mistake."""

    name: str
    hint: str
    gradient_scale: float = 1.0
    alpha: float | None = None
    """The momentum (None: the paper's)."""
    pile_up: bool = False
    per_case: bool = False
    broadcast: bool = False


PAPER = Rule("the paper's rule", "")

_READ_E = "re-read the paper's definition of E (eq. 3) and compare your loss with it, term by term."

MISTAKES = (
    Rule("the error is an average",
         "your error and each weight change are 1/64 of the paper's: " + _READ_E,
         gradient_scale=1 / 64),
    Rule("the error is an average, scaled differently",
         "each weight change is 1/32 of the paper's: " + _READ_E, gradient_scale=1 / 32),
    Rule("the error is scaled differently",
         "each weight change is twice the paper's: " + _READ_E, gradient_scale=2.0),
    Rule("no momentum",
         "the first weight change matches the paper's rule, but later ones carry nothing over "
         "from the change before: re-read eq. 9 and the momentum term in your code.", alpha=0.0),
    Rule("gradients pile up",
         "each sweep's gradient includes all earlier ones: PyTorch adds new gradients to the "
         "stored ones until they are cleared; re-read where your loop clears them.",
         pile_up=True),
    Rule("targets broadcast",
         "your error compares every output with every target: outputs of shape (64, 1) minus "
         "targets of shape (64,) broadcast to a 64 x 64 table. Make the two shapes equal.",
         broadcast=True),
    Rule("per-case updates",
         "your weights change after every single case: re-read when the paper changes the "
         "weights (the text before eq. 8, and the caption of Figure 1).", per_case=True),
)


def replay(w0: Weights, sweeps: int, rule: Rule, order: torch.Tensor | None = None):
    """E before each of the first `sweeps` (<= MAX_REPLAY) sweeps of `rule` from `w0`.

    Returns (errors at the start of each sweep, errors added up case by case during the sweep;
    the second differs from the first only for per-case rules).
    """
    x, d = cases(order)
    step = protocol("step") * rule.gradient_scale
    carry = protocol("carry") if rule.alpha is None else rule.alpha
    w = {k: v.to(torch.float64).clone() for k, v in w0.items()}
    velocity = {k: torch.zeros_like(v) for k, v in w.items()}
    carried = {k: torch.zeros_like(v) for k, v in w.items()}
    at_start, running = [], []
    for _ in range(min(sweeps, MAX_REPLAY)):
        if rule.per_case:
            at_start.append(float(summed_error(forward(w, x)[1], d)))
        elif rule.broadcast:
            y = forward(w, x)[1]
            at_start.append(float(summed_error(y[:, None].expand(64, 64), d.expand(64, 64))))
        groups = [slice(c, c + 1) for c in range(64)] if rule.per_case else [slice(0, 64)]
        total = 0.0
        for group in groups:
            error, g = _rule_gradient(w, x[group], d[group], rule.broadcast)
            total += error
            for k in w:
                carried[k] = carried[k] + g[k] if rule.pile_up else g[k]
                velocity[k] = carry * velocity[k] - step * carried[k]
                w[k] = w[k] + velocity[k]
        running.append(total)
    return torch.tensor(at_start if at_start else running), torch.tensor(running)
