"""The gradebook: every submission, grading run, row and manual score of one assignment in one
SQLite file (standard library, no server) that survives Ctrl-C, SIGKILL and power loss.

Append-only: nothing is updated or deleted in place (triggers refuse it). A regrade or a new
manual score adds a row; the current value is the latest one, and `history` shows them all.
Each recorded submission is one transaction (WAL journal, synchronous=FULL): a row is either
committed whole or absent, so a rerun's `todo` is exactly what is left.
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import NamedTuple

from labutils import __version__
from labutils.instructor.grading.identity import check_id

FORMAT = "labutils-gradebook"
SCHEMA_VERSION = 1
_HEADER = b"SQLite format 3\x00"

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE submissions (
    id INTEGER PRIMARY KEY, student TEXT NOT NULL, file_name TEXT NOT NULL,
    sha256 TEXT NOT NULL, first_seen TEXT NOT NULL, UNIQUE (student, file_name, sha256));
CREATE TABLE runs (
    id INTEGER PRIMARY KEY, uid TEXT NOT NULL UNIQUE, started TEXT NOT NULL,
    assignment TEXT NOT NULL, release_sha256 TEXT NOT NULL, rubric_sha256 TEXT NOT NULL,
    grader_version TEXT NOT NULL, options TEXT NOT NULL);
CREATE TABLE rows (
    id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs (id),
    submission_id INTEGER NOT NULL REFERENCES submissions (id), student TEXT NOT NULL,
    sha256 TEXT NOT NULL, status TEXT NOT NULL, total REAL NOT NULL, row_json TEXT NOT NULL,
    details TEXT NOT NULL, recorded TEXT NOT NULL, UNIQUE (run_id, student));
CREATE TABLE manual_scores (
    id INTEGER PRIMARY KEY, student TEXT NOT NULL, line TEXT NOT NULL, points REAL NOT NULL,
    note TEXT NOT NULL, grader TEXT NOT NULL, recorded TEXT NOT NULL);
CREATE INDEX rows_student ON rows (student, id);
CREATE INDEX manual_student ON manual_scores (student, line, id);
""" + "".join(
    f"CREATE TRIGGER {t}_no_{op.lower()} BEFORE {op} ON {t} BEGIN SELECT RAISE(ABORT, "
    f"'the gradebook is append-only: {t} cannot be changed ({op}); add a new row'); END;\n"
    for t in ("submissions", "runs", "rows", "manual_scores") for op in ("UPDATE", "DELETE"))
"""Tables (see docs/grading-at-scale.md). `rows.row_json` is the grader's full CSV row."""


class GradebookError(ValueError):
    """A gradebook file or a value given to it is not what it must be (the message says why)."""


class RunKey(NamedTuple):
    """What makes two gradings comparable: a row under the same key need not be redone."""

    assignment: str
    release_sha256: str
    rubric_sha256: str


