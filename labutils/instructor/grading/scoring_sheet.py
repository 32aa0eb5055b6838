"""The scoring sheet of a batch: one CSV row per student for the rubric lines graded by hand.

`write_scoring_sheet` writes student id, one column per manual rubric line named with its
maximum (`report-choices (max 3)`), all empty, and a note column; the instructor fills it in
a spreadsheet while reading the reading pages. `read_scores` imports it back and refuses,
naming the row and the fix, anything that is not a score it can trust. Values are written
CSV-injection safe (reporting.spreadsheet_safe).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from labutils.instructor.grading.plugin import RubricLine
from labutils.instructor.grading.reporting import spreadsheet_safe

STUDENT_COLUMN = "student"
NOTE_COLUMN = "note"


class ScoringSheetError(ValueError):
    """A scoring sheet that cannot be imported as it is: the message names the row and the fix."""


def column(line: RubricLine) -> str:
    """The sheet's column of a manual rubric line: `name (max N)`."""
    return f"{line.name} (max {line.points:g})"


@dataclass
class SheetRow:
    """One student's hand scores: the lines filled in so far, and the instructor's note."""

    points: dict[str, float] = field(default_factory=dict)
    note: str = ""


def rubric_lines(lines: Iterable) -> list[RubricLine]:
    """A rubric as plugin.RubricLines (e.g. plugin.Rubric.lines), from RubricLines, objects with
    .name/.points/.text/.kind, mappings with those keys, or (name, points[, text[, kind]])
    tuples (a line without a kind counts as manual)."""
    out: list[RubricLine] = []
    for line in lines:
        if isinstance(line, RubricLine):
            out.append(line)
            continue
        if isinstance(line, tuple):
            values = dict(zip(("name", "points", "text", "kind"), line, strict=False))
        elif isinstance(line, Mapping):
            values = dict(line)
        else:
            values = {k: getattr(line, k) for k in ("name", "points", "text", "kind")
                      if hasattr(line, k)}
        if "name" not in values or "points" not in values:
            raise ValueError(f"rubric line {line!r} needs a name and points")
        out.append(RubricLine(str(values["name"]), float(values["points"]),
                              str(values.get("kind", "manual")), str(values.get("text", ""))))
    names = [line.name for line in out]
    if len(set(names)) != len(names):
        raise ValueError(f"rubric lines must have unique names, got {names}")
    return out


def manual_lines(lines: Iterable) -> list[RubricLine]:
    """The lines of a rubric (any form rubric_lines takes) that the instructor scores by hand."""
    return [line for line in rubric_lines(lines) if line.kind == "manual"]


def sheet_header(lines: Iterable) -> list[str]:
    """The sheet's columns for these rubric lines."""
    return [STUDENT_COLUMN, *(column(line) for line in manual_lines(lines)), NOTE_COLUMN]


def write_scoring_sheet(path: str | Path, students: Iterable[str], lines: Iterable) -> Path:
    """Write (or extend) the batch's scoring sheet: one row per student, points left empty.

    An existing sheet keeps every score and note already entered; students new to the batch
    are added at the end. Raises ScoringSheetError when the existing sheet's columns differ."""
    path, rubric = Path(path), manual_lines(lines)
    students = list(dict.fromkeys(students))
    kept = read_scores(path, rubric) if path.exists() else {}
    order = list(kept) + [s for s in students if s not in kept]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([spreadsheet_safe(c) for c in sheet_header(rubric)])
        for student in order:
            row = kept.get(student, SheetRow())
            cells = [f"{row.points[line.name]:g}" if line.name in row.points else ""
                     for line in rubric]
            writer.writerow([spreadsheet_safe(student), *cells, spreadsheet_safe(row.note)])
    return path


