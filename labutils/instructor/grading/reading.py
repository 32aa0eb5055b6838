"""Reading: every input read and hashed before anything runs, the reference release, and the
notebook the grader executes (check cells restored, markers honoured only where the release
cell has them, the grader's collection cell appended).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from labutils.instructor.assignment import (
    ANSWER_PLACEHOLDER,
    check_cells,
    check_name,
    load_release,
    source_checksum,
)
from labutils.instructor.course.badges import SETUP_MARKER
from labutils.instructor.grading.collecting import NO_COLLECTION
from labutils.instructor.grading.sandbox import instructor_repository

MAX_SUBMISSION_BYTES = 64 * 2**20
"""Larger files are not read (a notebook with outputs is a few MB)."""

IGNORE_OUTPUT_TAGS = {"nbval-ignore-output", "volatile-output"}
SKIP_TAGS = {"nbval-skip", "skip-execution"}
IGNORE_OUTPUT_LINES = {"# NBVAL_IGNORE_OUTPUT"}
SKIP_LINES = {"# NBVAL_SKIP"}
MARKER_PREFIX = "# NBVAL_"
SETUP_PREFIX = (SETUP_MARKER, "# Colab setup")
"""First lines of the release's Colab setup cell, today's and older (its output depends on the
machine)."""

class SubmissionError(ValueError):
    """A submission that cannot be graded at all (missing, not a notebook, unknown format)."""


@dataclass
class InputFile:
    """One submission as read (once) before any grading starts."""

    path: Path
    data: bytes | None
    sha256: str = ""
    problem: str = ""
    staged: Path | None = None
    """The grader's private copy of `data` (read_inputs with `stage_to`)."""


