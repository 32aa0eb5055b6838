"""Reading pages: student text escaped (and checked in headless Chromium), answers and plots
taken from a submission by the release's answer cells."""

from __future__ import annotations

import base64
import re

import nbformat
import pytest
from browser_check import (
    HOSTILE_ID,
    HOSTILE_REPORT,
    MARK,
    SCRIPT,
    dom_after_load,
    probe,
    probed,
    script_marks,
    without_csp,
)
from matplotlib.figure import Figure
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from labutils.instructor.assignment import (
    ANSWER_PLACEHOLDER,
    BEGIN_ANSWER,
    END_ANSWER,
    instructor_only,
    load_release,
)
from labutils.instructor.grading import reading_page as reading_page_module
from labutils.instructor.grading.html_page import CSP, figure_png
from labutils.instructor.grading.plugin import load_assignment
from labutils.instructor.grading.reading_page import (
    extract_answers,
    navigation,
    page_filename,
    reading_page,
    write_reading_page,
)
from labutils.paths import repo_root

RHW1986 = load_assignment("rhw1986")
RELEASE_ARGS = (None, RHW1986.source, RHW1986.student_copy)

REPO = repo_root()
RHW1986 = load_assignment("rhw1986")
RUBRIC = [{"name": "protocol", "points": 3, "kind": "manual", "text": "each decision sourced"},
          {"name": "runs", "points": 1, "kind": "auto", "text": "runs"},
          {"name": "report-results", "points": 4, "kind": "manual", "text": "numbers"}]


@pytest.fixture(scope="module")
def png() -> bytes:
    figure = Figure(figsize=(3, 2))
    axes = figure.subplots()
    axes.plot([0, 1, 2], [3, 1, 2])
    return figure_png(figure)


def hostile_page(png: bytes) -> str:
    return reading_page(HOSTILE_ID, [("Report: 1. Choices", HOSTILE_REPORT),
                                     (f"<script>{SCRIPT}</script>", "| a | b |\n|---|---|\n| "
                                      f"<img src=x onerror=\"{SCRIPT}\"> | x |")],
                        [(f"</figcaption><script>{SCRIPT}</script>", png)],
                        [("replay", f"<script>{SCRIPT}</script>")], RUBRIC)


def test_page_holds_no_live_student_markup(png):
    document = hostile_page(png)
    head = document.split("<title>")[0]
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in head
    assert document.count("<script") == 0
    assert not re.search(r"<(img|svg|iframe)[^>]*\son\w+=", document)
    assert not re.search(r"href=\"\s*(javascript|data):", document, re.IGNORECASE)
    assert document.count("</style>") == 1
    assert 'href="https://example.org/paper" rel="noopener noreferrer nofollow"' in document
    assert "[link removed: javascript:" in document
    assert "[picture not shown: https://example.org/x.png]" in document
    assert "&lt;script&gt;" in document and "&quot;&gt;&lt;script&gt;" in document


def test_page_lists_manual_lines_answers_plots_and_findings(png):
    document = reading_page("s1", [("Part 1", "| d | v |\n|---|---|\n| 1 | sum |"),
                                   ("Report: 3", "")],
                            [png, ("Part 4, code cell 9", b"not a png")],
                            [("replay", "matches")], RUBRIC, "Assignment 05", "auto 6/7")
    assert "<td>sum</td>" in document and "Not answered." in document
    assert document.count('src="data:image/png;base64,') == 1
    assert "Part 4, code cell 9: not a PNG picture" in document
    assert "<th>protocol</th><td>3</td>" in document and "<th>runs</th><td>1" not in document
    assert "<th>replay</th><td>matches</td>" in document and "auto 6/7" in document


def test_many_or_huge_pictures_are_capped(png, monkeypatch):
    monkeypatch.setattr(reading_page_module, "MAX_PNG_BYTES", 2 * len(png))
    release = new_notebook(cells=[new_code_cell("# YOUR CODE HERE")])
    submission = new_notebook(cells=[new_code_cell("plots()")])
    submission.cells[0].outputs = [new_output("display_data", {"image/png": base64.b64encode(
        data).decode()}) for data in [png] * 40 + [png * 3]]
    _, figures = extract_answers(submission, release)
    assert len(figures) == 41 and figures[-1] == (
        f"code cell 1 (picture over {2 * len(png):,} bytes)", b"")
    document = reading_page("s", [], figures)
    assert document.count("<img") == reading_page_module.MAX_FIGURES
    assert "11 more pictures not shown." in document


def test_links_to_other_pages_are_local_only():
    document = reading_page("s", [], links=[("previous", "s0-1a2b3c4d.html"),
                                            ("summary", "summary.html")])
    assert '<a href="s0-1a2b3c4d.html">previous</a> | <a href="summary.html">summary</a>' \
        in document
    for href in ("javascript:alert(1)", "../secret.html", "https://x.org/a.html", "a b.html"):
        with pytest.raises(ValueError, match="not a relative page path"):
            reading_page("s", [], links=[("x", href)])


def test_navigation_between_pages_of_a_batch():
    links = navigation(["a", "b", "c"])
    assert links["a"] == [("class summary", "summary.html"), ("next", page_filename("b"))]
    assert links["b"] == [("class summary", "summary.html"), ("previous", page_filename("a")),
                          ("next", page_filename("c"))]
    assert reading_page(HOSTILE_ID, [], links=navigation(["x", HOSTILE_ID])[HOSTILE_ID])


