"""`python -m labutils.instructor grade SUB.ipynb ... [--out CSV]`: arguments and entry point."""

from __future__ import annotations

import argparse
from pathlib import Path

from labutils.instructor.grading.batch import grade_all
from labutils.instructor.grading.reading import load_reference_release
from labutils.instructor.grading.reporting import UNSAFE, summary_table, write_csv
from labutils.instructor.grading.sandbox import Limits


def add_grade_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The `grade` command's arguments (the instructor CLI wires them to grade_main)."""
    parser.add_argument("submissions", nargs="+", type=Path, help="submitted .ipynb files")
    parser.add_argument("--out", type=Path, default=None, help="write the results as CSV here")
    parser.add_argument("--cell-timeout", type=int, default=120, help="seconds per cell")
    parser.add_argument("--total-timeout", type=int, default=900,
                        help="seconds per submission, whatever it starts")
    parser.add_argument("--jobs", type=int, default=1, help="submissions graded at once")
    parser.add_argument("--memory", type=int, default=Limits.memory_bytes // 2**20,
                        help="address space per sandboxed process, in MiB")
    parser.add_argument("--release", type=Path, default=None,
                        help="the released student notebook to compare with (default: the "
                             "release of the installed instructor package)")
    parser.add_argument("--unsafe-no-sandbox", action="store_true",
                        help="run submissions WITHOUT the bubblewrap sandbox (every row says so)")
    return parser


def grade_main(args: argparse.Namespace) -> int:
    """Grade; 0 when every submission could be graded, 1 if some could not."""
    if args.cell_timeout < 1 or args.total_timeout < 1:
        raise ValueError("--cell-timeout and --total-timeout must be at least 1 second")
    if getattr(args, "jobs", 1) < 1:
        raise ValueError("--jobs must be at least 1")
    release = load_reference_release(getattr(args, "release", None))
    print(f"release: {release.source}\nrelease sha256: {release.sha256}")
    unsafe = bool(getattr(args, "unsafe_no_sandbox", False))
    if unsafe:
        print(f"WARNING: sandbox {UNSAFE}")
    memory = getattr(args, "memory", None)
    limits = Limits(memory_bytes=memory * 2**20, cpu_seconds=args.total_timeout + 5) if memory \
        else None
    grades = grade_all(args.submissions, release, args.cell_timeout, args.total_timeout,
                       jobs=int(getattr(args, "jobs", 1) or 1), unsafe_no_sandbox=unsafe,
                       limits=limits)
    print()
    print(summary_table(grades))
    if args.out is not None:
        print(f"wrote {write_csv(grades, args.out)}")
    return 1 if any(g.status == "unreadable" for g in grades) else 0


def main(argv: list[str] | None = None) -> int:
    parser = add_grade_arguments(argparse.ArgumentParser(prog="grade", description=__doc__))
    return grade_main(parser.parse_args(argv))
