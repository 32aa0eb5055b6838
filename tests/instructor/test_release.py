"""The student release: its layout, its Colab settings, and a leak test derived from the source.

The leak test builds the release into a temporary folder and looks there, and in a
`pip install --target` of the release's package, for everything that must stay here: every
line of every solution region and INSTRUCTOR ONLY cell of the instructor sources, every public
name defined by the modules under labutils/instructor/, and every instructor-only file (by path
and by content). Nothing is listed by hand: add a solution line or an instructor function and
the test looks for it.
"""

from __future__ import annotations

import ast
import hashlib
import keyword
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

from labutils import runner
from labutils.instructor import assignment, release
from labutils.instructor.course import badges
from labutils.instructor.lessons import release_lesson

REPO = Path(__file__).resolve().parents[2]
STUDENT_REPO = badges.read_course_repository(REPO / "pyproject.toml", which="student")
TEMPLATES = "labutils/instructor/release_files/"
"""Instructor-only files whose content ships on purpose (the student README, .ci/run)."""

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d+)?")


# -- what must stay here, derived from the source ---------------------------------------------

def solution_lines(nb: nbformat.NotebookNode) -> tuple[list[str], list[str]]:
    """(lines inside solution regions and INSTRUCTOR ONLY cells, every other source line)."""
    secret: list[str] = []
    given: list[str] = []
    for cell in nb.cells:
        lines = cell.source.split("\n")
        if assignment.instructor_only(cell):
            secret += lines[1:]
            continue
        if cell.cell_type == "code":
            begins = (assignment.BEGIN_SOLUTION, assignment.BEGIN_OPTIONAL)
            end = assignment.END_SOLUTION
        else:
            begins, end = (assignment.BEGIN_ANSWER,), assignment.END_ANSWER
        inside = False
        for line in lines:
            marker = line.strip()
            if marker in begins:
                inside = True
            elif marker == end:
                inside = False
            else:
                (secret if inside else given).append(line)
    return [s.strip() for s in secret if s.strip()], [g.strip() for g in given if g.strip()]


_IMPORT = re.compile(r"^(from\s+[\w.]+\s+import\s|import\s)")


def is_trivial(line: str) -> bool:
    """Too short to mean anything on its own (`plt.show()`, `else:`, `ax.legend()`, `)`), or an
    import (of a library or the student package: an import of labutils.instructor is looked
    for separately)."""
    if _IMPORT.match(line) and "instructor" not in line:
        return True
    words = [w for w in _WORD.findall(line) if not keyword.iskeyword(w)]
    return len(words) < 2 or len(line) < 8 or (len(words) < 3 and len(line) < 20)


def lesson_lines() -> set[str]:
    """Source lines of the lessons as shipped (exercise solutions removed): code taught there is
    no answer to the assignment."""
    found = set()
    for path in (REPO / "notebooks").glob("*.ipynb"):
        if runner.is_student_copy(path):
            continue
        for cell in release_lesson(nbformat.read(path, as_version=4)).cells:
            found.update(line.strip() for line in cell.source.split("\n"))
    return found


def public_names(path: Path) -> set[str]:
    """Names a module defines at top level (functions, classes, constants), minus private ones."""
    names = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return {n for n in names if not n.startswith("_")}


