"""Replay: judge the data a submission handed over, in the grader's own process.

The collection cell saves plain tensors (labutils.checks.submission_data); the grader core loads
them with `weights_only=True` and checks them key by key against the entries this assignment
declares (type, dtype, shape, finite: rhw1986/__init__.py), and then, here:
- the training is replayed from the student's initial weights with the paper's rule (the
  hand-written `labutils.symmetry_task.sweep`, float64: eps 0.1, alpha 0.9, summed error, one
  change per sweep over all 64 cases) for exactly the student's number of sweeps, and the
  recorded errors and final weights are compared with the replay within stated tolerances;
- the final weights are judged with labutils.network_facts (solves, mirror anti-symmetric, the
  paper's reason), and compared with the paper's Figure 1 weights (loaded, not learned);
- the declared start is judged by the self-check's own test (labutils.checks.start_problem:
  a start the protocol could have drawn). Training and network points need such a start, a
  replay that matches, at least MIN_TRAINING_SWEEPS sweeps, and neither "no training" nor
  "Figure 1 weights" among the findings (`Verdict.trained`).
Nothing here runs student code or reads anything the kernel printed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from labutils.checks import start_problem
from labutils.checks._protocol import protocol
from labutils.network_facts import network_facts
from labutils.paper1986 import paper_weights
from labutils.symmetry_task import WEIGHT_KEYS, cases, forward, summed_error, sweep

ERROR_RTOL = 1e-3
"""Recorded error E(t) vs replay: |difference| <= ERROR_RTOL * max(1, E(t)) (float32 training
over 1,425 sweeps stays well inside; a different rule leaves it within a few sweeps)."""
WEIGHT_ATOL = 0.02
"""Final weights vs replay: each within WEIGHT_ATOL * max(1, |w|) (float32 drift allowance)."""
PAPER_ATOL = 0.05
"""Final weights this close to Figure 1's (printed with one decimal) count as the paper's."""
MIN_TRAINING_SWEEPS = 50
"""Fewer sweeps earn no training points: no start the protocol draws learns the task that fast
(the fastest of 50 seeds took 347), and the self-check compares this many."""
MAX_REPLAY_SWEEPS = 20_000
"""Longer runs are not replayed (about 2 s per 1,000 sweeps here)."""


@dataclass
class Verdict:
    """What the grader concluded from the submission's data (all computed here)."""

    data: dict[str, torch.Tensor] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    """Data that was missing, malformed or rejected."""
    data_ok: bool = False
    """inputs and targets are the 64 cases of the task (in any order)."""
    replay: str = "not done"
    """'matches', 'differs: ...' or 'not done: ...'."""
    sweeps: int | None = None
    facts: object | None = None
    findings: list[str] = field(default_factory=list)
    """Plain statements: paper weights loaded, no training happened, sweeps vs errors."""
    start_ok: bool = False
    """The declared initial weights are a start the protocol could have drawn."""
    not_learned: list[str] = field(default_factory=list)
    """Why the weights do not count as learned (each costs the training and network points)."""

    @property
    def replay_matches(self) -> bool:
        return self.replay == "matches"

    @property
    def trained(self) -> bool:
        """Training (and so network) points: a drawable start, trained long enough by the
        paper's rule, and no finding that says the weights were not learned."""
        return (self.replay_matches and self.start_ok and self.sweeps is not None
                and self.sweeps >= MIN_TRAINING_SWEEPS and not self.not_learned)


def weights(data: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor] | None:
    if all(f"{prefix}/{key}" in data for key in WEIGHT_KEYS):
        return {key: data[f"{prefix}/{key}"] for key in WEIGHT_KEYS}
    return None


def replay(initial: dict[str, torch.Tensor], sweeps: int) -> tuple[list[float], dict]:
    """E before each of `sweeps` weight changes of the paper's rule, and the weights after."""
    w, velocity, errors = dict(initial), None, []
    d = cases()[1]
    for _ in range(sweeps):
        errors.append(float(summed_error(forward(w)[1], d)))
        w, velocity = sweep(w, velocity, eps=protocol("step"), alpha=protocol("carry"))
    return errors, w


