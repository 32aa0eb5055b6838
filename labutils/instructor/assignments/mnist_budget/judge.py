"""Judge: the MNIST budget assignment's collected data, in the grader's own process.

The collection cell saves `labutils.mlp_budget.submission_data(globals())`: the declared
`layer_sizes` (int64) and the trained model's weights ("model/<key>", float32). That file is
student data. It is read by the grader's bounded loader (labutils.instructor.grading.loading:
zip entries inflated within a bound, then `torch.load(weights_only=True)`), every entry is
checked (plain CPU tensor, dtype, shape, finite), the layer list is bounded and the parameter
count computed from it before anything is allocated; then the network is rebuilt with
`build_mlp(layer_sizes)`, the weights loaded with strict keys and shapes, and its accuracy
measured here on the 10,000 MNIST test images. No student code runs here.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from labutils.instructor.grading.loading import DataRejected, repacked
from labutils.mlp_budget import (
    CLASSES,
    COLLECTED,
    PARAMETER_BUDGET,
    PIXELS,
    TARGET_ACCURACY,
    build_mlp,
    parameter_count,
    state_shapes,
    test_accuracy,
)

__all__ = ["COLLECTED", "COLLECT_FUNCTION", "BudgetVerdict", "judge", "judge_data",
           "load_collected"]

COLLECT_FUNCTION = "labutils.mlp_budget:submission_data"
"""What the grader's collection cell calls on the notebook's globals() (module:function)."""
MAX_LAYERS = 12
"""Longest layer list judged (inputs, hidden layers, outputs)."""
MAX_WIDTH = 4096
"""Widest layer judged."""
MAX_PARAMETERS = 1_000_000
"""Largest network rebuilt (40 times the budget; 4 MB of float32 weights)."""
MAX_ENTRIES = 2 * MAX_LAYERS + 1
"""Entries of the collected dict: the layer list and a weight and a bias per layer."""
MAX_PROBLEMS = 12
"""Problems listed one by one; the rest are counted."""


@dataclass
class BudgetVerdict:
    """What the grader concluded from a submission's data (all computed here)."""

    data_ok: bool = False
    """The layer list and all of its weights were present and well-formed."""
    problems: list[str] = field(default_factory=list)
    """Data that was missing, malformed or rejected."""
    layer_sizes: list[int] | None = None
    parameters: int | None = None
    under_budget: bool = False
    accuracy: float | None = None
    """The rebuilt network's accuracy on the 10,000 MNIST test images, measured here."""
    beats_target: bool = False
    findings: list[str] = field(default_factory=list)
    diagnosis: str = ""
    """What is wrong, in a few words ('' when the task is solved)."""

    @property
    def solved(self) -> bool:
        """Within the budget and at least the target accuracy."""
        return self.data_ok and self.under_budget and self.beats_target


def load_collected(raw: bytes | None, why_missing: str = "") -> tuple[dict | None, str]:
    """The collection file as a dict (entries not yet checked), or None and why (never raises)."""
    if raw is None:
        return None, why_missing or "no data"
    try:
        archive = repacked(raw)
    except DataRejected as err:
        return None, f"data rejected before torch.load(weights_only=True): {err}"
    try:
        loaded = torch.load(io.BytesIO(archive), weights_only=True, map_location="cpu")
    except Exception as err:  # weights_only refuses anything but plain data
        return None, f"data rejected by torch.load(weights_only=True): {type(err).__name__}"
    if not isinstance(loaded, dict):
        return None, f"data is a {type(loaded).__name__}, not a dict"
    if len(loaded) > MAX_ENTRIES:
        return None, f"data has {len(loaded)} entries (at most {MAX_ENTRIES})"
    return loaded, ""


def judge(raw: bytes | None, why_missing: str = "",
          test_set: tuple[torch.Tensor, torch.Tensor] | None = None) -> BudgetVerdict:
    """Everything the grader concludes from the collection file's bytes."""
    data, problem = load_collected(raw, why_missing)
    return judge_data(data, problem, test_set)


def judge_data(data: dict[str, torch.Tensor] | None, problems: str | Sequence[str] = "",
               test_set: tuple[torch.Tensor, torch.Tensor] | None = None) -> BudgetVerdict:
    """Everything the grader concludes from the loaded data. `problems`: why `data` is None, or
    what a loader already rejected (kept in the verdict's problems).

    `test_set` (images, labels) replaces the MNIST test set (for tests only)."""
    verdict = BudgetVerdict(problems=[problems] if isinstance(problems, str) else list(problems))
    verdict.problems = [p for p in verdict.problems if p]
    if not isinstance(data, dict):
        if not verdict.problems:
            verdict.problems.append(f"data is a {type(data).__name__}, not a dict")
        return _diagnose(verdict)
    sizes = _layer_sizes(data.get("layer_sizes"), verdict.problems)
    weights = None
    if sizes is not None:
        verdict.layer_sizes, verdict.parameters = sizes, parameter_count(sizes)
        verdict.under_budget = verdict.parameters <= PARAMETER_BUDGET
        verdict.findings.append(f"layers {'-'.join(map(str, sizes))}: {verdict.parameters:,} "
                                f"parameters (budget {PARAMETER_BUDGET:,})")
        if not verdict.under_budget:
            verdict.findings.append(
                f"over the budget by {verdict.parameters - PARAMETER_BUDGET:,} parameters")
        weights = _weights(data, sizes, verdict.problems)
    verdict.data_ok = weights is not None
    if weights is not None:
        model = build_mlp(sizes)
        with torch.no_grad():
            model.load_state_dict(weights, strict=True)
        verdict.accuracy = test_accuracy(model, test_set)
        verdict.beats_target = verdict.accuracy >= TARGET_ACCURACY
        verdict.findings.append(f"test accuracy {verdict.accuracy:.2%} (target "
                                f"{TARGET_ACCURACY:.1%}), measured by the grader")
    return _diagnose(verdict)