@dataclass
class Secrets:
    """Everything the student release must not contain, and how much of it was set aside."""

    lines: set[str] = field(default_factory=set)
    lines_total: int = 0
    lines_generic: int = 0
    names: set[str] = field(default_factory=set)
    names_total: int = 0
    names_shared: set[str] = field(default_factory=set)
    files: list[str] = field(default_factory=list)
    hashes: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def secrets() -> Secrets:
    found = Secrets()
    sources = release.solution_sources(REPO)
    assert sources, "no instructor source notebooks/instructor/*_solution.ipynb"
    taught = lesson_lines()
    for source in sources:
        secret, given = solution_lines(nbformat.read(source, as_version=4))
        found.lines_total += len(secret)
        generic_lines = set(given) | taught
        generic_text = "\n".join(sorted(generic_lines))
        for line in secret:
            if is_trivial(line) or appears(line, generic_text, generic_lines):
                found.lines_generic += 1
            else:
                found.lines.add(line)
    student_names = set()
    for path in (REPO / "labutils").rglob("*.py"):
        rel = path.relative_to(REPO).as_posix()
        names = public_names(path)
        if release.is_instructor_only(rel):
            found.names_total += len(names)
            found.names |= names
        else:
            student_names |= names
    found.names_shared = found.names & student_names  # e.g. main, build_parser: not secrets
    found.names -= student_names
    for rel in release.source_files(REPO):
        if release.is_instructor_only(rel):
            found.files.append(rel)
            data = (REPO / rel).read_bytes()
            if len(data) >= 64 and not rel.startswith(TEMPLATES):
                found.hashes[hashlib.sha256(data).hexdigest()] = rel
    return found


# -- what the student receives ----------------------------------------------------------------

@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("student") / "course"
    release.build_release(target, REPO)
    return target


@pytest.fixture(scope="module")
def installed(tree, tmp_path_factory) -> Path:
    """The release's package as `pip install --no-deps` puts it in an environment (built from
    a copy: setuptools writes build/ into the folder it builds)."""
    import shutil

    source = tmp_path_factory.mktemp("pip-source") / "course"
    shutil.copytree(tree, source)
    target = tmp_path_factory.mktemp("installed")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--no-deps", "--no-build-isolation", "--target", str(target), str(source)],
        capture_output=True, text=True, cwd=source)
    assert result.returncode == 0, result.stdout + result.stderr
    return target


LONG_LINE = 40
"""Solution lines at least this long are also found inside longer lines (strings, hints);
shorter ones only as a whole line, so `ax.legend()` is not found in `ax.legend(loc=2)`."""


def appears(line: str, text: str, lines: set[str]) -> bool:
    """Whether a solution line shows in a text (given also as its set of stripped lines)."""
    return line in lines or (len(line) >= LONG_LINE and line in text)


def text_units(folder: Path) -> dict[str, list[str]]:
    """Every text a reader sees, per file: notebook cells (source, outputs) or the file text."""
    units: dict[str, list[str]] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if path.suffix == ".ipynb":
            nb = nbformat.read(path, as_version=4)
            texts = []
            for cell in nb.cells:
                texts.append(cell.source)
                for output in cell.get("outputs", []):
                    texts.append(str(output.get("text", "")))
                    texts += [str(v) for k, v in output.get("data", {}).items()
                              if k.startswith("text/")]
            units[rel] = texts
            continue
        try:
            units[rel] = [path.read_text(encoding="utf-8")]
        except UnicodeDecodeError:
            units[rel] = []  # binary (images, tensors): checked by hash only
    return units


def code_of(folder: Path, rel: str) -> str | None:
    """The Python code of a .py file or of a notebook's code cells (magics left out)."""
    path = folder / rel
    if path.suffix == ".py":
        return path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":
        cells = [c.source for c in nbformat.read(path, as_version=4).cells
                 if c.cell_type == "code"]
        lines = "\n".join(cells).split("\n")
        return "\n".join(line for line in lines if not line.lstrip().startswith(("%", "!")))
    return None


