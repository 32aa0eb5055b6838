"""Reporting: the grade of one submission, points per check, the printed table and the CSV.

Points come from POINTS below (the instructor's source); every point is computed by the grader
from data it judged itself. The students' own check cells print feedback only.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

POINTS: dict[str, int] = {
    "runs": 1,  # executes top to bottom in the grader's sandbox without error or timeout
    "reproduced": 1,  # every code cell stored run, and its outputs are what the grader's run prints
    "data": 1,  # inputs/targets are the 64 cases of the task
    "replay": 3,  # errors and final weights are what the paper's rule gives from a drawn start
    "solves": 3,  # network_facts: every case within 0.5 and E below the constant answer's
    "antisymmetric": 1,  # network_facts: mirror anti-symmetric hidden units
    "paper_reason": 0,  # information only: about a quarter of valid runs solve "in their own way"
}
"""Points per check. "replay" and the network points count only for a run the grader judged
trained (replay.Verdict.trained): the replay matches, the declared start is one the protocol could
have drawn (the self-check's own test), the run made at least replay.MIN_TRAINING_SWEEPS sweeps,
and the final weights are neither the initial ones nor Figure 1's (weights that were not trained
by the paper's rule from a drawn start earn nothing for their shape). The
paper's reason (every asymmetric input gives a non-zero sum) earns nothing: valid solutions from
many seeds lack it, and points for it would reward picking a seed."""

UNSAFE = "NONE (--unsafe-no-sandbox: the submission ran with the grader's permissions)"


@dataclass
class Grade:
    """Everything the grader found out about one submission."""

    submission: Path
    sha256: str = ""
    sandbox: str = "bwrap"
    status: str = "graded"
    """'graded', 'unreadable' or 'timed out'."""
    problem: str = ""
    notes: list[str] = field(default_factory=list)
    cells: int = 0
    seconds: float = 0.0
    errors: list[tuple[str, str]] = field(default_factory=list)
    """(cell, 'Name: message') of each cell that raised; cells named as in the submission."""
    timeouts: list[str] = field(default_factory=list)
    not_run: list[str] = field(default_factory=list)
    differ: list[tuple[str, str]] = field(default_factory=list)
    unexecuted: list[int] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    """Cells whose output is not compared, because the release cell is marked so."""
    skipped: list[str] = field(default_factory=list)
    not_honoured: list[str] = field(default_factory=list)
    """Cells whose own markers/tags were not honoured (the release cell has none)."""
    truncated: list[str] = field(default_factory=list)
    check_cells: dict[str, str] = field(default_factory=dict)
    feedback: dict[str, str] = field(default_factory=dict)
    """What each self-check printed in the grader's run (PASS/FAIL/...): feedback, no points."""
    replay: str = "not done"
    data_problems: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    sweeps: str = "?"
    facts: dict[str, str] = field(default_factory=dict)
    """solves / antisymmetric / paper_reason: yes, no or ? (no data)."""
    points: dict[str, int] = field(default_factory=dict)
    words: int = 0
    unfilled: int = 0
    uid: int | None = None
    """The user id the submission ran as (when the grader is root); not in the CSV."""

    @property
    def runs_clean(self) -> bool:
        failed = self.errors or self.timeouts or self.problem
        return self.status == "graded" and not failed

    @property
    def total(self) -> int:
        return sum(self.points.values())

    def row(self) -> dict[str, str]:
        """One CSV row (every value a string)."""
        row = {
            "submission": str(self.submission),
            "sha256": self.sha256,
            "sandbox": self.sandbox,
            "status": self.status,
            "total": str(self.total) if self.status != "unreadable" else "0",
            "max_total": str(sum(POINTS.values())),
        }
        for name in POINTS:
            row[f"points_{name}"] = str(self.points.get(name, 0))
        row.update({
            "runs_clean": _yes(self.runs_clean) if self.status != "unreadable" else "",
            "problem": self.problem,
            "replay": self.replay,
            "sweeps": self.sweeps,
            "solves": self.facts.get("solves", ""),
            "antisymmetric": self.facts.get("antisymmetric", ""),
            "paper_reason": self.facts.get("paper_reason", ""),
            "findings": "; ".join(self.findings),
            "data_problems": "; ".join(self.data_problems),
            "errors": "; ".join(f"{n}: {e}" for n, e in self.errors),
            "cell_timeouts": "; ".join(self.timeouts),
            "outputs_differ": "; ".join(f"{n}: {d}" for n, d in self.differ),
            "ignored_cells": ", ".join(self.ignored),
            "skipped_cells": ", ".join(self.skipped),
            "markers_not_honoured": ", ".join(self.not_honoured),
            "output_truncated": ", ".join(self.truncated),
            "unexecuted_cells": " ".join(map(str, self.unexecuted)),
            "check_cells": _check_cells_text(self.check_cells),
        })
        for name, result in self.feedback.items():
            row[f"feedback_{name}"] = result
        row.update({
            "report_words": str(self.words),
            "answers_unfilled": str(self.unfilled),
            "seconds": f"{self.seconds:.1f}",
            "notes": "; ".join(self.notes),
        })
        return row


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _check_cells_text(check_cells: dict[str, str]) -> str:
    bad = [f"{name} {state}" for name, state in check_cells.items() if state != "ok"]
    if not check_cells:
        return ""
    return "all unmodified" if not bad else "restored: " + ", ".join(bad)


_ESCAPE_SEQUENCE = re.compile(r"\x1b\[[0-?]{0,32}[ -/]{0,8}[@-~]|\x1b\][^\x07\x1b]{0,256}\x07?")
"""Terminal markup (colours, cursor moves, titles): removed whole."""
_CONTROL = re.compile(
    "[\x00-\x1f\x7f-\x9f"  # C0 and C1 controls (tab, newline, NEL, ESC...), DEL
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # bidi marks, embeddings, isolates
    "\u2028\u2029]+")  # line and paragraph separators
FORMULA_LEADS = "=+-@\uff1d\uff0b\uff0d\uff20"
"""First characters (after blanks) that make a spreadsheet read a cell as a formula (the ASCII
ones and their full-width forms)."""
MAX_CSV_CHARS = 2000
"""Characters per CSV value (student-influenced values are cut; spreadsheets allow 32,767)."""


def plain_text(text: object, limit: int) -> str:
    """`text` with terminal markup removed and every control, bidi or line-separator character
    made one space, cut to `limit` characters (only a bounded prefix is ever scanned)."""
    text = _ESCAPE_SEQUENCE.sub("", str(text)[: 4 * limit + 64])
    text = _CONTROL.sub(" ", text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def one_line(text: str, limit: int = 300) -> str:
    """Student-derived text for a table: one line of at most `limit` plain characters."""
    line = plain_text(text, 2 * limit + 64).strip()
    return line if len(line) <= limit else line[: limit - 3] + "..."


def spreadsheet_safe(value: str) -> str:
    """A CSV value no spreadsheet reads as a formula, splits into rows or shows reordered:
    plain one-line text of at most MAX_CSV_CHARS, a `'` in front when a formula character
    leads it, whatever blanks come first."""
    value = plain_text(value, MAX_CSV_CHARS)
    if value.lstrip()[:1] in tuple(FORMULA_LEADS):
        value = "'" + value
    return value


def format_grade(grade: Grade) -> str:
    """A readable two-column table for one submission (one line per row, whatever it holds)."""
    rows: list[tuple[str, str]] = [("sha256", grade.sha256 or "-"), ("sandbox", grade.sandbox)]
    if grade.status == "unreadable":
        rows.append(("status", f"NOT GRADED: {grade.problem}"))
    else:
        points = ", ".join(f"{name} {grade.points.get(name, 0)}/{most}"
                           for name, most in POINTS.items())
        rows.append(("total", f"{grade.total}/{sum(POINTS.values())} ({points})"))
        clean = "yes" if grade.runs_clean else "no"
        rows.append(("runs top to bottom", f"{clean} ({grade.cells} cells, {grade.seconds:.1f} s)"))
        if grade.problem:
            rows.append(("stopped", grade.problem))
        if grade.not_run:
            rows.append(("cells not run", _cells(grade.not_run)))
        rows.append(("errors", "; ".join(f"{n}: {e}" for n, e in grade.errors) or "none"))
        if grade.timeouts:
            rows.append(("cell timeouts", _cells(grade.timeouts)))
        if grade.differ:
            details = "; ".join(f"{n}: {d}" for n, d in grade.differ[:3])
            more = f" (+{len(grade.differ) - 3} more)" if len(grade.differ) > 3 else ""
            rows.append(("outputs reproduced",
                         f"NO, {len(grade.differ)} cell(s) differ (edited by hand or not "
                         f"reproducible): {details}{more}"))
        else:
            rows.append(("outputs reproduced", "yes"))
        rows.append(("ignored (release)", _cells(grade.ignored) or "none"))
        rows.append(("skipped (release)", _cells(grade.skipped) or "none"))
        if grade.not_honoured:
            rows.append(("markers not honoured", _cells(grade.not_honoured)))
        if grade.truncated:
            rows.append(("output cut", _cells(grade.truncated)))
        if grade.unexecuted:
            listed = ", ".join(map(str, grade.unexecuted[:8]))
            more = ", ..." if len(grade.unexecuted) > 8 else ""
            rows.append(("never run by student",
                         f"{len(grade.unexecuted)} code cell(s): {listed}{more}"))
        rows.append(("check cells", _check_cells_text(grade.check_cells) or "none in release"))
        feedback = ", ".join(f"{n} {r}" for n, r in grade.feedback.items())
        rows.append(("self-checks (feedback)", feedback or "none"))
        rows.append(("replay", grade.replay))
        facts = ", ".join(f"{k} {v}" for k, v in grade.facts.items())
        rows.append(("final network", f"{facts or '?'} (sweeps {grade.sweeps})"))
        for finding in grade.findings:
            rows.append(("finding", finding))
        if grade.data_problems:
            rows.append(("data", "; ".join(grade.data_problems)))
        unfilled = f", {grade.unfilled} answer(s) left unfilled" if grade.unfilled else ""
        rows.append(("report", f"{grade.words} words{unfilled}"))
    for note in grade.notes:
        rows.append(("note", note))
    width = max(len(key) for key, _ in rows)
    title = f"== {one_line(grade.submission.name, 60)} "
    lines = [title + "=" * max(3, 78 - len(title))]
    lines += [f"  {key:<{width}}  {one_line(value, 600)}" for key, value in rows]
    return "\n".join(lines)


def _cells(labels: list[str]) -> str:
    shown = ", ".join(labels[:12])
    return shown + (f" (+{len(labels) - 12} more)" if len(labels) > 12 else "")


def summary_table(grades: list[Grade]) -> str:
    """One line per submission: the batch at a glance."""
    header = ("submission", "status", "total", "clean", "reproduced", "replay", "sweeps",
              "sandbox")
    rows = [header]
    for g in grades:
        box = "yes" if g.sandbox == "bwrap" else "NONE"
        if g.status == "unreadable":
            rows.append((one_line(g.submission.name, 60), "unreadable", "0", "", "", "", "", box))
            continue
        rows.append((one_line(g.submission.name, 60), one_line(g.status, 20),
                     f"{g.total}/{sum(POINTS.values())}", _yes(g.runs_clean),
                     "yes" if not g.differ else f"no ({len(g.differ)})",
                     one_line(g.replay.split(":", 1)[0], 20), one_line(g.sweeps, 12), box))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip()
                     for r in rows)


def write_csv(grades: list[Grade], path: Path) -> Path:
    """All grades as CSV (one row per submission), safe to open in a spreadsheet."""
    rows = [{k: spreadsheet_safe(v) for k, v in g.row().items()} for g in grades]
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    path = Path(path)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(rows)
    return path