def _diagnose(verdict: BudgetVerdict) -> BudgetVerdict:
    problems = verdict.problems
    if len(problems) > MAX_PROBLEMS:
        problems[MAX_PROBLEMS:] = [f"(+{len(problems) - MAX_PROBLEMS} more)"]
    if not verdict.data_ok:
        verdict.diagnosis = "not judged: " + (problems[0] if problems else "no data")
    elif not verdict.solved:
        misses = [what for what, ok in (("over the budget", verdict.under_budget),
                                        ("below the target accuracy", verdict.beats_target))
                  if not ok]
        verdict.diagnosis = " and ".join(misses)
    return verdict


def _plain_problem(name: str, value: object, dtype: torch.dtype) -> str:
    """Why `value` is not a plain dense CPU tensor of `dtype` ('' when it is)."""
    if type(value) not in (torch.Tensor, torch.nn.Parameter):
        return f"{name}: not a plain tensor ({type(value).__name__})"
    if value.is_nested or value.layout != torch.strided or value.is_quantized:
        return f"{name}: not a plain dense tensor"
    if value.device.type != "cpu":
        return f"{name}: on device {value.device.type}, not the CPU"
    if value.dtype != dtype:
        return f"{name}: dtype {value.dtype}, expected {dtype}"
    return ""


def _layer_sizes(value: object, problems: list[str]) -> list[int] | None:
    """The declared layer list, checked and bounded; None (and a problem) when it is unusable."""
    if value is None:
        problems.append("layer_sizes: missing")
        return None
    problem = _plain_problem("layer_sizes", value, torch.int64)
    if not problem and (value.dim() != 1 or not 2 <= len(value) <= MAX_LAYERS):
        problem = (f"layer_sizes: shape {tuple(value.shape)}, expected (n,) with 3 <= n <= "
                   f"{MAX_LAYERS}")
    if problem:
        problems.append(problem)
        return None
    sizes = [int(n) for n in value.tolist()]
    wrong = [f"first entry {sizes[0]}, expected {PIXELS}" if sizes[0] != PIXELS else "",
             f"last entry {sizes[-1]}, expected {CLASSES}" if sizes[-1] != CLASSES else "",
             "no hidden layer" if len(sizes) < 3 else "",
             f"entries outside 1..{MAX_WIDTH}" if not all(1 <= n <= MAX_WIDTH for n in sizes)
             else ""]
    wrong = [w for w in wrong if w]
    if not wrong and parameter_count(sizes) > MAX_PARAMETERS:
        wrong = [f"{parameter_count(sizes):,} parameters (the grader rebuilds at most "
                 f"{MAX_PARAMETERS:,})"]
    if wrong:
        problems.append(f"layer_sizes {sizes}: " + "; ".join(wrong))
        return None
    return sizes


def _weights(data: dict, sizes: list[int], problems: list[str]) -> dict[str, torch.Tensor] | None:
    """The weights of build_mlp(sizes) from "model/<key>" entries, each checked; None (and the
    problems) unless every one is present and well-formed and nothing else is there."""
    shapes = state_shapes(sizes)
    wanted = {f"model/{key}" for key in shapes} | {"layer_sizes"}
    before = len(problems)
    extra = [key for key in data if key not in wanted]
    if extra:
        shown = ", ".join(repr(str(key)[:40]) for key in extra[:3])
        problems.append(f"entries that build_mlp(layer_sizes) does not have: {shown}"
                        + (f" (+{len(extra) - 3} more)" if len(extra) > 3 else ""))
    weights = {}
    for key, shape in shapes.items():
        name = f"model/{key}"
        value = data.get(name)
        problem = "" if name in data else f"{name}: missing"
        problem = problem or _plain_problem(name, value, torch.float32)
        if not problem and tuple(value.shape) != shape:
            problem = f"{name}: shape {tuple(value.shape)}, expected {shape} (from layer_sizes)"
        if not problem and not bool(torch.isfinite(value).all()):
            problem = f"{name}: not finite"
        if problem:
            problems.append(problem)
        else:
            weights[key] = value.detach().clone().contiguous()
    return weights if len(problems) == before else None
