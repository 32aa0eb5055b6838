"""The notebook runner: execute the course notebooks with papermill, store them without volatile
metadata, and tell lessons from unsolved student copies (which it skips).

`python -m labutils run` (what `make run` calls) executes every lesson in order, each in its own
folder as working directory (as nbval and Jupyter do), and writes it back only when it ran
cleanly, so a failed run never overwrites a good notebook.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from labutils.paths import repo_root

VOLATILE_TAG = "volatile-output"
"""Cells tagged so (timings) are executed, but stored without outputs: they change every run."""

_VOLATILE_CELL_METADATA = ("papermill", "execution", "collapsed", "scrolled", "ExecuteTime")
_NUMBERED = re.compile(r"^(\d+)_")


def notebooks_folder() -> Path:
    root = repo_root()
    if root is None:
        raise FileNotFoundError("Run this inside the course repository (no pyproject.toml found).")
    return root / "notebooks"


STUDENT_COPY_METADATA = "student_copy"
"""Key under the notebook metadata's "labutils" entry that marks an unsolved student copy."""


def is_student_copy(path: Path) -> bool:
    """An assignment as students receive it, with its solutions left out: `make run` skips it.

    It is marked in its notebook metadata (`{"labutils": {"student_copy": true}}`); in the
    instructor's repository it is also recognised by its source, `instructor/<name>_solution`.
    """
    path = Path(path)
    if (path.parent / "instructor" / f"{path.stem}_solution.ipynb").is_file():
        return True
    try:
        metadata = nbformat.read(path, as_version=4).metadata
    except Exception:  # unreadable: not ours to skip; running it will report the problem
        return False
    return bool(metadata.get("labutils", {}).get(STUDENT_COPY_METADATA, False))


def course_notebooks(folder: Path | None = None) -> list[Path]:
    """Every notebook to execute, in lesson order: numbered lessons and instructor solutions.

    Student copies are left out; `instructor/` is included when it exists (never in a release).
    """
    folder = Path(folder) if folder is not None else notebooks_folder()
    found = [p for p in folder.glob("*.ipynb") if not is_student_copy(p)]
    found += list((folder / "instructor").glob("*.ipynb"))

    def order(path: Path) -> tuple[int, str]:
        match = _NUMBERED.match(path.name)
        return (int(match.group(1)) if match else 999, path.name)

    return sorted(found, key=order)


def clean_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop what changes on every run (timestamps, durations, kernel details).

    Diffs then show only real changes to the lesson.
    """
    from nbconvert.preprocessors import CoalesceStreamsPreprocessor

    # A cell that prints over time yields several stream chunks, split by timing: merge them.
    CoalesceStreamsPreprocessor().preprocess(nb, {})
    for key in ("papermill", "widgets", "execution"):
        nb.metadata.pop(key, None)
    if "language_info" in nb.metadata:
        nb.metadata["language_info"] = {"name": nb.metadata["language_info"].get("name", "python")}
    for cell in nb.cells:
        for key in _VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)
        if cell.metadata.get("tags") == []:
            del cell.metadata["tags"]
        if cell.cell_type == "code" and VOLATILE_TAG in cell.metadata.get("tags", []):
            cell.outputs = []
            cell.execution_count = None
    return nb


@dataclass
class RunResult:
    """How one notebook's execution went."""

    notebook: Path
    ok: bool
    seconds: float
    error: str = ""


def run_notebook(path: Path, timeout: int | None = 1800) -> RunResult:
    """Execute `path` with papermill (cwd: its folder); store it, cleaned, only on success."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    path = Path(path).resolve()
    failed_copy = path.parent / f".{path.stem}.failed.ipynb"
    start = time.perf_counter()
    try:
        nb = papermill.execute_notebook(
            str(path),
            str(failed_copy),
            cwd=str(path.parent),
            progress_bar=False,
            execution_timeout=timeout,
            request_save_on_cell_execute=False,
        )
    except PapermillExecutionError as err:
        seconds = time.perf_counter() - start
        where = f"cell {err.cell_index} (execution count {err.exec_count})"
        message = f"{where}: {err.ename}: {err.evalue}".strip()
        return RunResult(path, False, seconds, f"{message}; executed copy kept in {failed_copy}")
    except Exception as err:  # kernel died, timeout, unreadable notebook...
        seconds = time.perf_counter() - start
        return RunResult(path, False, seconds, f"{type(err).__name__}: {err}")
    seconds = time.perf_counter() - start
    nbformat.write(clean_notebook(nb), str(path))
    failed_copy.unlink(missing_ok=True)
    return RunResult(path, True, seconds)


def run_all(paths: list[Path] | None = None, echo=print) -> list[RunResult]:
    """Execute notebooks in order, printing a table (notebook, status, seconds) as it goes."""
    paths = [Path(p) for p in paths] if paths else course_notebooks()
    root = repo_root() or Path.cwd()
    results = []
    echo(f"{'notebook':<48} {'status':<7} {'seconds':>8}")
    for path in paths:
        result = run_notebook(path)
        results.append(result)
        try:
            name = str(result.notebook.relative_to(root))
        except ValueError:
            name = str(result.notebook)
        echo(f"{name:<48} {'ok' if result.ok else 'FAILED':<7} {result.seconds:8.1f}")
    total = sum(r.seconds for r in results)
    echo(f"{'total':<48} {'':<7} {total:8.1f}")
    for result in results:
        if not result.ok:
            echo(f"FAILED {result.notebook.name}: {result.error}")
    return results
