"""Comparing: the outputs a student stored against the grader's re-run, and the report text.

Stored outputs count only as evidence that the notebook was run as submitted; no grade is read
from them (see replay.py for what is judged).
"""

from __future__ import annotations

import math
import re

import nbformat

from labutils.instructor.assignment import ANSWER_PLACEHOLDER

_VOLATILE = [
    (re.compile(r"0x[0-9a-fA-F]+"), "0xADDRESS"),
    (re.compile(r"\S*ipykernel_\d+[/\\]\d+\.py"), "<cell>"),
    (re.compile(r"\[\d+:\d+<[^\]]*\]"), "[TIME]"),
    (re.compile(r"\x1b\[[0-9;]*m"), ""),
    (re.compile(r"/tmp/[\w./-]*"), "<tmp>"),
]
_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def output_text(cell: nbformat.NotebookNode) -> str:
    """What of a cell's outputs is compared: stdout, text results, errors (not stderr, images)."""
    parts = []
    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        if kind == "stream" and output.get("name") == "stdout":
            parts.append(output.get("text", ""))
        elif kind in ("execute_result", "display_data"):
            data = output.get("data", {})
            if any(key.startswith("image/") for key in data):
                continue  # a figure; its text is a version-dependent "<Figure size ...>"
            if "text/plain" in data:
                parts.append(data["text/plain"] + "\n")
        elif kind == "error":
            parts.append(f"{output.get('ename', '')}: {output.get('evalue', '')}\n")
    text = "".join(parts).replace("\r\n", "\n")
    for pattern, replacement in _VOLATILE:
        text = pattern.sub(replacement, text)
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


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
        unit = max(_last_digit_unit(a), _last_digit_unit(b))
        if not math.isclose(float(a), float(b), rel_tol=0, abs_tol=1.5 * unit):
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

    Counts markdown cells that are not verbatim release cells, without HTML comments and the
    placeholder; so added cells count too.
    """
    given = {cell.source.strip() for cell in release.cells if cell.cell_type == "markdown"}
    words = 0
    unfilled = 0
    for cell in submission.cells:
        if cell.cell_type != "markdown":
            continue
        unfilled += cell.source.count(ANSWER_PLACEHOLDER)
        if cell.source.strip() in given:
            continue
        text = re.sub(r"<!--.*?-->", " ", cell.source, flags=re.DOTALL)
        text = text.replace(ANSWER_PLACEHOLDER, " ")
        for line in given_lines(release):
            text = text.replace(line, " ")
        words += len(re.findall(r"[^\W_][\w'’-]*", text))
    return words, unfilled


def given_lines(release: nbformat.NotebookNode) -> list[str]:
    """Non-trivial lines of the release's answer cells (question text the student kept)."""
    lines = []
    for cell in release.cells:
        if cell.cell_type == "markdown" and ANSWER_PLACEHOLDER in cell.source:
            lines += [line for line in cell.source.split("\n")
                      if len(line.strip()) > 3 and ANSWER_PLACEHOLDER not in line]
    return lines
