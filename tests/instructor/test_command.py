"""The `grade` command wired to the gradebook: a batch killed with SIGKILL resumes where it
stopped (no row lost, none twice), one student is regraded, exports hold no absolute path, and
a student id with CSV/HTML/path characters stops the batch before anything runs.

The killed batch is the real command (grade_main, the real grade_all and sandbox) on one-cell
notebooks graded by the core's lines only, so each kernel start is the only cost.
"""

from __future__ import annotations

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import time
from argparse import Namespace
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from labutils.instructor import cli
from labutils.instructor.grading import command
from labutils.instructor.grading.identity import DEFAULT_PATTERN
from labutils.instructor.grading.sandbox import sandbox_problem

NO_BWRAP = sandbox_problem()
STUDENTS = ["s1", "s2", "s3", "s4"]
CHILD = """
import sys
from labutils.instructor.grading import command
real = command.grade_all  # the core's lines only: no assignment data to collect from a toy
command.grade_all = lambda *args, **kwargs: real(*args, **{**kwargs, "assignment": None})
sys.exit(command.main(sys.argv[1:]))
"""


def notebook(text: str) -> nbformat.NotebookNode:
    nb = new_notebook(cells=[new_code_cell(
        f"print({text!r})", execution_count=1,
        outputs=[new_output("stream", name="stdout", text=text + "\n")])])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


@pytest.fixture
def download(tmp_path):
    """A download folder of one-cell notebooks named as the README asks, and a release."""
    folder = tmp_path / "download"
    folder.mkdir()
    for student in STUDENTS:
        nbformat.write(notebook(f"hello from {student}"), folder / f"05_assignment_{student}.ipynb")
    release = tmp_path / "release.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("# write your code here")]), release)
    return folder, release


def grade(folder: Path, release: Path, book: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(folder), "--release", str(release), "--gradebook",
         str(book), "--cell-timeout", "30", "--total-timeout", "120", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "LABUTILS_PROGRESS": "0"})


def rows(book: Path) -> list[tuple[int, str]]:
    """(run, student) of every row committed so far (read-only, beside a running grader)."""
    if not book.exists():
        return []
    try:
        with sqlite3.connect(f"file:{book}?mode=ro", uri=True, timeout=5) as db:
            return db.execute("SELECT run_id, student FROM rows ORDER BY id").fetchall()
    except sqlite3.OperationalError:  # the schema is not written yet
        return []


@pytest.mark.skipif(bool(NO_BWRAP), reason=NO_BWRAP)
def test_sigkill_mid_batch_resumes_then_one_student_is_regraded(download, tmp_path):
    folder, release = download
    book = tmp_path / "a5.db"
    first = grade(folder, release, book)
    deadline = time.monotonic() + 300
    while not rows(book) and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)  # as soon as the first row is committed
    first.wait(timeout=60)
    assert first.returncode == -signal.SIGKILL, first.stderr.read()[-2000:]
    done_before = rows(book)
    assert len(done_before) == 1, "the first batch was killed after exactly one row"

    out = tmp_path / "out.csv"
    second = grade(folder, release, book, "--out", str(out), "--details", str(tmp_path / "d"))
    stdout, stderr = second.communicate(timeout=600)
    assert second.returncode == 0, stderr[-2000:]
    assert "4 submission(s) found, 3 to grade, 1 already graded" in stdout
    after = rows(book)
    assert after[:1] == done_before and len(after) == 4  # nothing lost, nothing twice
    assert sorted(student for _, student in after) == STUDENTS
    assert {run for run, _ in after[1:]} == {2}
    printed = [line.split()[:3] for line in stdout.splitlines()
               if line.split()[:1] and line.split()[0] in STUDENTS]
    assert len(printed) == 3 and all(p[1:] == ["graded", "2/2"] for p in printed), stdout
    graded = [student for run, student in after if run == 2]
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == [f"{s}.txt" for s in graded]
    with sqlite3.connect(book) as db:  # the whole table of each, in the gradebook
        details = db.execute("SELECT student, details FROM rows WHERE run_id = 2").fetchall()
    assert all(text.startswith(f"== 05_assignment_{s}.ipynb ") for s, text in details)

    third = grade(folder, release, book, "--regrade", "s3")
    stdout, stderr = third.communicate(timeout=600)
    assert third.returncode == 0, stderr[-2000:]
    assert "4 submission(s) found, 1 to grade, 3 already graded" in stdout
    assert rows(book)[:4] == after and rows(book)[4:] == [(3, "s3")]  # the old row stays

    exported = tmp_path / "results.csv"
    assert cli.main(["gradebook", "export", str(book), "--results", str(exported)]) == 0
    for path in (out, exported):
        text = path.read_text(encoding="utf-8")
        assert str(tmp_path) not in text and "/download" not in text, path
    with open(out, encoding="utf-8", newline="") as handle:
        table = list(csv.DictReader(handle))
    assert [(r["student"], r["submission"]) for r in table] == [
        (s, f"05_assignment_{s}.ipynb") for s in STUDENTS if (2, s) in after]


@pytest.mark.parametrize("student", ["=HYPERLINK(1)", "<script>", "a b", "..\\x"])
def test_unsafe_student_id_stops_the_batch_before_anything_runs(download, tmp_path, capsys,
                                                                 student):
    folder, release = download
    (folder / f"05_assignment_{student}.ipynb").write_text("{}")
    book = tmp_path / "a5.db"
    code = cli.main(["grade", str(folder), "--release", str(release), "--gradebook", str(book)])
    err = capsys.readouterr().err
    assert code == 2 and "give no student id" in err and f"unsafe id {student!r}" in err, err
    assert "Fix:" in err and rows(book) == []


def test_without_a_gradebook_ids_come_from_the_name_else_the_file_stem(tmp_path):
    """Grading files without --gradebook: the README's hand-in name gives the id, any other
    name its stem made safe; files are named relative to the folder given."""
    folder = tmp_path / "subs"
    for name in ["05_assignment_s1.ipynb", "sub/06_assignment_mnist_s2.ipynb",
                 "Copy of 05_assignment.ipynb", "05_assignment_<b>.ipynb"]:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("{}")
    args = Namespace(submissions=[folder], layout="pattern", id_pattern=DEFAULT_PATTERN,
                     shard=None)
    found = {i.student: i.file_name for i in command._loose(args)}
    assert found == {"s1": "05_assignment_s1.ipynb", "s2": "sub/06_assignment_mnist_s2.ipynb",
                     "Copy_of_05_assignment": "Copy of 05_assignment.ipynb",
                     "05_assignment__b_": "05_assignment_<b>.ipynb"}
    with pytest.raises(ValueError, match="need --gradebook"):
        command._plan(Namespace(gradebook=None, regrade=["s1"], retry=[]), "x", "", "")
