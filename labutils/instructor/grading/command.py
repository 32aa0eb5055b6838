"""`python -m labutils.instructor grade [--assignment NAME] SUBMISSIONS... [--gradebook DB]`:
arguments and entry point.

SUBMISSIONS are notebooks and/or download folders (every .ipynb under them). With
`--gradebook`, students are identified by `--layout` (a file that gives no id stops the batch
before anything runs), each grade is recorded as it finishes, and a rerun grades only what is
new or changed. Without it, a file's student id is what the id pattern finds in its name when
it finds a safe id, else the file name without `.ipynb`.
"""

from __future__ import annotations

import argparse
import hashlib
import re
from pathlib import Path

from labutils.instructor.assignment import check_cells, load_release
from labutils.instructor.grading.batch import grade_all
from labutils.instructor.grading.class_pages import after_batch
from labutils.instructor.grading.gradebook_batch import (
    BatchPlan,
    add_batch_arguments,
    expand,
    plan_batch,
)
from labutils.instructor.grading.identity import (
    DEFAULT_PATTERN,
    ID_CHARS,
    Identified,
    relative_name,
    student_of,
)
from labutils.instructor.grading.plugin import (
    Assignment,
    all_assignments,
    assignment_names,
    default_assignment,
    load_assignment,
)
from labutils.instructor.grading.reading import load_reference_release
from labutils.instructor.grading.reporting import (
    UNSAFE,
    Grade,
    format_grade,
    summary_table,
    write_csv,
)
from labutils.instructor.grading.sandbox import Limits
from labutils.instructor.grading.shards import parse_shard, select


def add_grade_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The `grade` command's arguments (the instructor CLI wires them to grade_main)."""
    parser.add_argument("submissions", nargs="+", type=Path,
                        help="submitted .ipynb files and/or download folders")
    parser.add_argument("--assignment", default=None, metavar="NAME",
                        help="the assignment graded: " + ", ".join(assignment_names())
                        + " (default: the one whose check cells --release has, else "
                        + default_assignment() + ")")
    parser.add_argument("--out", type=Path, default=None, help="write the results as CSV here")
    parser.add_argument("--cell-timeout", type=int, default=None,
                        help="seconds per cell (default: the assignment's, from its time budgets)")
    parser.add_argument("--total-timeout", type=int, default=900,
                        help="seconds per submission, whatever it starts")
    parser.add_argument("--jobs", type=int, default=1, help="submissions graded at once")
    parser.add_argument("--memory", type=int, default=Limits.memory_bytes // 2**20,
                        help="address space per sandboxed process, in MiB")
    parser.add_argument("--release", type=Path, default=None,
                        help="the released student notebook to compare with (default: the "
                             "assignment's student copy in the installed instructor package)")
    parser.add_argument("--pages", type=Path, default=None, metavar="DIR",
                        help="write a reading page per student, the scoring sheet scores.csv "
                             "and the class summary summary.html into DIR")
    parser.add_argument("--scores", type=Path, default=None, metavar="SHEET",
                        help="import the filled scoring sheet: final = automatic + manual")
    parser.add_argument("--unsafe-no-sandbox", action="store_true",
                        help="run submissions WITHOUT the bubblewrap sandbox (every row says so)")
    parser.add_argument("--details", type=Path, default=None, metavar="DIR",
                        help="write each submission's full table to DIR/<student>.txt")
    parser.add_argument("--verbose", action="store_true",
                        help="print each submission's full table, not only its line")
    return add_batch_arguments(parser)


