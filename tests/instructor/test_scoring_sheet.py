"""Scoring sheets: written injection-safe, read back with errors that name the row and the fix."""

from __future__ import annotations

import csv
from types import SimpleNamespace

import pytest

from labutils.instructor.grading import scoring_sheet
from labutils.instructor.grading.plugin import RubricLine, load_assignment
from labutils.instructor.grading.scoring_sheet import (
    ScoringSheetError,
    SheetRow,
    final_points,
    manual_lines,
    read_scores,
    write_scoring_sheet,
)

RUBRIC = [SimpleNamespace(name="runs", points=1, kind="auto", text=""),
          SimpleNamespace(name="protocol", points=3, kind="manual", text="Part 1"),
          SimpleNamespace(name="report", points=4, kind="manual", text="the report"),
          SimpleNamespace(name="paper_reason", points=0, kind="info", text="")]
STUDENTS = ["alice", '=HYPERLINK("http://x","y")', 'bob <b>"x"=1', "-2+3"]


def _rows(path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def _fill(path, cells: dict[tuple[int, int], str]) -> None:
    rows = _rows(path)
    for (row, column), value in cells.items():
        rows[row][column] = value
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)


def test_manual_lines_from_objects_mappings_and_tuples():
    assert manual_lines(RUBRIC) == [RubricLine("protocol", 3, "manual", "Part 1"),
                                    RubricLine("report", 4, "manual", "the report")]
    assert manual_lines([{"name": "a", "points": 2}, ("b", 1.5, "t")]) == [
        RubricLine("a", 2, "manual", ""), RubricLine("b", 1.5, "manual", "t")]
    with pytest.raises(ValueError, match="unique names"):
        manual_lines([("a", 1), ("a", 2)])


def test_one_model_of_a_rubric_line_the_plugins():
    rubric = load_assignment("rhw1986").rubric
    assert not hasattr(scoring_sheet, "RubricLine") or scoring_sheet.RubricLine is RubricLine
    assert manual_lines(rubric.lines) == rubric.of_kind("manual")
    assert all(type(line) is RubricLine for line in manual_lines(rubric.lines))


def test_sheet_is_injection_safe_and_reads_back(tmp_path):
    path = write_scoring_sheet(tmp_path / "scores.csv", STUDENTS, RUBRIC)
    rows = _rows(path)
    assert rows[0] == ["student", "protocol (max 3)", "report (max 4)", "note"]
    assert [r[0] for r in rows[1:]] == ["alice", "'=HYPERLINK(\"http://x\",\"y\")",
                                        'bob <b>"x"=1', "'-2+3"]
    assert all(r[1:] == ["", "", ""] for r in rows[1:])
    _fill(path, {(1, 1): "2.5", (2, 2): "4", (2, 3): "=cmd|' /C calc'!A0", (4, 1): "1,5"})
    scores = read_scores(path, RUBRIC, STUDENTS)
    assert list(scores) == STUDENTS and scores[STUDENTS[2]].points == {}
    assert scores["alice"].points == {"protocol": 2.5}
    assert scores[STUDENTS[1]].points == {"report": 4.0}
    assert scores["-2+3"].points == {"protocol": 1.5}


def test_rewriting_keeps_scores_and_adds_new_students(tmp_path):
    path = write_scoring_sheet(tmp_path / "scores.csv", STUDENTS[:2], RUBRIC)
    _fill(path, {(1, 1): "3", (1, 3): "good table"})
    write_scoring_sheet(path, ["carol", *STUDENTS[:2]], RUBRIC)
    scores = read_scores(path, RUBRIC, ["carol", *STUDENTS[:2]])
    assert [r[0] for r in _rows(path)[1:]] == ["alice", "'" + STUDENTS[1], "carol"]
    assert scores["alice"].points == {"protocol": 3.0} and scores["alice"].note == "good table"


@pytest.mark.parametrize("cells, message", [
    ({(1, 1): "5"}, r"row 2, column 'protocol \(max 3\)': 5 points is outside 0 to 3"),
    ({(2, 2): "-1"}, r"row 3, column 'report \(max 4\)': -1 points is outside 0 to 4"),
    ({(1, 1): "three"}, r"row 2.*'three' is not a number; enter points from 0 to 3"),
    ({(1, 1): "nan"}, r"'nan' is not a number"),
    ({(3, 0): "mallory"}, r"row 4: unknown student 'mallory' \(not in this batch\)"),
    ({(3, 0): "alice"}, r"row 4: student 'alice' appears twice; keep one row"),
    ({(0, 2): "report (max 5)"}, r"row 1 \(header\): column 3 is 'report \(max 5\)', "
                                 r"expected 'report \(max 4\)'.*write a new sheet"),
])
def test_bad_sheets_name_row_and_fix(tmp_path, cells, message):
    path = write_scoring_sheet(tmp_path / "scores.csv", STUDENTS, RUBRIC)
    _fill(path, cells)
    with pytest.raises(ScoringSheetError, match=message):
        read_scores(path, RUBRIC, STUDENTS)


def test_a_changed_rubric_refuses_the_old_sheet(tmp_path):
    path = write_scoring_sheet(tmp_path / "scores.csv", STUDENTS, RUBRIC)
    with pytest.raises(ScoringSheetError, match="column 4 is 'note', expected 'extra"):
        read_scores(path, [*RUBRIC, ("extra", 2)])
    with pytest.raises(ScoringSheetError, match="no such scoring sheet"):
        read_scores(tmp_path / "missing.csv", RUBRIC)


def test_sheet_saved_by_a_spreadsheet_with_semicolons_and_bom(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_text("\ufeffstudent;protocol (max 3);report (max 4);note\r\nalice;2,5;;ok\r\n",
                    encoding="utf-8")
    scores = read_scores(path, RUBRIC, ["alice"])
    assert scores["alice"].points == {"protocol": 2.5} and scores["alice"].note == "ok"


def test_final_points_combine_automatic_and_hand_scores():
    auto = {"runs": 1, "paper_reason": 1, "protocol": 3}  # the grader cannot score by hand
    assert final_points(auto, SheetRow({"report": 2.5}), RUBRIC) == (
        {"runs": 1.0, "protocol": 0.0, "report": 2.5}, ["protocol"])
    assert final_points({}, None, RUBRIC) == ({"runs": 0.0, "protocol": 0.0, "report": 0.0},
                                              ["protocol", "report"])
