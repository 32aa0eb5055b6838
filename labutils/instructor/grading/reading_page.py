"""The reading page of one submission: what the instructor reads to score the manual lines.

A self-contained HTML file (no network, no script: see html_page) with the student's answer
cells (the Part 1 protocol table and the report), their plots, the grader's automatic findings
and the manual rubric lines to score on the scoring sheet. `extract_answers` takes the answer
cells and PNG outputs out of an executed submission, given the release it was made from.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import nbformat

from labutils.instructor.assignment import ANSWER_PLACEHOLDER
from labutils.instructor.grading.html_page import (
    escaped,
    html_document,
    local_link,
    png_data_uri,
    safe_markdown,
    write_page,
)
from labutils.instructor.grading.scoring_sheet import manual_lines

MAX_FIGURES = 30
"""Pictures shown per page (a submission may print thousands)."""
MAX_PNG_BYTES = 5_000_000
"""Largest picture taken from a submission (bigger ones are left out, and the page says so)."""
MAX_ANSWER_CHARS = 50_000
"""Characters of one answer rendered (a longer one is cut, and the page says so)."""

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_EMPTY_TABLE_CELL = re.compile(r"^\s*\|.*\|[ \t]*\|")
_ATTACHMENT = re.compile(r"\(attachment:([^)\s]+)\)")


def reading_page(student: str, answers: Sequence[tuple[str, str]],
                 figures: Sequence[bytes | tuple[str, bytes]] = (),
                 findings: Sequence[tuple[str, str]] = (), rubric_lines: Iterable = (),
                 assignment: str = "Assignment", summary: str = "",
                 links: Sequence[tuple[str, str]] = ()) -> str:
    """The reading page as an HTML string. `answers`: (title, markdown) per answer cell ('' =
    not answered); `figures`: PNG bytes or (caption, PNG bytes); `findings`: (label, text) rows
    of the automatic grading; `rubric_lines`: the rubric (only its manual lines are listed);
    `links`: (label, relative path) to other pages, e.g. the previous and next student."""
    parts = [" | ".join(local_link(label, href) for label, href in links)] if links else []
    parts.append(f"<h1>{escaped(assignment)}: {escaped(student)}</h1>")
    if summary:
        parts.append(f'<p class="muted">{escaped(summary)}</p>')
    parts.append("<h2>Automatic findings</h2>")
    rows = "".join(f"<tr><th>{escaped(label)}</th><td>{escaped(value)}</td></tr>"
                   for label, value in findings)
    parts.append(f"<table>{rows}</table>" if rows else "<p>None.</p>")
    parts += _manual_table(rubric_lines)
    parts.append("<h2>Answers</h2>")
    parts += [_answer(title, body) for title, body in answers] or ["<p>No answer cells.</p>"]
    parts.append("<h2>Plots</h2>")
    parts += _figures(figures)
    return html_document(f"{assignment}: {student}", "\n".join(parts))


def write_reading_page(path: str | Path, student: str, answers: Sequence[tuple[str, str]],
                       figures: Sequence[bytes | tuple[str, bytes]] = (),
                       findings: Sequence[tuple[str, str]] = (), rubric_lines: Iterable = (),
                       assignment: str = "Assignment", summary: str = "",
                       links: Sequence[tuple[str, str]] = ()) -> Path:
    """Write `reading_page(...)` to `path` (UTF-8) and return the path."""
    return write_page(path, reading_page(student, answers, figures, findings, rubric_lines,
                                         assignment, summary, links))


def page_filename(student: str) -> str:
    """A file name for a student's page that is safe whatever the id holds (path separators,
    dots, quotes): the id's letters, digits and -_ plus a short hash that keeps ids apart."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", student).strip("_")[:40] or "student"
    return f"{slug}-{hashlib.sha256(student.encode()).hexdigest()[:8]}.html"


