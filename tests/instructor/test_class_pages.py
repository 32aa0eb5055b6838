"""`grade --pages DIR` and `grade --scores SHEET` end to end (real sandbox, tiny notebooks): the
reading pages, the scoring sheet and the class summary are written, a hostile report or code
runs no script in headless Chromium, and a filled sheet changes the final total."""

from __future__ import annotations

import base64
import csv
import io
import re
from argparse import Namespace
from contextlib import redirect_stdout
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from browser_check import (
    HOSTILE_REPORT,
    SCRIPT,
    dom_after_load,
    probe,
    probed,
    script_marks,
    without_csp,
)
from matplotlib.figure import Figure
from nbformat.v4 import new_output
from test_grading import NO_BWRAP, RELEASE, submission

from labutils.instructor.grading.class_pages import (
    SHEET,
    SUMMARY,
    import_scores_into,
    student_id,
)
from labutils.instructor.grading.command import grade_main
from labutils.instructor.grading.gradebook import Gradebook
from labutils.instructor.grading.html_page import figure_png
from labutils.instructor.grading.plugin import load_assignment
from labutils.instructor.grading.reading_page import page_filename
from labutils.instructor.grading.reporting import Grade

HOSTILE_CODE = f'''notes = """</pre><script>{SCRIPT}</script><a href="javascript:x()">x</a>"""
for step in range(3):
    squares = [value * value + step for value in range(step + 10) if value % 2 == 0]
    print(len(notes) + sum(squares), max(squares), min(squares))'''
STUDENTS = ("alice", "bob")
PLOT = base64.b64encode(figure_png(Figure(figsize=(2, 1)))).decode("ascii")
RUBRIC = load_assignment("rhw1986").rubric


def _grade(folder: Path, **options) -> str:
    """Run `grade` as the command line does; return what it printed."""
    args = Namespace(submissions=[folder / f"{s}.ipynb" for s in STUDENTS], assignment=None,
                     cell_timeout=20, total_timeout=120, jobs=2, memory=None,
                     release=folder / "release.ipynb", unsafe_no_sandbox=False, pages=None,
                     scores=None, out=None)
    vars(args).update(options)
    printed = io.StringIO()
    with redirect_stdout(printed):
        grade_main(args)
    return printed.getvalue()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Two tiny submissions graded with --pages (alice's report and both codes hostile)."""
    if NO_BWRAP:
        pytest.skip(NO_BWRAP)
    folder = tmp_path_factory.mktemp("class")
    nbformat.write(RELEASE, folder / "release.ipynb")
    alice = submission(report=HOSTILE_REPORT, before=[HOSTILE_CODE])
    alice.cells[1].execution_count = 1  # the plot she saved with it
    alice.cells[1].outputs = [new_output("display_data", data={"image/png": PLOT})]
    nbformat.write(alice, folder / "alice.ipynb")
    nbformat.write(submission(answer=41, before=[HOSTILE_CODE]), folder / "bob.ipynb")
    printed = _grade(folder, pages=folder / "pages", out=folder / "before.csv")
    return SimpleNamespace(folder=folder, pages=folder / "pages", printed=printed)


def _rows(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return {Path(r["submission"]).stem: r for r in csv.DictReader(handle)}


def test_pages_sheet_and_summary_are_written(graded):
    written = sorted(p.name for p in graded.pages.iterdir())
    assert written == sorted([*(page_filename(s) for s in STUDENTS), SHEET, SUMMARY])
    assert "wrote 2 reading page(s)" in graded.printed
    summary = (graded.pages / SUMMARY).read_text(encoding="utf-8")
    assert all(f'href="{page_filename(s)}"' in summary for s in STUDENTS)
    assert "<h3>alice (" in summary and " and bob (" in summary  # the copied code, side by side
    assert "<th>protocol</th><td>manual</td><td>4</td><td>not scored yet</td>" in summary
    alice = (graded.pages / page_filename("alice")).read_text(encoding="utf-8")
    assert f'href="{page_filename("bob")}"' in alice and 'href="summary.html"' in alice
    assert "Plain words <strong>bold</strong>" in alice  # the report, rendered
    assert "report_learned" in alice  # the manual lines to score
    with open(graded.pages / SHEET, newline="", encoding="utf-8") as handle:
        sheet = list(csv.reader(handle))
    assert sheet[0][0] == "student" and [r[0] for r in sheet[1:]] == list(STUDENTS)


@pytest.mark.parametrize("page", [page_filename("alice"), SUMMARY])
def test_hostile_report_and_code_run_no_script_in_chromium(graded, page, tmp_path):
    path = graded.pages / page
    bare = tmp_path / f"bare-{page}"  # escaping alone holds, without the page's CSP
    bare.write_text(without_csp(path.read_text(encoding="utf-8")), encoding="utf-8")
    for dom in (dom_after_load(path), dom_after_load(bare)):
        assert script_marks(dom) == []
        assert not re.search(r"<(a|iframe)\s[^>]*(href|src)=\"\s*javascript:", dom, re.I)


def test_reading_page_shows_the_saved_plot_in_chromium(graded, tmp_path):
    page = (graded.pages / page_filename("alice")).read_text(encoding="utf-8")
    assert page.count("<figure>") == 1
    (tmp_path / "probed.html").write_text(probed(page), encoding="utf-8")
    found = probe(tmp_path / "probed.html")
    assert found["images"] == found["loaded"] == 1 and found["scripts"] == 0


def test_filled_sheet_changes_the_final_total(graded):
    sheet = graded.pages / SHEET
    with open(sheet, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    rows[1][header.index("protocol (max 4)")] = "3"
    rows[1][header.index("report_learned (max 2)")] = "1,5"
    with open(sheet, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    printed = _grade(graded.folder, pages=graded.pages, scores=sheet,
                     out=graded.folder / "after.csv")
    assert "imported 2 manual score(s)" in printed
    before, after = _rows(graded.folder / "before.csv"), _rows(graded.folder / "after.csv")
    assert "final" not in before["alice"]
    assert float(after["alice"]["final"]) == float(after["alice"]["total"]) + 4.5
    assert after["alice"]["points_protocol"] == "3" and after["bob"]["points_protocol"] == ""
    assert after["bob"]["final"] == after["bob"]["total"]
    assert "3" in (graded.pages / SHEET).read_text(encoding="utf-8")  # kept on rewrite
    summary = (graded.pages / SUMMARY).read_text(encoding="utf-8")
    assert f"<td>{float(after['alice']['final']):g}</td>" in summary


def test_sheet_import_into_the_gradebook_records_each_score_once(tmp_path):
    with Gradebook.open(tmp_path / "grades.db") as book:
        run = book.start_run("rhw1986", "release-sha", "rubric-sha")
        for student in STUDENTS:
            book.record(run, student, f"{student}.ipynb", student * 3, "graded", 5, {})
        sheet = tmp_path / "scores.csv"
        sheet.write_text("student,protocol (max 4),report_choices (max 2),report_results "
                         "(max 2),report_learned (max 2),note\nalice,4,,2,,good\nbob,,,,,\n",
                         encoding="utf-8")
        assert import_scores_into(book, sheet, RUBRIC) == 2
        assert import_scores_into(book, sheet, RUBRIC) == 0  # nothing new: no history added
        finals = {c["student"]: c["final"] for c in book.current()}
    assert finals == {"alice": 11, "bob": 5}


def test_student_id_is_the_batchs_else_the_file_name():
    assert student_id(Grade(Path("/x/alice.ipynb"))) == "alice"
    assert student_id(Grade(Path("/x/a.ipynb"), student="s42")) == "s42"
