"""`--shard K/N` splits a batch into N disjoint parts that depend on each student's id alone;
`merge` combines the shards' gradebooks, refuses shards graded under another release or rubric
and students graded twice, and can be repeated without duplicating a row."""

from __future__ import annotations

from pathlib import Path

import pytest

from labutils.instructor.grading.gradebook import Gradebook, GradebookError
from labutils.instructor.grading.shards import (
    MergeConflict,
    merge,
    parse_shard,
    select,
    shard_of,
)

KEY = ("05_assignment", "release-sha", "rubric-sha")
STUDENTS = [f"2023{i:04d}" for i in range(200)]


def shard_book(path: Path, students: list[str], key=KEY, total: float = 7) -> Path:
    with Gradebook.open(path) as book:
        run = book.start_run(*key, {"shard": path.stem})
        for student in students:
            book.record(run, student, f"05_assignment_{student}.ipynb", f"h{student}", "graded",
                        total, {"total": str(total)})
    return path


@pytest.mark.parametrize("text,expected", [("1/1", (1, 1)), ("3/8", (3, 8)), (" 2 / 4 ", (2, 4))])
def test_parse_shard(text, expected):
    assert parse_shard(text) == expected


@pytest.mark.parametrize("text", ["0/4", "5/4", "1/0", "1", "a/b", "-1/4", "1/4/2", ""])
def test_parse_shard_refuses_with_the_form(text):
    with pytest.raises(GradebookError, match="write K/N with 1 <= K <= N"):
        parse_shard(text)


def test_shards_partition_the_batch_and_do_not_move():
    parts = [select(STUDENTS, (k, 4), student=str) for k in range(1, 5)]
    assert sorted(s for part in parts for s in part) == sorted(STUDENTS)  # each exactly once
    assert all(20 <= len(part) <= 80 for part in parts)  # roughly even
    late = select([*STUDENTS, "late1", "late2"], "2/4", student=str)
    assert [s for s in late if s in STUDENTS] == parts[1]  # new students move nobody
    assert [shard_of(s, 4) for s in STUDENTS[:5]] == [shard_of(s, 4) for s in STUDENTS[:5]]


def test_merge_combines_shards_and_can_be_repeated(tmp_path):
    shards = [shard_book(tmp_path / f"shard{k}.db", select(STUDENTS, (k, 3), student=str))
              for k in (1, 2, 3)]
    with Gradebook.open(shards[0]) as book:
        book.record_manual(select(STUDENTS, (1, 3), student=str)[0], "report", 2, "", "TA")
    report = merge(shards, tmp_path / "all.db")
    assert (report.runs, report.rows, report.manual) == (3, 200, 1)
    again = merge(shards, tmp_path / "all.db")
    assert (again.runs, again.rows, len(again.skipped_runs)) == (0, 0, 3)
    with Gradebook.open(tmp_path / "all.db") as book:
        current = book.current()
        assert sorted(c["student"] for c in current) == STUDENTS
        assert sum(c["final"] for c in current) == 7 * 200 + 2
        assert len(book.query("SELECT id FROM rows")) == 200  # nothing twice
        assert len(book.query("SELECT id FROM manual_scores")) == 1


def test_merge_conflict_is_reported_and_nothing_merged(tmp_path):
    one = shard_book(tmp_path / "one.db", ["s1", "s2"], total=7)
    two = shard_book(tmp_path / "two.db", ["s2", "s3"], total=9)
    with pytest.raises(MergeConflict, match="s2: .*one.db and .*two.db") as err:
        merge([one, two], tmp_path / "all.db")
    assert "nothing merged" in str(err.value)
    with Gradebook.open(tmp_path / "all.db") as book:
        assert book.current() == [] and book.runs() == []


def test_merge_refuses_another_release_or_rubric(tmp_path):
    one = shard_book(tmp_path / "one.db", ["s1"])
    two = shard_book(tmp_path / "two.db", ["s2"], key=(KEY[0], KEY[1], "other-rubric"))
    with pytest.raises(GradebookError, match="different assignments, releases or rubrics"):
        merge([one, two], tmp_path / "all.db")
    with pytest.raises(GradebookError, match="also a shard"):
        merge([one], one)
    with pytest.raises(GradebookError, match="does not exist"):
        merge([tmp_path / "missing.db"], tmp_path / "all.db")


def test_regrade_after_merge_keeps_history(tmp_path):
    merge([shard_book(tmp_path / "one.db", ["s1", "s2"])], tmp_path / "all.db")
    with Gradebook.open(tmp_path / "all.db") as book:
        (run,) = [r["id"] for r in book.runs()]
        assert book.todo([("s1", "hs1"), ("s2", "hs2")], run) == []
        rerun = book.start_run(*KEY)
        book.record(rerun, "s1", "05_assignment_s1.ipynb", "hs1", "graded", 10, {})
        assert [r["total"] for r in book.history("s1")["rows"]] == [7, 10]


def test_to_grade_is_this_shards_new_or_changed_work(tmp_path):
    from labutils.instructor.grading.identity import Identified
    from labutils.instructor.grading.shards import to_grade

    found = [Identified(s, Path(f"05_assignment_{s}.ipynb"), f"05_assignment_{s}.ipynb",
                        f"h{s}") for s in STUDENTS[:40]]
    mine = select(found, (2, 2))
    with Gradebook.open(tmp_path / "shard2.db") as book:
        run = book.start_run(*KEY)
        assert to_grade(book, found, run, "2/2") == mine
        book.record(run, mine[0].student, mine[0].file_name, mine[0].sha256, "graded", 1, {})
        rerun = book.start_run(*KEY)
        assert to_grade(book, found, rerun, (2, 2)) == mine[1:]
        assert to_grade(book, found, rerun, (2, 2), regrade={mine[0].student}) == mine
        with pytest.raises(GradebookError, match="no submission in this batch shard"):
            to_grade(book, found, rerun, (2, 2), regrade={"nobody"})
