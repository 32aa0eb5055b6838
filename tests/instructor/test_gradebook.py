"""The gradebook keeps every grading: a rerun grades only what is new or changed, a regrade adds
a row (the older one stays), a SIGKILL mid-batch loses no committed row and duplicates none,
and its CSV exports are safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from labutils.instructor.grading.gradebook import Gradebook, GradebookError, record_grade
from labutils.instructor.grading.gradebook_export import export_lms, export_results
from labutils.instructor.grading.identity import IdentityError
from labutils.instructor.grading.reporting import FORMULA_LEADS, Grade

ROOT = Path(__file__).resolve().parents[2]
KEY = ("05_assignment", "release-sha", "rubric-sha")
BIDI = "\u202e\u2066\u200f"


def book_with(tmp_path: Path, students: dict[str, str]) -> tuple[Gradebook, int]:
    book = Gradebook.open(tmp_path / "grades.db")
    run = book.start_run(*KEY, {"cell_timeout": 600})
    for student, sha in students.items():
        book.record(run, student, f"05_assignment_{student}.ipynb", sha, "graded", 7,
                    {"total": "7", "replay": "matches"})
    return book, run


def read_csv(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_rerun_grades_only_new_or_changed_and_regrade_adds_a_row(tmp_path):
    book, run = book_with(tmp_path, {"s1": "a1", "s2": "a2", "s3": "a3"})
    entries = [("s1", "a1"), ("s2", "CHANGED"), ("s3", "a3"), ("s4", "a4")]
    assert book.todo(entries, run) == [("s2", "CHANGED"), ("s4", "a4")]
    assert book.todo(entries, book.key(run), regrade={"s1"}) == [
        ("s1", "a1"), ("s2", "CHANGED"), ("s4", "a4")]
    other_rubric = (KEY[0], KEY[1], "new-rubric")
    assert len(book.todo(entries, other_rubric)) == 4  # a new rubric grades everyone again
    rerun = book.start_run(*KEY)
    book.record(rerun, "s1", "05_assignment_s1.ipynb", "a1", "graded", 9, {"total": "9"})
    current = {c["student"]: c for c in book.current()}
    assert current["s1"]["automatic"] == 9 and current["s1"]["run_id"] == rerun
    assert [r["total"] for r in book.history("s1")["rows"]] == [7, 9]  # the older row stays
    book.close()
    with Gradebook.open(tmp_path / "grades.db") as again:  # and survives closing
        assert [r["total"] for r in again.history("s1")["rows"]] == [7, 9]


def test_nothing_is_changed_in_place(tmp_path):
    book, run = book_with(tmp_path, {"s1": "a1"})
    book.record_manual("s1", "report", 2)
    for sql in ("UPDATE rows SET total = 10", "DELETE FROM rows",
                "UPDATE manual_scores SET points = 1", "DELETE FROM runs",
                "UPDATE submissions SET sha256 = 'x'"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            book.transaction([(sql, ())])
    with pytest.raises(GradebookError, match="already has a row"):
        book.record(run, "s1", "05_assignment_s1.ipynb", "a1", "graded", 1, {})
    assert [r["total"] for r in book.history("s1")["rows"]] == [7]


def test_manual_scores_latest_counts_history_keeps_all(tmp_path):
    book, _ = book_with(tmp_path, {"s1": "a1", "s2": "a2"})
    book.record_manual("s1", "report", 2, "thin discussion", "TA 1")
    book.record_manual("s1", "report", 3.5, "after review", "TA 2")
    book.record_manual("s1", "protocol", 1, "", "TA 1")
    current = {c["student"]: c for c in book.current()}
    assert current["s1"]["manual"] == {"report": 3.5, "protocol": 1}
    assert current["s1"]["final"] == 7 + 3.5 + 1
    assert current["s2"]["final"] == 7
    assert [m["points"] for m in book.history("s1")["manual"]] == [2, 3.5, 1]
    with pytest.raises(GradebookError, match="no submission of student 's9'"):
        book.record_manual("s9", "report", 1)
    with pytest.raises(GradebookError, match="not a finite number"):
        book.record_manual("s1", "report", float("nan"))
    with pytest.raises(GradebookError, match="rubric line"):
        book.record_manual("s1", " ", 1)


def test_open_refuses_what_is_not_a_gradebook(tmp_path):
    text = tmp_path / "results.csv"
    text.write_text("submission,total\n")
    with pytest.raises(GradebookError, match="not a gradebook .not an SQLite database"):
        Gradebook.open(text)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(GradebookError, match="not a labutils gradebook"):
        Gradebook.open(other)
    with pytest.raises(GradebookError, match="is a folder"):
        Gradebook.open(tmp_path)
    book = Gradebook.open(tmp_path / "g.db")
    book.start_run(*KEY)
    with pytest.raises(GradebookError, match="one gradebook file per assignment"):
        book.start_run("06_other", "r", "s")


@pytest.mark.parametrize("name", ["/home/prof/subs/05_assignment_s1.ipynb",
                                  "C:\\Users\\prof\\05_assignment_s1.ipynb",
                                  "../05_assignment_s1.ipynb", ""])
def test_no_absolute_path_is_stored(tmp_path, name):
    book, run = book_with(tmp_path, {})
    with pytest.raises(GradebookError, match="relative to the submissions folder"):
        book.record(run, "s1", name, "a1", "graded", 1, {})


def test_record_grade_keeps_the_file_name_not_the_staged_path(tmp_path):
    book, run = book_with(tmp_path, {})
    grade = Grade(Path("/tmp/labutils-submissions-x/05_assignment_s7.ipynb"), sha256="f00",
                  points={"runs": 1, "replay": 3})
    record_grade(book, run, "s7", grade, details="table")
    (current,) = book.current()
    assert current["automatic"] == 4 and current["file_name"] == "05_assignment_s7.ipynb"
    assert current["row"]["submission"] == "05_assignment_s7.ipynb"
    assert current["details"] == "table"
    export_results(book, tmp_path / "results.csv")
    assert "/tmp/" not in (tmp_path / "results.csv").read_text()


HOSTILE_IDS = ["=cmd|' /C calc'!A0", "<script>alert(1)</script>", "../../etc", "s1" + BIDI,
               "-2+3", "@SUM(A1)", "a,b", "a\nb", ""]


@pytest.mark.parametrize("student", HOSTILE_IDS)
def test_hostile_ids_never_reach_the_gradebook(tmp_path, student):
    book, run = book_with(tmp_path, {})
    with pytest.raises(IdentityError, match="not a safe id"):
        book.record(run, student, "05_assignment_x.ipynb", "a1", "graded", 1, {})


def test_exports_are_spreadsheet_safe(tmp_path):
    book, run = book_with(tmp_path, {"20231234": "a1"})
    book.record(run, "s2", "=cmd|' /C calc'!A0.ipynb", "a2", "graded", 3, {
        "findings": "=HYPERLINK(\"http://evil\")", "notes": "<script>x</script>" + BIDI,
        "=1+1": "@SUM(1)"})
    book.record_manual("s2", "+report", -1, "=2+2", "TA")
    for name, export in [("results", lambda p: export_results(book, p)),
                         ("moodle", lambda p: export_lms(book, p, "moodle")),
                         ("canvas", lambda p: export_lms(book, p, "canvas", "A5 (42)"))]:
        cells = [c for row in read_csv(export(tmp_path / name)) for c in row]
        assert cells, name
        assert not [c for c in cells if c.lstrip()[:1] and c.lstrip()[0] in FORMULA_LEADS], name
        assert not [c for c in cells if any(ch in c for ch in BIDI + "\n\r")], name
    lms = read_csv(tmp_path / "canvas")
    assert lms[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "A5 (42)"]
    assert ["", "20231234", "", "", "", "7"] in lms and ["", "s2", "", "", "", "2"] in lms
    assert read_csv(tmp_path / "moodle")[0] == ["ID number", "05_assignment"]
    with pytest.raises(GradebookError, match="participant ids"):
        export_lms(book, tmp_path / "w.csv", "moodle-worksheet")
    with pytest.raises(GradebookError, match="unknown LMS style"):
        export_lms(book, tmp_path / "x.csv", "blackboard")


def test_moodle_worksheet_columns(tmp_path):
    book, _ = book_with(tmp_path, {"12345": "a1"})
    rows = read_csv(export_lms(book, tmp_path / "w.csv", "moodle-worksheet"))
    assert rows[0] == ["Identifier", "Grade", "Last modified (grade)"]
    assert rows[1][:2] == ["Participant 12345", "7"]


def test_threads_record_without_losing_rows(tmp_path):
    book, run = book_with(tmp_path, {})

    def grade(part: int) -> None:
        for i in range(part, 40, 4):
            book.record(run, f"s{i}", f"05_assignment_s{i}.ipynb", f"h{i}", "graded", i, {})
    threads = [threading.Thread(target=grade, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(c["student"] for c in book.current()) == sorted(f"s{i}" for i in range(40))


CHILD = """
import sys, time
from labutils.instructor.grading.gradebook import Gradebook
book = Gradebook.open(sys.argv[1])
run = book.start_run("05_assignment", "release-sha", "rubric-sha", {})
students = [(f"s{i:03d}", f"h{i}") for i in range(int(sys.argv[2]))]
for student, sha in book.todo(students, run):
    time.sleep(float(sys.argv[3]))  # grading one submission
    book.record(run, student, f"05_assignment_{student}.ipynb", sha, "graded", 5, {})
    print(student, flush=True)
