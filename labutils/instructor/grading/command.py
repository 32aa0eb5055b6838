"""`python -m labutils.instructor grade [--assignment NAME] SUB.ipynb ... [--out CSV]`:
arguments and entry point."""

from __future__ import annotations

import argparse
from pathlib import Path

from labutils.instructor.assignment import check_cells, load_release
from labutils.instructor.grading.batch import grade_all
from labutils.instructor.grading.class_pages import after_batch
from labutils.instructor.grading.plugin import (
    Assignment,
    all_assignments,
    assignment_names,
    default_assignment,
    load_assignment,
)
from labutils.instructor.grading.reading import load_reference_release
from labutils.instructor.grading.reporting import UNSAFE, summary_table, write_csv
from labutils.instructor.grading.sandbox import Limits


def add_grade_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The `grade` command's arguments (the instructor CLI wires them to grade_main)."""
    parser.add_argument("submissions", nargs="+", type=Path, help="submitted .ipynb files")
    parser.add_argument("--assignment", default=None, metavar="NAME",
                        help="the assignment graded: " + ", ".join(assignment_names())
                        + " (default: the one whose check cells --release has, else "
                        + default_assignment() + ")")
    parser.add_argument("--out", type=Path, default=None, help="write the results as CSV here")
    parser.add_argument("--cell-timeout", type=int, default=120, help="seconds per cell")
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
    return parser


def grade_main(args: argparse.Namespace) -> int:
    """Grade; 0 when every submission could be graded, 1 if some could not."""
    if args.cell_timeout < 1 or args.total_timeout < 1:
        raise ValueError("--cell-timeout and --total-timeout must be at least 1 second")
    if getattr(args, "jobs", 1) < 1:
        raise ValueError("--jobs must be at least 1")
    given = getattr(args, "release", None)
    assignment, how = pick_assignment(getattr(args, "assignment", None), given)
    release = load_reference_release(given, assignment.source, assignment.student_copy)
    print(f"assignment: {assignment.name} ({assignment.title}; {how})")
    print("\n".join(assignment.rubric.describe()))
    print(f"release: {release.source}\nrelease sha256: {release.sha256}")
    unsafe = bool(getattr(args, "unsafe_no_sandbox", False))
    if unsafe:
        print(f"WARNING: sandbox {UNSAFE}")
    memory = getattr(args, "memory", None)
    limits = Limits(memory_bytes=memory * 2**20, cpu_seconds=args.total_timeout + 5) if memory \
        else None
    grades = grade_all(args.submissions, release, args.cell_timeout, args.total_timeout,
                       jobs=int(getattr(args, "jobs", 1) or 1), unsafe_no_sandbox=unsafe,
                       limits=limits, assignment=assignment)
    after_batch(grades, assignment, release, getattr(args, "pages", None),
                getattr(args, "scores", None))
    print()
    print(summary_table(grades))
    if args.out is not None:
        print(f"wrote {write_csv(grades, args.out)}")
    return 1 if any(g.status == "unreadable" for g in grades) else 0


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
