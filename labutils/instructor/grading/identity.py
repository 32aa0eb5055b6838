"""Student identity from the layout an LMS download has, never from what a notebook says.

Layouts (`layout=`):
- "pattern" (default): the file name matches a regex with a named group `id`; the default is
  the names the student README asks for, `05_assignment_<studentid>.ipynb` and
  `06_assignment_mnist_<studentid>.ipynb`.
- "moodle": Moodle's "Download all submissions" names a folder (or, without folders, a file
  prefix) `Full Name_<participant id>_assignsubmission_file_` (mod/assign: the prefix is the
  user's full name and the assignment's unique participant id, then the plugin's type).
- "canvas": Canvas's submissions.zip names each file
  `<lastfirst>[_LATE]_<user id>_<submission id>_<file name as uploaded>` (for example
  `doejane_LATE_12345_67890_05_assignment.ipynb`); the id is Canvas's user id, the `ID`
  column of Canvas's gradebook CSV.

Ids are restricted to ASCII letters, digits and `._-@` (first an ASCII letter or digit, at most
64 characters): no path separator, no spreadsheet formula lead, no HTML special, no control
or bidi character can reach a file name, a CSV or a page. Anything else is refused, naming
the file and the fix.

Two files for one student (a student who uploaded twice into the same download) are refused
by default, listing both: picking one silently could grade a checkpoint copy. With
`duplicates="last"` the last file in natural order of the name without its extension is kept
(`x.ipynb` < `x-1.ipynb` < `x-2.ipynb` < `x-10.ipynb`: the copies Canvas and browsers make of
a re-upload win over the original) and every skipped file is reported.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

ID_CHARS = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
"""A safe student id (matched whole)."""

DEFAULT_PATTERN = r"^(?:05_assignment|06_assignment_mnist)_(?P<id>.+?)\.ipynb$"
"""The hand-in names of the student README and notebooks: `05_assignment_<studentid>.ipynb`
and `06_assignment_mnist_<studentid>.ipynb`."""

MOODLE = re.compile(r"^(?P<name>.*?)_(?P<id>\d+)_assign(?:submission|feedback)_[a-z]+_")
"""Moodle's folder (or file prefix): `Full Name_12345_assignsubmission_file_`."""

CANVAS = re.compile(r"^(?P<name>[^_]*?)(?:_late)?_(?P<id>\d+)_(?P<submission>\d+)_(?P<file>.+)$",
                    re.IGNORECASE)
"""Canvas's file name: `lastfirst[_LATE]_<user id>_<submission id>_<uploaded name>`."""

LAYOUTS = ("pattern", "moodle", "canvas")
FIX = ("pass the layout of the download (--layout moodle or --layout canvas) or a file-name "
       "pattern with a named group id (--id-pattern '^05_assignment_(?P<id>[0-9]+)\\.ipynb$'), "
       "or rename the files to 05_assignment_<studentid>.ipynb (06_assignment_mnist_"
       "<studentid>.ipynb for the MNIST assignment)")


class IdentityError(ValueError):
    """Files whose student cannot be told safely (the message lists them and the fix)."""


def check_id(student: str) -> str:
    """`student` if it is a safe id; IdentityError saying why otherwise."""
    if not isinstance(student, str) or not ID_CHARS.fullmatch(student):
        raise IdentityError(
            f"student id {student!r} is not a safe id: ids are 1-64 ASCII letters, digits and "
            "._-@, starting with a letter or digit (no path separator, no spreadsheet formula, "
            "HTML, control or bidi character); rename the file or fix the id pattern")
    return student


@dataclass(frozen=True)
class Identified:
    """One submission file and its student."""

    student: str
    path: Path
    file_name: str
    """The path relative to the download folder (never absolute): what exports show."""
    sha256: str


@dataclass
class Identification:
    """What `identify` found: one file per student, and what it skipped (with why)."""

    items: list[Identified] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def entries(self) -> list[tuple[str, str]]:
        """(student, sha256) pairs, as Gradebook.todo takes them."""
        return [(i.student, i.sha256) for i in self.items]


