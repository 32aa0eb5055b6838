"""The grader on a tiny assignment: good, wrong and broken submissions, one sandboxed batch.

The real assignment is graded in test_assignment.py; here a two-cell release keeps each kernel
run short. Submissions are built with nbformat, outputs included, as a student's Jupyter saves.
Hostile submissions are in test_grading_hostile.py. Without bwrap the sandboxed tests skip
loudly (see conftest_grading.py); the pieces below them run anywhere.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from argparse import Namespace
from contextlib import redirect_stdout
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from labutils.instructor.assignment import (
    ANSWER_PLACEHOLDER,
    CODE_PLACEHOLDER,
    check_name,
    release_notebook,
)
from labutils.instructor.course.badges import CourseRepository
from labutils.instructor.grading import (
    Grade,
    first_difference,
    grade_all,
    grade_main,
    output_text,
    prepare,
    read_submission,
    report_words,
    same_output,
    summary_table,
    write_csv,
)
from labutils.instructor.grading.batch import CORE_RUBRIC
from labutils.instructor.grading.plugin import Judgement
from labutils.instructor.grading.sandbox import sandbox_problem

NO_BWRAP = sandbox_problem()
needs_bwrap = pytest.mark.skipif(bool(NO_BWRAP), reason=NO_BWRAP)

REPO = CourseRepository("https://github.com/owner/course", "main")
CELL_TIMEOUT = 4
TOTAL_TIMEOUT = 40

CHECK = """# CHECK: answer (do not edit)
ok = globals().get("answer") == 42
print(("PASS" if ok else "FAIL") + " answer: the answer is " + ("42." if ok else "not 42."))"""
REPORT = "Forty-two is the answer, as the book says; I checked it twice."


def mini_solution() -> nbformat.NotebookNode:
    nb = new_notebook(cells=[
        new_markdown_cell("# Mini assignment\nSet `answer`."),
        new_code_cell("### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION"),
        new_code_cell(CHECK),
        new_code_cell('print("answer:", answer)'),
        new_markdown_cell(
            "### Report\nWhy?\n\n<!-- BEGIN SOLUTION -->\nModel.\n<!-- END SOLUTION -->"),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


RELEASE = release_notebook(mini_solution(), "notebooks/mini.ipynb", REPO)


def stdout(text: str):
    return new_output("stream", name="stdout", text=text)


def submission(answer: int = 42, stored: int | None = None, report: str = REPORT,
               before: list[str] = (), drop_check: bool = False,
               check_source: str | None = None) -> nbformat.NotebookNode:
    """The release filled in as a student would, with outputs as if it had been run.

    `stored` is the answer the saved outputs show (default: the true one); `before` are code
    cells put first; `check_source` replaces the check cell's code.
    """
    nb = nbformat.from_dict(json.loads(json.dumps(RELEASE)))
    shown = answer if stored is None else stored
    for count, cell in enumerate(nb.cells, start=1):
        if cell.cell_type == "markdown":
            cell.source = cell.source.replace(ANSWER_PLACEHOLDER, report)
            continue
        cell.execution_count = count
        if cell.source.startswith(CODE_PLACEHOLDER[0]):
            cell.source = f"answer = {answer}"
        elif check_name(cell):
            ok = shown == 42
            cell.outputs = [stdout(f"{'PASS' if ok else 'FAIL'} answer: the answer is "
                                   f"{'42.' if ok else 'not 42.'}\n")]
            if check_source is not None:
                cell.source = check_source
        elif cell.source.startswith("print"):
            cell.outputs = [stdout(f"answer: {shown}\n")]
    if drop_check:
        nb.cells = [c for c in nb.cells if not check_name(c)]
    nb.cells[1:1] = [new_code_cell(source) for source in before]
    return nb


def v3_text(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb, version=3)


SUBMISSIONS = {
    "correct.ipynb": lambda: submission(),
    "wrong.ipynb": lambda: submission(answer=41),
    "edited_outputs.ipynb": lambda: submission(answer=41, stored=42),
    "infinite_loop_cell.ipynb": lambda: submission(before=["while True:\n    pass"]),
    "raises_first.ipynb": lambda: submission(before=['raise ValueError("boom")']),
    "checks_deleted.ipynb": lambda: submission(drop_check=True),
    "check_edited.ipynb": lambda: submission(
        answer=41, stored=42,
        check_source='# CHECK: answer (do not edit)\nprint("PASS answer: the answer is 42.")'),
    "writes_files.ipynb": lambda: submission(before=[
        'from pathlib import Path\nPath("result.txt").write_text("x")\nPath("junk").mkdir()\n'
        'Path("correct.ipynb").write_text("overwritten")']),
    "kernel_dies.ipynb": lambda: submission(before=["import os\nos._exit(3)"]),
}
BROKEN = {
    "not_a_notebook.ipynb": "print('this is a Python script, not a notebook')\n",
    "invalid_json.ipynb": '{"cells": [{"cell_type": "code", "source": "x = 1"',
    "json_not_notebook.ipynb": json.dumps({"answer": 42}),
    "future_format.ipynb": json.dumps({"nbformat": 5, "nbformat_minor": 0, "metadata": {},
                                       "cells": []}),
}


def folder_state(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def outside_listing(folder: Path) -> dict[str, list[str]]:
    """What the grader's working folder, this repository, $HOME and the folder above the
    submissions hold (the places a submission's relative writes could land if not boxed)."""
    places = {Path.cwd(), Path(__file__).resolve().parents[2], Path.home(), folder.parent}
    return {str(place): sorted(p.name for p in place.iterdir()) for place in places}


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Grade every submission in one batch; keep the grades, the printout and folder states."""
    if NO_BWRAP:
        pytest.skip(NO_BWRAP)
    folder = tmp_path_factory.mktemp("submissions")
    for name, make in SUBMISSIONS.items():
        nbformat.write(make(), folder / name)
    for name, text in BROKEN.items():
        (folder / name).write_text(text)
    (folder / "binary.ipynb").write_bytes(bytes(range(256)))
    (folder / "old_format.ipynb").write_text(v3_text(submission()))
    names = [*SUBMISSIONS, *BROKEN, "binary.ipynb", "old_format.ipynb", "missing.ipynb"]
    before = folder_state(folder)
    outside = outside_listing(folder)
    printed = io.StringIO()
    grades = grade_all([folder / n for n in names], RELEASE, CELL_TIMEOUT, TOTAL_TIMEOUT,
                       echo=lambda text: print(text, file=printed), jobs=2, verbose=True)
    return {"folder": folder, "before": before, "after": folder_state(folder),
            "outside_before": outside, "outside_after": outside_listing(folder),
            "grades": {g.submission.name: g for g in grades}, "order": names,
            "printed": printed.getvalue()}


def test_every_submission_gets_a_grade_in_order(batch):
    assert list(batch["grades"]) == batch["order"]
    lines = batch["printed"].splitlines()
    for name in batch["order"]:
        assert f"== {name} " in batch["printed"]  # --verbose: the whole table
        assert sum(line.startswith(name + " ") for line in lines) == 1  # and one line each


def test_submissions_and_their_folder_are_never_modified(batch):
    assert batch["after"] == batch["before"]
    assert not (batch["folder"] / "result.txt").exists()
    assert not (batch["folder"] / "junk").exists()


def test_correct_submission(batch):
    g: Grade = batch["grades"]["correct.ipynb"]
    assert g.status == "graded" and g.runs_clean, g
    assert g.differ == [] and g.errors == [] and g.timeouts == []
    assert g.check_cells == {"answer": "ok"} and g.feedback == {"answer": "PASS"}
    assert g.judgement == Judgement() and g.rubric is CORE_RUBRIC  # no assignment: core lines
    assert g.sandbox == "bwrap" and len(g.sha256) == 64
    assert g.points["runs"] == 1 and g.points["reproduced"] == 1 and g.total == 2
    assert g.words == len(REPORT.split()) and g.unfilled == 0


def test_wrong_answer_fails_its_check_but_is_reproduced(batch):
    g = batch["grades"]["wrong.ipynb"]
    assert g.runs_clean and g.differ == [] and g.feedback == {"answer": "FAIL"}


def test_outputs_edited_by_hand_are_reported_per_cell(batch):
    g = batch["grades"]["edited_outputs.ipynb"]
    assert [label for label, _ in g.differ] == [
        'code cell 3 ("# CHECK: answer (do not e...")', 'code cell 4 ("print("answer:", answer)")']
    assert "answer: 42" in g.differ[1][1] and "answer: 41" in g.differ[1][1]
    assert g.feedback == {"answer": "FAIL"}
    assert "NO, 2 cell(s) differ" in batch["printed"]


def test_infinite_loop_in_a_cell_times_out_and_the_rest_runs(batch):
    g = batch["grades"]["infinite_loop_cell.ipynb"]
    assert g.status == "cell timeout" and not g.runs_clean
    assert g.timeouts == ['code cell 1 ("while True:")'] and g.errors[0][0] == g.timeouts[0]
    assert g.problem.startswith('cell timeout in code cell 1 ("while True:"): stopped after 4 s')
    assert g.feedback == {"answer": "PASS"}  # a check after it that passes still says so


def test_error_in_the_first_cell_is_reported_and_later_checks_still_run(batch):
    g = batch["grades"]["raises_first.ipynb"]
    assert g.errors == [('code cell 1 ("raise ValueError("boom")")', "ValueError: boom")]
    assert g.feedback == {"answer": "PASS"}
    assert not g.runs_clean


def test_deleted_check_cells_are_restored_and_reported(batch):
    g = batch["grades"]["checks_deleted.ipynb"]
    assert g.check_cells == {"answer": "deleted"}
    assert g.feedback == {"answer": "PASS"}
    assert "restored: answer deleted" in batch["printed"]


def test_edited_check_cell_is_restored_so_a_fake_pass_fails(batch):
    g = batch["grades"]["check_edited.ipynb"]
    assert g.check_cells == {"answer": "edited"}
    assert g.feedback == {"answer": "FAIL"}


def test_files_written_by_a_submission_stay_in_its_temporary_folder(batch):
    g = batch["grades"]["writes_files.ipynb"]
    assert g.runs_clean and g.feedback == {"answer": "PASS"}  # the writes succeeded in its box
    for place, names in batch["outside_after"].items():
        assert not {"result.txt", "junk"} & set(names), f"a submission wrote into {place}"
    for place in {str(Path.cwd()), str(Path(__file__).resolve().parents[2])}:
        assert batch["outside_after"][place] == batch["outside_before"][place], place


def test_dead_kernel_is_reported(batch):
    g = batch["grades"]["kernel_dies.ipynb"]
    assert "kernel died" in g.problem and 'code cell 1 ("import os")' in g.problem
    assert g.feedback == {"answer": "not run"}
    assert g.not_run  # the cells after it


@pytest.mark.parametrize(("name", "reason"), [
    ("not_a_notebook.ipynb", "invalid JSON"),
    ("invalid_json.ipynb", "invalid JSON"),
    ("json_not_notebook.ipynb", "without the 'nbformat' field"),
    ("future_format.ipynb", "unsupported notebook format nbformat=5"),
    ("binary.ipynb", "not a notebook"),
    ("missing.ipynb", "file not found"),
])
def test_unreadable_files_are_reported(batch, name, reason):
    g = batch["grades"][name]
    assert g.status == "unreadable" and reason in g.problem
    assert f"NOT GRADED: {g.problem}" in batch["printed"]


def test_old_nbformat_is_converted_and_graded(batch):
    g = batch["grades"]["old_format.ipynb"]
    assert any("nbformat 3" in note for note in g.notes)
    assert g.feedback == {"answer": "PASS"} and g.check_cells == {"answer": "ok"}


def test_csv_has_one_row_per_submission(batch, tmp_path):
    grades = list(batch["grades"].values())
    path = write_csv(grades, tmp_path / "report.csv")
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert [Path(r["submission"]).name for r in rows] == batch["order"]
    correct = rows[0]
    assert correct["feedback_answer"] == "PASS" and correct["runs_clean"] == "yes"
    assert correct["sandbox"] == "bwrap" and correct["sha256"] == batch["grades"][
        "correct.ipynb"].sha256
    assert correct["report_words"] == str(len(REPORT.split()))
    table = summary_table(grades)
    assert table.splitlines()[0].split()[:4] == ["submission", "status", "total", "clean"]
    assert len(table.splitlines()) == len(grades) + 1


@needs_bwrap
def test_total_timeout_kills_the_run_and_the_batch_goes_on(tmp_path):
    loop = submission(before=["import time\nwhile True:\n    time.sleep(0.05)"])
    nbformat.write(loop, tmp_path / "loop.ipynb")
    nbformat.write(submission(), tmp_path / "next.ipynb")
    grades = grade_all([tmp_path / "loop.ipynb", tmp_path / "next.ipynb"], RELEASE,
                       cell_timeout=60, total_timeout=20, echo=lambda text: None)
    assert grades[0].status == "timed out"
    assert grades[0].problem.startswith('total timeout: killed after 20 s, while running code '
                                        'cell 1 ("import time")')
    assert grades[0].feedback == {"answer": "not run"}
    assert grades[1].status == "graded" and grades[1].feedback == {"answer": "PASS"}


@needs_bwrap
def test_grade_main_writes_csv_and_signals_unreadable_files(tmp_path):
    (tmp_path / "bad.ipynb").write_text("not json")
    release = tmp_path / "release.ipynb"
    nbformat.write(RELEASE, release)
    args = Namespace(submissions=[tmp_path / "bad.ipynb"], out=tmp_path / "out.csv",
                     cell_timeout=None, total_timeout=10, release=release, jobs=1,
                     unsafe_no_sandbox=False, memory=None)
    printed = io.StringIO()
    with redirect_stdout(printed):
        code = grade_main(args)
    assert code == 1
    assert "unreadable" in printed.getvalue() and (tmp_path / "out.csv").is_file()
    assert all(text in printed.getvalue() for text in (  # rhw1986: no check cells match
        "assignment: rhw1986 (", "rubric: ", "replay           3 auto", "cell timeout: 600 s (the"))
    args.cell_timeout = 0
    with pytest.raises(ValueError, match="at least 1 second"):
        grade_main(args)


# -- pieces, without a kernel -----------------------------------------------------------------


def test_prepare_puts_back_deleted_check_after_the_cell_before_it():
    nb = submission(drop_check=True)
    prepared = prepare(nb, RELEASE)
    names = [check_name(c) for c in prepared.nb.cells]
    assert names.index("answer") == 3  # after the filled answer cell, as in the release
    assert prepared.origin[3] is None and prepared.check_cells == {"answer": "deleted"}
    assert prepared.nb.cells[-1].source.startswith("# Added by the grader")


def test_output_comparison_ignores_volatile_text_and_rounding():
    assert same_output("loss 0.1234", "loss 0.1235")  # a rounding difference in the last digit
    assert not same_output("sweeps 1425", "sweeps 1426")  # integers must match exactly
    assert not same_output("loss 0.1234", "loss 0.1299")
    assert same_output("E = 1.5e-03", "E = 1.6e-03")
    assert "stored 'a'" in first_difference("a\nb", "c\nb")
    cell = new_code_cell("x", outputs=[
        stdout("text\n"), new_output("stream", name="stderr", text="warning\n"),
        new_output("display_data", data={"image/png": "AAA", "text/plain": "<Figure>"}),
        new_output("error", ename="ValueError", evalue="bad", traceback=[]),
        new_output("execute_result", data={"text/plain": "<Net at 0x7f00ab>"})])
    assert output_text(cell) == "text\nValueError: bad\n<Net at 0xADDRESS>"


def test_report_words_count_only_what_the_student_wrote():
    assert report_words(RELEASE, RELEASE) == (0, 1)
    assert report_words(submission(), RELEASE) == (len(REPORT.split()), 0)
    extra = submission()
    extra.cells.append(new_markdown_cell("Two more."))
    assert report_words(extra, RELEASE)[0] == len(REPORT.split()) + 2


def test_read_submission_reasons(tmp_path):
    path = tmp_path / "x.ipynb"
    path.write_text("[1, 2]")
    with pytest.raises(ValueError, match="without the 'nbformat' field"):
        read_submission(path)
    bad = new_notebook(cells=[new_code_cell("x = 1")])
    bad.cells[0]["unexpected"] = 1  # readable, but not valid nbformat
    path.write_text(json.dumps(bad))
    nb, notes = read_submission(path)
    assert any("validation" in note for note in notes)


# -- refusing to run unsandboxed, and saying so when told to ----------------------------------


def test_grade_refuses_without_bwrap_unless_told_so(tmp_path, monkeypatch):
    from labutils.instructor.grading import SandboxUnavailable
    from labutils.instructor.grading import sandbox as sandbox_module

    nbformat.write(submission(), tmp_path / "correct.ipynb")
    monkeypatch.setattr(sandbox_module.shutil, "which", lambda name: None)
    with pytest.raises(SandboxUnavailable, match="--unsafe-no-sandbox"):
        grade_all([tmp_path / "correct.ipynb"], RELEASE, echo=lambda text: None)


def test_unsafe_mode_says_so_in_every_row(tmp_path):
    nbformat.write(submission(), tmp_path / "correct.ipynb")
    (tmp_path / "bad.ipynb").write_text("{")
    printed = io.StringIO()
    grades = grade_all([tmp_path / "correct.ipynb", tmp_path / "bad.ipynb"], RELEASE,
                       CELL_TIMEOUT, TOTAL_TIMEOUT, unsafe_no_sandbox=True,
                       echo=lambda text: print(text, file=printed), verbose=True)
    assert grades[0].feedback == {"answer": "PASS"}
    assert any("labutils.instructor" in note for note in grades[0].notes)
    for grade in grades:
        assert grade.sandbox.startswith("NONE (--unsafe-no-sandbox")
        assert grade.row()["sandbox"].startswith("NONE")
    rows = [line.split() for line in printed.getvalue().splitlines()]
    assert sum(row[:3] == ["sandbox", "NONE", "(--unsafe-no-sandbox:"] for row in rows) == 2
