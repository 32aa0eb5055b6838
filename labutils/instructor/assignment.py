"""Generate each student assignment from its one instructor source
(`python -m labutils.instructor assignment`).

An assignment's instructor source (its plug-in names it: `Assignment.source`, e.g.
`notebooks/instructor/05_assignment_solution.ipynb`) holds the worked solution between markers;
the release turns it into the student copy (`Assignment.student_copy`, e.g.
`notebooks/05_assignment.ipynb`):

- in code cells, each `### BEGIN SOLUTION` ... `### END SOLUTION` region becomes
  `# YOUR CODE HERE` + `raise NotImplementedError()` (at the region's indentation), and each
  `### BEGIN OPTIONAL SOLUTION` ... `### END SOLUTION` region a comment that raises nothing;
- in markdown cells, each `<!-- BEGIN SOLUTION -->` ... `<!-- END SOLUTION -->` region (the model
  report) becomes the answer placeholder;
- check cells (first line `# CHECK: <name> (do not edit)`) become read-only and undeletable;
- cells whose first line is `<!-- INSTRUCTOR ONLY -->` (markdown) or `# INSTRUCTOR ONLY` (code)
  are left out;
- outputs, execution counts and run metadata are cleared, nbval markers dropped, and the Colab
  badge and setup cell point at the student copy.

The output depends only on the source and [tool.labutils] in pyproject.toml, so a test can
compare the committed student copy with a fresh release byte for byte.
"""

from __future__ import annotations

import copy
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from labutils.instructor.course.badges import CourseRepository, apply_badges, read_course_repository
from labutils.paths import repo_root

BEGIN_SOLUTION = "### BEGIN SOLUTION"
BEGIN_OPTIONAL = "### BEGIN OPTIONAL SOLUTION"
END_SOLUTION = "### END SOLUTION"
CODE_PLACEHOLDER = ("# YOUR CODE HERE", "raise NotImplementedError()")
OPTIONAL_PLACEHOLDER = ("# YOUR CODE HERE (optional: this cell may stay as it is)",)

BEGIN_ANSWER = "<!-- BEGIN SOLUTION -->"
END_ANSWER = "<!-- END SOLUTION -->"
ANSWER_PLACEHOLDER = "_YOUR ANSWER HERE: replace this line with your text._"

CHECK_MARKER = re.compile(r"^# CHECK: ([A-Za-z][\w-]*) \(do not edit\)\s*$")
"""First line of every self-check cell; the grader finds check cells by it, not by metadata."""

INSTRUCTOR_ONLY = ("<!-- INSTRUCTOR ONLY -->", "# INSTRUCTOR ONLY")
"""First lines of cells that stay in the instructor source only (notes, asserts on results)."""

CHECK_TAG = "check"
KEPT_TAGS = (CHECK_TAG, "nbval-ignore-output", "volatile-output")
"""Tags the student copy keeps: its check cells, and cells whose output is not reproducible (the
study's timings and results), so that the grader does not compare those outputs (markers count
only where the release has them)."""
READ_ONLY = {"editable": False, "deletable": False}

_NBVAL_LINE = re.compile(r"^# NBVAL_[A-Z_]+\s*$")
_KEPT_NOTEBOOK_METADATA = ("kernelspec", "language_info")


class ReleaseError(ValueError):
    """The instructor source breaks a release rule (unbalanced markers, solution in a check)."""


def check_name(cell: nbformat.NotebookNode) -> str | None:
    """The name of a check cell (from its first line), or None for any other cell."""
    if cell.get("cell_type") != "code":
        return None
    first = cell.get("source", "").split("\n", 1)[0]
    match = CHECK_MARKER.match(first)
    return match.group(1) if match else None


def instructor_only(cell: nbformat.NotebookNode) -> bool:
    """True for a cell the release leaves out (first line `<!-- INSTRUCTOR ONLY -->`...)."""
    return cell.get("source", "").split("\n", 1)[0].strip() in INSTRUCTOR_ONLY


def has_solution(cell: nbformat.NotebookNode) -> bool:
    """True for a cell holding at least one solution region (code or markdown)."""
    code = cell.get("cell_type") == "code"
    begins = (BEGIN_SOLUTION, BEGIN_OPTIONAL) if code else (BEGIN_ANSWER,)
    return any(line.strip() in begins for line in cell.get("source", "").split("\n"))


