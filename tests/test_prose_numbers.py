"""Every number in a lesson's prose is printed by that notebook or read from a shipped file.

For each lesson (notebooks/0[1-4]_*.ipynb) the markdown is searched for *checked numbers*: every
decimal (0.961, 1.7, 97.5%) and every integer with three or more significant digits (784, 1234,
not 60,000 nor 50). Each must be *backed*: equal, after rounding to the digits the prose shows, to a
number in the same notebook's text outputs or code, or in a shipped file that the same markdown
cell names (a path under labutils/, not labutils/instructor/, or data/; benchmarks/ does not
ship). A percentage is also backed by its fraction (95.9% by 0.9588).

Not checked numbers: section and version numbers ("section 3.2", "Python 3.11", a heading's
leading "2.1"), numbers after lesson/part/exercise/step/equation/figure/table/cell, years
(1900-2099), time budgets ("~10 min", "2 hours"), numbers inside code spans, code blocks, URLs and
embedded pictures.

What this cannot check (read those sentences yourself):
- numbers with one or two significant digits ("18 times", "10 to 14 times", "5 epochs", "0 errors"
  are decimals only when written with a point), and numbers written as words ("three decimals");
- claims *about* numbers: "to three decimals", "falls below the noise", "about twice as fast";
- whether the backing number is the one the sentence means: any output or shipped number that
  rounds to it counts, even an unrelated one; signs and units are ignored;
- numbers shown only in pictures, and numbers from other notebooks (they do not back a lesson).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
LESSONS = sorted((REPO / "notebooks").glob("0[1-4]_*.ipynb"))

NUMBER = re.compile(r"(?<![\w.,^_{-])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?![\d]|\.\d|,\d{3})")
ANY_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
POWER_AFTER = re.compile(r"^\s*(?:\\times|×|·|\\cdot)\s*10\^\{?([-−]?\d+)\}?")
"""A prose number in scientific form: 6.2 \\times 10^{-5}."""
NOT_PROSE = [
    re.compile(r"```.*?```", re.S),  # code blocks
    re.compile(r"`[^`\n]*`"),  # code spans
    re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=]+"),  # embedded pictures
    re.compile(r"\]\([^)]*\)"),  # link and picture targets
    re.compile(r"https?://\S+"),  # bare URLs
    re.compile(r"<[^>]+>"),  # HTML tags (their text stays)
    re.compile(r"^#+\s*[\d.]+", re.M),  # a heading's section number
]
LABEL_BEFORE = re.compile(
    r"(?:section|sections|§|lesson|lessons|part|parts|exercise|exercises|step|steps|chapter|"
    r"figure|fig\.|table|eq\.|equation|equations|cell|cells|appendix|python|pytorch|torch|"
    r"torchvision|version|versions|numpy|try)\s*\(?\s*$", re.I)
TIME_AFTER = re.compile(r"^\s*(?:min|mins|minutes|hours?|h)\b", re.I)


@dataclass(frozen=True)
class Claim:
    """A checked number in a lesson's markdown: its text, value, decimals, and where it is."""

    text: str
    value: float
    decimals: int
    percent: bool
    power: int
    cell: int
    context: str


def prose(source: str) -> str:
    """A markdown cell's text without code, URLs, pictures and HTML tags."""
    for pattern in NOT_PROSE:
        source = pattern.sub(" ", source)
    return source


def claims_in(source: str, cell: int) -> list[Claim]:
    """The numbers of one markdown cell that must be backed (see the module docstring)."""
    text = prose(source)
    found = []
    for match in NUMBER.finditer(text):
        whole, fraction = match.group(1).replace(",", ""), match.group(2) or ""
        before, after = text[max(0, match.start() - 25):match.start()], text[match.end():]
        significant = len(whole.strip("0"))
        if not fraction and (significant < 3 or (len(whole) == 4 and 1900 <= int(whole) < 2100)):
            continue
        if LABEL_BEFORE.search(before) or TIME_AFTER.match(after):
            continue
        context = " ".join(text[max(0, match.start() - 50):match.end() + 30].split())
        power = POWER_AFTER.match(after)
        found.append(Claim(match.group(0), float(whole + fraction), max(len(fraction) - 1, 0),
                           after.startswith("%"), int(power.group(1).replace("−", "-"))
                           if power else 0, cell, context))
    return found


def numbers_in(text: str) -> set[float]:
    """Every number written in `text` (signs dropped)."""
    tokens = ANY_NUMBER.findall(text)
    tokens += [part for token in tokens if "," in token for part in token.split(",")]
    return {float(token.replace(",", "")) for token in tokens}