def navigation(students: Sequence[str], summary: str = "summary.html"
               ) -> dict[str, list[tuple[str, str]]]:
    """{student: links to the class summary and the previous and next student's page}, for
    pages written side by side in one folder as page_filename names them."""
    names = [page_filename(s) for s in students]
    links = {}
    for i, student in enumerate(students):
        links[student] = [("class summary", summary)]
        links[student] += [("previous", names[i - 1])] if i > 0 else []
        links[student] += [("next", names[i + 1])] if i + 1 < len(students) else []
    return links


def _manual_table(rubric_lines: Iterable) -> list[str]:
    lines = manual_lines(rubric_lines)
    if not lines:
        return []
    rows = "".join(f"<tr><th>{escaped(line.name)}</th><td>{line.points:g}</td>"
                   f"<td>{escaped(line.text)}</td><td class=\"fill\"></td></tr>" for line in lines)
    return ["<h2>To score by hand</h2>",
            '<p class="muted">Enter the points in the scoring sheet, column '
            "&ldquo;name (max N)&rdquo;.</p>",
            f"<table><tr><th>line</th><th>max</th><th>look for</th><th>points</th></tr>"
            f"{rows}</table>"]


def _answer(title: str, body: str) -> str:
    body = str(body)
    if not body.strip():
        return f'<h3>{escaped(title)}</h3>\n<p class="empty">Not answered.</p>'
    note = ""
    if len(body) > MAX_ANSWER_CHARS:
        note = (f'<p class="dropped">[cut: {len(body):,} characters, the first '
                f"{MAX_ANSWER_CHARS:,} shown]</p>")
        body = body[:MAX_ANSWER_CHARS]
    return f'<h3>{escaped(title)}</h3>\n<div class="answer">{safe_markdown(body)}</div>{note}'


def _figures(figures: Sequence[bytes | tuple[str, bytes]]) -> list[str]:
    out = []
    for number, item in enumerate(figures[:MAX_FIGURES], start=1):
        caption, png = item if isinstance(item, tuple) else (f"Figure {number}", item)
        try:
            uri = png_data_uri(png)
        except ValueError:
            out.append(f'<p class="dropped">{escaped(caption)}: not a PNG picture</p>')
            continue
        out.append(f'<figure><img class="plot" alt="{escaped(caption)}" src="{uri}">'
                   f"<figcaption>{escaped(caption)}</figcaption></figure>")
    if len(figures) > MAX_FIGURES:
        out.append(f'<p class="dropped">{len(figures) - MAX_FIGURES} more pictures not '
                   "shown.</p>")
    return out or ["<p>No plots.</p>"]


def _first_line(cell) -> str:
    return cell.source.strip().split("\n", 1)[0].strip()


def _is_answer(cell) -> bool:
    """A release cell the student fills in: it holds the answer placeholder, or is a table
    with empty cells (a form such as the Part 1 protocol)."""
    if cell.cell_type != "markdown":
        return False
    return ANSWER_PLACEHOLDER in cell.source or any(
        _EMPTY_TABLE_CELL.match(line) for line in cell.source.split("\n"))


def _titles(release: nbformat.NotebookNode) -> dict[int, str]:
    """{index of a release answer cell: its title from the headings (section: own heading)}."""
    titles, section = {}, "Before the first heading"
    for index, cell in enumerate(release.cells):
        heading = _HEADING.match(_first_line(cell)) if cell.cell_type == "markdown" else None
        own = heading.group(2) if heading else ""
        if heading and len(heading.group(1)) <= 2:
            section, own = own, ""
        if _is_answer(cell):
            titles[index] = f"{section}: {own}" if own else section
    return titles


def _find(cell, submission: nbformat.NotebookNode) -> int | None:
    """Where the release's `cell` is in the submission: the same cell id, else the only
    markdown cell with the same first line."""
    ids = [i for i, c in enumerate(submission.cells)
           if cell.get("id") and c.get("id") == cell.get("id") and c.cell_type == "markdown"]
    if len(ids) == 1:
        return ids[0]
    first = _first_line(cell)
    same = [i for i, c in enumerate(submission.cells)
            if c.cell_type == "markdown" and first and _first_line(c) == first]
    return same[0] if len(same) == 1 else None