"""


def grader(path: Path, count: int, seconds: float) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(count), str(seconds)],
                            stdout=subprocess.PIPE, text=True, env=env)


@pytest.mark.parametrize("count,seconds", [(200, 0.02), (600, 0.0)])
def test_resume_after_sigkill_mid_batch(tmp_path, count, seconds):
    """Killed while grading (sleep) or, with no grading time, most likely while writing."""
    path = tmp_path / "grades.db"
    child = grader(path, count, seconds)
    printed = [child.stdout.readline().strip() for _ in range(15)]
    os.kill(child.pid, signal.SIGKILL)
    printed += child.stdout.read().split()
    assert child.wait() == -signal.SIGKILL
    students = [f"s{i:03d}" for i in range(count)]
    with Gradebook.open(path) as book:
        assert book.query("PRAGMA integrity_check") == [{"integrity_check": "ok"}]
        recorded = [r["student"] for r in book.query("SELECT student FROM rows ORDER BY id")]
        assert set(printed) <= set(recorded)  # every committed row is there
        assert len(recorded) == len(set(recorded))  # none twice
        assert 15 <= len(recorded) < count and recorded == students[:len(recorded)]
        rest = [(s, f"h{i}") for i, s in enumerate(students)][len(recorded):]
        entries = [(s, f"h{i}") for i, s in enumerate(students)]
        assert book.todo(entries, book.key(1)) == rest  # the rerun grades exactly the rest
    rerun = grader(path, count, 0.0)
    assert rerun.stdout.read().split() == [s for s, _ in rest]
    assert rerun.wait() == 0
    with Gradebook.open(path) as book:
        rows = [r["student"] for r in book.query("SELECT student FROM rows ORDER BY id")]
        assert rows == students and len(book.runs()) == 2


def test_command_line_merge_score_export_show(tmp_path, capsys):
    from labutils.instructor.grading.gradebook_command import main

    for k, students in ((1, {"s1": "a1"}), (2, {"s2": "a2"})):
        (tmp_path / str(k)).mkdir()
        book_with(tmp_path / str(k), students)[0].close()
    all_db = str(tmp_path / "all.db")
    assert main(["merge", str(tmp_path / "1" / "grades.db"), str(tmp_path / "2" / "grades.db"),
                 "--into", all_db]) == 0
    assert main(["score", all_db, "s2", "report", "2.5", "--note", "clear", "--grader", "TA"]) == 0
    assert main(["export", all_db, "--lms", str(tmp_path / "lms.csv"), "--style", "canvas"]) == 0
    assert ["", "s2", "", "", "", "9.5"] in read_csv(tmp_path / "lms.csv")
    assert main(["show", all_db]) == 0
    assert "s2" in capsys.readouterr().out
    assert main(["show", all_db, "s2"]) == 0
    assert '"points": 2.5' in capsys.readouterr().out
    with pytest.raises(GradebookError, match="no student 's9'"):
        main(["show", all_db, "s9"])
    with pytest.raises(GradebookError, match="no gradebook at"):
        main(["show", str(tmp_path / "missing.db")])


def test_retry_regrades_timed_out_rows_only(tmp_path):
    book, run = book_with(tmp_path, {"s1": "a1"})
    book.record(run, "s2", "05_assignment_s2.ipynb", "a2", "timed out", 1, {})
    entries = [("s1", "a1"), ("s2", "a2")]
    assert book.todo(entries, run) == []
    assert book.todo(entries, run, retry={"timed out"}) == [("s2", "a2")]
    rerun = book.start_run(*KEY)
    book.record(rerun, "s2", "05_assignment_s2.ipynb", "a2", "graded", 8, {})
    assert book.todo(entries, rerun, retry={"timed out"}) == []
