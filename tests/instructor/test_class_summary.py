"""The class summary page: numbers from synthetic rows, escaped student strings, checked in
headless Chromium (plots load, no student script runs)."""

from __future__ import annotations

import random
import re

import pytest
from browser_check import HOSTILE_ID, SCRIPT, dom_after_load, probe, probed, script_marks

from labutils.instructor.grading.class_summary import SummaryRow, class_summary
from labutils.instructor.grading.html_page import CSP, write_page
from labutils.instructor.grading.similarity import SimilarPair
from labutils.stats import wilson_interval

RUBRIC = [("runs", 1, "runs top to bottom", "auto"), ("replay", 3, "the rule", "auto"),
          ("report", 4, "the report", "manual"), ("paper_reason", 0, "info", "info")]
CODE_A = f"x = 1\n# </pre><script>{SCRIPT}</script>\nfor i in range(3):\n    x += i\nprint(x)\n"
CODE_B = "y = 0\nfor i in range(3):\n    x += i\n"


def synthetic_rows(n: int, seed: int = 0) -> list[SummaryRow]:
    """`n` rows like a class's: most full marks, some diagnosed mistakes, a few not graded."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        mistakes = rng.choice([(), (), (), ("mean without 1/2",), ("gradients pile up",)])
        points = {"runs": 1, "replay": 0 if mistakes else 3, "report": rng.choice([2, 3, 4])}
        rows.append(SummaryRow(f"s{i:03d}", sum(points.values()), points, mistakes,
                               "timed out" if i % 50 == 49 else "graded"))
    return rows


def synthetic_runs(n: int, seed: int = 0) -> list[list[int | None]]:
    rng = random.Random(seed)
    return [[rng.randint(300, 4000) if rng.random() < 0.6 else None for _ in range(50)]
            for _ in range(n)]


def _page(rows, runs, pairs=()) -> str:
    return class_summary(rows, RUBRIC, runs, pairs, title="RHW 1986 <class>")


def test_numbers_on_the_page():
    rows = [SummaryRow("a", 8, {"runs": 1, "replay": 3, "report": 4}),
            SummaryRow("b", 3, {"runs": 1, "replay": 0, "report": 2}, ["mean without 1/2"]),
            SummaryRow("c", 1, {"runs": 1, "replay": 0, "report": 0},
                       ["mean without 1/2", "gradients pile up"]),
            SummaryRow("d", 0, {}, status="unreadable")]
    runs = [[700, None, 1500], [1200], []]
    document = _page(rows, runs)
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
    rows = synthetic_rows(60) + [SummaryRow(HOSTILE_ID, 1, {"runs": 1}, [SCRIPT])]
    pair = SimilarPair(HOSTILE_ID, "s001", 0.9, 0.8, CODE_A, CODE_B, ((0, 5),), ((0, 5),))
    page = write_page(tmp_path / "summary.html", _page(rows, synthetic_runs(60), [pair]))
    assert script_marks(dom_after_load(page)) == []
    probe_page = tmp_path / "probed.html"
    probe_page.write_text(probed(page.read_text()))
    seen = probe(probe_page)
    assert seen["images"] == seen["loaded"] == 3
    assert seen["scripts"] == 0 and seen["handlers"] == 0 and seen["links"] == []


@pytest.mark.parametrize("n", [200])
def test_synthetic_class_builds(n):
    document = _page(synthetic_rows(n), synthetic_runs(n))
    assert f"{n} submissions, {n - n // 50} graded (not graded: {n // 50} timed out)" in document
