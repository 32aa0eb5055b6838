"""The 1986 assignment as a grader plug-in: reproduce experiment 1 (mirror symmetry) of
Rumelhart, Hinton & Williams (1986).

What it collects: the six names of the notebook's contract and the five of its Part 5 study,
made plain tensors by the student package's `labutils.checks.submission_data`. How it is
judged: replay.py (the training replayed from the declared start with the paper's rule, the
final network judged with labutils.network_facts; a replay that differs is diagnosed by the
training self-check's own test) and study.py (a sample of the study's runs, picked by the
grader, replayed; its statistics recomputed from its runs). Its rubric: rubric.toml next to
this file.
"""

from __future__ import annotations

from pathlib import Path

import torch

from labutils.checks._study import MAX_STUDY_RUNS, STUDY_KEYS, STUDY_NAMES
from labutils.instructor.grading.plugin import Assignment, Entry, Judgement, load_rubric
from labutils.paper1986 import PAPER_SWEEPS

WEIGHT_SHAPES = {"hidden.weight": (2, 6), "hidden.bias": (2,), "output.weight": (1, 2),
                 "output.bias": (1,)}

ENTRIES: dict[str, Entry] = {
    "inputs": Entry("float64", (64, 6)),
    "targets": Entry("float64", (64,)),
    "errors": Entry("float64", (None,), longest=200_000),  # ten times the longest replayed run
    "sweeps": Entry("int64", ()),
    **{f"{prefix}/{key}": Entry("float64", shape)
       for prefix in ("initial", "final") for key, shape in WEIGHT_SHAPES.items()},
    **{f"study/{key}": Entry("float64", (None, *WEIGHT_SHAPES[key]), longest=MAX_STUDY_RUNS)
       for key in STUDY_KEYS},
    "study/sweeps": Entry("int64", (None,), longest=MAX_STUDY_RUNS),
    "study/learned": Entry("int64", (None,), longest=MAX_STUDY_RUNS),
    "study/success_rate": Entry("float64", ()),
    "study/median_sweeps": Entry("float64", ()),
}
"""The collection file's tensors (labutils.checks.submission_data writes exactly these)."""

LONGEST_CELL_BUDGET_S = 240
"""The longest time budget the notebook states for a cell: Part 5's loop over 50 seeds, "1 to 4
minutes" (benchmarks/bench_assignment.py measures it in the typical style and the solution's)."""
CELL_TIMEOUT_S = int(LONGEST_CELL_BUDGET_S * 2.5)
"""The grader's default per cell: the budget with margin for a loaded grading machine."""


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def diagnosis(data: dict[str, torch.Tensor]) -> str:
    """The mistake the training self-check names for this run ('' if it names none): the
    grader and the self-check share one diagnosis."""
    from labutils.checks._report import Problem
    from labutils.checks._training import evaluate_training

    initial = {key: data[f"initial/{key}"] for key in WEIGHT_SHAPES if f"initial/{key}" in data}
    if len(initial) != len(WEIGHT_SHAPES) or "errors" not in data or "sweeps" not in data:
        return ""
    try:
        evaluate_training(initial, data["errors"], int(data["sweeps"]))
    except Problem as problem:
        return problem.message
    except Exception:  # noqa: BLE001 - no diagnosis is no reason to stop grading
        return ""
    return ""


def judge(data: dict[str, torch.Tensor], problems: list[str]) -> Judgement:
    """The 1986 judgement: data, replay (start and rule), the Part 5 study, and the final
    network as information."""
    from labutils.instructor.assignments.rhw1986.replay import judge_data
    from labutils.instructor.assignments.rhw1986.study import judge_study

    verdict = judge_data(data, problems)
    study = judge_study(data)
    facts = verdict.facts
    info = {"solves": "?", "antisymmetric": "?", "paper_reason": "?"}
    if facts is not None:
        info = {"solves": _yes(facts.solves), "antisymmetric": _yes(facts.mirror_antisymmetric),
                "paper_reason": _yes(facts.paper_reason)}
    sweeps = "?" if verdict.sweeps is None else str(verdict.sweeps)
    found = diagnosis(data) if verdict.replay.startswith("differs") else ""
    return Judgement(
        scores={"data": float(verdict.data_ok), "replay": float(verdict.trained),
                "study_honest": float(study.honest), "study_statistics": float(study.statistics)},
        info=info,
        rows=[("replay", verdict.replay), ("sweeps", sweeps), *study.rows,
              *(("finding", finding) for finding in verdict.findings)],
        columns={"replay": verdict.replay, "sweeps": sweeps,
                 "study": "; ".join(text for _, text in study.rows),
                 "findings": "; ".join(verdict.findings)},
        summary={"replay": verdict.replay.split(":", 1)[0], "sweeps": sweeps,
                 "study": "honest" if study.honest else "not honest"},
        problems=verdict.problems,
        diagnosis=found or (study.findings[0] if study.findings else ""),
        study_runs=study.runs,
    )


ASSIGNMENT = Assignment(
    name="rhw1986",
    title="Reproduce a 1986 experiment (mirror symmetry, Rumelhart, Hinton & Williams)",
    source="notebooks/instructor/05_assignment_solution.ipynb",
    student_copy="notebooks/05_assignment.ipynb",
    collected=("inputs", "targets", "net", "initial_weights", "errors", "sweeps", *STUDY_NAMES),
    collect="labutils.checks:submission_data",
    entries=ENTRIES,
    rubric=load_rubric(Path(__file__).with_name("rubric.toml")),
    judge=judge,
    cell_timeout=CELL_TIMEOUT_S,
    summary_reference=PAPER_SWEEPS,
)