def now() -> str:
    """UTC time, ISO 8601 with microseconds (sorts as text)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def check_file_name(file_name: str) -> str:
    """A file name relative to the submissions folder: never absolute, never `..`."""
    name = str(file_name)
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if (not name or PurePosixPath(name).is_absolute() or PureWindowsPath(name).is_absolute()
            or PureWindowsPath(name).drive or ".." in parts):
        raise GradebookError(
            f"file name {name!r} must be relative to the submissions folder (no absolute path, "
            "no '..'): pass the path relative to the download folder, e.g. path.name")
    return name


def _points(value: object, what: str) -> float:
    try:
        points = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise GradebookError(f"{what} {value!r} is not a number") from None
    if not math.isfinite(points):
        raise GradebookError(f"{what} {value!r} is not a finite number")
    return points


def format_points(points: float) -> str:
    """2.0 -> '2', 2.5 -> '2.5'."""
    return f"{points:g}"


class Gradebook:
    """One assignment's gradebook file. Safe to share between the grader's threads."""

    def __init__(self, path: Path, connection: sqlite3.Connection):
        self.path = path
        self._db = connection
        self._lock = threading.RLock()

    @classmethod
    def open(cls, path: Path | str) -> Gradebook:
        """Open the gradebook at `path`, creating it if there is no file (or an empty one);
        refuse anything else with a clear error."""
        path = Path(path)
        if path.is_dir():
            raise GradebookError(f"{path} is a folder: pass a gradebook file, "
                                 f"e.g. {path / 'grades.db'}")
        fresh = not path.exists() or path.stat().st_size == 0
        if not fresh:
            with open(path, "rb") as handle:
                if handle.read(len(_HEADER)) != _HEADER:
                    raise GradebookError(f"{path} is not a gradebook (not an SQLite database): "
                                         "pass the gradebook file the grader wrote, or a new path")
        db = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
        try:
            db.execute("PRAGMA busy_timeout = 60000")
            if fresh:
                db.execute("PRAGMA journal_mode = WAL")
                db.execute("BEGIN IMMEDIATE")
                for statement in _statements(SCHEMA):
                    db.execute(statement)
                db.executemany("INSERT INTO meta VALUES (?, ?)", [
                    ("format", FORMAT), ("schema_version", str(SCHEMA_VERSION)),
                    ("created", now())])
                db.execute("COMMIT")
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the schema in the main file
            else:
                _check_format(db, path)
                db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = FULL")
            db.execute("PRAGMA foreign_keys = ON")
        except BaseException:
            db.close()
            raise
        return cls(path, db)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def query(self, sql: str, args: Iterable[object] = ()) -> list[dict]:
        """Rows of a read-only SQL query, as dicts (for reports and the shard merge)."""
        with self._lock:
            cursor = self._db.execute(sql, tuple(args))
            names = [d[0] for d in cursor.description or ()]
            return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]

    def transaction(self, statements: list[tuple[str, tuple]]) -> list[int]:
        """Run `statements` as one transaction (all or nothing); the rowid each inserted."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                ids = [self._db.execute(sql, args).lastrowid or 0 for sql, args in statements]
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            return ids

    @property
    def assignment(self) -> str | None:
        """The assignment this gradebook holds (None before the first run)."""
        found = self.query("SELECT assignment FROM runs ORDER BY id LIMIT 1")
        return found[0]["assignment"] if found else None

    def start_run(self, assignment: str, release_sha256: str, rubric_sha256: str,
                  options: Mapping[str, object] | None = None,
                  grader_version: str = __version__) -> int:
        """Record the start of a grading run; its id. One gradebook holds one assignment.
        `options`: JSON-able settings (timeouts, jobs, shard...), never absolute paths."""
        if not assignment or not release_sha256 or not rubric_sha256:
            raise GradebookError("start_run needs the assignment name, the release's sha256 and "
                                 "the rubric's sha256")
        held = self.assignment
        if held is not None and held != assignment:
            raise GradebookError(f"{self.path} holds assignment {held!r}, not {assignment!r}: "
                                 "use one gradebook file per assignment")
        text = json.dumps(dict(options or {}), sort_keys=True, default=str)
        return self.transaction([(
            "INSERT INTO runs (uid, started, assignment, release_sha256, rubric_sha256, "
            "grader_version, options) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (uuid.uuid4().hex, now(), assignment, release_sha256, rubric_sha256,
             grader_version, text))])[0]

    def key(self, run_id: int) -> RunKey:
        """The (assignment, release, rubric) of run `run_id`."""
        found = self.query("SELECT assignment, release_sha256, rubric_sha256 FROM runs "
                            "WHERE id = ?", (run_id,))
        if not found:
            raise GradebookError(f"no grading run {run_id} in {self.path}: call start_run first")
        return RunKey(*found[0].values())

    def runs(self) -> list[dict]:
        """Every grading run, oldest first."""
        return self.query("SELECT * FROM runs ORDER BY id")

    def todo(self, entries: Iterable[tuple[str, str]], key: RunKey | int,
             regrade: Iterable[str] = (), retry: Iterable[str] = ()) -> list[tuple[str, str]]:
        """The (student, sha256) entries with no row for that sha256 under `key` (a RunKey or
        a run id): new or changed submissions, every student named in `regrade`, and those
        whose latest such row has a status in `retry` (e.g. "timed out")."""
        key = self.key(key) if isinstance(key, int) else RunKey(*key)
        retry = set(retry)
        done = {(r["student"], r["sha256"]) for r in self.query(
            "SELECT rows.student, rows.sha256, rows.status FROM rows WHERE rows.id IN ("
            "SELECT MAX(rows.id) FROM rows JOIN runs ON runs.id = rows.run_id "
            "WHERE runs.assignment = ? AND runs.release_sha256 = ? AND runs.rubric_sha256 = ? "
            "GROUP BY rows.student, rows.sha256)", key) if r["status"] not in retry}
        forced = set(regrade)
        return [(s, h) for s, h in entries if s in forced or (s, h) not in done]

    def record(self, run_id: int, student: str, file_name: str, sha256: str, status: str,
               total: float, row: Mapping[str, object], details: str = "") -> int:
        """Record one graded submission in one transaction; the new row's id."""
        check_id(student)
        file_name = check_file_name(file_name)
        total = _points(total, f"total of {student}")
        self.key(run_id)
        row = {k: str(v) for k, v in row.items()}
        if "submission" in row:  # the grader's row names the staged path: keep the name only
            row["submission"] = file_name
        now_text = now()
        if self.query("SELECT 1 FROM rows WHERE run_id = ? AND student = ?", (run_id, student)):
            raise GradebookError(f"run {run_id} already has a row for {student!r}: a regrade is "
                                 "a new run (start_run), so the earlier row stays in history")
        ids = self.transaction([
            ("INSERT OR IGNORE INTO submissions (student, file_name, sha256, first_seen) "
             "VALUES (?, ?, ?, ?)", (student, file_name, sha256, now_text)),
            ("INSERT INTO rows (run_id, submission_id, student, sha256, status, total, "
             "row_json, details, recorded) SELECT ?, id, ?, ?, ?, ?, ?, ?, ? FROM submissions "
             "WHERE student = ? AND file_name = ? AND sha256 = ?",
             (run_id, student, sha256, status, total, json.dumps(row), str(details), now_text,
              student, file_name, sha256))])
        return ids[-1]

    def record_manual(self, student: str, line: str, points: float, note: str = "",
                      grader: str = "") -> int:
        """Add a manual score for rubric `line`; it replaces the student's earlier one for
        that line in `current()` (the earlier stays in `history`)."""
        check_id(student)
        if not str(line).strip():
            raise GradebookError("a manual score needs the rubric line it is for")
        points = _points(points, f"manual points for {student}, {line}")
        if not self.query("SELECT 1 FROM submissions WHERE student = ? LIMIT 1", (student,)):
            raise GradebookError(f"no submission of student {student!r} in {self.path}: check "
                                 "the id (manual scores are for graded submissions)")
        return self.transaction([(
            "INSERT INTO manual_scores (student, line, points, note, grader, recorded) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (student, str(line), points, str(note), str(grader), now()))])[0]

    def current(self) -> list[dict]:
        """Per student (sorted): the latest row, the latest manual score per rubric line, and
        final = automatic total + manual points."""
        latest = self.query(
            "SELECT rows.*, submissions.file_name FROM rows JOIN submissions "
            "ON submissions.id = rows.submission_id WHERE rows.id IN "
            "(SELECT MAX(id) FROM rows GROUP BY student) ORDER BY rows.student")
        manual: dict[str, dict[str, float]] = {}
        for m in self.query("SELECT student, line, points FROM manual_scores WHERE id IN "
                             "(SELECT MAX(id) FROM manual_scores GROUP BY student, line)"):
            manual.setdefault(m["student"], {})[m["line"]] = m["points"]
        result = []
        for r in latest:
            scores = manual.get(r["student"], {})
            result.append({
                "student": r["student"], "file_name": r["file_name"], "sha256": r["sha256"],
                "run_id": r["run_id"], "recorded": r["recorded"], "status": r["status"],
                "automatic": r["total"], "manual": scores,
                "final": r["total"] + sum(scores.values()), "row": json.loads(r["row_json"]),
                "details": r["details"]})
        return result

    def history(self, student: str) -> dict[str, list[dict]]:
        """Everything recorded for `student`, oldest first: rows and manual scores."""
        rows = self.query(
            "SELECT rows.id, rows.run_id, rows.sha256, rows.status, rows.total, rows.recorded, "
            "rows.row_json, runs.release_sha256, runs.rubric_sha256 FROM rows JOIN runs ON "
            "runs.id = rows.run_id WHERE rows.student = ? ORDER BY rows.id", (student,))
        manual = self.query("SELECT * FROM manual_scores WHERE student = ? ORDER BY id",
                             (student,))
        return {"rows": rows, "manual": manual}


def _statements(script: str) -> list[str]:
    """SCHEMA split into statements (a trigger's body holds a ';' of its own)."""
    out, part = [], ""
    for piece in script.split(";"):
        part += piece + ";"
        if sqlite3.complete_statement(part):
            out.append(part.strip())
            part = ""
    return [s for s in out if s != ";"]


def _check_format(db: sqlite3.Connection, path: Path) -> None:
    try:
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.DatabaseError:
        meta = {}
    if meta.get("format") != FORMAT:
        raise GradebookError(f"{path} is an SQLite database but not a labutils gradebook: pass "
                             "the gradebook file the grader wrote (with its -wal file, if it "
                             "had one), or a new path")
    if meta.get("schema_version") != str(SCHEMA_VERSION):
        raise GradebookError(f"{path} has gradebook schema {meta.get('schema_version')}, this "
                             f"grader reads {SCHEMA_VERSION}: use the grader version that wrote it")


def record_grade(book: Gradebook, run_id: int, student: str, grade: object,
                 details: str = "", file_name: str | None = None) -> int:
    """Record a reporting.Grade: one call per finished submission. `file_name`: the path
    relative to the download folder (identity.Identified.file_name); default the file's name."""
    row = grade.row()  # type: ignore[attr-defined]
    name = file_name or grade.submission.name  # type: ignore[attr-defined]
    return book.record(run_id, student, name, grade.sha256, grade.status,  # type: ignore
                       grade.total, row, details)  # type: ignore[attr-defined]