def names_used_not_defined(code: str) -> set[str]:
    """Names the code reads or imports without defining them itself: they must come from
    elsewhere (a library, the student package... or the instructor package)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set(_WORD.findall(code))
    used: set[str] = set()
    defined: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (used if isinstance(node.ctx, ast.Load) else defined).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, ast.arg):
            defined.add(node.arg)
        elif isinstance(node, ast.ImportFrom):
            used.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            defined.update((a.asname or a.name).split(".")[0] for a in node.names)
    return used - defined


def _may_name_the_instructor_package(rel: str) -> bool:
    """pyproject.toml excludes it from the package; a student test may check it is absent."""
    return rel == "pyproject.toml" or rel.startswith("tests/")


def leaks(folder: Path, secrets: Secrets) -> list[str]:
    """What of `secrets` appears in `folder`: one line per finding, naming the file.

    Solution lines are looked for in every text (code, prose, outputs); instructor names in
    code, where they are read or imported without being defined there (a student notebook may
    well call its own network class by the name the engine uses); `labutils.instructor`
    anywhere but the pyproject.toml that excludes it and the tests (which may check that it is
    absent; importing it would fail there).
    """
    found = []
    for rel, texts in text_units(folder).items():
        if release.is_instructor_only(rel):
            found.append(f"{rel}: instructor-only path")
        digest = hashlib.sha256((folder / rel).read_bytes()).hexdigest()
        if digest in secrets.hashes:
            found.append(f"{rel}: same content as {secrets.hashes[digest]}")
        for text in texts:
            lines = {line.strip() for line in text.split("\n")}
            found += [f"{rel}: solution line {line!r}" for line in secrets.lines
                      if appears(line, text, lines)]
            if "labutils.instructor" in text and not _may_name_the_instructor_package(rel):
                found.append(f"{rel}: mentions labutils.instructor")
        code = code_of(folder, rel)
        if code is not None:
            found += [f"{rel}: instructor name {name!r}"
                      for name in names_used_not_defined(code) & secrets.names]
    return sorted(set(found))


def test_leak_nothing_of_the_instructor_source_in_the_release(tree, installed, secrets, capsys):
    in_tree = leaks(tree, secrets)
    in_package = leaks(installed, secrets)
    tree_files = sum(1 for p in tree.rglob("*") if p.is_file())
    package_files = sum(1 for p in installed.rglob("*") if p.is_file())
    with capsys.disabled():  # the counts show in every run
        print(
            f"\nleak test: {secrets.lines_total} solution lines "
            f"({len(secrets.lines)} distinct checked, {secrets.lines_generic} generic: taught in "
            f"a lesson, given in the student copy, imports, or too short); "
            f"{secrets.names_total} public "
            f"instructor names ({len(secrets.names)} checked, {len(secrets.names_shared)} also "
            f"defined by the student package: {', '.join(sorted(secrets.names_shared))}); "
            f"{len(secrets.files)} instructor-only files ({len(secrets.hashes)} by content). "
            f"Searched {tree_files} release files and {package_files} installed files: "
            f"{len(in_tree)} + {len(in_package)} found."
        )
    assert not in_tree, "the student release leaks:\n" + "\n".join(in_tree)
    assert not in_package, "the installed student package leaks:\n" + "\n".join(in_package)
    assert secrets.lines and secrets.names and secrets.files  # the test looked for something


def test_installed_package_is_the_student_package(installed):
    assert (installed / "labutils" / "__init__.py").is_file()
    assert (installed / "labutils" / "checks").exists() or (installed / "labutils" /
                                                             "checks.py").exists()
    assert not (installed / "labutils" / "instructor").exists()


def test_leak_search_finds_a_planted_leak(tree, secrets, tmp_path):
    """The search itself works: a solution line, a name and a copied file are each found."""
    import shutil

    planted = tmp_path / "planted"
    shutil.copytree(tree, planted)
    line = sorted(secrets.lines)[0]
    name = sorted(secrets.names)[0]
    (planted / "notes.md").write_text(f"Notes\n{line}\n")
    (planted / "labutils" / "extra.py").write_text(f"value = {name}\n")
    copied = next(rel for rel in secrets.hashes.values() if rel.endswith(".py"))
    shutil.copy(REPO / copied, planted / "tests" / "copied.py")
    found = "\n".join(leaks(planted, secrets))
    assert f"solution line {line!r}" in found
    assert f"instructor name {name!r}" in found
    assert f"same content as {copied}" in found