def judge_data(data: dict[str, torch.Tensor], problems: list[str] | None = None) -> Verdict:
    """Everything the grader concludes from checked data (as load_data returns it)."""
    verdict = Verdict(data, list(problems or []))
    problems = verdict.problems
    if "inputs" in data and "targets" in data:
        verdict.data_ok = _same_cases(data["inputs"], data["targets"])
        if not verdict.data_ok:
            verdict.findings.append("inputs/targets are not the 64 cases of the task")
    initial, final = weights(data, "initial"), weights(data, "final")
    if final is not None:
        try:
            verdict.facts = network_facts(final)
        except ValueError as err:
            problems.append(f"final weights: {err}")
        paper = paper_weights(torch.float64)
        if all(torch.allclose(final[k], paper[k], rtol=0, atol=PAPER_ATOL) for k in WEIGHT_KEYS):
            verdict.findings.append("final weights are the paper's Figure 1 weights")
            verdict.not_learned.append("Figure 1 weights")
        if initial is not None and all(torch.equal(initial[k], final[k]) for k in WEIGHT_KEYS):
            verdict.findings.append("final weights equal the initial weights (no training)")
            verdict.not_learned.append("no training")
    if initial is not None:
        start = start_problem(initial)
        verdict.start_ok = start is None
        if start is not None:
            verdict.findings.append(f"start not one the protocol could draw: {start.message}")
            verdict.not_learned.append("start")
    if "sweeps" in data:
        verdict.sweeps = int(data["sweeps"])
        if 0 <= verdict.sweeps < MIN_TRAINING_SWEEPS:
            verdict.findings.append(f"only {verdict.sweeps} sweeps (fewer than "
                                    f"{MIN_TRAINING_SWEEPS})")
            verdict.not_learned.append(f"{verdict.sweeps} sweeps")
    verdict.replay = _replay_verdict(verdict, initial, final, data.get("errors"))
    if verdict.not_learned:
        verdict.findings.append("no training or network points: "
                                + ", ".join(verdict.not_learned))
    return verdict


def _same_cases(inputs: torch.Tensor, targets: torch.Tensor) -> bool:
    x, d = cases()
    rows = sorted(zip(inputs.tolist(), targets.tolist(), strict=True))
    want = sorted(zip(x.tolist(), d.tolist(), strict=True))
    return rows == want


def _replay_verdict(verdict: Verdict, initial, final, errors) -> str:
    missing = [name for name, value in (("initial weights", initial), ("final weights", final),
                                        ("errors", errors), ("sweeps", verdict.sweeps))
               if value is None]
    if missing:
        return f"not done: missing {', '.join(missing)}"
    n = verdict.sweeps
    if n < 0 or n > MAX_REPLAY_SWEEPS:
        return f"not done: sweeps = {n} is outside 0..{MAX_REPLAY_SWEEPS}"
    if len(errors) != n:
        verdict.findings.append(f"sweeps = {n} but {len(errors)} errors were recorded")
        return f"differs: sweeps = {n} but {len(errors)} errors recorded (one per sweep)"
    replayed, replayed_final = replay(initial, n)
    if not all(math.isfinite(e) for e in replayed) or not all(
            bool(torch.isfinite(v).all()) for v in replayed_final.values()):
        return "differs: the paper's rule from your initial weights does not stay finite"
    for t, (mine, theirs) in enumerate(zip(errors.tolist(), replayed, strict=True)):
        if not math.isclose(mine, theirs, rel_tol=0, abs_tol=ERROR_RTOL * max(1.0, theirs)):
            return (f"differs: error at sweep {t} is {mine:.6g}, the paper's rule from your "
                    f"initial weights gives {theirs:.6g}")
    worst_key, worst = "", 0.0
    for key in WEIGHT_KEYS:
        gap = ((final[key] - replayed_final[key]).abs()
               / replayed_final[key].abs().clamp(min=1.0)).max().item()
        if math.isnan(gap) or gap > worst:
            worst_key, worst = key, gap
    if not worst <= WEIGHT_ATOL:  # a NaN gap is no match either
        return (f"differs: final {worst_key} is off the replay by {worst:.3g} (relative, "
                f"tolerance {WEIGHT_ATOL})")
    return "matches"
