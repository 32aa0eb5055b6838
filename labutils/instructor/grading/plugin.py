"""Assignments as plug-ins: what the grader core asks of an assignment, and how it finds one.

An assignment is a package `labutils.instructor.assignments.<name>` whose `ASSIGNMENT` is an
`Assignment`: its instructor notebook and student copy, the names its collection cell hands
over (and the student-package function that turns them into plain tensors), the tensors the
grader accepts (dtype and shape of each), its rubric (a TOML file next to it) and its judge.
The core (read, prepare, sandbox, execute, compare, report) imports no assignment: it finds
them by name (`load_assignment`), so adding an assignment is adding a folder.
"""

from __future__ import annotations

import fnmatch
import importlib
import pkgutil
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

ASSIGNMENTS_PACKAGE = "labutils.instructor.assignments"
"""Where the assignments live: one sub-package each."""

KINDS = ("auto", "manual", "info")
"""auto: computed by the grader; manual: filled in by the instructor; info: shown, never scored."""
CORE_LINES = ("runs", "reproduced")
"""Auto rubric lines the core scores itself (the notebook runs; its outputs are reproduced)."""


class RubricError(ValueError):
    """A rubric file the grader cannot use (the message names the file and the line)."""


class AssignmentError(ValueError):
    """An unknown assignment, or one whose declaration is incomplete."""


@dataclass(frozen=True)
class RubricLine:
    """One line of a rubric: what earns `points`, and who decides."""

    name: str
    points: float
    kind: str
    text: str


@dataclass(frozen=True)
class Rubric:
    """The rubric of one assignment, in file order."""

    lines: tuple[RubricLine, ...]
    path: str = ""

    def of_kind(self, kind: str) -> list[RubricLine]:
        return [line for line in self.lines if line.kind == kind]

    @property
    def auto_total(self) -> float:
        return sum(line.points for line in self.of_kind("auto"))

    @property
    def manual_total(self) -> float:
        return sum(line.points for line in self.of_kind("manual"))

    def describe(self) -> list[str]:
        """The rubric as printed at the start of every batch."""
        out = [f"rubric: {self.path}"]
        for line in self.lines:
            worth = "info, no points" if line.kind == "info" else f"{line.points:g} {line.kind}"
            out.append(f"  {line.name:<16} {worth:<16} {line.text}")
        out.append(f"  automatic total {self.auto_total:g}, manual total {self.manual_total:g}")
        return out


def load_rubric(path: Path) -> Rubric:
    """The rubric in the TOML file `path`: `[[line]]` tables with name, kind, points, text.

    Raises RubricError naming the file and the rubric line at fault."""
    path = Path(path)
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise RubricError(f"{path}: cannot read the rubric ({err.strerror})") from None
    except tomllib.TOMLDecodeError as err:
        raise RubricError(f"{path}: not valid TOML: {err}") from None
    entries = table.get("line")
    if not isinstance(entries, list) or not entries:
        raise RubricError(f"{path}: no rubric lines (write one [[line]] table per line)")
    lines: list[RubricLine] = []
    for number, entry in enumerate(entries, start=1):
        where = f"{path}: rubric line {number}"
        if not isinstance(entry, dict):
            raise RubricError(f"{where}: not a table")
        lines.append(_rubric_line(entry, where, {line.name for line in lines}))
    for name in CORE_LINES:
        if any(line.name == name and line.kind != "auto" for line in lines):
            raise RubricError(f"{path}: {name!r} is scored by the grader: its kind must be auto")
    return Rubric(tuple(lines), str(path))


def _rubric_line(entry: dict, where: str, taken: set[str]) -> RubricLine:
    unknown = sorted(set(entry) - {"name", "kind", "points", "text"})
    if unknown:
        raise RubricError(f"{where}: unknown key(s) {', '.join(unknown)} "
                          "(allowed: name, kind, points, text)")
    name = entry.get("name")
    if not isinstance(name, str) or not name.isidentifier():
        raise RubricError(f"{where}: name must be a word of letters, digits and _ (got {name!r})")
    where = f"{where} ({name!r})"
    if name in taken:
        raise RubricError(f"{where}: the name is used twice")
    kind = entry.get("kind")
    if kind not in KINDS:
        raise RubricError(f"{where}: kind must be one of {', '.join(KINDS)} (got {kind!r})")
    points = entry.get("points", 0)
    if isinstance(points, bool) or not isinstance(points, (int, float)) or points < 0:
        raise RubricError(f"{where}: points must be a number >= 0 (got {points!r})")
    if kind == "info" and points:
        raise RubricError(f"{where}: an info line earns no points (set points = 0 or drop it)")
    text = entry.get("text", "")
    if not isinstance(text, str) or not text.strip():
        raise RubricError(f"{where}: text must say what earns the points")
    return RubricLine(name, points, kind, " ".join(text.split()))


@dataclass(frozen=True)
class Entry:
    """One tensor the collection file may hold: its dtype and shape (None: any length up to
    `longest`)."""

    dtype: str = "float64"
    shape: tuple[int | None, ...] = ()
    longest: int = 200_000

    def problem(self, key: str, dtype: str, shape: tuple[int, ...]) -> str:
        """Why a tensor of `dtype` and `shape` does not fit ('' when it does)."""
        if dtype != self.dtype:
            return f"{key}: dtype torch.{dtype}, expected torch.{self.dtype}"
        fits = len(shape) == len(self.shape) and all(
            size <= self.longest if want is None else size == want
            for size, want in zip(shape, self.shape, strict=True))
        if not fits:
            wanted = "(" + ", ".join("n" if s is None else str(s) for s in self.shape) + \
                ("," if len(self.shape) == 1 else "") + ")"
            return f"{key}: shape {shape}, expected {wanted}"
        return ""


