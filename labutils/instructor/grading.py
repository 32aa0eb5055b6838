"""Grade submitted assignment notebooks: `python -m labutils grade SUB.ipynb ... [--out CSV]`.

For each submission, without ever writing to it:
1. read it (not a notebook, invalid JSON and unknown formats are reported; nbformat 3 is converted);
2. compare its check cells (found by their `# CHECK: name` first line) with the release by
   checksum, and restore deleted or edited ones for the run;
3. execute a copy in a fresh temporary folder (its working directory) with a fresh kernel, in a
   subprocess with a per-cell timeout (the cell is interrupted, the rest still runs) and a total
   timeout (the subprocess and its kernel are killed);
4. compare the stored outputs with the re-executed ones (cells edited by hand or not
   reproducible), read the check results, the reported sweeps and the length of the report.
One broken submission never stops the batch: it gets a row saying what went wrong.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
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
from labutils.colab import SETUP_MARKER

PROBE_MARKER = "LABUTILS-GRADING-SUMMARY:"
"""Prefix of the line the grader's own last cell prints (a JSON summary of the kernel's state)."""

PROBE_SOURCE = (
    "# Added by the grader (not part of the submission).\n"
    "import json as _json\n"
    "import sys as _sys\n"
    "\n"
    "try:\n"
    "    _checks = _sys.modules.get('labutils.checks')  # loaded by the check cells, if they ran\n"
    "    if _checks is not None:\n"
    "        _state = _checks.grading_summary(globals())\n"
    "    else:\n"
    "        _state = {'sweeps': globals().get('sweeps', 'not defined'), 'solved': None}\n"
    "except Exception as _error:  # the submission broke labutils itself\n"
    "    _state = {'probe_error': f'{type(_error).__name__}: {_error}'}\n"
    f"print({PROBE_MARKER!r} + _json.dumps(_state, default=repr))"
)

CHECK_LINE = re.compile(r"^\W*(PASS|FAIL) ([A-Za-z][\w-]*):", re.MULTILINE)
"""How a self-check reports (see labutils.checks.report): `PASS name: ...` or `FAIL name: ...`."""

IGNORE_OUTPUT_TAGS = {"nbval-ignore-output", "volatile-output", "nbval-skip", "skip-execution"}
_IGNORE_OUTPUT_LINES = {"# NBVAL_IGNORE_OUTPUT", "# NBVAL_SKIP"}

_VOLATILE = [
    (re.compile(r"0x[0-9a-fA-F]+"), "0xADDRESS"),
    (re.compile(r"\S*ipykernel_\d+[/\\]\d+\.py"), "<cell>"),
    (re.compile(r"\[\d+:\d+<[^\]]*\]"), "[TIME]"),
    (re.compile(r"\x1b\[[0-9;]*m"), ""),
    (re.compile(r"/tmp/[\w./-]*"), "<tmp>"),
]
_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


class SubmissionError(ValueError):
    """A submission that cannot be graded at all (missing, not a notebook, unknown format)."""


# ---------------------------------------------------------------------------------------------
# Reading


def read_submission(path: Path) -> tuple[nbformat.NotebookNode, list[str]]:
    """The submission as an nbformat-4 notebook, and notes about its reading (conversions).

    Raises SubmissionError with a readable reason for anything that is not a notebook.
    """
    path = Path(path)
    notes: list[str] = []
    if not path.is_file():
        raise SubmissionError(f"file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SubmissionError("not a notebook: the file is not text (binary data)") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as err:
        raise SubmissionError(
            f"not a notebook: invalid JSON at line {err.lineno}, column {err.colno} ({err.msg})"
        ) from None
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
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as err:
        first = str(err).strip().split("\n", 1)[0]
        notes.append(f"notebook fails nbformat validation (graded anyway): {first[:120]}")
    return nb, notes


# ---------------------------------------------------------------------------------------------
# Check cells: compare with the release and restore


@dataclass
class Prepared:
    """The notebook the grader executes and how its cells map back to the submission's."""

    nb: nbformat.NotebookNode
    origin: list[int | None]
    """Per executed cell, its index in the submission (None: restored, or added by the grader)."""
    check_cells: dict[str, str]
    """Each release check: 'ok', 'edited' or 'deleted' (both restored for the run)."""


