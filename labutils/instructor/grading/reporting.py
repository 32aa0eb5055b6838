"""Reporting: the grade of one submission, points per rubric line, the printed table and the CSV.

Points come from the assignment's rubric (plugin.Rubric, a TOML file the instructor edits);
every automatic point is computed by the grader from data it judged itself, manual lines are
left for the instructor ("-"). The students' own check cells print feedback only.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from labutils.instructor.grading.plugin import Judgement, Rubric

UNSAFE = "NONE (--unsafe-no-sandbox: the submission ran with the grader's permissions)"


@dataclass
class Grade:
    """Everything the grader found out about one submission."""

    submission: Path
    student: str = ""
    """The student id the batch gave it (LMS layout or file-name pattern); '' when none."""
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
    rubric: Rubric | None = None
    """The rubric the points follow (None: nothing is scored)."""
    judgement: Judgement = field(default_factory=Judgement)
    """What the assignment's judge concluded from the collected data."""
    points: dict[str, float] = field(default_factory=dict)
    """Automatic points per auto rubric line."""
    words: int = 0
    unfilled: int = 0
    uid: int | None = None
    """The user id the submission ran as (when the grader is root); not in the CSV."""
    answers: list[tuple[str, str]] = field(default_factory=list, repr=False)
    """(title, the student's markdown) per answer cell of the release, for the reading page."""
    figures: list[tuple[str, bytes]] = field(default_factory=list, repr=False)
    """(caption, PNG bytes) of the pictures saved in the submission, for the reading page."""
    code: str = field(default="", repr=False)
    """The submission's code (self-checks left out), for the similarity of solutions."""
    manual: dict[str, float] | None = None
    """The instructor's points per manual rubric line, once imported (None: not yet)."""

    @property
    def runs_clean(self) -> bool:
        failed = self.errors or self.timeouts or self.problem
        return self.status == "graded" and not failed

    @property
    def total(self) -> float:
        """The automatic points (manual lines are added by the instructor, later)."""
        return sum(self.points.values())

    @property
    def final(self) -> float:
        """The automatic points plus the instructor's (imported with `grade --scores`)."""
        return self.total + sum((self.manual or {}).values())

    @property
    def max_total(self) -> float:
        return self.rubric.auto_total if self.rubric is not None else 0

    def _lines(self, kind: str) -> list:
        return self.rubric.of_kind(kind) if self.rubric is not None else []

    def row(self) -> dict[str, str]:
        """One CSV row (every value a string)."""
        row = {
            "submission": str(self.submission),
            "sha256": self.sha256,
            "sandbox": self.sandbox,
            "status": self.status,
            "total": _number(self.total) if self.status != "unreadable" else "0",
            "max_total": _number(self.max_total),
        }
        for line in self._lines("auto"):
            row[f"points_{line.name}"] = _number(self.points.get(line.name, 0))
        manual = self._lines("manual")
        if manual:
            row["max_manual"] = _number(self.rubric.manual_total)
        for line in manual:
            got = (self.manual or {}).get(line.name)
            row[f"points_{line.name}"] = "" if got is None else _number(got)  # the instructor's
        if self.manual is not None:
            row["final"] = _number(self.final) if self.status != "unreadable" else "0"
        row.update({
            "runs_clean": _yes(self.runs_clean) if self.status != "unreadable" else "",
            "problem": self.problem,
            "diagnosis": self.judgement.diagnosis,
        })
        row.update(self.judgement.columns)
        for line in self._lines("info"):
            row[line.name] = self.judgement.info.get(line.name, "")
        row.update({
            "data_problems": "; ".join(self.judgement.problems),
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


def _number(value: float) -> str:
    return f"{value:g}"


def points_text(grade: Grade) -> str:
    """'6/6 (runs 1/1, ...); manual -/10 (protocol -/4, ...)': the automatic points, then the
    manual lines left to the instructor."""
    auto = ", ".join(f"{line.name} {_number(grade.points.get(line.name, 0))}/"
                     f"{_number(line.points)}" for line in grade._lines("auto"))
    text = f"{_number(grade.total)}/{_number(grade.max_total)} ({auto or 'no rubric'})"
    manual, scored = grade._lines("manual"), grade.manual or {}
    if manual:
        lines = ", ".join(f"{line.name} "
                          f"{_number(scored[line.name]) if line.name in scored else '-'}"
                          f"/{_number(line.points)}" for line in manual)
        got = _number(sum(scored.values())) if grade.manual is not None else "-"
        text += f"; manual {got}/{_number(grade.rubric.manual_total)} ({lines})"
        if grade.manual is not None:
            text += f"; final {_number(grade.final)}"
    return text


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


def grade_rows(grade: Grade) -> list[tuple[str, str]]:
    """(label, value) rows of what the grader found about one submission."""
    rows: list[tuple[str, str]] = [("sha256", grade.sha256 or "-"), ("sandbox", grade.sandbox)]
    if grade.status == "unreadable":
        rows.append(("status", f"NOT GRADED: {grade.problem}"))
    else:
        rows.append(("total", points_text(grade)))
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
        judgement = grade.judgement
        rows += judgement.rows
        info = ", ".join(f"{line.name} {judgement.info.get(line.name, '?')}"
                         for line in grade._lines("info"))
        if info:
            rows.append(("information", f"{info} (no points)"))
        if judgement.diagnosis:
            rows.append(("diagnosis", judgement.diagnosis))
        if judgement.problems:
            rows.append(("data", "; ".join(judgement.problems)))
        unfilled = f", {grade.unfilled} answer(s) left unfilled" if grade.unfilled else ""
        rows.append(("report", f"{grade.words} words{unfilled}"))
    for note in grade.notes:
        rows.append(("note", note))
    return rows


def format_grade(grade: Grade) -> str:
    """A readable two-column table for one submission (one line per row, whatever it holds)."""
    rows = grade_rows(grade)
    width = max(len(key) for key, _ in rows)
    title = f"== {one_line(grade.submission.name, 60)} "
    lines = [title + "=" * max(3, 78 - len(title))]
    lines += [f"  {key:<{width}}  {one_line(value, 600)}" for key, value in rows]
    return "\n".join(lines)


def _cells(labels: list[str]) -> str:
    shown = ", ".join(labels[:12])
    return shown + (f" (+{len(labels) - 12} more)" if len(labels) > 12 else "")


def summary_table(grades: list[Grade]) -> str:
    """One line per submission: the batch at a glance (the assignment's summary columns in
    the middle)."""
    extra: list[str] = []
    for g in grades:
        extra += [key for key in g.judgement.summary if key not in extra]
    header = ("submission", "status", "total", "clean", "reproduced", *extra, "sandbox")
    rows = [header]
    for g in grades:
        box = "yes" if g.sandbox == "bwrap" else "NONE"
        if g.status == "unreadable":
            rows.append((one_line(g.submission.name, 60), "unreadable", "0", "", "",
                         *[""] * len(extra), box))
            continue
        rows.append((one_line(g.submission.name, 60), one_line(g.status, 20),
                     f"{_number(g.total)}/{_number(g.max_total)}", _yes(g.runs_clean),
                     "yes" if not g.differ else f"no ({len(g.differ)})",
                     *[one_line(g.judgement.summary.get(key, ""), 20) for key in extra], box))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip()
                     for r in rows)


def write_csv(grades: list[Grade], path: Path, students: list[str] | None = None) -> Path:
    """All grades as CSV (one row per submission), safe to open in a spreadsheet; `students`
    (one per grade) adds a first column `student`."""
    rows = [{k: spreadsheet_safe(v) for k, v in g.row().items()} for g in grades]
    if students is not None:
        rows = [{"student": spreadsheet_safe(s), **row}
                for s, row in zip(students, rows, strict=True)]
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    path = Path(path)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(rows)
    return path