def entry_for(spec: Mapping[str, Entry], key: str) -> Entry | None:
    """The entry of `spec` that names `key` (exactly, else by a glob pattern such as
    'layers/*')."""
    if key in spec:
        return spec[key]
    return next((entry for pattern, entry in spec.items()
                 if any(c in pattern for c in "*?[") and fnmatch.fnmatchcase(key, pattern)),
                None)


@dataclass
class Judgement:
    """What an assignment's judge concluded from the collected data (all computed outside the
    student's kernel)."""

    scores: dict[str, float] = field(default_factory=dict)
    """Per auto rubric line (not the core's): the fraction of its points earned, 0 to 1."""
    info: dict[str, str] = field(default_factory=dict)
    """Per info rubric line: what was found (shown, never scored)."""
    rows: list[tuple[str, str]] = field(default_factory=list)
    """Labelled rows for the printed table of the submission."""
    columns: dict[str, str] = field(default_factory=dict)
    """Extra CSV columns."""
    summary: dict[str, str] = field(default_factory=dict)
    """Short columns for the one-line-per-submission table."""
    problems: list[str] = field(default_factory=list)
    """Data that was missing, malformed or rejected."""
    diagnosis: str = ""
    """The mistake found, in a few words ('' when none was)."""
    study_runs: list[int | None] = field(default_factory=list)
    """The sweeps each run of the student's own study needed to learn (None: did not learn
    within its cap), pooled into the class summary's reproduction; empty when not collected."""


Judge = Callable[[dict, list[str]], Judgement]
"""judge(data, problems): `data` the collected tensors the core loaded and checked against the
assignment's entries, `problems` what the core rejected on the way."""


@dataclass(frozen=True)
class Assignment:
    """Everything the grader core needs to know about one assignment."""

    name: str
    title: str
    source: str
    """The instructor notebook, relative to the repository root."""
    student_copy: str
    """The generated student notebook, relative to the repository root."""
    collected: tuple[str, ...]
    """Globals of the student's kernel the collection cell hands over (none there: no data)."""
    collect: str
    """'module:function' of the student package that turns the kernel's globals into a dict of
    plain tensors (run inside the sandbox by the collection cell)."""
    entries: dict[str, Entry]
    """The tensors the grader accepts from the collection file (keys or glob patterns)."""
    rubric: Rubric
    judge: Judge
    cell_timeout: int = 120
    """The grader's default seconds per cell: the longest time budget the notebook states for
    a cell, with margin (`--cell-timeout` overrides it)."""
    shared_data: Callable[[], dict[str, Path]] | None = None
    """Data the notebook needs (e.g. a data set): {environment variable: folder on the grader's
    machine}, each folder shown read-only at its own path in the sandbox, named to the kernel
    by its variable. Called once per batch (the folders depend on the machine)."""
    summary_reference: int | None = None
    """The published result the class summary draws the pooled study runs against (e.g. the
    paper's sweeps to learn); None draws no reference line."""

    def check(self) -> None:
        """Raise AssignmentError when the declaration cannot work with the core."""
        module, _, function = self.collect.partition(":")
        if not module or not function.isidentifier() or not module.startswith("labutils."):
            raise AssignmentError(f"{self.name}: collect must be 'labutils.module:function' of "
                                  f"the student package (got {self.collect!r})")
        if not all(name.isidentifier() for name in self.collected) or not self.collected:
            raise AssignmentError(f"{self.name}: collected must name the kernel's globals")
        if self.collect.startswith("labutils.instructor"):
            raise AssignmentError(f"{self.name}: the sandbox has no labutils.instructor; "
                                  "collect with a function of the student package")


def assignment_names() -> list[str]:
    """The assignments found in the assignments package (one sub-package each)."""
    package = importlib.import_module(ASSIGNMENTS_PACKAGE)
    return sorted(info.name for info in pkgutil.iter_modules(package.__path__) if info.ispkg)


def load_assignment(name: str) -> Assignment:
    """The assignment called `name`; AssignmentError listing the known names otherwise."""
    known = assignment_names()
    if name not in known:
        raise AssignmentError(f"unknown assignment {name!r}; known: {', '.join(known)} "
                              f"(each is a package under {ASSIGNMENTS_PACKAGE.replace('.', '/')})")
    module = importlib.import_module(f"{ASSIGNMENTS_PACKAGE}.{name}")
    found = getattr(module, "ASSIGNMENT", None)
    if not isinstance(found, Assignment):
        raise AssignmentError(f"{module.__name__} defines no ASSIGNMENT = Assignment(...)")
    if found.name != name:
        raise AssignmentError(f"{module.__name__}: ASSIGNMENT.name is {found.name!r}, "
                              f"not its package name {name!r}")
    found.check()
    return found


def all_assignments() -> list[Assignment]:
    """Every assignment, by name."""
    return [load_assignment(name) for name in assignment_names()]


def default_assignment() -> str:
    """The assignment graded when none is named (the assignments package says which)."""
    package = importlib.import_module(ASSIGNMENTS_PACKAGE)
    return getattr(package, "DEFAULT", None) or assignment_names()[0]