def read_inputs(paths: list[Path], stage_to: Path | None = None) -> list[InputFile]:
    """Read and hash every submission now, so nothing a submission does later changes them.

    A symbolic link is refused (it could name any file the grader can read), as is anything
    but a plain file. With `stage_to` (a folder of the grader's own), each file read is also
    copied there, as `NNNN.ipynb`, readable by the grader only.
    """
    files = []
    for number, path in enumerate(paths):
        path = Path(path)
        data, problem = _read_plain_file(path)
        if data is None:
            files.append(InputFile(path, None, problem=problem))
            continue
        source = InputFile(path, data, hashlib.sha256(data).hexdigest())
        if stage_to is not None:
            source.staged = Path(stage_to) / f"{number:04d}.ipynb"
            descriptor = os.open(source.staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL
                                 | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
        files.append(source)
    return files


def _read_plain_file(path: Path) -> tuple[bytes | None, str]:
    """The bytes of `path` if it is a plain file (not a link) of at most MAX_SUBMISSION_BYTES,
    else None and why."""
    try:
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            return None, f"symbolic link refused (submit the notebook file itself): {path}"
        if not stat.S_ISREG(info.st_mode):
            return None, f"not a plain file: {path}"
        if info.st_size > MAX_SUBMISSION_BYTES:
            return None, f"file too large ({info.st_size} bytes)"
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None, f"file not found: {path}"
    except OSError as err:  # O_NOFOLLOW: the file became a link after lstat
        return None, f"cannot read {path}: {err.strerror}"
    with os.fdopen(descriptor, "rb") as handle:
        now = os.fstat(handle.fileno())
        if (now.st_dev, now.st_ino) != (info.st_dev, info.st_ino) or not stat.S_ISREG(now.st_mode):
            return None, f"file replaced while it was read: {path}"
        data = handle.read(MAX_SUBMISSION_BYTES + 1)
    if len(data) > MAX_SUBMISSION_BYTES:
        return None, f"file too large (over {MAX_SUBMISSION_BYTES} bytes)"
    return data, ""


@dataclass
class Release:
    """The reference student notebook submissions are compared with, and where it came from."""

    nb: nbformat.NotebookNode
    source: str
    sha256: str


def load_reference_release(path: Path | None = None, source: str = "",
                           student_copy: str = "") -> Release:
    """`path`, or the assignment's release in the installed instructor package (its committed
    `student_copy`, else made from its instructor `source`; both repository-relative)."""
    if path is not None:
        data = Path(path).read_bytes()
        return Release(nbformat.reads(data.decode("utf-8"), as_version=4), str(path),
                       hashlib.sha256(data).hexdigest())
    if not student_copy:
        raise ValueError("no release given: name the release notebook or the assignment")
    root = instructor_repository()
    nb = load_release(root, source, student_copy)
    text = nbformat.writes(nb)
    return Release(nb, f"{root} (installed instructor package)",
                   hashlib.sha256(text.encode("utf-8")).hexdigest())


def read_submission(source: InputFile | Path) -> tuple[nbformat.NotebookNode, list[str]]:
    """The submission as an nbformat-4 notebook, and notes about its reading (conversions).

    Raises SubmissionError with a readable reason for anything that is not a notebook.
    """
    if not isinstance(source, InputFile):
        source = read_inputs([Path(source)])[0]
    if source.data is None:
        raise SubmissionError(source.problem)
    notes: list[str] = []
    try:
        text = source.data.decode("utf-8")
    except UnicodeDecodeError:
        raise SubmissionError("not a notebook: the file is not text (binary data)") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as err:
        raise SubmissionError(
            f"not a notebook: invalid JSON at line {err.lineno}, column {err.colno} ({err.msg})"
        ) from None
    except RecursionError:
        raise SubmissionError("not a notebook: JSON nested too deeply") from None
    if not isinstance(raw, dict) or "nbformat" not in raw:
        raise SubmissionError("not a notebook: JSON without the 'nbformat' field of a .ipynb file")
    version = raw.get("nbformat")
    if version not in (3, 4):
        raise SubmissionError(
            f"unsupported notebook format nbformat={version!r}; save it from Jupyter or Colab "
            "(nbformat 4)"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nb = nbformat.reads(text, as_version=4)
    except Exception as err:  # nbformat raises several types for broken structure
        raise SubmissionError(f"not a valid notebook: {type(err).__name__}: {err}") from None
    if version == 3:
        notes.append("old notebook format (nbformat 3) converted to nbformat 4")
    _check_structure(nb)
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as err:
        first = str(err).strip().split("\n", 1)[0]
        notes.append(f"notebook fails nbformat validation (graded anyway): {first[:120]}")
    return nb, notes


def _check_structure(nb: nbformat.NotebookNode) -> None:
    """Raise SubmissionError unless every cell has the types the grader relies on (graded
    anyway otherwise: other validation errors become a note)."""
    cells = nb.get("cells")
    if not isinstance(cells, list):
        raise SubmissionError("not a valid notebook: 'cells' is not a list")
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or not isinstance(cell.get("source"), str):
            raise SubmissionError(f"not a valid notebook: cell {number} has no text source")
        if not isinstance(cell.get("metadata", {}), dict) or not isinstance(
                cell.get("outputs", []), list):
            raise SubmissionError(f"not a valid notebook: cell {number} is malformed")


# ---------------------------------------------------------------------------------------------
# The notebook the grader runs


@dataclass
class Prepared:
    """The notebook the grader executes and how its cells map back to the submission's."""

    nb: nbformat.NotebookNode
    origin: list[int | None]
    """Per executed cell, its index in the submission (None: restored, or added by the grader)."""
    check_cells: dict[str, str]
    """Each release check: 'ok', 'edited' or 'deleted' (both restored for the run)."""
    ignored: list[int] = field(default_factory=list)
    """Executed-cell indices whose output is not compared (the release cell says so)."""
    skipped: list[int] = field(default_factory=list)
    """Executed-cell indices not run (the release cell says so)."""
    not_honoured: list[str] = field(default_factory=list)
    """Submission cells (1-based) carrying markers or tags the release cell does not have."""


def cell_markers(cell: nbformat.NotebookNode) -> set[str]:
    """'ignore' and/or 'skip' as the cell's tags or first-line markers ask (setup: 'ignore')."""
    tags = set(cell.get("metadata", {}).get("tags", []) or [])
    lines = {line.strip() for line in cell.get("source", "").split("\n")}
    first = cell.get("source", "").split("\n", 1)[0].strip()
    found = set()
    if tags & IGNORE_OUTPUT_TAGS or lines & IGNORE_OUTPUT_LINES:
        found.add("ignore")
    if tags & SKIP_TAGS or lines & SKIP_LINES:
        found.add("skip")
    if cell.get("cell_type") == "code" and first.startswith(SETUP_PREFIX):
        found.add("ignore")
    return found


def _claims(cell: nbformat.NotebookNode) -> bool:
    tags = set(cell.get("metadata", {}).get("tags", []) or [])
    return bool(tags & (IGNORE_OUTPUT_TAGS | SKIP_TAGS | {"raises-exception"})
                or any(t.startswith("nbval") for t in tags)
                or MARKER_PREFIX in cell.get("source", "")
                or cell.get("source", "").split("\n", 1)[0].strip().startswith(SETUP_PREFIX))


def prepare(
    submission: nbformat.NotebookNode,
    release: nbformat.NotebookNode,
    collection: str = NO_COLLECTION,
) -> Prepared:
    """Copy the submission, restore the release's check cells, honour only the release's
    markers, and append the grader's collection cell."""
    wanted = check_cells(release)
    grants = granted_markers(submission, release)
    present = {}
    for index, cell in enumerate(submission.cells):
        name = check_name(cell)
        if name in wanted and name not in present:
            present[name] = index
    status = {}
    cells: list[nbformat.NotebookNode] = []
    origin: list[int | None] = []
    markers: list[set[str]] = []
    not_honoured = []
    for index, cell in enumerate(submission.cells):
        cell = nbformat.from_dict(json.loads(json.dumps(cell)))
        granted: set[str] = set()
        if cell.cell_type == "code":  # only what the grader's run prints may count
            cell.outputs, cell.execution_count = [], None
            granted = grants[index]
            if _claims(submission.cells[index]) and not granted:
                not_honoured.append(f"cell {index + 1}")
            cell.metadata.pop("tags", None)  # tags never steer the run
        name = check_name(cell)
        if name in wanted and present.get(name) == index:
            if source_checksum(cell.source) == source_checksum(wanted[name].source):
                status[name] = "ok"
                origin.append(index)
            else:
                status[name] = "edited"
                cell.source = wanted[name].source
                origin.append(None)
        else:
            origin.append(index)
        cells.append(cell)
        markers.append(granted)
    for name in wanted:
        if name not in present:
            status[name] = "deleted"
            position = _restore_position(name, release, submission, cells)
            cells.insert(position, nbformat.v4.new_code_cell(wanted[name].source))
            origin.insert(position, None)
            markers.insert(position, set())
    cells.append(nbformat.v4.new_code_cell(collection))
    origin.append(None)
    markers.append(set())
    ignored, skipped = [], []
    for index, granted in enumerate(markers):
        if "skip" in granted:
            skipped.append(index)
            cells[index].source = "# skipped by the grader (the release cell is marked skip)"
        elif "ignore" in granted:
            ignored.append(index)
    nb = nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": _KERNELSPEC})
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"graded-{index}"  # unique and valid, whatever the submission had
    ordered = {name: status[name] for name in wanted}
    return Prepared(nb, origin, ordered, ignored, skipped, not_honoured)


_KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def granted_markers(
    submission: nbformat.NotebookNode, release: nbformat.NotebookNode
) -> list[set[str]]:
    """Per submission cell, the markers the release grants it, only in the cell's own section
    (after the same release heading or check cell): those of a release code cell with the same
    source there; or 'ignore' for a student's answer in a release cell marked ignore-output (its
    source rewritten), found by that cell's id where no other cell has the id. So a borrowed id
    or a copied cell earns nothing elsewhere. The grader never skips a student's code."""
    anchors = _anchors(release)
    release_sections = _sections(release.cells, anchors)
    by_source: dict[tuple[str, str | None], set[str]] = {}
    for cell, section in zip(release.cells, release_sections, strict=True):
        if cell.cell_type == "code" and cell_markers(cell):
            by_source[source_checksum(cell.source), section] = cell_markers(cell)
    ignore_by_id = {  # answer cells whose output the release does not compare (timings)
        cell.get("id"): release_sections[index] for index, cell in enumerate(release.cells)
        if cell.cell_type == "code" and cell.get("id") and "ignore" in cell_markers(cell)}
    ids = Counter(cell.get("id") for cell in submission.cells)
    sections = _sections(submission.cells, anchors)
    grants = []
    for index, cell in enumerate(submission.cells):
        granted = set()
        if cell.cell_type == "code":
            granted = by_source.get((source_checksum(cell.source), sections[index]), set())
            cell_id = cell.get("id")
            if (not granted and cell_id in ignore_by_id and ids[cell_id] == 1
                    and sections[index] == ignore_by_id[cell_id]):
                granted = {"ignore"}
        grants.append(set(granted))
    return grants


def _anchor_key(cell: nbformat.NotebookNode) -> str | None:
    if check_name(cell):
        return f"check {check_name(cell)}"
    if cell.cell_type == "markdown" and ANSWER_PLACEHOLDER not in cell.source:
        return f"markdown {cell.source.strip()}"
    return None


def _anchors(release: nbformat.NotebookNode) -> set[str]:
    """The release cells that start a section: check cells and markdown cells (not answers)
    whose text is unique in the release."""
    keys = Counter(_anchor_key(cell) for cell in release.cells)
    return {key for key, count in keys.items() if key is not None and count == 1}


def _sections(cells: list, anchors: set[str]) -> list[str | None]:
    """Per cell, the anchor at or before it (None before the first)."""
    current, sections = None, []
    for cell in cells:
        key = _anchor_key(cell)
        if key in anchors:
            current = key
        sections.append(current)
    return sections


def _restore_position(name, release, submission, cells) -> int:
    """Where a deleted check cell goes: after the submission's copy of the cell before it."""
    release_index = next(i for i, c in enumerate(release.cells) if check_name(c) == name)
    for previous in reversed(release.cells[:release_index]):
        for position, cell in enumerate(cells):
            if _same_cell(cell, previous):
                return position + 1
    return len(cells)


def _same_cell(cell: nbformat.NotebookNode, given: nbformat.NotebookNode) -> bool:
    """The submission's `cell` is the release's `given` cell (same id, check name or text)."""
    if given.get("id") and cell.get("id") == given.get("id"):
        return True
    if check_name(given) is not None:
        return check_name(cell) == check_name(given)
    return cell.cell_type == given.cell_type and cell.source.strip() == given.source.strip()
