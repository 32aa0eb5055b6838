"""Wiring the gradebook into `grade`: its options, the plan of a run (who, which files, which
shard, what is left to grade) and the call that records each finished submission."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

from labutils.instructor.grading.gradebook import Gradebook, GradebookError, record_grade
from labutils.instructor.grading.identity import (
    DEFAULT_PATTERN,
    LAYOUTS,
    Identified,
    find_notebooks,
    identify,
)
from labutils.instructor.grading.shards import parse_shard, select, to_grade


def add_batch_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options `grade` needs for a class: gradebook, student ids, shard, regrade."""
    parser.add_argument("--gradebook", type=Path, default=None, metavar="FILE",
                        help="record every grade in this gradebook (SQLite); a rerun grades "
                             "only new or changed submissions (resume)")
    parser.add_argument("--layout", choices=LAYOUTS, default="pattern",
                        help="where the student id is: the file name (pattern), Moodle's "
                             "folders (moodle) or Canvas's file names (canvas)")
    parser.add_argument("--id-pattern", default=DEFAULT_PATTERN, metavar="REGEX",
                        help="file-name regex with a group (?P<id>...) (layout pattern)")
    parser.add_argument("--duplicates", choices=("error", "last"), default="error",
                        help="two files for one student: stop (error) or keep the last by name")
    parser.add_argument("--shard", default=None, metavar="K/N",
                        help="grade part K of N of the batch (split by student id)")
    parser.add_argument("--regrade", action="append", default=[], metavar="STUDENT",
                        help="grade this student again even if graded (repeatable)")
    parser.add_argument("--retry", action="append", default=[], metavar="STATUS",
                        help="grade again those whose last status is this, e.g. 'timed out'")
    return parser


def expand(paths: list[Path]) -> tuple[list[Path], Path | None]:
    """Files given, plus every notebook under each folder given; the download folder files
    are named relative to (the folder, when exactly one is given)."""
    files: list[Path] = []
    folders = [Path(p) for p in paths if Path(p).is_dir()]
    for path in map(Path, paths):
        files += find_notebooks(path) if path.is_dir() else [path]
    return files, folders[0] if len(folders) == 1 else None


@dataclass
class BatchPlan:
    """One grading run: its gradebook, run id and the submissions it grades."""

    book: Gradebook
    run_id: int
    work: list[Identified]
    found: int
    skipped: list[str] = field(default_factory=list)

    @property
    def paths(self) -> list[Path]:
        """The files to pass to grade_all."""
        return [i.path for i in self.work]

    def summary(self) -> str:
        """One line for the console."""
        return (f"gradebook {self.book.path}: run {self.run_id}, {self.found} submission(s) "
                f"found, {len(self.work)} to grade, {self.found - len(self.work)} already "
                "graded" + (f", {len(self.skipped)} duplicate file(s) skipped"
                            if self.skipped else ""))

    def record(self, grade: object, details: str = "") -> int:
        """Record one finished reporting.Grade (thread-safe; call it as each one finishes)."""
        item = next((i for i in self.work if str(i.path) == str(grade.submission)),  # type: ignore
                    None)
        if item is None:
            raise GradebookError(f"{grade.submission} is not in this run's plan")  # type: ignore
        return record_grade(self.book, self.run_id, item.student, grade, details,
                            item.file_name)


def plan_batch(args: argparse.Namespace, assignment: str, release_sha256: str,
               rubric_sha256: str) -> BatchPlan:
    """Identify the submissions in `args.submissions`, open the gradebook, start a run and
    choose what it grades (this shard, new or changed, --regrade, --retry)."""
    shard = parse_shard(args.shard) if args.shard else None
    files, root = expand(list(args.submissions))
    found = identify(files, args.layout, args.id_pattern, root=root, duplicates=args.duplicates)
    options = {k: v for k, v in sorted(vars(args).items())
               if isinstance(v, str | int | float | bool)}  # no paths: they are absolute
    options["regrade"], options["retry"] = list(args.regrade), list(args.retry)
    book = Gradebook.open(args.gradebook)
    run = book.start_run(assignment, release_sha256, rubric_sha256, options)
    work = to_grade(book, found.items, run, shard, args.regrade, args.retry)
    mine = len(found.items if shard is None else select(found.items, shard))
    return BatchPlan(book, run, work, mine, found.skipped)
