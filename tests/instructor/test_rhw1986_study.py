"""The Part 5 study judged from its data (labutils.instructor.assignments.rhw1986.study): an
honest study keeps both lines; a forged sweep count, a forged "did not learn", a start the
protocol does not draw, copied starts, too few runs and statistics not computed from the runs
are each named. The runs the grader replays are picked here by a fixed generator; the grader's
own is the system's."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest
import torch

from labutils import checks
from labutils.instructor.assignments.rhw1986 import ASSIGNMENT
from labutils.instructor.assignments.rhw1986.study import judge_study, learned_at
from labutils.instructor.grading.loading import load_data

SHAPES = {"hidden.weight": (2, 6), "hidden.bias": (2,), "output.weight": (1, 2),
          "output.bias": (1,)}
CAP = 800
PICKED = [1, 7, 8]
"""Runs the fixed generator replays: run 1 does not learn within CAP, runs 7 and 8 do."""


class Picks(random.Random):
    """A generator that picks PICKED."""

    def sample(self, population, k, **kwargs):  # noqa: ARG002 - the signature of Random.sample
        return PICKED[:k]


def uniform_start(seed: int, bound: float = 0.3) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {k: (torch.rand(s, generator=g, dtype=torch.float64) * 2 - 1) * bound
            for k, s in SHAPES.items()}


@pytest.fixture(scope="module")
def honest() -> dict:
    """The study's names as a notebook holds them: 50 runs, the picked ones true to the rule
    (the others are not replayed with these picks)."""
    sweeps, learned = [CAP] * 50, [False] * 50
    for run in PICKED:
        found = learned_at(uniform_start(run), CAP)
        sweeps[run], learned[run] = (CAP, False) if found is None else (found, True)
    assert learned[1] is False and learned[7] and learned[8]
    ran = sorted(n for n, ok in zip(sweeps, learned, strict=True) if ok)
    return {"study_starts": [uniform_start(seed) for seed in range(50)], "study_sweeps": sweeps,
            "study_learned": learned, "study_success_rate": len(ran) / 50,
            "study_median_sweeps": (ran[0] + ran[1]) / 2}


def collected(names: dict) -> dict[str, torch.Tensor]:
    """The study's data as the grader loads it (submission_data, saved, loaded and checked)."""
    buffer = io.BytesIO()
    torch.save(checks.submission_data(names), buffer)
    data, problems = load_data(buffer.getvalue(), spec=ASSIGNMENT.entries)
    assert problems == []
    return data


def verdict(names: dict, **changes):
    return judge_study(collected({**names, **changes}), Picks())


def test_an_honest_study_keeps_both_lines(honest):
    found = verdict(honest)
    assert found.honest and found.statistics, found.findings
    assert found.runs[7] == honest["study_sweeps"][7] and found.runs[1] is None
    assert dict(found.rows)["study"].endswith("replayed runs 1, 7, 8: as declared")


def test_a_forged_sweep_count_is_named(honest):
    sweeps = list(honest["study_sweeps"])
    sweeps[7] -= 150
    found = verdict(honest, study_sweeps=sweeps)
    assert not found.honest and found.runs == []
    assert found.findings[0] == (f"declared sweeps {sweeps[7]:,}, but the replay of run 7 "
                                 f"learns at {sweeps[7] + 150:,}")


def test_a_run_that_learns_declared_as_not_learned_is_named(honest):
    learned = list(honest["study_learned"])
    sweeps = list(honest["study_sweeps"])
    learned[8], sweeps[8] = False, CAP
    found = verdict(honest, study_learned=learned, study_sweeps=sweeps)
    assert f"declared not learned after {CAP} sweeps, but the replay of run 8 learns at " \
        in found.findings[0]


def test_a_start_the_protocol_does_not_draw_is_named(honest):
    starts = list(honest["study_starts"])
    starts[4] = uniform_start(4, bound=1.0)
    found = verdict(honest, study_starts=starts)
    assert not found.honest
    assert found.findings[0].startswith("run 4's start is not one the protocol draws: ")


def test_copied_starts_and_too_few_runs_are_named(honest):
    starts = list(honest["study_starts"])
    starts[9] = starts[3]
    assert verdict(honest, study_starts=starts).findings[0] == \
        "runs 3 and 9 start from the same weights"
    short = {name: value[:10] for name, value in honest.items() if isinstance(value, list)}
    found = verdict(honest, **short)
    assert not found.honest and not found.statistics
    assert found.findings == ["only 10 runs (Part 5 asks for at least 50)"]


def test_statistics_not_computed_from_the_runs_are_named(honest):
    found = verdict(honest, study_success_rate=0.56, study_median_sweeps=1425)
    assert found.honest and not found.statistics
    assert found.findings[0] == "study_success_rate 0.56, but 2 of 50 runs learned (0.04)"
    assert found.findings[1].startswith("study_median_sweeps 1,425, but the median of the 2 ")
    assert verdict(honest, study_median_sweeps=honest["study_sweeps"][7]).statistics


def test_no_study_loses_both_lines_and_says_what_is_missing():
    found = judge_study({}, Picks())
    assert not found.honest and not found.statistics
    assert found.findings == ["no study data: study_starts, study_sweeps, study_learned "
                              "missing or unreadable"]


def test_the_plugin_scores_the_study_and_diagnoses_a_forged_one(honest, monkeypatch):
    from labutils.instructor.assignments.rhw1986 import study

    monkeypatch.setattr(study.random, "SystemRandom", Picks)
    sweeps = list(honest["study_sweeps"])
    sweeps[7] += 300
    judgement = ASSIGNMENT.judge(collected({**honest, "study_sweeps": sweeps}), [])
    assert judgement.scores["study_honest"] == 0.0
    assert judgement.scores["study_statistics"] == 0.0  # the median moved with the forgery
    assert judgement.diagnosis.startswith("declared sweeps ")
    assert judgement.study_runs == []
    honest_judgement = ASSIGNMENT.judge(collected(honest), [])
    assert honest_judgement.study_runs[8] == honest["study_sweeps"][8]
    assert {"study_honest", "study_statistics"} <= {
        line.name for line in ASSIGNMENT.rubric.of_kind("auto")}


def test_the_default_cell_timeout_follows_from_the_notebooks_longest_budget():
    import nbformat

    from labutils.instructor.assignments import rhw1986

    root = Path(__file__).resolve().parents[2]
    nb = nbformat.read(root / rhw1986.ASSIGNMENT.student_copy, as_version=4)
    part5 = " ".join(next(cell.source for cell in nb.cells
                          if cell.source.startswith("## Part 5")).split())
    assert f"takes 1 to {rhw1986.LONGEST_CELL_BUDGET_S // 60} minutes" in part5
    assert f"allows each cell {rhw1986.CELL_TIMEOUT_S // 60} minutes" in part5
    assert ASSIGNMENT.cell_timeout >= 2 * rhw1986.LONGEST_CELL_BUDGET_S