def student_of(path: Path, layout: str = "pattern", pattern: str = DEFAULT_PATTERN) -> str | None:
    """The raw id the layout gives `path` (not yet checked), or None if it does not match."""
    if layout == "pattern":
        found = re.search(pattern, path.name)
    elif layout == "moodle":
        found = MOODLE.match(path.parent.name) or MOODLE.match(path.name)
    elif layout == "canvas":
        found = CANVAS.match(path.name)
    else:
        raise IdentityError(f"unknown layout {layout!r}: use one of {', '.join(LAYOUTS)}")
    return found.group("id") if found else None


def find_notebooks(root: Path) -> list[Path]:
    """Every .ipynb under `root` (Jupyter's .ipynb_checkpoints and hidden folders left out),
    sorted by path."""
    root = Path(root)
    return sorted(p for p in root.rglob("*.ipynb")
                  if p.is_file() and not any(part.startswith(".")
                                             for part in p.relative_to(root).parts))


def identify(paths: Iterable[Path], layout: str = "pattern", pattern: str = DEFAULT_PATTERN,
             root: Path | None = None, duplicates: str = "error") -> Identification:
    """The student of each path, or IdentityError listing every file that matches no id (or
    has an unsafe id) and, with duplicates="error", every student with two files."""
    if layout == "pattern" and "(?P<id>" not in pattern:
        raise IdentityError(f"id pattern {pattern!r} has no named group id: write it as "
                            "'...(?P<id>[0-9]+)...'")
    if duplicates not in ("error", "last"):
        raise IdentityError(f"duplicates={duplicates!r}: use 'error' or 'last'")
    found: dict[str, list[Path]] = {}
    bad: list[str] = []
    for path in sorted(Path(p) for p in paths):
        raw = student_of(path, layout, pattern)
        shown = relative_name(path, root)
        if raw is None:
            bad.append(f"{shown!r}: matches no id")
            continue
        try:
            found.setdefault(check_id(raw), []).append(path)
        except IdentityError:
            bad.append(f"{shown!r}: unsafe id {raw!r} (allowed: ASCII letters, digits, ._-@)")
    if bad:
        raise IdentityError(f"{len(bad)} file(s) give no student id with layout {layout!r}"
                            f"{'' if layout != 'pattern' else f' and pattern {pattern!r}'}:\n  "
                            + "\n  ".join(bad) + f"\nFix: {FIX}")
    twice = {s: ps for s, ps in found.items() if len(ps) > 1}
    if twice and duplicates == "error":
        listed = "\n  ".join(f"{s}: " + ", ".join(repr(relative_name(p, root)) for p in ps)
                             for s, ps in sorted(twice.items()))
        raise IdentityError(f"{len(twice)} student(s) have more than one file:\n  {listed}\n"
                            "Fix: remove the extra files, or pass duplicates='last' "
                            "(--duplicates last) to keep the last by name and report the rest")
    result = Identification()
    for student, files in sorted(found.items()):
        files.sort(key=_natural)
        keep = files[-1]
        result.skipped += [f"{relative_name(p, root)}: {student} has a later file, "
                           f"{relative_name(keep, root)}" for p in files[:-1]]
        data = keep.read_bytes()
        result.items.append(Identified(student, keep, relative_name(keep, root),
                                       hashlib.sha256(data).hexdigest()))
    return result


def _natural(path: Path) -> list[tuple[int, int | str]]:
    """Natural order of the path without the extension: digit runs compare as numbers."""
    text = str(Path(path).with_suffix(""))
    return [(0, int(part)) if part.isdigit() else (1, part)
            for part in re.split(r"(\d+)", text) if part]


def relative_name(path: Path, root: Path | None) -> str:
    """`path` relative to `root` (its name alone when it is not under it or no root given)."""
    if root is not None:
        try:
            return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
        except ValueError:
            pass
    return Path(path).name
