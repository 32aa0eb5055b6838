"""What a batch prints per submission: one line (student, status, total, seconds, the main
problem), the progress bar only in a terminal, and the CSV's student column."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from labutils.instructor.grading import console
from labutils.instructor.grading.batch import CORE_RUBRIC
from labutils.instructor.grading.plugin import Judgement
from labutils.instructor.grading.reporting import Grade, write_csv


def test_the_line_names_the_diagnosis_first_then_what_stopped_the_run():
    grade = Grade(Path("/abs/05_assignment_s1.ipynb"), rubric=CORE_RUBRIC, seconds=12.34,
                  points={"runs": 1, "reproduced": 0}, problem="kernel died",
                  judgement=Judgement(diagnosis="mean without 1/2"))
    assert console.grade_line(grade, "s1").split() == [
        "s1", "graded", "1/2", "12.3", "s", "mean", "without", "1/2"]
    grade.judgement = Judgement()
    assert console.grade_line(grade, "s1").endswith("  kernel died")
    grade.problem, grade.errors = "", [('code cell 2 ("x")', "ValueError: boom")]
    assert console.main_problem(grade) == 'code cell 2 ("x"): ValueError: boom'
    grade.status, grade.errors = "unreadable", []
    assert console.grade_line(grade, "s1\u202e<b>").split()[:3] == ["s1", "<b>", "unreadable"]


def test_no_bar_when_not_a_terminal_but_every_line_printed(monkeypatch):
    monkeypatch.setenv("LABUTILS_PROGRESS", "1")
    err = io.StringIO()
    monkeypatch.setattr(console.sys, "stderr", err)
    printed = []
    with console.progress_bar(2, printed.append) as done:
        done("one")
        done("two")
    assert printed == ["one", "two"] and err.getvalue() == ""


def test_csv_names_the_student_and_no_absolute_path(tmp_path):
    grade = Grade(Path("sub/05_assignment_s1.ipynb"), rubric=CORE_RUBRIC)
    path = write_csv([grade], tmp_path / "out.csv", ["s1"])
    [row] = list(csv.DictReader(path.open(encoding="utf-8")))
    assert list(row)[:2] == ["student", "submission"]
    assert (row["student"], row["submission"]) == ("s1", "sub/05_assignment_s1.ipynb")
