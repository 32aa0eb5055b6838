"""Is a trained network the paper's solution? And why did an unsolved run fail?

The paper's solution (Figure 1) has, for each hidden unit, weights that are mirror images with
opposite signs (so a symmetric input gives net input 0 plus the bias), magnitudes 1:2:4 on each
side (so no non-symmetric input can cancel out), two hidden units that are the same pattern with
opposite signs, negative hidden biases, and an output unit with a positive bias and negative
weights from both hidden units. `analyse_solution` checks each property and says which fail.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import torch

from labutils.instructor.rhw1986.dataset import case_label, symmetry_dataset
from labutils.instructor.rhw1986.model import WEIGHT_KEYS, batched_forward, check_activation, check_weights

ANTISYMMETRY_TOL = 0.1
"""Largest relative mirror anti-symmetry error |w + flip(w)| / |w| that counts as anti-symmetric."""

TWIN_TOL = -0.9
"""Largest correlation between the two hidden units' input weights that counts as twins."""

RATIO_TOL = 0.25
"""Largest relative deviation of the sorted magnitude ratios from 1:2:4."""

PAPER_RATIO = (1.0, 2.0, 4.0)

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

CHECK_NAMES = {
    "classifies_all": "classifies all 64 cases",
    "antisymmetric": "each hidden unit is mirror anti-symmetric",
    "twins": "the hidden units are sign-flipped twins",
    "ratio_124": "magnitudes on each side are 1:2:4",
    "hidden_biases_negative": "hidden biases are negative",
    "output_bias_positive": "output bias is positive",
    "output_weights_negative": "hidden->output weights are negative",
}
"""The checks of analyse_solution, in the order they are reported."""


