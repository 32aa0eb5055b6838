"""A batch without a kernel: what grade_all stages, hides and hands to each submission's grading
(the sandbox and the per-submission grading are replaced by recorders)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from nbformat.v4 import new_notebook

from labutils.instructor.grading import batch
from labutils.instructor.grading.reporting import Grade


@pytest.fixture
def recorded(monkeypatch, tmp_path):
    """grade_all with bwrap, the student package and grade_submission replaced by recorders."""
    seen = {"hidden": [], "graded": []}

    def grade(source, release, sandbox, *args):
        staged = getattr(source, "staged", None)
        seen["graded"].append({
            "path": source.path, "staged": staged,
            "copy": staged.read_bytes() if staged else None,
            "folder_mode": stat.S_IMODE(staged.parent.stat().st_mode) if staged else None})
        return Grade(source.path, sha256=source.sha256,
                     status="graded" if source.data is not None else "unreadable",
                     problem=source.problem)

    monkeypatch.setattr(batch, "check_available", lambda: None)
    monkeypatch.setattr(batch, "student_package", lambda: tmp_path / "student-package")
    monkeypatch.setattr(batch, "acquire_slot", lambda: (0, None))
    monkeypatch.setattr(batch, "hide_submissions",
                        lambda sandbox, paths: seen["hidden"].extend(Path(p) for p in paths))
    monkeypatch.setattr(batch, "grade_submission", grade)
    return seen


def test_links_are_refused_and_hide_nothing_they_name(recorded, tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "alice.ipynb").write_text('{"nbformat": 4}')
    (subs / "env.ipynb").symlink_to("/usr/bin/env")
    solution = tmp_path / "instructor" / "solution.ipynb"
    solution.parent.mkdir()
    solution.write_text('{"nbformat": 4, "solution": true}')
    (subs / "solution.ipynb").symlink_to(solution)
    grades = batch.grade_all([subs / "alice.ipynb", subs / "env.ipynb", subs / "solution.ipynb"],
                             new_notebook(), echo=lambda text: None)
    folders = {path.resolve().parent for path in recorded["hidden"]}
    assert Path("/usr/bin") not in folders and solution.parent not in folders
    assert all(p.resolve() != Path("/usr/bin/env") for p in recorded["hidden"])
    assert [g.status for g in grades] == ["graded", "unreadable", "unreadable"]
    assert all("symbolic link refused" in g.problem for g in grades[1:])


def test_only_private_copies_are_graded_and_they_are_removed_after(recorded, tmp_path):
    original = tmp_path / "subs" / "bob" / "05_assignment.ipynb"
    original.parent.mkdir(parents=True)
    original.write_text('{"nbformat": 4, "who": "bob"}')
    batch.grade_all([original], new_notebook(), echo=lambda text: None)
    [graded] = recorded["graded"]
    assert graded["path"] == original and graded["copy"] == original.read_bytes()
    staged = graded["staged"]
    assert staged != original and not staged.is_relative_to(original.parent)
    assert graded["folder_mode"] == 0o700 and staged in recorded["hidden"]
    assert not staged.parent.exists()  # the private folder goes with the batch
