"""The class summary: one self-contained HTML page an instructor reads in minutes, offline.

Score distribution, each rubric line's pass rate, the mistakes the grader diagnosed and who made
them, the class as one pooled reproduction (every student's study runs: success rate with a
Wilson 95% interval, sweeps against the paper's 1,425) and the most similar pairs of solutions
with the matching code side by side. Plots are matplotlib PNGs embedded as data URIs; every
student-derived string is escaped (html_page.text) behind the page's CSP.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from matplotlib.figure import Figure

from labutils.instructor.grading.html_page import (
    escaped,
    figure_png,
    html_document,
    local_link,
    png_data_uri,
    write_page,
)
from labutils.instructor.grading.scoring_sheet import rubric_lines
from labutils.instructor.grading.similarity import SimilarPair
from labutils.stats import wilson_interval

CONTEXT_LINES = 2
"""Lines shown around each matching stretch of code in a similar pair."""
NAMES_PER_MISTAKE = 12


NOT_GRADED = ("unreadable", "timed out")
"""Statuses without points (a cell timeout is graded: the cells before it earned theirs)."""


@dataclass(frozen=True)
class SummaryRow:
    """One submission's result, as the summary needs it."""

    student: str
    total: float
    points: Mapping[str, float] = field(default_factory=dict)
    """Points per rubric line (automatic and manual)."""
    mistakes: Sequence[str] = ()
    """The mistakes the grader diagnosed (e.g. 'mean without 1/2')."""
    status: str = "graded"
    """As the grader says it; a submission counts as graded unless NOT_GRADED names it."""


def class_summary(rows: Sequence[SummaryRow], rubric: Iterable,
                  study_runs: Sequence[Sequence[int | None]] = (),
                  pairs: Sequence[SimilarPair] = (), title: str = "Class summary",
                  paper_sweeps: int | None = None, pages: Mapping[str, str] | None = None) -> str:
    """The summary page as an HTML string. `study_runs`: per student, the sweeps each of their
    study runs needed to learn (None: did not learn within the cap); `pages`: {student:
    relative path of their reading page}, listed at the end; `paper_sweeps`: the published
    result the pooled runs are drawn against (the assignment's, e.g. the 1986 paper's 1,425)."""
    lines = [line for line in rubric_lines(rubric) if line.points > 0]
    graded = [row for row in rows if row.status not in NOT_GRADED]
    body = [f"<h1>{escaped(title)}</h1>", _overview(rows, graded, lines)]
    body += _scores(graded, lines)
    body += _rubric(graded, lines)
    body += _mistakes(graded)
    body += _reproduction(study_runs, paper_sweeps)
    body += _pairs(pairs)
    body += _index(rows, pages or {})
    return html_document(title, "\n".join(body))


def write_class_summary(path: str | Path, rows: Sequence[SummaryRow], rubric: Iterable,
                        study_runs: Sequence[Sequence[int | None]] = (),
                        pairs: Sequence[SimilarPair] = (), title: str = "Class summary",
                        paper_sweeps: int | None = None,
                        pages: Mapping[str, str] | None = None) -> Path:
    """Write `class_summary(...)` to `path` (UTF-8) and return the path."""
    return write_page(path, class_summary(rows, rubric, study_runs, pairs, title,
                                          paper_sweeps=paper_sweeps, pages=pages))


def _picture(figure: Figure, alt: str) -> str:
    return f'<img class="plot" alt="{escaped(alt)}" src="{png_data_uri(figure_png(figure))}">'


def _overview(rows, graded, lines) -> str:
    maximum = sum(line.points for line in lines)
    others = Counter(row.status for row in rows if row.status in NOT_GRADED)
    not_graded = ", ".join(f"{count} {escaped(status)}" for status, count in sorted(others.items()))
    totals = [row.total for row in graded]
    middle = (f"; total: median {statistics.median(totals):g}, mean {statistics.mean(totals):.1f}"
              f" of {maximum:g}" if totals else "")
    return (f"<p>{len(rows)} submissions, {len(graded)} graded"
            f"{' (not graded: ' + not_graded + ')' if not_graded else ''}{middle}.</p>")


def _scores(graded, lines) -> list[str]:
    if not graded:
        return ["<h2>Scores</h2>", "<p>No graded submission.</p>"]
    figure = Figure(figsize=(6.5, 2.6))
    axes = figure.subplots()
    maximum = sum(line.points for line in lines) or max(row.total for row in graded) or 1
    bins = [b - 0.5 for b in range(int(maximum) + 2)] if maximum <= 40 else 40
    axes.hist([row.total for row in graded], bins=bins, color="#5b8def", edgecolor="white")
    axes.set_xlabel("total points")
    axes.set_ylabel("students")
    return ["<h2>Scores</h2>", _picture(figure, "histogram of total points")]


def _rubric(graded, lines) -> list[str]:
    if not lines or not graded:
        return []
    rows, rates = [], []
    for line in lines:
        got = [row.points[line.name] for row in graded if line.name in row.points]
        full = sum(1 for p in got if p >= line.points)
        rate = full / len(got) if got else 0.0
        rates.append(rate)
        mean = f"{statistics.mean(got):.2f}" if got else "-"
        rows.append(f"<tr><th>{escaped(line.name)}</th><td>{escaped(line.kind)}</td>"
                    f"<td>{line.points:g}</td><td>"
                    f"{f'{full} of {len(got)} ({rate:.0%})' if got else 'not scored yet'}</td>"
                    f"<td>{mean}</td><td>{escaped(line.text)}</td></tr>")
    figure = Figure(figsize=(6.5, 0.35 * len(lines) + 0.8))
    axes = figure.subplots()
    axes.barh([line.name for line in lines][::-1], [100 * r for r in rates][::-1],
              color="#4caf7d")
    axes.set_xlim(0, 100)
    axes.set_xlabel("% of graded submissions with full points")
    return ["<h2>Rubric lines</h2>", _picture(figure, "pass rate per rubric line"),
            "<table><tr><th>line</th><th>kind</th><th>max</th><th>full points</th>"
            "<th>mean</th><th>what it checks</th></tr>" + "".join(rows) + "</table>"]