def source_checksum(source: str) -> str:
    """SHA-256 of a cell's source, ignoring trailing spaces and blank lines at the end."""
    lines = [line.rstrip() for line in source.replace("\r\n", "\n").split("\n")]
    text = "\n".join(lines).strip("\n")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _replace_regions(
    source: str, begins: dict[str, tuple[str, ...]], end: str, where: str
) -> str:
    """Replace each begin...end region (marker lines included) by its placeholder, indented.

    `begins` maps each opening marker to the placeholder lines of its regions.
    """
    out: list[str] = []
    opened = ""
    for number, line in enumerate(source.split("\n"), start=1):
        marker = line.strip()
        if marker in begins:
            if opened:
                raise ReleaseError(f"{where}, line {number}: {marker!r} inside another region")
            opened = marker
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(indent + text for text in begins[marker])
        elif marker == end:
            if not opened:
                raise ReleaseError(f"{where}, line {number}: {end!r} without a BEGIN marker")
            opened = ""
        elif not opened:
            out.append(line)
    if opened:
        raise ReleaseError(f"{where}: {opened!r} is never closed by {end!r}")
    return "\n".join(out)


def release_cell(cell: nbformat.NotebookNode, index: int) -> nbformat.NotebookNode:
    """The student version of one instructor cell."""
    where = f"cell {index + 1}"
    new = copy.deepcopy(cell)
    tags = [t for t in new.metadata.get("tags", []) if t in KEPT_TAGS]
    new.metadata = {}
    if new.cell_type == "code":
        name = check_name(new)
        if name is not None and has_solution(new):
            raise ReleaseError(f"{where}: check cell {name!r} must not contain a solution region")
        begins = {BEGIN_SOLUTION: CODE_PLACEHOLDER, BEGIN_OPTIONAL: OPTIONAL_PLACEHOLDER}
        source = _replace_regions(new.source, begins, END_SOLUTION, where)
        new.source = "\n".join(line for line in source.split("\n") if not _NBVAL_LINE.match(line))
        new.outputs = []
        new.execution_count = None
        if name is not None:
            new.metadata.update(READ_ONLY)
            tags = [CHECK_TAG]
    elif new.cell_type == "markdown":
        new.source = _replace_regions(
            new.source, {BEGIN_ANSWER: (ANSWER_PLACEHOLDER,)}, END_ANSWER, where
        )
    if tags:
        new.metadata["tags"] = tags
    return new


def release_notebook(
    solution: nbformat.NotebookNode,
    relpath: str,
    repo: CourseRepository | None = None,
) -> nbformat.NotebookNode:
    """The student notebook made from the instructor notebook `solution` (which is not changed).

    `repo` (default: read from pyproject.toml) sets the Colab badge and setup cell for `relpath`.
    Raises ReleaseError on unbalanced markers or duplicate check names.
    """
    names = [check_name(cell) for cell in solution.cells]
    seen = [n for n in names if n is not None]
    duplicates = sorted({n for n in seen if seen.count(n) > 1})
    if duplicates:
        raise ReleaseError(f"check names must be unique; repeated: {', '.join(duplicates)}")
    student = nbformat.v4.new_notebook()
    student.nbformat_minor = max(solution.get("nbformat_minor", 5), 5)
    student.metadata = {
        key: copy.deepcopy(solution.metadata[key])
        for key in _KEPT_NOTEBOOK_METADATA
        if key in solution.metadata
    }
    if "language_info" in student.metadata:
        student.metadata["language_info"] = {
            "name": student.metadata["language_info"].get("name", "python")
        }
    student.cells = [
        release_cell(cell, i) for i, cell in enumerate(solution.cells) if not instructor_only(cell)
    ]
    apply_badges(student, relpath, repo or read_course_repository())
    return student


def release_text(root: Path | None, source: str, student_copy: str) -> str:
    """The student copy `student_copy`, as the exact text `release` writes, built from the
    instructor source `source` (both relative to the repository `root`)."""
    root = _root(root)
    path = root / source
    if not path.is_file():
        raise FileNotFoundError(f"Instructor source not found: {path}")
    solution = nbformat.read(path, as_version=4)
    repo = read_course_repository(root / "pyproject.toml")
    text = nbformat.writes(release_notebook(solution, student_copy, repo))
    return text if text.endswith("\n") else text + "\n"  # as nbformat.write ends a file


def load_release(root: Path | None, source: str, student_copy: str) -> nbformat.NotebookNode:
    """The release submissions are compared with: the committed student copy, else a fresh one."""
    root = _root(root)
    committed = root / student_copy
    if committed.is_file():
        return nbformat.read(committed, as_version=4)
    return nbformat.reads(release_text(root, source, student_copy), as_version=4)


