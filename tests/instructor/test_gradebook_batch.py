"""The grader's wiring: options, the plan of a run (ids, shard, what is left) and recording
each finished Grade under its student id with its relative file name."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from labutils.instructor.grading.gradebook import GradebookError
from labutils.instructor.grading.gradebook_batch import add_batch_arguments, plan_batch
from labutils.instructor.grading.identity import IdentityError
from labutils.instructor.grading.reporting import Grade

KEY = ("05_assignment", "release-sha", "rubric-sha")


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("submissions", nargs="+", type=Path)
    parser.add_argument("--jobs", type=int, default=1)
    return add_batch_arguments(parser).parse_args(list(argv))


def moodle_download(root: Path, ids: list[str]) -> Path:
    for n, student in enumerate(ids):
        folder = root / "downloads" / f"Student {n}_{student}_assignsubmission_file_"
        folder.mkdir(parents=True)
        (folder / "05_assignment.ipynb").write_text(f"notebook of {student}")
    return root / "downloads"


def test_plan_grades_new_work_and_records_relative_names(tmp_path):
    downloads = moodle_download(tmp_path, ["101", "102", "103"])
    args = parse(str(downloads), "--layout", "moodle", "--gradebook", str(tmp_path / "a5.db"))
    plan = plan_batch(args, *KEY)
    assert [i.student for i in plan.work] == ["101", "102", "103"] and plan.found == 3
    grade = Grade(plan.paths[0], sha256=plan.work[0].sha256, points={"runs": 1})
    plan.record(grade, details="table")
    with pytest.raises(GradebookError, match="not in this run's plan"):
        plan.record(Grade(tmp_path / "other.ipynb"))
    (current,) = plan.book.current()
    assert current["file_name"] == "Student 0_101_assignsubmission_file_/05_assignment.ipynb"
    assert str(tmp_path) not in plan.book.runs()[0]["options"]
    plan.book.close()
    again = plan_batch(args, *KEY)
    assert [i.student for i in again.work] == ["102", "103"]  # resume: the rest only
    assert "1 already graded" in again.summary()
    again.book.close()
    regrade = plan_batch(parse(str(downloads), "--layout", "moodle", "--gradebook",
                               str(tmp_path / "a5.db"), "--regrade", "101"), *KEY)
    assert [i.student for i in regrade.work] == ["101", "102", "103"]


def test_plan_shard_and_clear_errors(tmp_path):
    downloads = moodle_download(tmp_path, [str(200 + i) for i in range(20)])
    parts = [plan_batch(parse(str(downloads), "--layout", "moodle", "--shard", f"{k}/2",
                              "--gradebook", str(tmp_path / f"s{k}.db")), *KEY)
             for k in (1, 2)]
    students = sorted(i.student for p in parts for i in p.work)
    assert students == [str(200 + i) for i in range(20)]
    with pytest.raises(IdentityError, match="--layout moodle"):
        plan_batch(parse(str(downloads), "--gradebook", str(tmp_path / "x.db")), *KEY)
    with pytest.raises(GradebookError, match="K/N"):
        plan_batch(parse(str(downloads), "--layout", "moodle", "--shard", "3/2",
                         "--gradebook", str(tmp_path / "y.db")), *KEY)