def output_text(cell: nbformat.NotebookNode) -> str:
    """What a code cell printed or displayed as text."""
    parts = []
    for output in cell.get("outputs", []):
        parts.append(output.get("text", ""))
        for kind in ("text/plain", "text/markdown", "text/html", "text/latex"):
            parts.append(str(output.get("data", {}).get(kind, "")))
    return "\n".join(parts)


CITED_FILE = re.compile(r"[\w./-]+\.(?:py|md|csv|json|txt)\b")
SHIPPED = ("labutils/", "data/")
"""Where the files the student release ships (and a lesson may cite) live; not instructor/."""


@functools.cache
def file_numbers(relpath: str) -> frozenset[float]:
    """The numbers written in a shipped file (empty when it is not shipped or does not exist)."""
    path = REPO / relpath
    if not relpath.startswith(SHIPPED) or "instructor" in path.parts or not path.is_file():
        return frozenset()
    return frozenset(numbers_in(path.read_text(errors="replace")))


def cited_numbers(source: str) -> set[float]:
    """Numbers in the shipped files a markdown cell names (e.g. `labutils/training.py`)."""
    names = {name.removeprefix("../").removeprefix("./") for name in CITED_FILE.findall(source)}
    return set().union(*(file_numbers(name) for name in names))


def backs(claim: Claim, values: set[float]) -> bool:
    """Whether a number rounds to the claim at the claim's own precision (a percentage also from
    its fraction, a number written as m x 10^p from its value)."""
    scales = [10.0 ** claim.power] + ([0.01] if claim.percent else [])
    half = 0.5 * 10.0 ** -claim.decimals + 1e-9
    return any(abs(value / scale - claim.value) <= half for scale in scales for value in values)


def unbacked_claims(path: Path) -> list[str]:
    """'cell N: NUMBER in "...context..."' for each checked number nothing backs."""
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    printed = numbers_in("\n".join(output_text(c) + "\n" + c.source for c in code))
    return [f'{path.name} cell {claim.cell}: {claim.text} in "...{claim.context}..."'
            for index, cell in enumerate(nb.cells) if cell.cell_type == "markdown"
            for claim in claims_in(cell.source, index)
            if not backs(claim, printed | cited_numbers(cell.source))]


def test_the_lessons_are_found():
    assert [p.name[:2] for p in LESSONS] == ["01", "02", "03", "04"]


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_every_number_in_the_prose_is_printed_or_shipped(path):
    problems = unbacked_claims(path)
    assert problems == [], (
        "numbers in the prose that no output of this notebook and no shipped file shows "
        "(print them, or cite the file that holds them):\n" + "\n".join(problems))


def test_which_numbers_are_checked():
    source = ("## 2.1 Setup (~10 min)\nIn 1986 the 784 inputs of 60,000 images reached 0.961 "
              "after 5 epochs, 97.5% in section 3.2 with Python 3.11, in 31 s and `lr=0.125`, "
              "see [eq. 4](https://x.org/a/1234.5) and ![p](data:image/png;base64,AB12.345/9)")
    assert [c.text for c in claims_in(source, 0)] == ["784", "0.961", "97.5"]


def test_rounding_and_percentages_back_a_number_but_a_stale_one_fails():
    printed = numbers_in("epoch 5: test accuracy 0.9588\nloss 0.8414 and 34.1 s")
    checked = {c.text: backs(c, printed)
               for c in claims_in("It reached 0.959, 95.9%, 0.96 and 0.961; 34 s, 0.842.", 0)}
    assert checked == {"0.959": True, "95.9": True, "0.96": True, "0.961": False, "0.842": False}


def test_scientific_numbers_and_thousands_separators():
    printed = numbers_in("epoch 100 6.2e-05; along it, 12,500 steps")
    claims = claims_in("the rate shrinks to $6.2 \\times 10^{-5}$ after 12,500 steps; 6.3", 0)
    assert [(c.text, backs(c, printed)) for c in claims] == [
        ("6.2", True), ("12,500", True), ("6.3", False)]


def test_a_shipped_file_backs_only_the_cell_that_names_it():
    named = cited_numbers("the constants live in `labutils/data.py`")
    assert numbers_in((REPO / "labutils" / "data.py").read_text()) == named and 0.1307 in named
    assert cited_numbers("see benchmarks/results.md") == set()  # not shipped to students
    assert cited_numbers("see labutils/instructor/engine.py") == set()
    assert cited_numbers("no file named here") == set()
