"""`python -m labutils.instructor gradebook ...`: the gradebook after grading.

- `merge SHARD.db ... --into ALL.db`: combine the gradebooks of `grade --shard K/N` runs;
- `export BOOK.db [--results CSV] [--lms CSV --style moodle|moodle-worksheet|canvas]`;
- `score BOOK.db STUDENT LINE POINTS [--note TEXT] [--grader NAME]`: one manual score;
- `scores BOOK.db SHEET.csv [--grader NAME]`: every score of a filled scoring sheet;
- `show BOOK.db [STUDENT]`: the current grades, or one student's whole history.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from labutils.instructor.grading.class_pages import import_scores_into
from labutils.instructor.grading.gradebook import Gradebook, GradebookError, format_points
from labutils.instructor.grading.gradebook_export import LMS_STYLES, export_lms, export_results
from labutils.instructor.grading.plugin import default_assignment, load_assignment
from labutils.instructor.grading.reporting import one_line
from labutils.instructor.grading.shards import describe, merge


def add_gradebook_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The `gradebook` command's subcommands (the instructor CLI wires them to gradebook_main)."""
    sub = parser.add_subparsers(dest="gradebook_command", required=True)
    p = sub.add_parser("merge", help="combine shard gradebooks into one")
    p.add_argument("shards", nargs="+", type=Path, help="the shards' gradebook files")
    p.add_argument("--into", type=Path, required=True, help="the merged gradebook (new or not)")
    p = sub.add_parser("export", help="write the results CSV and/or an LMS import CSV")
    p.add_argument("book", type=Path)
    p.add_argument("--results", type=Path, help="the full results CSV")
    p.add_argument("--lms", type=Path, help="student id + final total, for the LMS")
    p.add_argument("--style", choices=LMS_STYLES, default="moodle", help="the LMS's columns")
    p.add_argument("--column", default="", help="the grade column's name (Canvas: "
                   "'Assignment name (assignment id)' as in Canvas's own export)")
    p = sub.add_parser("score", help="record one manual score (the latest one counts)")
    p.add_argument("book", type=Path)
    p.add_argument("student")
    p.add_argument("line", help="the rubric line, e.g. report")
    p.add_argument("points", type=float)
    p.add_argument("--note", default="")
    p.add_argument("--grader", default="")
    p = sub.add_parser("scores", help="record the filled scoring sheet `grade --pages` wrote")
    p.add_argument("book", type=Path)
    p.add_argument("sheet", type=Path)
    p.add_argument("--grader", default="")
    p = sub.add_parser("show", help="current grades, or one student's history")
    p.add_argument("book", type=Path)
    p.add_argument("student", nargs="?")
    return parser


def _existing(path: Path) -> Gradebook:
    if not path.is_file():
        raise GradebookError(f"no gradebook at {path}: pass the file `grade --gradebook` wrote")
    return Gradebook.open(path)


def gradebook_main(args: argparse.Namespace) -> int:
    """Run one gradebook subcommand; 0 on success."""
    command = args.gradebook_command
    if command == "merge":
        print(f"merged into {args.into}: {describe(merge(args.shards, args.into))}")
        return 0
    with _existing(args.book) as book:
        if command == "export":
            if args.results is None and args.lms is None:
                raise GradebookError("export needs --results CSV and/or --lms CSV")
            if args.results is not None:
                print(f"wrote {export_results(book, args.results)}")
            if args.lms is not None:
                print(f"wrote {export_lms(book, args.lms, args.style, args.column)}")
        elif command == "scores":
            rubric = load_assignment(book.assignment or default_assignment()).rubric
            count = import_scores_into(book, args.sheet, rubric, args.grader)
            print(f"recorded {count} manual score(s) from {args.sheet}")
        elif command == "score":
            book.record_manual(args.student, args.line, args.points, args.note, args.grader)
            print(f"{args.student}: {args.line} = {format_points(args.points)}")
        elif args.student:
            history = book.history(args.student)
            if not history["rows"] and not history["manual"]:
                raise GradebookError(f"no student {args.student!r} in {args.book}: "
                                     "`gradebook show BOOK` lists the ids")
            print(json.dumps(history, indent=1))
        else:
            for c in book.current():
                manual = ", ".join(f"{k} {format_points(v)}" for k, v in c["manual"].items())
                print(f"{c['student']:<20} {one_line(c['status'], 20):<10} "
                      f"auto {format_points(c['automatic']):>5}  manual "
                      f"{manual or '-'}  final {format_points(c['final'])}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = add_gradebook_arguments(argparse.ArgumentParser(prog="gradebook",
                                                             description=__doc__))
    return gradebook_main(parser.parse_args(argv))
