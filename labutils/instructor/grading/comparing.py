"""Comparing: the outputs a student stored against the grader's re-run, and the report text.

Stored outputs count only as evidence that the notebook was run as submitted; no grade is read
from them (see replay.py for what is judged). Everything here reads student text, so it is
bounded: output text is cut to MAX_COMPARED_CHARS before any pattern runs, and every pattern
is linear in the text (no unbounded repetition that can restart at every position).
"""

from __future__ import annotations

import math
import re

import nbformat

from labutils.instructor.assignment import ANSWER_PLACEHOLDER

MAX_COMPARED_CHARS = 512 * 1024
"""Output text compared per cell; the rest is cut and noted. The grader's own run keeps at most
256 KB of output per cell, so a longer stored output could not be reproduced anyway."""

_VOLATILE = [
    (re.compile(r"0x[0-9a-fA-F]+"), "0xADDRESS"),
    # a path ending in the kernel's temporary cell file; anchored at the start of its run of
    # non-blanks, so a long run without one is scanned once, not once per character
    (re.compile(r"(?<!\S)\S*ipykernel_\d+[/\\]\d+\.py"), "<cell>"),
    (re.compile(r"\[\d{1,9}:\d{1,9}(?::\d{1,9})?<[^\[\]\n]{0,200}\]"), "[TIME]"),  # tqdm
    (re.compile(r"\x1b\[[0-9;]{0,32}m"), ""),
    (re.compile(r"/tmp/[\w./-]*"), "<tmp>"),
]
_URL = re.compile(r"[a-z][a-z0-9+.-]{0,20}://[^\s()<>\[\]]*", re.IGNORECASE)
"""A link's address (badges and setup cells point at different copies of the course)."""
_WORD = re.compile(r"[^\W_][\w'’-]*")
_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def output_text(cell: nbformat.NotebookNode) -> str:
    """What of a cell's outputs is compared: stdout, text results, errors (not stderr, images)."""
    parts, size = [], 0
    outputs = cell.get("outputs")
    for output in outputs if isinstance(outputs, list) else []:
        if size > MAX_COMPARED_CHARS:
            break
        part = _output_part(output) if isinstance(output, dict) else ""
        parts.append(part)
        size += len(part)
    text = "".join(parts)
    if len(text) > MAX_COMPARED_CHARS:
        text = (text[:MAX_COMPARED_CHARS]
                + f"\n[output cut by the grader after {MAX_COMPARED_CHARS} characters]")
    text = text.replace("\r\n", "\n")
    for pattern, replacement in _VOLATILE:
        text = pattern.sub(replacement, text)
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


def _output_part(output: dict) -> str:
    kind = output.get("output_type")
    if kind == "stream" and output.get("name") == "stdout":
        return _text(output.get("text"))
    if kind in ("execute_result", "display_data"):
        data = output.get("data")
        if not isinstance(data, dict) or any(str(key).startswith("image/") for key in data):
            return ""  # a figure; its text is a version-dependent "<Figure size ...>"
        return _text(data["text/plain"]) + "\n" if "text/plain" in data else ""
    if kind == "error":
        return f"{_text(output.get('ename'))}: {_text(output.get('evalue'))}\n"
    return ""


def _text(value: object) -> str:
    """A text field as nbformat stores it (a string, or a list of lines); else nothing."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(line, str) for line in value):
        return "".join(value)
    return ""


def same_output(stored: str, fresh: str) -> bool:
    """Equal texts, except printed decimals may differ by one unit in their last digit."""
    if stored == fresh:
        return True
    if _NUMBER.sub("#", stored) != _NUMBER.sub("#", fresh):
        return False
    for a, b in zip(_NUMBER.findall(stored), _NUMBER.findall(fresh), strict=True):
        if a == b:
            continue
        if not any(c in a + b for c in ".eE"):
            return False  # integers (sweeps, counts) must match exactly
        try:
            unit = max(_last_digit_unit(a), _last_digit_unit(b))
            if not math.isclose(float(a), float(b), rel_tol=0, abs_tol=1.5 * unit):
                return False
        except (ValueError, OverflowError):  # an exponent too long or too large for a float
            return False
    return True


def _last_digit_unit(number: str) -> float:
    mantissa, _, exponent = number.lower().partition("e")
    decimals = len(mantissa.split(".", 1)[1]) if "." in mantissa else 0
    return 10.0 ** (int(exponent or 0) - decimals)


def first_difference(stored: str, fresh: str) -> str:
    """A one-line hint of where two output texts part ways."""
    a, b = stored.split("\n"), fresh.split("\n")
    for line_a, line_b in zip(a, b, strict=False):
        if line_a != line_b:
            return f"stored {line_a[:60]!r}, re-run {line_b[:60]!r}"
    if len(a) != len(b):
        return f"stored {len(a)} lines, re-run {len(b)} lines"
    return "outputs differ"


def report_words(
    submission: nbformat.NotebookNode, release: nbformat.NotebookNode
) -> tuple[int, int]:
    """(words the student wrote in markdown, answer placeholders still unfilled).

    Each markdown line of the submission is compared with the lines of the release's markdown
    cells, links left out (a badge or setup URL differs between the instructor's copy and a
    published release): a release line counts no words, any other line counts its own, so
    added cells count too; HTML comments and the placeholder count none.
    """
    given = {_plain_line(line) for cell in release.cells if cell.cell_type == "markdown"
             for line in without_html_comments(cell.source).split("\n")}
    words = 0
    unfilled = 0
    for cell in submission.cells:
        if cell.cell_type != "markdown":
            continue
        unfilled += cell.source.count(ANSWER_PLACEHOLDER)
        text = without_html_comments(cell.source).replace(ANSWER_PLACEHOLDER, " ")
        for line in text.split("\n"):
            plain = _plain_line(line)
            if plain not in given:
                words += len(_WORD.findall(plain))
    return words, unfilled


def _plain_line(line: str) -> str:
    """A markdown line without its links' addresses, blanks collapsed (linear in the line)."""
    return " ".join(_URL.sub(" ", line).split())


def without_html_comments(text: str) -> str:
    """`text` with each `<!-- ... -->` made a blank (one pass: an unclosed one is kept as text,
    as the pattern `<!--.*?-->` would, without rescanning the rest from every opening)."""
    parts, start = [], 0
    while (opening := text.find("<!--", start)) != -1:
        closing = text.find("-->", opening + 4)
        if closing == -1:
            break
        parts.append(text[start:opening])
        start = closing + 3
    parts.append(text[start:])
    return " ".join(parts)