def check_cells(nb: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    """Check cells of a notebook by name, in notebook order."""
    return {name: cell for cell in nb.cells if (name := check_name(cell)) is not None}


def cells_needing_solutions(
    nb: nbformat.NotebookNode, check_reads: dict[str, tuple[str, ...]]
) -> dict[int, str]:
    """Code cells of the released notebook that must fail while its solutions are unfilled.

    Returns {cell index: what it should show}. A statement running a placeholder, or calling a
    function or class whose body holds one, raises NotImplementedError; a statement reading a
    name that only a failed statement would have bound raises NameError; a check cell that
    reads (per `check_reads`, {check: names}) such a name or a stub prints FAIL. The release
    test runs the student copy and expects failures in exactly these cells.
    """
    import ast
    import builtins

    bound = set(dir(builtins)) | {"get_ipython", "display", "In", "Out", "exit", "quit"}
    stubs: set[str] = set()
    failing: dict[int, str] = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        name = check_name(cell)
        if name is not None:
            reads = set(check_reads.get(name, ()))
            if reads - bound or reads & stubs:
                failing[index] = "FAIL"
            continue
        lines = [line for line in cell.source.split("\n")
                 if not line.lstrip().startswith(("%", "!"))]
        for statement in ast.parse("\n".join(lines)).body:
            defined, used, raises, stubbed = _statement_names(statement)
            if index in failing:
                break  # the rest of the cell never runs
            if raises or used & stubs:
                failing[index] = "NotImplementedError"
            elif used - bound - defined:
                failing[index] = "NameError"
            else:
                bound |= defined
                stubs = (stubs - defined) | stubbed
    return failing


def _statement_names(statement) -> tuple[set[str], set[str], bool, set[str]]:
    """(names bound, names read when it runs, runs a placeholder?, functions/classes stubbed)."""
    import ast

    defined: set[str] = set()
    used: set[str] = set()
    placeholder = CODE_PLACEHOLDER[1].split()[-1].removesuffix("()")  # NotImplementedError

    def holds_placeholder(node: ast.AST) -> bool:
        return any(
            isinstance(n, ast.Raise) and n.exc is not None
            and ast.unparse(n.exc).removesuffix("()") == placeholder
            for n in ast.walk(node)
        )

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.Name):
            (used if isinstance(node.ctx, ast.Load) else defined).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            if not isinstance(node, ast.Lambda):
                defined.add(node.name)
                for decorator in node.decorator_list:
                    visit(decorator)
            for default in [*node.args.defaults, *node.args.kw_defaults]:
                if default is not None:
                    visit(default)
            return  # the body runs only when called
        elif isinstance(node, ast.ClassDef):
            defined.add(node.name)
            for child in [*node.bases, *node.decorator_list]:
                visit(child)
            for child in node.body:
                if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    visit(child)
            return
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            defined.update((a.asname or a.name).split(".")[0] for a in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(statement)
    runs = not isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    stubbed = set() if runs or not holds_placeholder(statement) else {statement.name}
    return defined, used, runs and holds_placeholder(statement), stubbed


@dataclass
class ReleaseResult:
    """What `release` did: the student copy's path and whether it was (or would be) changed."""

    path: Path
    changed: bool


def release(root: Path | None, source: str, student_copy: str,
            check: bool = False) -> ReleaseResult:
    """Write the student copy from the instructor source; with `check`, only compare."""
    root = _root(root)
    target = root / student_copy
    text = release_text(root, source, student_copy)
    current = target.read_text(encoding="utf-8") if target.is_file() else None
    changed = current != text
    if changed and not check:
        target.write_text(text, encoding="utf-8")
    return ReleaseResult(target, changed)


def release_main(args) -> int:
    """`python -m labutils.instructor assignment [--check]`: every assignment's student copy
    (or only `args.assignment`'s); 0 when each is (now) up to date."""
    from labutils.instructor.grading.plugin import all_assignments, load_assignment

    only = getattr(args, "assignment", None)
    check = bool(getattr(args, "check", False))
    stale = 0
    for assignment in [load_assignment(only)] if only else all_assignments():
        source, name = assignment.source, assignment.student_copy
        result = release(None, source, name, check=check)
        if check and result.changed:
            print(f"{name} is stale: it differs from a fresh release of {source}. "
                  "Run `make assignment` (python -m labutils.instructor assignment) and "
                  "commit it.")
            stale += 1
        elif check:
            print(f"{name} is up to date with {source}.")
        else:
            print(f"wrote {name}" if result.changed else f"{name} already up to date")
    return 1 if stale else 0


def _root(root: Path | None) -> Path:
    found = Path(root) if root is not None else repo_root()
    if found is None:
        raise FileNotFoundError("Run this inside the course repository (no pyproject.toml found).")
    return found