def test_page_filename_is_safe_and_distinct():
    names = {page_filename(s) for s in ("../../etc/passwd", "a/b", "a_b", HOSTILE_ID, "")}
    assert len(names) == 5
    assert all(re.fullmatch(r"[A-Za-z0-9_-]+-[0-9a-f]{8}\.html", n) for n in names)


def _release() -> nbformat.NotebookNode:
    return new_notebook(cells=[
        new_markdown_cell("## Part 1: protocol"),
        new_markdown_cell("| decision | value |\n|---|---|\n| task | |"),
        new_code_cell("# YOUR CODE HERE"),
        new_markdown_cell("## Report"),
        new_markdown_cell(f"### 1. Choices\nWhat did you decide?\n\n{ANSWER_PLACEHOLDER}"),
        new_markdown_cell(f"### 2. Results\nHow typical?\n\n{ANSWER_PLACEHOLDER}")])


def _submission(release: nbformat.NotebookNode, png: bytes) -> nbformat.NotebookNode:
    nb = nbformat.from_dict(nbformat.reads(nbformat.writes(release), as_version=4))
    nb.cells[1].source = "| decision | value |\n|---|---|\n| task | 64 vectors |"
    nb.cells[2].outputs = [new_output("display_data", {
        "image/png": base64.b64encode(png).decode(), "text/plain": "<Figure>"})]
    nb.cells[4].source = ("### 1. Choices\nWhat did you decide?\n\nSummed error.\n"
                          "![mine](attachment:a.png)")
    nb.cells[4]["attachments"] = {"a.png": {"image/png": base64.b64encode(png).decode()}}
    nb.cells[4].id = "renamed-by-colab"
    nb.cells.insert(5, new_markdown_cell("More of my text."))
    return nb


def test_extract_answers_takes_student_text_by_id_or_first_line(png):
    release = _release()
    answers, figures = extract_answers(_submission(release, png), release)
    titles = [title for title, _ in answers]
    assert titles == ["Part 1: protocol", "Report: 1. Choices", "Report: 2. Results"]
    table, choices, results = (text for _, text in answers)
    assert "64 vectors" in table
    assert choices.startswith("Summed error.") and choices.endswith("More of my text.")
    assert "attachment:" not in choices and "(data:image/png;base64," in choices
    assert results == ""
    assert figures == [("Part 1: protocol, code cell 1", png)]


def test_extract_answers_names_a_deleted_answer_cell(png):
    release = _release()
    submission = _submission(release, png)
    del submission.cells[6]
    answers, _ = extract_answers(submission, release)
    assert answers[2][0].endswith("(cell not found: its first line was changed or the cell "
                                  "deleted)") and answers[2][1] == ""


def test_untouched_release_has_every_answer_empty():
    release = load_release(*RELEASE_ARGS)
    answers, figures = extract_answers(release, release)
    assert [title.split(":")[0] for title, _ in answers] == ["Part 1", "Report", "Report",
                                                              "Report"]
    assert all(text == "" for _, text in answers) and figures == []


def test_model_solution_answers_and_plots():
    """The instructor's worked solution, handed in as a student would: three report answers
    and the three plots its stored outputs hold."""
    solution = nbformat.read(REPO / RHW1986.source, as_version=4)
    solution.cells = [cell for cell in solution.cells if not instructor_only(cell)]
    for cell in solution.cells:
        cell.source = cell.source.replace(BEGIN_ANSWER, "").replace(END_ANSWER, "")
    answers, figures = extract_answers(solution, load_release(*RELEASE_ARGS))
    report = [text for title, text in answers if title.startswith("Report")]
    assert len(report) == 3 and all(len(text) > 500 for text in report)
    assert "686 sweeps" in report[1] and ANSWER_PLACEHOLDER not in "".join(report)
    assert [caption.split(",")[0] for caption, _ in figures] == [
        "Part 4: the learning rule and the training run", "Part 5: is your run typical?",
        "Part 6: what did your network learn?"]
    assert all(png.startswith(b"\x89PNG") for _, png in figures)


def test_no_student_script_runs_in_chromium(png, tmp_path):
    page = write_reading_page(tmp_path / "page.html", HOSTILE_ID, [("Report", HOSTILE_REPORT)],
                              [png], [("replay", f"<script>{SCRIPT}</script>")], RUBRIC)
    assert script_marks(dom_after_load(page)) == []
    bare = tmp_path / "no-csp.html"
    bare.write_text(without_csp(page.read_text()))
    assert script_marks(dom_after_load(bare)) == [], "escaping alone must hold"
    probe_page = tmp_path / "probed.html"
    probe_page.write_text(probed(page.read_text()))
    seen = probe(probe_page)
    assert seen["images"] == seen["loaded"] == 1
    assert seen["scripts"] == 0 and seen["handlers"] == 0
    assert seen["links"] == ["https://example.org/paper"]


def test_the_browser_check_sees_a_script_that_runs(tmp_path):
    """The check itself can fail: a page that does run the student script is caught."""
    page = tmp_path / "canary.html"
    page.write_text(f"<html><head><title>t</title></head><body><script>{SCRIPT}</script>"
                    "</body></html>")
    marks = script_marks(dom_after_load(page))
    assert "document.title was changed" in marks and f"<div id='{MARK}'>" in marks