def _batched(weights: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Batched float64 weights from single (h, 6)... or batched (S, h, 6)... weights."""
    first = torch.as_tensor(weights["hidden.weight"]) if "hidden.weight" in weights else None
    if first is not None and first.dim() == 3:
        check_weights(weights, batched=True)
        return {k: torch.as_tensor(weights[k]).double() for k in WEIGHT_KEYS}
    check_weights(weights)
    return {k: torch.as_tensor(weights[k]).double()[None] for k in WEIGHT_KEYS}


def side_ratios(hidden_weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Magnitudes on the left (inputs 1-3) and right (inputs 4-6) side of each hidden unit,
    sorted and divided by the smallest: (..., h, 3) each. The paper's solution gives 1:2:4."""
    mags = hidden_weight.abs()
    left = mags[..., :3].sort(dim=-1).values
    right = mags[..., 3:].sort(dim=-1).values
    tiny = torch.finfo(mags.dtype).tiny
    return left / left[..., :1].clamp_min(tiny), right / right[..., :1].clamp_min(tiny)


def pair_magnitudes(weights: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """Mean |weight| of each mirror pair (inputs 1&6, 2&5, 3&4) for each hidden unit: (h, 3),
    outer pair first. The paper's Figure 1 gives 14.2, 7.2 and 3.6 in some order."""
    w1 = _batched(weights)["hidden.weight"][0].abs()
    return (w1[:, :3] + w1[:, 3:].flip(-1)) / 2


def antisymmetry_error(hidden_weight: torch.Tensor) -> torch.Tensor:
    """|w + mirror(w)| / |w| per hidden unit (..., h): 0 when every mirror pair is (a, -a)."""
    norm = hidden_weight.norm(dim=-1).clamp_min(torch.finfo(hidden_weight.dtype).tiny)
    return (hidden_weight + hidden_weight.flip(-1)).norm(dim=-1) / norm


def twin_correlation(hidden_weight: torch.Tensor) -> torch.Tensor:
    """The most negative cosine between two hidden units' input weights (...,); NaN if h < 2.

    About -1 when one unit is the other with every sign flipped, as in the paper."""
    h = hidden_weight.shape[-2]
    if h < 2:
        return torch.full(hidden_weight.shape[:-2], math.nan, dtype=hidden_weight.dtype)
    unit = hidden_weight / hidden_weight.norm(dim=-1, keepdim=True).clamp_min(1e-300)
    cos = unit @ unit.transpose(-1, -2)
    cos = cos + 3 * torch.eye(h, dtype=cos.dtype)  # ignore each unit with itself
    return cos.flatten(-2).amin(dim=-1)


def solution_checks(
    weights: Mapping[str, torch.Tensor],
    activation: str = "sigmoid",
    antisymmetry_tol: float = ANTISYMMETRY_TOL,
    twin_tol: float = TWIN_TOL,
    ratio_tol: float = RATIO_TOL,
) -> dict[str, torch.Tensor]:
    """Every check of analyse_solution for single or batched weights, as tensors over networks.

    Keys: the CHECK_NAMES (bool (S,)), plus the measurements "n_wrong" (S,),
    "antisymmetry_error" (S, h), "twin_correlation" (S,), "left_ratios" and "right_ratios"
    (S, h, 3), "outputs" (S, 64).
    """
    check_activation(activation)
    w = _batched(weights)
    _, targets = symmetry_dataset()
    outputs = batched_forward(w, activation)
    wrong = (outputs > 0.5) != (targets[:, 0] > 0.5)
    w1 = w["hidden.weight"]
    anti = antisymmetry_error(w1)
    twin = twin_correlation(w1)
    left, right = side_ratios(w1)
    paper = torch.tensor(PAPER_RATIO, dtype=torch.float64)
    ratio_ok = ((left - paper).abs() <= ratio_tol * paper).all(-1) & (
        (right - paper).abs() <= ratio_tol * paper
    ).all(-1)
    return {
        "classifies_all": ~wrong.any(-1),
        "antisymmetric": (anti <= antisymmetry_tol).all(-1),
        "twins": twin <= twin_tol,
        "ratio_124": ratio_ok.all(-1),
        "hidden_biases_negative": (w["hidden.bias"] < 0).all(-1),
        "output_bias_positive": w["output.bias"][:, 0] > 0,
        "output_weights_negative": (w["output.weight"][:, 0] < 0).all(-1),
        "n_wrong": wrong.sum(-1),
        "antisymmetry_error": anti,
        "twin_correlation": twin,
        "left_ratios": left,
        "right_ratios": right,
        "outputs": outputs,
    }


def _ratio_text(ratios: Sequence[float]) -> str:
    return ":".join(f"{r:.1f}" for r in ratios)


@dataclass
class SolutionReport:
    """What analyse_solution found about one network; str() gives a readable summary."""

    classifies_all: bool
    n_wrong: int
    wrong_cases: list[str]
    antisymmetry_error: list[float]
    twin_correlation: float | None
    left_ratios: list[list[float]]
    right_ratios: list[list[float]]
    hidden_biases: list[float]
    output_weights: list[float]
    output_bias: float
    checks: dict[str, bool]
    passed: bool
    verdict: str
    reasons: list[str] = field(default_factory=list)

    def lines(self, decimals: int = 2) -> list[str]:
        """The report as lines of text, one per check, then the verdict and its reasons."""
        f = f"{{:.{decimals}f}}"
        out = []
        for key, name in CHECK_NAMES.items():
            mark = "yes" if self.checks[key] else "NO "
            detail = ""
            if key == "classifies_all":
                detail = f"{64 - self.n_wrong}/64 right"
            elif key == "antisymmetric":
                detail = "error " + ", ".join(f.format(e) for e in self.antisymmetry_error)
            elif key == "twins":
                twin = self.twin_correlation
                detail = (
                    "n/a (one hidden unit)" if twin is None else "correlation " + f.format(twin)
                )
            elif key == "ratio_124":
                detail = "; ".join(
                    f"unit {j + 1}: {_ratio_text(lr)} | {_ratio_text(rr)}"
                    for j, (lr, rr) in enumerate(
                        zip(self.left_ratios, self.right_ratios, strict=True)
                    )
                )
            elif key == "hidden_biases_negative":
                detail = ", ".join(f.format(b) for b in self.hidden_biases)
            elif key == "output_bias_positive":
                detail = f.format(self.output_bias)
            elif key == "output_weights_negative":
                detail = ", ".join(f.format(v) for v in self.output_weights)
            out.append(f"[{mark}] {name}: {detail}")
        out.append(f"verdict: {self.verdict}")
        out.extend(f"  - {reason}" for reason in self.reasons)
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


def analyse_solution(
    weights: Mapping[str, torch.Tensor],
    activation: str = "sigmoid",
    antisymmetry_tol: float = ANTISYMMETRY_TOL,
    twin_tol: float = TWIN_TOL,
    ratio_tol: float = RATIO_TOL,
) -> SolutionReport:
    """Check trained weights (keys of WEIGHT_KEYS, shapes (h,6), (h,), (1,h), (1,)) against the
    paper's solution. `.passed` is True when every check holds; `.reasons` names each that fails.
    """
    c = solution_checks(weights, activation, antisymmetry_tol, twin_tol, ratio_tol)
    w = _batched(weights)
    checks = {key: bool(c[key][0]) for key in CHECK_NAMES}
    anti = c["antisymmetry_error"][0].tolist()
    twin = float(c["twin_correlation"][0])
    left = c["left_ratios"][0].tolist()
    right = c["right_ratios"][0].tolist()
    n_wrong = int(c["n_wrong"][0])
    _, targets = symmetry_dataset()
    wrong = ((c["outputs"][0] > 0.5) != (targets[:, 0] > 0.5)).nonzero().flatten().tolist()
    reasons = []
    if not checks["classifies_all"]:
        shown = ", ".join(case_label(i) for i in wrong[:4]) + (", ..." if len(wrong) > 4 else "")
        reasons.append(f"{n_wrong} of 64 cases are on the wrong side of 0.5 ({shown})")
    for j, err in enumerate(anti):
        if err > antisymmetry_tol:
            reasons.append(
                f"hidden unit {j + 1} is not mirror anti-symmetric: |w + mirror(w)|/|w| = "
                f"{err:.2f} > {antisymmetry_tol:.2f}"
            )
    if not checks["twins"]:
        if math.isnan(twin):
            reasons.append("only one hidden unit, so no sign-flipped twin")
        else:
            reasons.append(
                "the hidden units are not sign-flipped twins: "
                f"correlation {twin:.2f} > {twin_tol:.2f}"
            )
    for j, (lr, rr) in enumerate(zip(left, right, strict=True)):
        paper = torch.tensor(PAPER_RATIO)
        for side, ratios in (("left", lr), ("right", rr)):
            if ((torch.tensor(ratios) - paper).abs() > ratio_tol * paper).any():
                reasons.append(
                    f"hidden unit {j + 1}'s magnitudes on the {side} are {_ratio_text(ratios)}, "
                    f"not 1:2:4 (tolerance {ratio_tol:.0%})"
                )
    for key in ("hidden_biases_negative", "output_bias_positive", "output_weights_negative"):
        if not checks[key]:
            reasons.append(
                f"sign pattern differs from the paper's: not true that {CHECK_NAMES[key]}"
            )
    passed = all(checks.values())
    if passed:
        verdict = "matches the paper's solution"
    elif checks["classifies_all"]:
        verdict = "solves the task, but not the way the paper's network does"
    else:
        verdict = f"does not solve the task ({n_wrong} of 64 cases wrong)"
    return SolutionReport(
        classifies_all=checks["classifies_all"],
        n_wrong=n_wrong,
        wrong_cases=[case_label(i) for i in wrong],
        antisymmetry_error=anti,
        twin_correlation=None if math.isnan(twin) else twin,
        left_ratios=left,
        right_ratios=right,
        hidden_biases=w["hidden.bias"][0].tolist(),
        output_weights=w["output.weight"][0, 0].tolist(),
        output_bias=float(w["output.bias"][0, 0]),
        checks=checks,
        passed=passed,
        verdict=verdict,
        reasons=reasons,
    )


def summarise_solutions(
    weights: Mapping[str, torch.Tensor], activation: str = "sigmoid", **tolerances: float
) -> dict[str, float]:
    """Share of the networks in batched `weights` that pass each check, plus "all" (every check)."""
    c = solution_checks(weights, activation, **tolerances)
    flags = torch.stack([c[key] for key in CHECK_NAMES])
    shares = {key: float(c[key].double().mean()) for key in CHECK_NAMES}
    shares["all"] = float(flags.all(0).double().mean())
    return shares


# ----------------------------------------------------------------------------------------------
# Failures


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

    `errors` is E after 0, 1, ..., n weight changes (RunResult.errors). "improving": E fell by
    more than IMPROVING_DROP over the last 20% of the run; "plateau": every output says
    "not symmetric"; "local_minimum": stuck with some outputs on the other side; "diverged": not
    finite.
    """
    if len(errors) == 0:
        raise ValueError("errors is empty; pass the run's error history (RunResult.errors)")
    w = _batched(weights)
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
    check_weights(weights, batched=True)
    w = {k: torch.as_tensor(weights[k]).double() for k in WEIGHT_KEYS}
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
    "ANTISYMMETRY_TOL",
    "CHECK_NAMES",
    "FAILURE_LABELS",
    "RATIO_TOL",
    "TWIN_TOL",
    "SolutionReport",
    "analyse_solution",
    "antisymmetry_error",
    "classify_failure",
    "classify_failures",
    "pair_magnitudes",
    "side_ratios",
    "solution_checks",
    "summarise_solutions",
    "twin_correlation",
]
