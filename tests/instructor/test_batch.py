"""A batch without a kernel: what grade_all stages, hides and hands to each submission's grading
(the sandbox and the per-submission grading are replaced by recorders)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from labutils.instructor.grading import batch
from labutils.instructor.grading.reading import Prepared
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


def test_each_grade_is_reported_as_it_finishes_with_one_line(recorded, tmp_path):
    paths = [tmp_path / "05_assignment_s1.ipynb", tmp_path / "05_assignment_s2.ipynb"]
    for path in paths:
        path.write_text('{"nbformat": 4}')
    printed, finished = [], []

    def on_grade(grade):  # the gradebook records here, before the next line is printed
        finished.append((grade.submission, len(printed)))

    grades = batch.grade_all(paths, new_notebook(), echo=printed.append, on_grade=on_grade,
                             name=lambda path: path.stem.rsplit("_", 1)[1])
    assert finished == [(paths[0], 0), (paths[1], 1)] and len(grades) == 2
    assert [line.split()[:2] for line in printed] == [["s1", "graded"], ["s2", "graded"]]


def check_cell(name: str, *lines: str, error: bool = False):
    cell = new_code_cell(f"# CHECK: {name} (do not edit)")
    cell.outputs = [new_output("stream", name="stdout", text="".join(f"{t}\n" for t in lines))]
    if error:
        cell.outputs.append(new_output("error", ename="NameError", evalue="x", traceback=[]))
    return cell


def test_feedback_reads_note_lines_and_failures_after_a_cell_timeout():
    executed = new_notebook(cells=[
        check_cell("a", "✅ PASS a: fine"), check_cell("b", "ℹ️ NOTE b: look", "PASS b: ok"),
        check_cell("c", "❌ FAIL c: wrong", "NOTE c: and"), new_code_cell("train()"),
        check_cell("d", "FAIL d: no runs"), check_cell("e", error=True),
        check_cell("f", "NOTE f: slow")])
    names = dict.fromkeys("abcdefg", "ok")
    prepared = Prepared(executed, list(range(len(executed.cells))), names)
    assert batch._feedback(executed, prepared) == {
        "a": "PASS", "b": "NOTE", "c": "FAIL", "d": "FAIL", "e": "error", "f": "NOTE",
        "g": "not run"}
    after = batch._feedback(executed, prepared, first_timeout=3)
    assert after["c"] == "FAIL" and after["f"] == "NOTE"  # before it, and passing after it
    assert after["d"] == after["e"] == batch.AFTER_TIMEOUT


def test_cells_are_named_by_their_place_among_code_cells_and_first_line():
    submission = new_notebook(cells=[
        new_markdown_cell("# Title"), new_code_cell("\n  import torch"),
        new_markdown_cell("Part 5"), new_code_cell("train(net, data, epochs=5, seed=0)"),
        new_code_cell(""), new_code_cell("x = 1", execution_count=3)])
    prepared = Prepared(submission, [0, 1, 2, 3, 4, None], {})
    assert batch._labels(prepared, submission) == [
        "markdown cell 1", 'code cell 1 ("import torch")', "markdown cell 3",
        'code cell 2 ("train(net, data, epochs=5...")', "code cell 3", "grader's collection cell"]
    assert batch._unexecuted(submission) == [1, 2]  # code cells 1 and 2; 3 is empty


def test_a_grade_that_cannot_be_recorded_stops_the_batch(recorded, tmp_path):
    paths = [tmp_path / f"05_assignment_s{i}.ipynb" for i in range(3)]
    for path in paths:
        path.write_text('{"nbformat": 4}')

    def on_grade(grade):
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        batch.grade_all(paths, new_notebook(), echo=lambda text: None, on_grade=on_grade)
    assert len(recorded["graded"]) == 1  # the others never started
