"""Grading beyond one machine: `--shard K/N` grades a deterministic part of a batch into its
own gradebook file, and `merge` combines the shards' gradebooks into one.

A student's shard depends on their id alone (sha256 of the id, modulo N), not on who else is
in the batch: a late submission or a rerun never moves a student to another shard, so each
shard's gradebook keeps resuming its own students. See docs/grading-at-scale.md.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from labutils.instructor.grading.gradebook import Gradebook, GradebookError, RunKey
from labutils.instructor.grading.identity import Identified

T = TypeVar("T")
_SHARD = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


def parse_shard(text: str) -> tuple[int, int]:
    """'K/N' -> (K, N), 1 <= K <= N."""
    found = _SHARD.fullmatch(str(text))
    if not found or not 1 <= int(found[1]) <= int(found[2]):
        raise GradebookError(f"--shard {text!r}: write K/N with 1 <= K <= N, e.g. --shard 3/8 "
                             "(a Slurm array --array=1-8: --shard ${SLURM_ARRAY_TASK_ID}/8)")
    return int(found[1]), int(found[2])


def shard_of(student: str, count: int) -> int:
    """The shard (1..count) that grades `student`: stable whatever else the batch holds."""
    digest = hashlib.sha256(student.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def select(items: Iterable[T], shard: tuple[int, int] | str,
           student: Callable[[T], str] = lambda item: item.student) -> list[T]:  # type: ignore
    """The items of shard K of N (`student` gives an item's id)."""
    k, n = parse_shard(shard) if isinstance(shard, str) else shard
    return [item for item in items if shard_of(student(item), n) == k]


def to_grade(book: Gradebook, found: Iterable[Identified], key: RunKey | int,
             shard: tuple[int, int] | str | None = None,
             regrade: Iterable[str] = (), retry: Iterable[str] = ()) -> list[Identified]:
    """What this grader run grades: this shard's submissions with no row under `key` for
    their sha256 (new or changed since the last run), the students in `regrade`, and those
    whose last row's status is in `retry`."""
    mine = list(found) if shard is None else select(found, shard)
    forced = set(regrade)
    unknown = forced - {i.student for i in mine}
    if unknown:
        raise GradebookError(f"--regrade names student(s) with no submission in this batch"
                             f"{'' if shard is None else ' shard'}: {', '.join(sorted(unknown))}")
    todo = set(book.todo([(i.student, i.sha256) for i in mine], key, forced, retry))
    return [i for i in mine if (i.student, i.sha256) in todo]


@dataclass
class MergeReport:
    """What a merge copied: runs, rows, manual scores looked at (one already in the target is
    not copied twice), and the runs it left out because they were merged before."""

    runs: int = 0
    rows: int = 0
    manual: int = 0
    skipped_runs: list[str] = field(default_factory=list)


class MergeConflict(GradebookError):
    """Two shards graded the same student: nothing was merged."""


def _latest_key(book: Gradebook) -> RunKey | None:
    runs = book.runs()
    last = runs[-1] if runs else None
    return None if last is None else RunKey(last["assignment"], last["release_sha256"],
                                           last["rubric_sha256"])


def _check(books: Sequence[Gradebook], into: Gradebook) -> None:
    """Same assignment, release and rubric in every shard; no student in two shards."""
    keys = {str(b.path): _latest_key(b) for b in books}
    target = _latest_key(into)
    if target is not None:
        keys[str(into.path)] = target
    distinct = {k for k in keys.values() if k is not None}
    if len(distinct) > 1:
        listed = "\n  ".join(f"{p}: {k}" for p, k in keys.items())
        raise GradebookError("the gradebooks were graded under different assignments, releases "
                             f"or rubrics:\n  {listed}\nregrade the odd shards with the same "
                             "release and rubric, then merge")
    owner: dict[str, str] = {}
    conflicts = []
    for book in books:
        for student in {c["student"] for c in book.current()}:
            if student in owner and owner[student] != str(book.path):
                conflicts.append(f"{student}: {owner[student]} and {book.path}")
            owner.setdefault(student, str(book.path))
    if conflicts:
        raise MergeConflict(f"{len(conflicts)} student(s) were graded in more than one shard "
                            "(nothing merged):\n  " + "\n  ".join(sorted(conflicts)) +
                            "\nkeep one shard's grade: merge the shards without them and "
                            "regrade those students into the merged gradebook")


def merge(shard_paths: Sequence[Path | str], into: Path | str) -> MergeReport:
    """Copy every run, row and manual score of the shards into the gradebook `into` (created
    if needed) in one transaction. A run already in `into` (same run uid) is skipped, so a
    merge can be repeated; a conflict copies nothing."""
    if any(Path(p).resolve() == Path(into).resolve() for p in shard_paths):
        raise GradebookError(f"merge into {into}, which is also a shard: merge into a new file")
    books = [_open_existing(p) for p in shard_paths]
    target = Gradebook.open(into)
    try:
        _check(books, target)
        report = MergeReport()
        statements: list[tuple[str, tuple]] = []
        known = {r["uid"] for r in target.runs()}
        for book in books:
            statements += _copy(book, known, report)
        target.transaction(statements)
        return report
    finally:
        for book in [*books, target]:
            book.close()


def _open_existing(path: Path | str) -> Gradebook:
    if not Path(path).is_file():
        raise GradebookError(f"shard gradebook {path} does not exist: pass the files the "
                             "shards wrote (--gradebook of each --shard run)")
    return Gradebook.open(path)


def _copy(book: Gradebook, known: set[str], report: MergeReport) -> list[tuple[str, tuple]]:
    """The statements that copy `book`'s runs not yet in the target (ids remapped in SQL)."""
    out: list[tuple[str, tuple]] = []
    for run in book.runs():
        if run["uid"] in known:
            report.skipped_runs.append(f"{book.path}: run {run['id']} (already merged)")
            continue
        known.add(run["uid"])
        report.runs += 1
        out.append(("INSERT INTO runs (uid, started, assignment, release_sha256, "
                    "rubric_sha256, grader_version, options) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (run["uid"], run["started"], run["assignment"], run["release_sha256"],
                     run["rubric_sha256"], run["grader_version"], run["options"])))
        for row in book.query("SELECT rows.*, submissions.file_name, submissions.first_seen "
                               "FROM rows JOIN submissions ON submissions.id = "
                               "rows.submission_id WHERE run_id = ? ORDER BY rows.id",
                               (run["id"],)):
            report.rows += 1
            out += [
                ("INSERT OR IGNORE INTO submissions (student, file_name, sha256, first_seen) "
                 "VALUES (?, ?, ?, ?)", (row["student"], row["file_name"], row["sha256"],
                                         row["first_seen"])),
                ("INSERT INTO rows (run_id, submission_id, student, sha256, status, total, "
                 "row_json, details, recorded) SELECT (SELECT id FROM runs WHERE uid = ?), id, "
                 "?, ?, ?, ?, ?, ?, ? FROM submissions WHERE student = ? AND file_name = ? "
                 "AND sha256 = ?",
                 (run["uid"], row["student"], row["sha256"], row["status"], row["total"],
                  row["row_json"], row["details"], row["recorded"], row["student"],
                  row["file_name"], row["sha256"]))]
    for m in book.query("SELECT * FROM manual_scores ORDER BY id"):
        values = (m["student"], m["line"], m["points"], m["note"], m["grader"], m["recorded"])
        out.append(("INSERT INTO manual_scores (student, line, points, note, grader, recorded) "
                    "SELECT ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM manual_scores "
                    "WHERE student = ? AND line = ? AND points = ? AND note = ? AND grader = ? "
                    "AND recorded = ?)", values + values))
        report.manual += 1
    return out


def describe(report: MergeReport) -> str:
    """One line for the console."""
    return json.dumps({"runs": report.runs, "rows": report.rows, "manual": report.manual,
                       "skipped_runs": len(report.skipped_runs)})