def grade_main(args: argparse.Namespace) -> int:
    """Grade; 0 when every submission could be graded, 1 if some could not."""
    if (args.cell_timeout is not None and args.cell_timeout < 1) or args.total_timeout < 1:
        raise ValueError("--cell-timeout and --total-timeout must be at least 1 second")
    if getattr(args, "jobs", 1) < 1:
        raise ValueError("--jobs must be at least 1")
    given = getattr(args, "release", None)
    assignment, how = pick_assignment(getattr(args, "assignment", None), given)
    release = load_reference_release(given, assignment.source, assignment.student_copy)
    print(f"assignment: {assignment.name} ({assignment.title}; {how})")
    print("\n".join(assignment.rubric.describe()))
    cell_timeout = args.cell_timeout or assignment.cell_timeout
    print(f"cell timeout: {cell_timeout} s" + ("" if args.cell_timeout else " (the assignment's)"))
    args.cell_timeout = cell_timeout  # what the gradebook records as this run's option
    print(f"release: {release.source}\nrelease sha256: {release.sha256}")
    unsafe = bool(getattr(args, "unsafe_no_sandbox", False))
    if unsafe:
        print(f"WARNING: sandbox {UNSAFE}")
    memory = getattr(args, "memory", None)
    limits = Limits(memory_bytes=memory * 2**20, cpu_seconds=args.total_timeout + 5) if memory \
        else None
    plan = _plan(args, assignment.name, release.sha256, _file_sha256(assignment.rubric.path))
    work = plan.work if plan is not None else _loose(args)
    students = {str(i.path): i for i in work}
    details = getattr(args, "details", None)
    if details is not None:
        Path(details).mkdir(parents=True, exist_ok=True)

    def finished(grade: Grade) -> None:
        item = students[str(grade.submission)]
        text = format_grade(grade)
        if plan is not None:
            plan.record(grade, text)
        if details is not None:
            (Path(details) / f"{item.student}.txt").write_text(text + "\n", encoding="utf-8")
        if getattr(args, "pages", None) is None:  # only the pages read them: free the plots
            grade.answers, grade.figures, grade.code = [], [], ""

    try:
        grades = grade_all([i.path for i in work], release, args.cell_timeout,
                           args.total_timeout, jobs=int(getattr(args, "jobs", 1) or 1),
                           unsafe_no_sandbox=unsafe, limits=limits, assignment=assignment,
                           on_grade=finished, name=lambda path: students[str(path)].student,
                           verbose=bool(getattr(args, "verbose", False)))
    finally:
        if plan is not None:
            plan.book.close()
    ids = [students[str(grade.submission)].student for grade in grades]
    for grade in grades:  # exports name a file relative to the download, never absolute
        grade.student = students[str(grade.submission)].student
        grade.submission = Path(students[str(grade.submission)].file_name)
    after_batch(grades, assignment, release, getattr(args, "pages", None),
                getattr(args, "scores", None))
    print()
    print(summary_table(grades))
    if args.out is not None:
        print(f"wrote {write_csv(grades, args.out, ids)}")
    return 1 if any(g.status == "unreadable" for g in grades) else 0


def _file_sha256(path: str) -> str:
    """sha256 of a rubric file's bytes ('' when the rubric has no file)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest() if path else ""


def _plan(args: argparse.Namespace, assignment: str, release_sha256: str,
          rubric_sha256: str) -> BatchPlan | None:
    """The gradebook's plan of this run (printed), or None without --gradebook."""
    if getattr(args, "gradebook", None) is None:
        if getattr(args, "regrade", None) or getattr(args, "retry", None):
            raise ValueError("--regrade and --retry need --gradebook FILE (the grades to redo "
                             "are the ones recorded there)")
        return None
    plan = plan_batch(args, assignment, release_sha256, rubric_sha256)
    print(plan.summary())
    for skipped in plan.skipped:
        print(f"skipped {skipped}")
    return plan


def _loose(args: argparse.Namespace) -> list[Identified]:
    """Without a gradebook: every file given (or under a folder given), named by the id the
    pattern finds in its name when it is a safe id, else by its name without `.ipynb` (any
    character but letters, digits and ._-@ made `_`)."""
    files, root = expand(list(args.submissions))
    items = []
    for path in files:
        raw = student_of(path, getattr(args, "layout", "pattern"),
                         getattr(args, "id_pattern", DEFAULT_PATTERN))
        student = raw if raw is not None and ID_CHARS.fullmatch(raw) else \
            re.sub(r"[^A-Za-z0-9._@-]", "_", path.stem).lstrip("._-@")[:64] or "unnamed"
        items.append(Identified(student, path, relative_name(path, root), ""))
    shard = getattr(args, "shard", None)
    return select(items, parse_shard(shard)) if shard else items


def pick_assignment(name: str | None, release: Path | None) -> tuple[Assignment, str]:
    """The assignment named; else the one whose student copy has the check cells of the
    `release` notebook; else the default. Also says how it was chosen."""
    if name:
        return load_assignment(name), "named"
    if release is not None:
        import nbformat

        from labutils.instructor.grading.sandbox import instructor_repository

        wanted = list(check_cells(nbformat.read(release, as_version=4)))
        root = instructor_repository()
        found = [a for a in all_assignments() if wanted and wanted == list(
            check_cells(load_release(root, a.source, a.student_copy)))]
        if len(found) == 1:
            return found[0], "its check cells are those of --release"
    return load_assignment(default_assignment()), "the default"


def main(argv: list[str] | None = None) -> int:
    parser = add_grade_arguments(argparse.ArgumentParser(prog="grade", description=__doc__))
    return grade_main(parser.parse_args(argv))
