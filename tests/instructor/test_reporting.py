"""The printed table and the CSV hold plain, bounded, one-line text whatever a student wrote:
no control, bidi or line-separator character, no terminal markup, no formula."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from labutils.instructor.grading.reporting import (
    MAX_CSV_CHARS,
    Grade,
    format_grade,
    one_line,
    spreadsheet_safe,
    summary_table,
    write_csv,
)

UNSAFE = ["\x00", "\t", "\n", "\r", "\x0b", "\x0c", "\x1b", "\x1c", "\x7f", "\x80", "\x85",
          "\x9b", "\x9f", "\u061c", "\u200e", "\u200f", "\u202a", "\u202d", "\u202e", "\u2066",
          "\u2069", "\u2028", "\u2029"]
"""C0 and C1 controls (NEL U+0085, CSI U+009B...), bidi marks and overrides, line separators."""

KEYS = {"sha256", "sandbox", "total", "runs top to bottom", "stopped", "errors",
        "outputs reproduced", "ignored (release)", "skipped (release)", "check cells",
        "self-checks (feedback)", "replay", "sweeps", "finding", "information", "diagnosis",
        "data", "report", "note", "status"}
"""The keys format_grade prints (a forged row would show another)."""

WORKER_TAIL = ("grading worker failed (exit 1): Traceback | \x1b[2J\x1b]0;title\x07"
               "\x85  total                   10/10 (runs 1/1)\u2028  replay  matches\r\n"
               "\u202e01/01 \u2066=HYPERLINK(\"http://x\")" + "x" * 200_000)
"""What a failed worker's log tail could hold if a submission wrote into it."""


def unsafe_in(text: str, rows: bool = False) -> list[str]:
    """The unsafe characters in `text` (with `rows`: besides the newlines between rows)."""
    return [repr(c) for c in UNSAFE if c in (text.replace("\n", " ") if rows else text)]


@pytest.mark.parametrize("char", UNSAFE, ids=[f"U+{ord(c):04X}" for c in UNSAFE])
def test_every_control_and_bidi_character_becomes_a_blank(char):
    assert spreadsheet_safe(f"cell 2{char}ok") == "cell 2 ok"
    assert one_line(f"cell 2{char}{char}ok") == "cell 2 ok"


@pytest.mark.parametrize("value", [
    "=1+2", "+1", "-1", "@SUM(A1)", " =1+2", "\t=cmd|' /C calc'!A0", "\r\n+1", "\x85=1",
    "\u202e=1", "\u00a0\u3000=1", "\uff1d1+2", "\uff20SUM(A1)",
])
def test_a_formula_gets_a_quote_whatever_leads_it(value):
    safe = spreadsheet_safe(value)
    assert safe.startswith("'") and not unsafe_in(safe)


def test_plain_values_are_unchanged():
    for value in ("cell 2: ok", "matches", "1425", "restored: answer edited"):
        assert spreadsheet_safe(value) == value == one_line(value)


def test_a_failed_workers_tail_is_one_bounded_plain_row():
    grade = Grade(Path("subs/ev\u202eil\x85.ipynb"), sha256="ab", problem=WORKER_TAIL)
    printed = format_grade(grade)
    assert not unsafe_in(printed, rows=True)
    assert "\x1b" not in printed and "[2J" not in printed and "title" not in printed
    lines = printed.splitlines()  # splits at NEL, U+2028, \x1c-\x1e too
    assert lines[0].startswith("== ") and all(line.startswith("  ") for line in lines[1:])
    assert {line[2:24].strip() for line in lines[1:]} <= KEYS
    assert max(len(line) for line in lines) < 700
    assert printed.count("total") == 2  # its own row and the quoted text, on one line


def test_the_csv_holds_one_bounded_row_per_grade(tmp_path):
    grades = [Grade(Path("=evil\u2028name.ipynb"), problem=WORKER_TAIL,
                    notes=["\x85" * 10, "- note"]),
              Grade(Path("good.ipynb"))]
    path = write_csv(grades, tmp_path / "grades.csv")
    raw = path.read_text(encoding="utf-8")
    assert not unsafe_in(raw.replace("\r\n", "\n"), rows=True)
    assert raw.count("\n") == 3  # header and two rows
    rows = list(csv.DictReader(path.open(newline="", encoding="utf-8")))
    assert len(rows) == 2 and rows[0]["submission"].startswith("'=evil")
    assert all(len(value) <= MAX_CSV_CHARS + 1 for row in rows for value in row.values())
    assert rows[0]["problem"].endswith("...")


def test_the_summary_table_has_one_line_per_grade():
    grades = [Grade(Path("a\x85b\u2028c.ipynb"), status="timed\x85out"),
              Grade(Path("plain.ipynb"))]
    table = summary_table(grades)
    assert len(table.splitlines()) == 3 and not unsafe_in(table, rows=True)