def _mistakes(graded) -> list[str]:
    who: dict[str, list[str]] = {}
    for row in graded:
        for mistake in dict.fromkeys(row.mistakes):
            who.setdefault(mistake, []).append(row.student)
    if not who:
        return ["<h2>Diagnosed mistakes</h2>", "<p>None diagnosed.</p>"]
    rows = []
    for mistake, students in sorted(who.items(), key=lambda item: (-len(item[1]), item[0])):
        names = ", ".join(escaped(s) for s in students[:NAMES_PER_MISTAKE])
        more = f" and {len(students) - NAMES_PER_MISTAKE} more" if len(
            students) > NAMES_PER_MISTAKE else ""
        rows.append(f"<tr><th>{escaped(mistake)}</th><td>{len(students)}</td>"
                    f"<td>{names}{more}</td></tr>")
    return ["<h2>Diagnosed mistakes</h2>",
            "<table><tr><th>mistake</th><th>students</th><th>who</th></tr>"
            + "".join(rows) + "</table>"]


def _reproduction(study_runs, paper_sweeps: int | None) -> list[str]:
    runs = [sweeps for student in study_runs for sweeps in student]
    head = ["<h2>The class as one reproduction</h2>"]
    if not runs:
        return [*head, "<p>No study runs collected.</p>"]
    learned = sorted(s for s in runs if s is not None)
    low, high = wilson_interval(len(learned), len(runs))
    facts = (f"<p>{len(runs):,} study runs from {sum(1 for s in study_runs if s)} students: "
             f"{len(learned):,} learned the task, success rate {len(learned) / len(runs):.1%} "
             f"(95% Wilson interval {low:.1%} to {high:.1%}).")
    if learned and paper_sweeps:
        facts += (f" Sweeps to learn: median {statistics.median(learned):,.0f} "
                  f"(paper: {paper_sweeps:,}); {sum(s <= paper_sweeps for s in learned):,} of "
                  f"{len(learned):,} runs learned within the paper's {paper_sweeps:,}.")
    figure = Figure(figsize=(6.5, 2.8))
    axes = figure.subplots()
    if learned:
        axes.hist(learned, bins=40, color="#5b8def", edgecolor="white", label="runs that learned")
    if paper_sweeps:
        axes.axvline(paper_sweeps, color="#c0392b", linewidth=2, label=f"paper: {paper_sweeps:,}")
    axes.set_xlabel("sweeps to learn")
    axes.set_ylabel("runs")
    axes.legend(frameon=False, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2)
    return [*head, facts + "</p>", _picture(figure, "histogram of sweeps to learn")]


def _pairs(pairs: Sequence[SimilarPair]) -> list[str]:
    head = ["<h2>Most similar solutions</h2>",
            '<p class="muted">For review only: similarity never changes a grade. Shares are of '
            "each student's own code (the release's template code excluded) found in the "
            "other's; marked lines match.</p>"]
    if not pairs:
        return [*head, "<p>No pairs to show.</p>"]
    out = head
    for pair in pairs:
        out.append(f"<h3>{escaped(pair.a)} ({pair.share_a:.0%}) and {escaped(pair.b)} "
                   f"({pair.share_b:.0%})</h3>")
        out.append(f'<div class="pair"><pre>{_marked(pair.code_a, pair.spans_a)}</pre>'
                   f"<pre>{_marked(pair.code_b, pair.spans_b)}</pre></div>")
    return out


def _index(rows: Sequence[SummaryRow], pages: Mapping[str, str]) -> list[str]:
    if not pages:
        return []
    cells = []
    for row in rows:
        name = (local_link(row.student, pages[row.student]) if row.student in pages
                else escaped(row.student))
        cells.append(f"<tr><td>{name}</td><td>{escaped(row.status)}</td>"
                     f"<td>{row.total:g}</td></tr>")
    return ["<h2>Reading pages</h2>",
            "<table><tr><th>student</th><th>status</th><th>total</th></tr>" + "".join(cells)
            + "</table>"]


def _marked(code: str, spans: Sequence[tuple[int, int]]) -> str:
    """`code` as escaped HTML with the `spans` in <mark>, only the lines near a match kept."""
    starts, offset = [], 0
    for line in code.split("\n"):
        starts.append((offset, offset + len(line)))
        offset += len(line) + 1
    hit = [any(s < end + 1 and e > start for s, e in spans) for start, end in starts]
    keep = [any(hit[max(0, i - CONTEXT_LINES): i + CONTEXT_LINES + 1])
            for i in range(len(starts))]
    out, skipped = [], False
    for (start, end), kept in zip(starts, keep, strict=True):
        if not kept:
            skipped = True
            continue
        if skipped:
            out.append('<span class="muted">...</span>')
            skipped = False
        pieces, at = [], start
        for s, e in sorted(spans):
            s, e = max(s, start), min(e, end)
            if s < e and s >= at:
                pieces += [escaped(code[at:s]), f"<mark>{escaped(code[s:e])}</mark>"]
                at = e
        out.append("".join(pieces) + escaped(code[at:end]))
    return "\n".join(out + (['<span class="muted">...</span>'] if skipped else []))


__all__ = ["SummaryRow", "class_summary", "write_class_summary"]