def prepare(submission: nbformat.NotebookNode, release: nbformat.NotebookNode) -> Prepared:
    """Copy the submission, put back the release's check cells, and append the grader's probe."""
    wanted = check_cells(release)
    present = {}
    for index, cell in enumerate(submission.cells):
        name = check_name(cell)
        if name in wanted and name not in present:
            present[name] = index
    status = {}
    cells: list[nbformat.NotebookNode] = []
    origin: list[int | None] = []
    for index, cell in enumerate(submission.cells):
        cell = nbformat.from_dict(json.loads(json.dumps(cell)))
        if cell.cell_type == "code":  # only what the grader's run prints may count
            cell.outputs, cell.execution_count = [], None
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
    for name in wanted:
        if name not in present:
            status[name] = "deleted"
            position = _restore_position(name, release, submission, cells, origin)
            restored = nbformat.v4.new_code_cell(wanted[name].source)
            cells.insert(position, restored)
            origin.insert(position, None)
    cells.append(nbformat.v4.new_code_cell(PROBE_SOURCE))
    origin.append(None)
    nb = nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": _KERNELSPEC})
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"graded-{index}"  # unique and valid, whatever the submission had
    ordered = {name: status[name] for name in wanted}
    return Prepared(nb, origin, ordered)


_KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def _restore_position(name, release, submission, cells, origin) -> int:
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


# ---------------------------------------------------------------------------------------------
# Execution in a subprocess, in a temporary folder


@dataclass
class Execution:
    """How the run of one prepared notebook went."""

    nb: nbformat.NotebookNode | None
    seconds: float
    timed_out: bool = False
    running_cell: int | None = None
    """Index (in the executed notebook) of the cell running when the run stopped early."""
    cell_timeouts: list[int] = field(default_factory=list)
    problem: str = ""
    """Why the run stopped early (kernel died, total timeout, worker failure), else empty."""