def _student_text(release_cell, cells: list) -> str:
    """The student's text: their cells with the release's leading prompt lines removed; ''
    when nothing was changed (placeholder left, or the table as released)."""
    source = "\n\n".join(_with_attachments(c) for c in cells).strip()
    if source == release_cell.source.strip():
        return ""
    if ANSWER_PLACEHOLDER in release_cell.source:
        prompt = release_cell.source.split(ANSWER_PLACEHOLDER)[0].strip().split("\n")
        lines = source.split("\n")
        while lines and prompt and lines[0].strip() == prompt[0].strip():
            lines, prompt = lines[1:], prompt[1:]
        source = "\n".join(lines).replace(ANSWER_PLACEHOLDER, "").strip()
    return source


def _with_attachments(cell) -> str:
    """The cell's markdown with `attachment:NAME` pictures made data: URIs (PNG/JPEG only)."""
    attachments = cell.get("attachments") or {}

    def inline(match: re.Match) -> str:
        data = attachments.get(match.group(1)) or {}
        for mime in ("image/png", "image/jpeg"):
            if isinstance(data.get(mime), str):
                return f"(data:{mime};base64,{''.join(data[mime].split())})"
        return match.group(0)

    return _ATTACHMENT.sub(inline, cell.source)


def extract_answers(submission: nbformat.NotebookNode, release: nbformat.NotebookNode
                    ) -> tuple[list[tuple[str, str]], list[tuple[str, bytes]]]:
    """(answers, figures) of an executed submission: (title, student's markdown) for each
    answer cell of the release, with markdown cells the student added after it, and
    (caption, PNG bytes) for each picture the code cells show."""
    titles = _titles(release)
    found = {index: _find(release.cells[index], submission) for index in titles}
    starts = {_first_line(c) for c in release.cells if c.cell_type == "markdown"}
    answers = []
    for index, title in titles.items():
        at = found[index]
        if at is None:
            answers.append((title + " (cell not found: its first line was changed or the "
                            "cell deleted)", ""))
            continue
        cells = [submission.cells[at]]
        for cell in submission.cells[at + 1:]:
            if cell.cell_type != "markdown" or _first_line(cell) in starts:
                break
            cells.append(cell)
        answers.append((title, _student_text(release.cells[index], cells)))
    return answers, _pictures(submission)


def _pictures(submission: nbformat.NotebookNode) -> list[tuple[str, bytes]]:
    """(caption, PNG bytes) of the image/png outputs, captioned by section and code cell; a
    picture over MAX_PNG_BYTES is replaced by an empty one (the page names it)."""
    pictures, section, number = [], "", 0
    for cell in submission.cells:
        heading = _HEADING.match(_first_line(cell)) if cell.cell_type == "markdown" else None
        if heading and len(heading.group(1)) <= 2:
            section = heading.group(2)[:80]
        if cell.cell_type != "code":
            continue
        number += 1
        for output in cell.get("outputs", []):
            data = output.get("data", {}).get("image/png") if isinstance(output, dict) else None
            if isinstance(data, list):
                data = "".join(data)
            if not isinstance(data, str):
                continue
            caption = f"{section}, code cell {number}".lstrip(", ")
            if len(data) > MAX_PNG_BYTES * 4 // 3 + 4:
                pictures.append((f"{caption} (picture over {MAX_PNG_BYTES:,} bytes)", b""))
                continue
            try:
                pictures.append((caption, base64.b64decode(data, validate=False)))
            except (binascii.Error, ValueError):
                continue
    return pictures


__all__ = ["extract_answers", "navigation", "page_filename", "reading_page",
           "write_reading_page"]
