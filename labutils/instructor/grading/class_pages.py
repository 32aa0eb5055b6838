"""After a batch: the pages an instructor reads and the sheet they score on, in one folder.

`write_class_pages` writes one reading page per student (answers, plots, the grader's findings,
the manual rubric lines; previous/next links), the scoring sheet `scores.csv` (scores already
entered are kept) and the class summary `summary.html` (scores, rubric lines, diagnosed
mistakes, the pooled study runs, the most similar solutions, links to every page).
`import_scores` brings the filled sheet back: final = automatic + manual points.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from labutils.instructor.grading.plugin import Assignment, Rubric
from labutils.instructor.grading.reading import Release
from labutils.instructor.grading.reading_page import navigation, page_filename, write_reading_page
from labutils.instructor.grading.reporting import Grade, grade_rows, points_text
from labutils.instructor.grading.scoring_sheet import (
    SheetRow,
    final_points,
    read_scores,
    write_scoring_sheet,
)
from labutils.instructor.grading.similarity import notebook_code, similar_pairs

if TYPE_CHECKING:
    from labutils.instructor.grading.class_summary import SummaryRow

SHEET = "scores.csv"
SUMMARY = "summary.html"


def student_id(grade: Grade) -> str:
    """The student a grade belongs to: the id the batch gave it, else the file's name."""
    return grade.student or grade.submission.stem


def _students(grades: Sequence[Grade]) -> list[str]:
    students = [student_id(g) for g in grades]
    seen: dict[str, Path] = {}
    for grade, student in zip(grades, students, strict=True):
        if student in seen:
            raise ValueError(f"two submissions have the student id {student!r} "
                             f"({seen[student]} and {grade.submission}): give each student "
                             "one file, named apart")
        seen[student] = grade.submission
    return students


def write_class_pages(grades: Sequence[Grade], assignment: Assignment, release: Release,
                      folder: str | Path) -> list[Path]:
    """Write the reading pages, the scoring sheet and the class summary into `folder`; return
    their paths (pages in batch order, then the sheet, then the summary)."""
    from labutils.instructor.grading.class_summary import write_class_summary  # matplotlib

    folder = Path(folder)
    students = _students(grades)
    links = navigation(students, SUMMARY)
    rubric = assignment.rubric
    paths = [write_reading_page(folder / page_filename(student), student, grade.answers,
                                grade.figures, grade_rows(grade), rubric.lines,
                                assignment.title, _headline(grade), links[student])
             for grade, student in zip(grades, students, strict=True)]
    paths.append(write_scoring_sheet(folder / SHEET, students, rubric.lines))
    codes = {s: g.code for g, s in zip(grades, students, strict=True) if g.code.strip()}
    pairs = similar_pairs(codes, notebook_code(release.nb))
    rows = [_summary_row(g, s) for g, s in zip(grades, students, strict=True)]
    paths.append(write_class_summary(
        folder / SUMMARY, rows, rubric.lines, [g.judgement.study_runs for g in grades], pairs,
        f"{assignment.title}: class summary", paper_sweeps=assignment.summary_reference,
        pages={s: page_filename(s) for s in students}))
    return paths


def _headline(grade: Grade) -> str:
    if grade.status == "unreadable":
        return f"NOT GRADED: {grade.problem}"
    return f"{grade.status}: {points_text(grade)}"


def _summary_row(grade: Grade, student: str) -> SummaryRow:
    from labutils.instructor.grading.class_summary import SummaryRow

    points = {**grade.points, **(grade.manual or {})}
    mistakes = [grade.judgement.diagnosis] if grade.judgement.diagnosis else []
    return SummaryRow(student, grade.final, points, mistakes, grade.status)


def import_scores(grades: Sequence[Grade], sheet: str | Path, rubric: Rubric) -> int:
    """Set each grade's `manual` points from the filled scoring `sheet` (lines not scored yet
    are left out; they count 0); return how many scores were imported."""
    students = _students(grades)
    scores = read_scores(sheet, rubric.lines, students)
    count = 0
    for grade, student in zip(grades, students, strict=True):
        grade.manual = manual_points(grade.points, scores.get(student), rubric)
        count += len(grade.manual)
    return count


def manual_points(automatic: dict[str, float], scored: SheetRow | None,
                  rubric: Rubric) -> dict[str, float]:
    """The manual lines the instructor scored, by final_points (what is not scored is absent)."""
    points, missing = final_points(automatic, scored, rubric.lines)
    return {line.name: points[line.name] for line in rubric.of_kind("manual")
            if line.name not in missing}


def import_scores_into(book, sheet: str | Path, rubric: Rubric, grader: str = "") -> int:
    """Record the filled scoring `sheet` in a gradebook (gradebook.Gradebook), one manual score
    per filled cell through `record_manual`, skipping the scores it already holds; return how
    many were recorded."""
    current = {c["student"]: c["manual"] for c in book.current()}
    scores = read_scores(sheet, rubric.lines, list(current))
    count = 0
    for student, row in scores.items():
        for line, points in manual_points({}, row, rubric).items():
            if current[student].get(line) != points:
                book.record_manual(student, line, points, row.note, grader)
                count += 1
    return count


def after_batch(grades: Sequence[Grade], assignment: Assignment, release: Release,
                pages: Path | None = None, scores: Path | None = None,
                echo: Callable[[str], object] = print) -> None:
    """`grade --scores SHEET`: import the filled sheet (before the CSV is written);
    `grade --pages DIR`: write the reading pages, the sheet and the summary there."""
    if scores is not None:
        count = import_scores(grades, scores, assignment.rubric)
        echo(f"imported {count} manual score(s) from {scores}")
    if pages is not None:
        paths = write_class_pages(grades, assignment, release, pages)
        echo(f"wrote {len(paths) - 2} reading page(s) into {pages}; scoring sheet "
             f"{paths[-2]}; class summary {paths[-1]}")


__all__ = ["SHEET", "SUMMARY", "after_batch", "import_scores", "import_scores_into",
           "manual_points", "student_id", "write_class_pages"]
