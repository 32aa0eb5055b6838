"""Comparing stored outputs and counting report words: right answers on hostile text, and a
run time bounded by the text's length (linear patterns, text cut before any pattern).

The inputs below took the old quadratic patterns minutes (250 KB printed without a blank:
335 s in the grader); `linear_time` stops a run after 30 s, about a thousand times what the
linear code needs, so the bound is a sanity check, not a benchmark.
"""

from __future__ import annotations

import signal
from contextlib import contextmanager

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from labutils.instructor.grading.comparing import (
    MAX_COMPARED_CHARS,
    output_text,
    report_words,
    same_output,
    without_html_comments,
)

SANITY_SECONDS = 30


@contextmanager
def linear_time():
    """Fail (instead of hanging for minutes) when the block runs past SANITY_SECONDS."""

    def stop(signum, frame):
        raise TimeoutError(f"over {SANITY_SECONDS} s: quadratic on student text")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, SANITY_SECONDS)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def printed(text: str):
    return new_code_cell("x", outputs=[new_output("stream", name="stdout", text=text)])


@pytest.mark.parametrize("text", [
    "a" * 250_000,  # no blank: the ipykernel pattern restarted at every character
    "ipykernel_1/" * 40_000,  # the cell-file pattern's prefix, never completed
    "[1:1<" * 100_000,  # tqdm's time pattern, never closed
], ids=["no-blank", "ipykernel-prefix", "time-prefix"])
def test_output_patterns_are_linear_on_hostile_text(text):
    with linear_time():
        assert output_text(printed(text)) == text
        assert not same_output(text, text + "b")


def test_volatile_text_is_still_replaced():
    text = ("  File /tmp/ipykernel_4242/1234.py:3 in f\n"
            "100%|####| 5/5 [00:01<00:00, 3.2it/s]\n"
            "long [1:02:03<0:00:00, 1.0s/it]\n"
            "\x1b[31mred\x1b[0m at 0x7f00ab in /tmp/abc/x.txt\n")
    assert output_text(printed(text)) == (
        "  File <cell>:3 in f\n100%|####| 5/5 [TIME]\nlong [TIME]\nred at 0xADDRESS in <tmp>")


def test_stored_output_is_cut_before_any_pattern():
    stored = "x " * MAX_COMPARED_CHARS  # 1 M characters, twice what is compared
    text = output_text(printed(stored))
    assert len(text) < MAX_COMPARED_CHARS + 100
    assert text.endswith(f"[output cut by the grader after {MAX_COMPARED_CHARS} characters]")
    cut = printed(stored[:MAX_COMPARED_CHARS])
    assert not same_output(text, output_text(cut))  # a cut text never equals an uncut one


def test_many_outputs_are_cut_too():
    cell = printed("")
    cell.outputs = [{"output_type": "stream", "name": "stdout", "text": "ab\n"}] * 400_000
    assert len(output_text(cell)) < MAX_COMPARED_CHARS + 100


def test_malformed_output_fields_give_no_text_instead_of_a_crash():
    cell = printed("kept\n")
    cell.outputs += [{"output_type": "stream", "name": "stdout", "text": 5},
                     {"output_type": "execute_result", "data": ["not", "a", "dict"]},
                     "not an output",
                     {"output_type": "error", "ename": ["Value", "Error"], "evalue": None}]
    assert output_text(cell) == "kept\nValueError:"


def test_numbers_too_large_for_a_float_differ_instead_of_crashing():
    assert not same_output("E = 1.0e400", "E = 1.1e400")
    assert not same_output("E = 1.0e" + "9" * 5000, "E = 1.1e" + "9" * 5000)
    assert same_output("loss 0.1234", "loss 0.1235")


def test_report_words_with_unclosed_comments_is_linear():
    release = new_notebook(cells=[])
    text = "<!--" * 40_000 + " seven words the student wrote right here"
    with linear_time():
        assert report_words(new_notebook(cells=[new_markdown_cell(text)]), release) == (7, 0)


def test_html_comments_are_blanked_like_the_pattern_did():
    assert without_html_comments("a<!-- b -->c") == "a c"
    assert without_html_comments("a<!-- b --> c <!-- d") == "a  c <!-- d"
    assert without_html_comments("<!-->x-->y") == " y"
    assert without_html_comments("no comment") == "no comment"


def test_an_untouched_release_scores_no_words_whatever_its_badge_and_setup_urls():
    """The instructor's copy and a published release differ in the badge and setup URLs only
    (another repository, a release tag): the intro must not count as the student's text."""
    import json
    from pathlib import Path

    import nbformat

    from labutils.instructor.assignment import ANSWER_PLACEHOLDER
    from labutils.instructor.course.badges import read_course_repository

    copy = Path(__file__).resolve().parents[2] / "notebooks" / "05_assignment.ipynb"
    instructor = nbformat.read(copy, as_version=4)
    published = nbformat.from_dict(json.loads(json.dumps(instructor)))
    course = read_course_repository(Path(__file__).resolve().parents[2] / "pyproject.toml")
    for cell in published.cells[:2]:  # the release is published elsewhere, on another branch
        cell.source = (cell.source.replace(course.url, "https://github.com/uni/dl-course-2027")
                       .replace(f"/{course.branch}/", "/v2027.1/")
                       .replace(f"@{course.branch}", "@v2027.1"))
    assert published.cells[0].source != instructor.cells[0].source
    placeholders = sum(c.source.count(ANSWER_PLACEHOLDER) for c in instructor.cells)
    assert report_words(published, instructor) == (0, placeholders)
    for cell in published.cells:
        cell.source = cell.source.replace(ANSWER_PLACEHOLDER, "my three words")
    assert report_words(published, instructor) == (3 * placeholders, 0)
