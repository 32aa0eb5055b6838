"""The class summary page: numbers from synthetic rows, escaped student strings, checked in
headless Chromium (plots load, no student script runs)."""

from __future__ import annotations

import re

import pytest
from browser_check import HOSTILE_ID, SCRIPT, dom_after_load, probe, probed, script_marks

from benchmarks.bench_class_summary import RUBRIC as BENCH_RUBRIC
from benchmarks.bench_class_summary import TEMPLATE, synthetic_class
from labutils.instructor.grading.class_summary import SummaryRow, class_summary
from labutils.instructor.grading.html_page import CSP, write_page
from labutils.instructor.grading.similarity import SimilarPair, similar_pairs
from labutils.stats import wilson_interval

RUBRIC = [("runs", 1, "runs top to bottom", "auto"), ("replay", 3, "the rule", "auto"),
          ("report", 4, "the report", "manual"), ("paper_reason", 0, "info", "info")]
CODE_A = f"x = 1\n# </pre><script>{SCRIPT}</script>\nfor i in range(3):\n    x += i\nprint(x)\n"
CODE_B = "y = 0\nfor i in range(3):\n    x += i\n"


def _page(rows, runs, pairs=()) -> str:
    return class_summary(rows, RUBRIC, runs, pairs, title="RHW 1986 <class>")


def test_numbers_on_the_page():
    rows = [SummaryRow("a", 8, {"runs": 1, "replay": 3, "report": 4}),
            SummaryRow("b", 3, {"runs": 1, "replay": 0, "report": 2}, ["mean without 1/2"]),
            SummaryRow("c", 1, {"runs": 1, "replay": 0, "report": 0},
                       ["mean without 1/2", "gradients pile up"]),
            SummaryRow("d", 0, {}, status="unreadable")]
    runs = [[700, None, 1500], [1200], []]
    document = class_summary(rows, RUBRIC, runs, paper_sweeps=1425, pages={"a": "pages/a-0.html"})
    assert '<tr><td><a href="pages/a-0.html">a</a></td><td>graded</td><td>8</td></tr>' in document
    assert "<tr><td>d</td><td>unreadable</td><td>0</td></tr>" in document
    assert "4 submissions, 3 graded (not graded: 1 unreadable); total: median 3, mean 4.0 of 8" \
        in document
    assert "<th>replay</th><td>auto</td><td>3</td><td>1 of 3 (33%)</td><td>1.00</td>" in document
    assert "paper_reason" not in document  # information, not scored
    assert "<th>mean without 1/2</th><td>2</td><td>b, c</td>" in document
    low, high = wilson_interval(3, 4)
    assert (f"4 study runs from 2 students: 3 learned the task, success rate 75.0% (95% Wilson "
            f"interval {low:.1%} to {high:.1%})") in document
    assert "median 1,200 (paper: 1,425); 2 of 3 runs learned within the paper's 1,425" in document
    assert document.count('src="data:image/png;base64,') == 3


def test_hostile_strings_are_escaped_and_pairs_side_by_side():
    rows = [SummaryRow(HOSTILE_ID, 4, {"runs": 1}, [f"<img src=x onerror={SCRIPT}>"])]
    pair = SimilarPair(HOSTILE_ID, "b", 0.9, 0.8, CODE_A, CODE_B,
                       ((CODE_A.index("for"), len(CODE_A) - 9),), ((6, len(CODE_B)),))
    document = _page(rows, [[1]], [pair])
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in document
    assert "<script" not in document and not re.search(r"<img[^>]*onerror", document)
    assert "&lt;class&gt;" in document and "&quot;&gt;&lt;script&gt;" in document
    assert "<mark>for i in range(3):</mark>" in document
    assert "&lt;/pre&gt;&lt;script&gt;" in document
    assert document.count('<div class="pair">') == 1


def test_empty_class():
    document = _page([], [])
    assert "No graded submission." in document and "No study runs collected." in document
    assert "None diagnosed." in document and "No pairs to show." in document


def test_summary_in_chromium(tmp_path):
    rows, runs, _ = synthetic_class(60)
    rows.append(SummaryRow(HOSTILE_ID, 1, {"runs": 1}, [SCRIPT]))
    pair = SimilarPair(HOSTILE_ID, "s001", 0.9, 0.8, CODE_A, CODE_B, ((0, 5),), ((0, 5),))
    page = write_page(tmp_path / "summary.html", _page(rows, runs, [pair]))
    assert script_marks(dom_after_load(page)) == []
    probe_page = tmp_path / "probed.html"
    probe_page.write_text(probed(page.read_text()))
    seen = probe(probe_page)
    assert seen["images"] == seen["loaded"] == 3
    assert seen["scripts"] == 0 and seen["handlers"] == 0 and seen["links"] == []


def test_the_benchmarked_class_builds():
    """The benchmark's workload (200 students) is a correct page: the copies are found."""
    rows, runs, codes = synthetic_class(200)
    pairs = similar_pairs({s: codes[s] for s in ("s037", "s038", "s039", "s040")}, TEMPLATE)
    assert (pairs[0].a, pairs[0].b, pairs[0].score) == ("s038", "s039", pytest.approx(1.0))
    document = class_summary(rows, BENCH_RUBRIC, runs, pairs)
    graded = sum(row.status == "graded" for row in rows)
    assert f"200 submissions, {graded} graded (not graded: {200 - graded} timed out)" in document
    assert "10,000 study runs from 200 students" in document
