"""CSV exports of the gradebook's current grades: the full results and an LMS import file.

Every value (headers included) goes through reporting.spreadsheet_safe: no formula, no control
or bidi character, one line. No absolute path is exported (the gradebook never stores one).

LMS formats (`style=`):
- "moodle": for Moodle's gradebook CSV import (Grades > Import > CSV file). Moodle maps the
  columns at import time: map "ID number" to the user field "useridnumber" and the grade
  column to the grade item (https://docs.moodle.org/311/en/Grade_import, "Map from"/"Map
  to"). Use it when the student ids are the users' ID numbers (the README's file names).
- "moodle-worksheet": the assignment's own offline grading worksheet (Assignment > "Upload
  grading worksheet"): columns "Identifier" ("Participant <id>"), "Grade" and "Last modified
  (grade)", the columns mod/assign/feedback/offline/importgradeslib.php looks for (language
  strings recordid, grade, lastmodifiedgrade; the id is the text after "Participant "). Only
  for ids that are Moodle participant ids, i.e. from the "moodle" download layout.
- "canvas": for Canvas's Gradebook import (Grades > Import): the columns "Student", "ID",
  "SIS User ID", "SIS Login ID", "Section", then one assignment column; Canvas requires
  the student columns and the Section column, and matches students by ID (Canvas's user id,
  which the "canvas" download layout gives) (https://teaching.resources.osu.edu/toolsets/
  carmencanvas/guides/calculating-final-grades/import-csv-file-carmen-grades). Name the
  column "<Assignment name> (<assignment id>)" as in Canvas's own export to fill an existing
  assignment; another name creates a new one.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

from labutils.instructor.grading.gradebook import Gradebook, GradebookError, format_points
from labutils.instructor.grading.reporting import spreadsheet_safe

LMS_STYLES = ("moodle", "moodle-worksheet", "canvas")
FIRST = ("student", "file_name", "sha256", "status", "automatic", "manual", "final",
         "graded_at", "run_id")


def _write(path: Path | str, columns: list[str], rows: list[dict[str, str]]) -> Path:
    path = Path(path)
    safe_columns = [spreadsheet_safe(c) for c in columns]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(safe_columns)
        for row in rows:
            writer.writerow([spreadsheet_safe(str(row.get(c, ""))) for c in columns])
    return path


def results_rows(current: list[dict]) -> tuple[list[str], list[dict[str, str]]]:
    """Columns and rows of the full results: the gradebook's columns, one `manual_<line>`
    per rubric line scored by hand, then the grader's own row (its `submission` and its
    `total`, the automatic points, left out: the file name and `automatic` say them)."""
    lines = sorted({line for c in current for line in c["manual"]})
    extra: list[str] = []
    rows = []
    for c in current:
        row = {"student": c["student"], "file_name": c["file_name"], "sha256": c["sha256"],
               "status": c["status"], "automatic": format_points(c["automatic"]),
               "manual": format_points(sum(c["manual"].values())),
               "final": format_points(c["final"]), "graded_at": c["recorded"],
               "run_id": str(c["run_id"])}
        row.update({f"manual_{line}": format_points(p) for line, p in c["manual"].items()})
        for key, value in c["row"].items():
            if key in ("submission", "sha256", "status", "total"):
                continue
            name = key if key not in row else f"grader_{key}"
            extra += [name] if name not in extra else []
            row[name] = value
        rows.append(row)
    return list(FIRST) + [f"manual_{line}" for line in lines] + extra, rows


def write_results(current: list[dict], path: Path | str) -> Path:
    """The full results CSV, one row per student (their current grade)."""
    columns, rows = results_rows(current)
    return _write(path, columns, rows)


def write_lms(current: list[dict], path: Path | str, style: str = "moodle",
              column: str = "grade") -> Path:
    """Student id and final total, in the columns `style`'s LMS imports (module docstring)."""
    if style not in LMS_STYLES:
        raise GradebookError(f"unknown LMS style {style!r}: use one of {', '.join(LMS_STYLES)}")
    if style == "moodle":
        columns = ["ID number", column]
        rows = [{"ID number": c["student"], column: format_points(c["final"])} for c in current]
    elif style == "moodle-worksheet":
        not_participant = [c["student"] for c in current if not c["student"].isdigit()]
        if not_participant:
            raise GradebookError(
                "the Moodle grading worksheet needs Moodle participant ids (digits, from the "
                f"'moodle' download layout); these are not: {', '.join(not_participant[:10])}. "
                "Use style='moodle' (gradebook import by ID number) instead")
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        columns = ["Identifier", "Grade", "Last modified (grade)"]
        rows = [{"Identifier": f"Participant {c['student']}",
                 "Grade": format_points(c["final"]), "Last modified (grade)": stamp}
                for c in current]
    else:
        columns = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", column]
        rows = [{"ID": c["student"], column: format_points(c["final"])} for c in current]
    return _write(path, columns, rows)


def export_results(book: Gradebook, path: Path | str) -> Path:
    """The gradebook's full results CSV (write_results of its current grades)."""
    return write_results(book.current(), path)


def export_lms(book: Gradebook, path: Path | str, style: str = "moodle", column: str = "") -> Path:
    """Student id + final total of the gradebook in the columns the LMS imports."""
    return write_lms(book.current(), path, style, column or book.assignment or "grade")