def execute(
    nb: nbformat.NotebookNode, cell_timeout: int = 120, total_timeout: int = 900
) -> Execution:
    """Run `nb` in a fresh kernel whose working directory is a new temporary folder.

    The kernel runs under a worker subprocess; after `total_timeout` seconds both are killed
    and what ran so far is returned. The temporary folder (and whatever the notebook wrote into
    it) is removed afterwards.
    """
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="labutils-grade-") as tmp:
        folder = Path(tmp)
        work = folder / "work"
        work.mkdir()
        source, result = folder / "in.ipynb", folder / "out.ipynb"
        status_file = folder / "status.json"
        nbformat.write(nb, source)
        env = {**os.environ, "LABUTILS_PROGRESS": "0", "PYTHONHASHSEED": "0"}
        command = [sys.executable, "-m", "labutils.instructor.grading", "--worker", str(source), str(result),
                   str(status_file), str(cell_timeout)]
        proc = subprocess.Popen(command, cwd=work, env=env, start_new_session=True,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        timed_out = False
        try:
            log, _ = proc.communicate(timeout=total_timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill(proc, status_file)
            log, _ = proc.communicate()
        status = _read_json(status_file)
        executed = None
        if result.is_file():
            try:
                executed = nbformat.read(result, as_version=4)
            except Exception:  # a worker killed mid-write leaves nothing usable
                executed = None
        seconds = time.perf_counter() - start
        problem = status.get("problem", "")
        if timed_out:
            problem = f"total timeout: killed after {total_timeout} s"
        elif proc.returncode != 0 and not problem:
            tail = log.decode("utf-8", "replace").strip().splitlines()[-3:]
            problem = f"grading worker failed (exit {proc.returncode}): {' | '.join(tail)}"
        running = status.get("cell") if (timed_out or problem) else None
        return Execution(executed, seconds, timed_out, running, status.get("timeouts", []), problem)


def _kill(proc: subprocess.Popen, status_file: Path) -> None:
    """Kill the worker's process group and the kernel it started (the kernel has its own)."""
    kernel = _read_json(status_file).get("kernel_pid")
    for pid, group in ((proc.pid, True), (kernel, False)):
        if not pid:
            continue
        try:
            if group:
                os.killpg(pid, signal.SIGKILL)
            else:
                os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _write_atomic(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _worker(source: str, result: str, status_file: str, cell_timeout: int) -> int:
    """Subprocess side of `execute`: run the notebook with nbclient, saving progress as it goes."""
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    nb = nbformat.read(source, as_version=4)
    status: dict = {"cell": None, "timeouts": [], "kernel_pid": None}

    def save() -> None:  # atomic, so the grader never reads half a file after a kill
        _write_atomic(Path(status_file), json.dumps(status))
        _write_atomic(Path(result), nbformat.writes(nb))

    client = NotebookClient(
        nb,
        timeout=cell_timeout,
        interrupt_on_timeout=True,
        error_on_timeout={"ename": "CellTimeoutError", "evalue": f"over {cell_timeout} s",
                          "traceback": []},
        allow_errors=True,
        kernel_name="python3",
        resources={"metadata": {"path": os.getcwd()}},
        coalesce_streams=True,
        shutdown_kernel="immediate",
    )

    def started(notebook) -> None:
        status["kernel_pid"] = getattr(client.km.provisioner, "pid", None)
        save()

    def before(cell, cell_index) -> None:
        status["cell"] = cell_index
        save()

    def after(cell, cell_index, execute_reply) -> None:
        if (execute_reply or {}).get("content", {}).get("ename") == "CellTimeoutError":
            status["timeouts"].append(cell_index)
            if not any(o.get("output_type") == "error" for o in cell.outputs):
                cell.outputs.append(nbformat.v4.new_output(
                    "error", ename="CellTimeoutError", evalue=f"over {cell_timeout} s",
                    traceback=[]))
        save()

    client.on_notebook_start = started
    client.on_cell_execute = before
    client.on_cell_executed = after
    try:
        client.execute()
    except DeadKernelError:
        status["problem"] = "the kernel died (crash, os._exit or out of memory)"
    except Exception as err:  # a grader failure must still leave a status behind
        status["problem"] = f"execution stopped: {type(err).__name__}: {err}"
    save()
    return 0


# ---------------------------------------------------------------------------------------------
# Comparing outputs


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


def _ignored(cell: nbformat.NotebookNode) -> bool:
    tags = set(cell.get("metadata", {}).get("tags", []))
    first = cell.source.split("\n", 1)[0].strip()
    return bool(tags & IGNORE_OUTPUT_TAGS) or first in _IGNORE_OUTPUT_LINES or first.startswith(
        SETUP_MARKER.split("(")[0].strip()
    )


def first_difference(stored: str, fresh: str) -> str:
    """A one-line hint of where two output texts part ways."""
    a, b = stored.split("\n"), fresh.split("\n")
    for line_a, line_b in zip(a, b, strict=False):
        if line_a != line_b:
            return f"stored {line_a[:60]!r}, re-run {line_b[:60]!r}"
    if len(a) != len(b):
        return f"stored {len(a)} lines, re-run {len(b)} lines"
    return "outputs differ"


# ---------------------------------------------------------------------------------------------
# The report text


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


# ---------------------------------------------------------------------------------------------
# Grading


@dataclass
class Grade:
    """Everything the grader found out about one submission."""

    submission: Path
    status: str = "graded"
    """'graded', 'unreadable' or 'timed out'."""
    problem: str = ""
    notes: list[str] = field(default_factory=list)
    cells: int = 0
    seconds: float = 0.0
    errors: list[tuple[str, str]] = field(default_factory=list)
    """(cell, 'Name: message') of each cell that raised; cells named as in the submission."""
    timeouts: list[str] = field(default_factory=list)
    not_run: list[str] = field(default_factory=list)
    """Cells never executed in the grader's run (after a total timeout or a dead kernel)."""
    differ: list[tuple[str, str]] = field(default_factory=list)
    """(cell, first difference) of cells whose stored outputs were not reproduced."""
    unexecuted: list[int] = field(default_factory=list)
    """Code cells stored without outputs or execution count (the student never ran them)."""
    check_cells: dict[str, str] = field(default_factory=dict)
    checks: dict[str, str] = field(default_factory=dict)
    """Each check's result in the grader's run: PASS, FAIL, error or not run."""
    sweeps: str = "?"
    solved: str = "?"
    words: int = 0
    unfilled: int = 0

    @property
    def runs_clean(self) -> bool:
        """Executed top to bottom with no error, timeout or early stop."""
        failed = self.errors or self.timeouts or self.problem
        return self.status == "graded" and not failed

    def row(self) -> dict[str, str]:
        """One CSV row (every value a string)."""
        row = {
            "submission": str(self.submission),
            "status": self.status,
            "runs_clean": _yes(self.runs_clean) if self.status != "unreadable" else "",
            "problem": self.problem,
            "errors": "; ".join(f"{n}: {e}" for n, e in self.errors),
            "cell_timeouts": "; ".join(self.timeouts),
            "outputs_differ": "; ".join(f"{n}: {d}" for n, d in self.differ),
            "unexecuted_cells": " ".join(map(str, self.unexecuted)),
            "check_cells": _check_cells_text(self.check_cells),
        }
        for name, result in self.checks.items():
            row[f"check_{name}"] = result
        row.update({
            "checks_passed": _checks_text(self.checks),
            "sweeps": self.sweeps,
            "solved": self.solved,
            "report_words": str(self.words),
            "answers_unfilled": str(self.unfilled),
            "seconds": f"{self.seconds:.1f}",
            "notes": "; ".join(self.notes),
        })
        return row


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _checks_text(checks: dict[str, str]) -> str:
    passed = sum(result == "PASS" for result in checks.values())
    return f"{passed}/{len(checks)}" if checks else ""


def _check_cells_text(check_cells: dict[str, str]) -> str:
    bad = [f"{name} {state}" for name, state in check_cells.items() if state != "ok"]
    if not check_cells:
        return ""
    return "all unmodified" if not bad else "restored: " + ", ".join(bad)


def grade_submission(
    path: Path,
    release: nbformat.NotebookNode,
    cell_timeout: int = 120,
    total_timeout: int = 900,
) -> Grade:
    """Grade one submission against `release`; never raises for a broken submission."""
    grade = Grade(Path(path))
    try:
        submission, notes = read_submission(path)
    except SubmissionError as err:
        grade.status, grade.problem = "unreadable", str(err)
        return grade
    grade.notes += notes
    grade.cells = len(submission.cells)
    grade.words, grade.unfilled = report_words(submission, release)
    grade.unexecuted = [
        i + 1 for i, cell in enumerate(submission.cells)
        if cell.cell_type == "code" and cell.source.strip() and not cell.get("outputs")
        and cell.get("execution_count") is None
    ]
    prepared = prepare(submission, release)
    grade.check_cells = prepared.check_cells
    run = execute(prepared.nb, cell_timeout, total_timeout)
    grade.seconds = run.seconds
    if run.timed_out:
        grade.status = "timed out"
    grade.problem = run.problem
    executed = run.nb
    if run.problem and run.running_cell is not None and run.running_cell < len(prepared.origin):
        grade.problem += f", while running {_labels(prepared)[run.running_cell]}"
    if executed is None:
        grade.checks = {name: "not run" for name in prepared.check_cells}
        return grade
    label = _labels(prepared)
    stopped_at = run.running_cell if run.problem else None
    for index, (cell, original) in enumerate(zip(executed.cells, prepared.origin, strict=True)):
        if cell.cell_type != "code" or index == len(executed.cells) - 1:
            continue
        if stopped_at is not None and index > stopped_at:
            grade.not_run.append(label[index])
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                message = _first_line(output.get("evalue", ""))
                grade.errors.append(
                    (label[index], f"{output.get('ename')}: {message}" if message
                     else str(output.get("ename"))))
        if index in run.cell_timeouts:
            grade.timeouts.append(label[index])
        if original is None or _ignored(cell) or (stopped_at is not None and index >= stopped_at):
            continue
        stored_cell = submission.cells[original]
        if not stored_cell.get("outputs") and stored_cell.get("execution_count") is None:
            continue
        stored, fresh = output_text(stored_cell), output_text(cell)
        if not same_output(stored, fresh):
            grade.differ.append((label[index], first_difference(stored, fresh)))
    grade.checks = _check_results(executed, prepared)
    summary = _probe(executed) if not run.problem else {}
    if "probe_error" in summary:
        grade.notes.append(f"grader's summary failed: {summary['probe_error']}")
    grade.sweeps = _text(summary.get("sweeps", "?"))
    grade.solved = "n/a" if summary and summary.get("solved") is None else _text(
        summary.get("solved", "?"))
    return grade


def _labels(prepared: Prepared) -> list[str]:
    """How to name each executed cell: its number in the submission, or the restored check."""
    labels = []
    for cell, original in zip(prepared.nb.cells, prepared.origin, strict=True):
        if original is not None:
            labels.append(f"cell {original + 1}")
        elif check_name(cell):
            labels.append(f"restored check {check_name(cell)!r}")
        else:
            labels.append("grader's summary cell")
    return labels


def _first_line(text: str) -> str:
    return (text.strip().split("\n", 1)[0] if text else "")[:120]


def _check_results(executed: nbformat.NotebookNode, prepared: Prepared) -> dict[str, str]:
    results = {}
    for cell in executed.cells:
        name = check_name(cell)
        if name not in prepared.check_cells or name in results:
            continue
        found = [m.group(1) for m in CHECK_LINE.finditer(output_text(cell))
                 if m.group(2) == name]
        errored = any(o.get("output_type") == "error" for o in cell.get("outputs", []))
        if found:
            results[name] = "PASS" if all(r == "PASS" for r in found) else "FAIL"
        elif errored:
            results[name] = "error"
        else:
            results[name] = "not run"
    return {name: results.get(name, "not run") for name in prepared.check_cells}


def _probe(executed: nbformat.NotebookNode) -> dict:
    text = output_text(executed.cells[-1]) if executed.cells else ""
    for line in text.split("\n"):
        if line.startswith(PROBE_MARKER):
            try:
                return json.loads(line[len(PROBE_MARKER):])
            except ValueError:
                return {}
    return {}


def _text(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return _yes(value)
    return str(value)


def grade_all(
    paths: list[Path],
    release: nbformat.NotebookNode | None = None,
    cell_timeout: int = 120,
    total_timeout: int = 900,
    echo=print,
    jobs: int = 1,
) -> list[Grade]:
    """Grade each submission (`jobs` at a time), printing its table in order as it is done."""
    release = release if release is not None else load_release()

    def one(path: Path) -> Grade:
        try:
            return grade_submission(path, release, cell_timeout, total_timeout)
        except Exception as err:  # a grader bug on one file must not stop the batch
            return Grade(Path(path), status="unreadable",
                         problem=f"grader error: {type(err).__name__}: {err}")

    grades = []
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for grade in pool.map(one, paths):
            grades.append(grade)
            echo(format_grade(grade))
    return grades


# ---------------------------------------------------------------------------------------------
# Output


def format_grade(grade: Grade) -> str:
    """A readable two-column table for one submission."""
    rows: list[tuple[str, str]] = []
    if grade.status == "unreadable":
        rows.append(("status", f"NOT GRADED: {grade.problem}"))
    else:
        clean = "yes" if grade.runs_clean else "no"
        rows.append(("runs top to bottom", f"{clean} ({grade.cells} cells, {grade.seconds:.1f} s)"))
        if grade.problem:
            rows.append(("stopped", grade.problem))
        if grade.not_run:
            rows.append(("cells not run", _cell_list(grade.not_run)))
        rows.append(("errors", "; ".join(f"{n}: {e}" for n, e in grade.errors) or "none"))
        if grade.timeouts:
            rows.append(("cell timeouts", _cell_list(grade.timeouts)))
        if grade.differ:
            details = "; ".join(f"{n}: {d}" for n, d in grade.differ[:3])
            more = f" (+{len(grade.differ) - 3} more)" if len(grade.differ) > 3 else ""
            rows.append(("outputs reproduced",
                         f"NO, {len(grade.differ)} cell(s) differ (edited by hand or not "
                         f"reproducible): {details}{more}"))
        else:
            rows.append(("outputs reproduced", "yes"))
        if grade.unexecuted:
            rows.append(("never run by student", _numbers(grade.unexecuted)))
        rows.append(("check cells", _check_cells_text(grade.check_cells) or "none in release"))
        checks = ", ".join(f"{name} {result}" for name, result in grade.checks.items())
        rows.append(("checks", f"{_checks_text(grade.checks)} passed: {checks}"))
        rows.append(("sweeps to solution", f"{grade.sweeps} (solved: {grade.solved})"))
        unfilled = f", {grade.unfilled} answer(s) left unfilled" if grade.unfilled else ""
        rows.append(("report", f"{grade.words} words{unfilled}"))
    for note in grade.notes:
        rows.append(("note", note))
    width = max(len(key) for key, _ in rows)
    title = f"== {grade.submission.name} "
    lines = [title + "=" * max(3, 78 - len(title))]
    lines += [f"  {key:<{width}}  {value}" for key, value in rows]
    return "\n".join(lines)


def _numbers(numbers: list[int], shown: int = 8) -> str:
    listed = ", ".join(map(str, numbers[:shown])) + (", ..." if len(numbers) > shown else "")
    return f"{len(numbers)} code cell(s): {listed}"


def _cell_list(labels: list[str]) -> str:
    return ", ".join(labels)


def summary_table(grades: list[Grade]) -> str:
    """One line per submission: the batch at a glance."""
    header = ("submission", "status", "clean", "reproduced", "check cells", "checks", "sweeps",
              "words")
    rows = [header]
    for g in grades:
        if g.status == "unreadable":
            rows.append((g.submission.name, "unreadable", "", "", "", "", "", ""))
            continue
        cells_ok = all(s == "ok" for s in g.check_cells.values())
        rows.append((g.submission.name, g.status, _yes(g.runs_clean),
                     "yes" if not g.differ else f"no ({len(g.differ)})",
                     "ok" if cells_ok else "restored", _checks_text(g.checks), g.sweeps,
                     str(g.words)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip()
                     for r in rows)


def write_csv(grades: list[Grade], path: Path) -> Path:
    """All grades as CSV (one row per submission; a column per check)."""
    rows = [g.row() for g in grades]
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    path = Path(path)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(rows)
    return path


def grade_main(args) -> int:
    """`python -m labutils grade`: 0 when every submission could be graded, else 1."""
    paths = [Path(p) for p in args.submissions]
    if args.cell_timeout < 1 or args.total_timeout < 1:
        raise ValueError("--cell-timeout and --total-timeout must be at least 1 second")
    release_path = getattr(args, "release", None)
    release = nbformat.read(release_path, as_version=4) if release_path else load_release()
    jobs = int(getattr(args, "jobs", 1) or 1)
    grades = grade_all(paths, release, args.cell_timeout, args.total_timeout, jobs=jobs)
    print()
    print(summary_table(grades))
    if args.out is not None:
        print(f"wrote {write_csv(grades, args.out)}")
    return 1 if any(g.status == "unreadable" for g in grades) else 0


if __name__ == "__main__":  # the worker `execute` starts
    if len(sys.argv) == 6 and sys.argv[1] == "--worker":
        raise SystemExit(_worker(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])))
    raise SystemExit("labutils.instructor.grading is run by `python -m labutils grade`")