def read_scores(path: str | Path, lines: Iterable,
                students: Iterable[str] | None = None) -> dict[str, SheetRow]:
    """{student: SheetRow} from a filled-in scoring sheet (empty cells: not scored yet).

    `students` (the batch's ids) makes an unknown or repeated student an error. Raises
    ScoringSheetError naming the row (as the spreadsheet numbers it) and the fix."""
    path, rubric = Path(path), manual_lines(lines)
    known = None if students is None else {spreadsheet_safe(s): s for s in students}
    if known is not None:
        known.update({s: s for s in known.values()})
    rows = _rows(path)
    if not rows:
        raise ScoringSheetError(f"{path}: the scoring sheet is empty; write a new one with "
                                "write_scoring_sheet")
    _check_header(path, rows[0], [spreadsheet_safe(c) for c in sheet_header(rubric)])
    scores: dict[str, SheetRow] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        where = f"{path}, row {number}"
        if len(row) != len(rows[0]):
            raise ScoringSheetError(f"{where} has {len(row)} cells, the header {len(rows[0])}: "
                                    "a cell was added or deleted; restore the columns")
        student = _student(row[0].strip(), known, where)
        if student in scores:
            raise ScoringSheetError(f"{where}: student {student!r} appears twice; keep one row")
        points = {line.name: _points(cell, line, f"{where}, column {column(line)!r}")
                  for line, cell in zip(rubric, row[1:-1], strict=True) if cell.strip()}
        scores[student] = SheetRow(points, row[-1].strip())
    return scores


def final_points(automatic: Mapping[str, float], scored: SheetRow | None,
                 lines: Iterable) -> tuple[dict[str, float], list[str]]:
    """(points per rubric line, manual lines not scored yet): the grader's points for the
    automatic lines, the sheet's for the manual ones (0 until scored), nothing for info lines."""
    points: dict[str, float] = {}
    missing = []
    for line in rubric_lines(lines):
        if line.kind == "manual":
            got = scored.points.get(line.name) if scored is not None else None
            missing += [line.name] if got is None else []
            points[line.name] = got or 0.0
        elif line.kind != "info":
            points[line.name] = float(automatic.get(line.name, 0))
    return points, missing


def _rows(path: Path) -> list[list[str]]:
    """The sheet's rows; a spreadsheet may have saved it with a BOM and ';' or tabs."""
    try:
        content = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ScoringSheetError(f"{path}: no such scoring sheet; write one with "
                                "write_scoring_sheet") from None
    except UnicodeDecodeError as error:
        raise ScoringSheetError(f"{path} is not UTF-8 text ({error}); save it from the "
                                "spreadsheet as 'CSV UTF-8'") from None
    first = content.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    return list(csv.reader(content.splitlines(), delimiter=delimiter))


def _check_header(path: Path, found: list[str], wanted: list[str]) -> None:
    found = [cell.strip() for cell in found]
    if found == wanted:
        return
    for index in range(max(len(found), len(wanted))):
        have = found[index] if index < len(found) else "(nothing)"
        want = wanted[index] if index < len(wanted) else "(nothing)"
        if have != want:
            break
    raise ScoringSheetError(
        f"{path}, row 1 (header): column {index + 1} is {have!r}, expected {want!r}. The sheet "
        f"must have exactly the columns {wanted}; restore the header, or, if the rubric "
        "changed, write a new sheet with write_scoring_sheet and copy the scores over")


def _student(cell: str, known: dict[str, str] | None, where: str) -> str:
    if not cell:
        raise ScoringSheetError(f"{where}: the student column is empty; fill in the id or "
                                "delete the row")
    if known is None:
        return cell[1:] if cell[:1] == "'" and cell[1:2] in "=+-@" else cell
    if cell not in known:
        raise ScoringSheetError(f"{where}: unknown student {cell!r} (not in this batch); fix "
                                "the id as the grader wrote it, or delete the row")
    return known[cell]


def _points(cell: str, line: RubricLine, where: str) -> float:
    value = cell.strip()
    if value.count(",") == 1 and "." not in value:
        value = value.replace(",", ".")  # a decimal comma
    try:
        points = float(value)
    except ValueError:
        points = math.nan
    if not math.isfinite(points):
        raise ScoringSheetError(f"{where}: {cell!r} is not a number; enter points from 0 to "
                                f"{line.points:g}, or leave the cell empty if not scored yet")
    if not 0 <= points <= line.points:
        raise ScoringSheetError(f"{where}: {points:g} points is outside 0 to {line.points:g} "
                                f"(the line's maximum); enter points in that range")
    return points


__all__ = ["ScoringSheetError", "SheetRow", "column", "final_points", "manual_lines",
           "read_scores", "rubric_lines", "sheet_header", "write_scoring_sheet"]
