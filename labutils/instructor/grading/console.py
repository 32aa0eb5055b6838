"""What a batch prints while it runs: one line per submission as it finishes, and a progress bar
with ETA on stderr (tqdm; off when stderr is not a terminal or LABUTILS_PROGRESS=0)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import contextmanager

from labutils.instructor.grading.reporting import Grade, one_line
from labutils.progress import progress_enabled


def main_problem(grade: Grade) -> str:
    """The one thing to read about a submission: the diagnosed mistake, else what stopped it,
    else its first error, data problem or differing output ('' when all is well)."""
    judgement = grade.judgement
    if judgement.diagnosis:
        return judgement.diagnosis
    if grade.problem:
        return grade.problem
    if grade.errors:
        return f"{grade.errors[0][0]}: {grade.errors[0][1]}"
    if judgement.problems:
        return judgement.problems[0]
    if grade.differ:
        return f"outputs differ in {len(grade.differ)} cell(s), first {grade.differ[0][0]}"
    return ""


def grade_line(grade: Grade, name: str) -> str:
    """One console line: student, status, automatic total/max, seconds, the main problem."""
    total = "-" if grade.status == "unreadable" else f"{grade.total:g}/{grade.max_total:g}"
    problem = main_problem(grade)
    return (f"{one_line(name, 40):<20} {one_line(grade.status, 14):<12} {total:>7} "
            f"{grade.seconds:6.1f} s" + (f"  {one_line(problem, 160)}" if problem else ""))


@contextmanager
def progress_bar(total: int, echo: Callable[[str], object]):
    """A bar over `total` submissions; yields `done(text)`, which prints `text` above the bar
    (through `echo`) and advances it by one."""
    from tqdm import tqdm

    shown = progress_enabled() and sys.stderr.isatty()
    bar = tqdm(total=total, file=sys.stderr, disable=not shown, unit="submission",
               dynamic_ncols=True, smoothing=0.1)

    def done(text: str) -> None:
        if shown:
            with tqdm.external_write_mode(file=sys.stdout):
                echo(text)
        else:
            echo(text)
        bar.update(1)

    try:
        yield done
    finally:
        bar.close()
