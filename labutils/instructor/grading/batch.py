"""Grading a batch: read and hash every input, build the student package once, then run each
submission in its own sandbox (`jobs` at a time) and judge what it handed over (the assignment's
judge, plugin.Assignment), scoring by the assignment's rubric."""

from __future__ import annotations

import os
import queue
import re
import secrets
import shutil
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from labutils.instructor.assignment import check_name
from labutils.instructor.grading.collecting import NO_COLLECTION, collection_source
from labutils.instructor.grading.comparing import (
    first_difference,
    output_text,
    report_words,
    same_output,
)
from labutils.instructor.grading.console import grade_line, progress_bar
from labutils.instructor.grading.executing import execute
from labutils.instructor.grading.loading import load_data
from labutils.instructor.grading.plugin import (
    CORE_LINES,
    Assignment,
    Judgement,
    Rubric,
    RubricLine,
)
from labutils.instructor.grading.reading import (
    InputFile,
    Prepared,
    Release,
    SubmissionError,
    load_reference_release,
    prepare,
    read_inputs,
    read_submission,
)
from labutils.instructor.grading.reading_page import extract_answers
from labutils.instructor.grading.reporting import UNSAFE, Grade, format_grade
from labutils.instructor.grading.sandbox import (
    Limits,
    Sandbox,
    acquire_slot,
    check_available,
    hide_submissions,
    sandbox_uid,
    student_package,
)
from labutils.instructor.grading.similarity import notebook_code

CHECK_LINE = re.compile(r"^(?:\W|\u2139)*(PASS|NOTE|FAIL) ([A-Za-z][\w-]*):", re.MULTILINE)
"""How a self-check reports: `PASS name: ...`, `NOTE name: ...` (passed, with a remark) or
`FAIL name: ...` (feedback only), after its mark (labutils.checks: ✅, ℹ️ or ❌)."""
AFTER_TIMEOUT = "after cell timeout"
"""Feedback of a self-check that did not pass after a cell timed out: not the student's FAIL."""

CORE_RUBRIC = Rubric((
    RubricLine("runs", 1, "auto", "executes top to bottom in the grader's sandbox without "
               "error or timeout"),
    RubricLine("reproduced", 1, "auto", "every code cell stored run, and its outputs are "
               "what the grader's run prints"),
), "the grader core's own lines (no assignment given)")
"""The rubric without an assignment: only what the core judges itself (CORE_LINES)."""


def grade_submission(
    source: InputFile,
    release: Release,
    sandbox: Sandbox | None,
    cell_timeout: int = 120,
    total_timeout: int = 900,
    slot: int = 0,
    assignment: Assignment | None = None,
    unsafe: bool = False,
) -> Grade:
    """Grade one submission (already read) against `release`; never raises for a bad one.

    `assignment` says what to collect, how to judge it and the rubric (None: only the core's
    lines, nothing collected). `sandbox` None runs it unsandboxed, which only `unsafe` allows."""
    if sandbox is None and not unsafe and source.data is not None:
        raise ValueError("no sandbox given: pass unsafe=True to run a submission without one")
    grade = Grade(source.path, sha256=source.sha256,
                  sandbox=UNSAFE if sandbox is None and unsafe else "bwrap",
                  rubric=assignment.rubric if assignment is not None else CORE_RUBRIC)
    if sandbox is not None and os.geteuid() == 0:
        grade.uid = sandbox_uid(slot)
    try:
        submission, notes = read_submission(source)
    except SubmissionError as err:
        grade.status, grade.problem = "unreadable", str(err)
        return grade
    grade.notes += notes
    if sandbox is None:
        grade.notes.append("instructor-only code was reachable: without a sandbox the kernel "
                           "could import labutils.instructor and read the instructor checkout")
    grade.cells = len(submission.cells)
    grade.words, grade.unfilled = report_words(submission, release.nb)
    grade.unexecuted = _unexecuted(submission)
    collection = NO_COLLECTION if assignment is None else collection_source(
        assignment.collected, assignment.collect)
    prepared = prepare(submission, release.nb, collection)
    label = _labels(prepared, submission)
    grade.check_cells = prepared.check_cells
    grade.ignored = [label[i] for i in prepared.ignored]
    grade.skipped = [label[i] for i in prepared.skipped]
    named = {original: label[i] for i, original in enumerate(prepared.origin)
             if original is not None}  # reading names them "cell N" (1-based, all cells)
    grade.not_honoured = [named.get(int(text.split()[-1]) - 1, text)
                          for text in prepared.not_honoured]
    data_name = f".grading-{secrets.token_hex(8)}.pt"
    run = execute(prepared.nb, sandbox, cell_timeout, total_timeout, slot, data_name)
    grade.seconds = run.seconds
    if run.timed_out:
        grade.status = "timed out"
    grade.problem = run.problem
    grade.truncated = [label[i] for i in run.truncated if i < len(label)]
    if run.problem and run.running_cell is not None and run.running_cell < len(label):
        grade.problem += f", while running {label[run.running_cell]}"
    elif run.timed_out and run.running_cell is None:
        grade.problem += ", before the first cell ran (kernel start)"
    executed = run.nb
    if executed is not None:
        _compare(grade, submission, prepared, executed, run, label)
        first_timeout = min(run.cell_timeouts, default=None)
        grade.feedback = _feedback(executed, prepared, first_timeout)
        if first_timeout is not None and grade.status == "graded":
            grade.status = "cell timeout"
            grade.problem = grade.problem or (
                f"cell timeout in {label[first_timeout]}: stopped after {cell_timeout} s "
                "(--cell-timeout); the cells after it ran without its results")
    else:
        grade.feedback = {name: "not run" for name in prepared.check_cells}
    grade.judgement = _judge(assignment, run.data, run.data_problem)
    reproduced = (executed is not None and not grade.differ and not run.problem
                  and not grade.unexecuted)
    grade.points = _score(grade, {"runs": grade.runs_clean, "reproduced": reproduced})
    grade.answers, grade.figures = extract_answers(submission, release.nb)  # the kernel: Agg
    grade.code = notebook_code(submission)
    return grade


def _judge(assignment: Assignment | None, raw: bytes | None, why_missing: str) -> Judgement:
    """The assignment's judgement of the collection file (nothing without an assignment); a
    judge that fails is a data problem of this submission, not the end of the batch."""
    if assignment is None:
        return Judgement()
    data, problems = load_data(raw, why_missing, spec=assignment.entries)
    try:
        return assignment.judge(data, problems)
    except Exception as err:  # a judge bug on one submission must not stop the batch
        return Judgement(problems=[*problems, f"the {assignment.name} judge failed: "
                                   f"{type(err).__name__}: {err}"[:300]])


def _score(grade: Grade, core: dict[str, bool]) -> dict[str, float]:
    """Points per auto rubric line: the core's own lines from `core`, the others from the
    judgement's fractions (a line the judge did not score earns 0, with a note)."""
    points = {}
    for line in grade.rubric.of_kind("auto"):
        if line.name in CORE_LINES:
            fraction = float(core[line.name])
        else:
            fraction = grade.judgement.scores.get(line.name)
            if fraction is None:
                grade.notes.append(f"rubric line {line.name!r} was not scored by the judge")
                fraction = 0.0
        points[line.name] = line.points * min(1.0, max(0.0, float(fraction)))
    return points


def _unexecuted(submission: nbformat.NotebookNode) -> list[int]:
    """Code cells (numbered from 1 among code cells) the student never ran: no outputs, no
    execution count."""
    code = [cell for cell in submission.cells if cell.cell_type == "code"]
    return [number for number, cell in enumerate(code, start=1)
            if cell.source.strip() and not cell.get("outputs")
            and cell.get("execution_count") is None]


def _compare(grade, submission, prepared: Prepared, executed, run, label) -> None:
    stopped_at = run.running_cell if run.problem else None
    ignored = set(prepared.ignored) | set(prepared.skipped)
    last = len(executed.cells) - 1
    for index, (cell, original) in enumerate(zip(executed.cells, prepared.origin, strict=True)):
        if cell.cell_type != "code" or index == last:
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
        if original is None or index in ignored or (stopped_at is not None
                                                    and index >= stopped_at):
            continue
        stored_cell = submission.cells[original]
        if not stored_cell.get("outputs") and stored_cell.get("execution_count") is None:
            continue
        stored, fresh = output_text(stored_cell), output_text(cell)
        if not same_output(stored, fresh):
            grade.differ.append((label[index], first_difference(stored, fresh)))


def cell_label(number: int, source: str) -> str:
    """`code cell 7 ("train(net, ...")`: the cell's number among code cells (as a student
    counts them in Jupyter or Colab) and the start of its first non-blank line."""
    first = next((line.strip() for line in source.splitlines() if line.strip()), "")
    if len(first) > 28:
        first = first[:25] + "..."
    return f'code cell {number} ("{first}")' if first else f"code cell {number}"


def _labels(prepared: Prepared, submission: nbformat.NotebookNode) -> list[str]:
    """How to name each executed cell: its place among the submission's code cells and first
    line, or the restored check."""
    numbers: dict[int, int] = {}
    for index, cell in enumerate(submission.cells):
        if cell.cell_type == "code":
            numbers[index] = len(numbers) + 1
    labels = []
    for cell, original in zip(prepared.nb.cells, prepared.origin, strict=True):
        if original is not None:
            labels.append(cell_label(numbers[original], submission.cells[original].source)
                          if original in numbers else f"markdown cell {original + 1}")
        elif check_name(cell):
            labels.append(f"restored check {check_name(cell)!r}")
        else:
            labels.append("grader's collection cell")
    return labels


def _first_line(text: str) -> str:
    return (text.strip().split("\n", 1)[0] if text else "")[:120]


def _feedback(executed: nbformat.NotebookNode, prepared: Prepared,
              first_timeout: int | None = None) -> dict[str, str]:
    """Each self-check's result in the grader's run: PASS, NOTE (passed with a remark), FAIL,
    error, not run, or AFTER_TIMEOUT (did not pass after an earlier cell timed out)."""
    results = {}
    for index, cell in enumerate(executed.cells):
        name = check_name(cell)
        if name not in prepared.check_cells or name in results:
            continue
        found = [m.group(1) for m in CHECK_LINE.finditer(output_text(cell)) if m.group(2) == name]
        errored = any(o.get("output_type") == "error" for o in cell.get("outputs", []))
        if found:
            results[name] = ("FAIL" if "FAIL" in found else "NOTE" if "NOTE" in found
                             else "PASS")
        else:
            results[name] = "error" if errored else "not run"
        if (first_timeout is not None and index > first_timeout
                and results[name] in ("FAIL", "error")):
            results[name] = AFTER_TIMEOUT
    return {name: results.get(name, "not run") for name in prepared.check_cells}


def grade_all(
    paths: list[Path],
    release: Release | nbformat.NotebookNode | None = None,
    cell_timeout: int = 120,
    total_timeout: int = 900,
    echo: Callable[[str], object] = print,
    jobs: int = 1,
    unsafe_no_sandbox: bool = False,
    limits: Limits | None = None,
    assignment: Assignment | None = None,
    on_grade: Callable[[Grade], object] | None = None,
    name: Callable[[Path], str] | None = None,
    verbose: bool = False,
) -> list[Grade]:
    """Grade each submission (`jobs` at a time); the grades in the order of `paths`.

    As each one finishes: `on_grade(grade)` (e.g. record it in the gradebook, so that a killed
    batch loses nothing graded), then one line through `echo` (`name(path)` names it, default
    the file name; with `verbose` the whole table too), with a progress bar on stderr.

    `assignment` (plugin.load_assignment) gives the release, the data collected, the judge and
    the rubric; None grades only what the core judges (the notebook runs, outputs reproduced).

    Every file is read, hashed and copied into a private folder of the grader before the first
    one runs (links refused); only those copies are graded. Without `unsafe_no_sandbox`,
    raises SandboxUnavailable when bwrap cannot be used.
    """
    staging = Path(tempfile.mkdtemp(prefix="labutils-submissions-"))  # 0700, the grader's own
    try:
        inputs = read_inputs([Path(p) for p in paths], stage_to=staging)
        if release is None:
            if assignment is None:
                raise ValueError("grade_all needs a release or an assignment")
            release = load_reference_release(None, assignment.source, assignment.student_copy)
        elif not isinstance(release, Release):
            release = Release(release, "given notebook", "")
        sandbox = None
        if not unsafe_no_sandbox:
            check_available()
            if any(i.data is not None for i in inputs):
                shared = assignment.shared_data() if assignment is not None and \
                    assignment.shared_data is not None else {}
                sandbox = Sandbox(student_package(), limits=limits or Limits(
                    cpu_seconds=max(total_timeout + 5, 10)), shared=shared)
                hide_submissions(sandbox, hidden_inputs(inputs))
        report = _Report(echo, on_grade, name or (lambda path: Path(path).name), verbose)
        return _grade_inputs(inputs, release, sandbox, cell_timeout, total_timeout, report,
                             jobs, unsafe_no_sandbox, assignment)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def hidden_inputs(inputs: list[InputFile]) -> list[Path]:
    """What the sandbox hides of the inputs: the staged copies (all in the grader's private
    folder) and the plain files they were read from (never what a refused link names; with a
    sandbox that shows only an allow-list of folders, the copies are enough)."""
    return [*(i.staged for i in inputs if i.staged is not None),
            *(i.path for i in inputs if i.data is not None)]


@dataclass
class _Report:
    """What happens as each submission finishes (one at a time, under `lock`)."""

    echo: Callable[[str], object]
    on_grade: Callable[[Grade], object] | None
    name: Callable[[Path], str]
    verbose: bool
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopped: threading.Event = field(default_factory=threading.Event)
    """Set when the batch stops (Ctrl-C, a gradebook that cannot record): what has not started
    is not started, what runs finishes and is reported."""

    def finished(self, grade: Grade, done: Callable[[str], None]) -> None:
        with self.lock:
            if self.on_grade is not None:
                try:
                    self.on_grade(grade)
                except BaseException:
                    self.stopped.set()
                    raise
            done(grade_line(grade, self.name(grade.submission)))
            if self.verbose:
                self.echo(format_grade(grade))


def _grade_inputs(inputs, release, sandbox, cell_timeout, total_timeout, report: _Report, jobs,
                  unsafe_no_sandbox, assignment) -> list[Grade]:
    slots: queue.Queue[int] = queue.Queue()
    locks = []
    for _ in range(max(1, jobs)):
        slot, lock = acquire_slot() if sandbox is not None else (0, None)
        slots.put(slot)
        locks.append(lock)

    def one(source: InputFile, done: Callable[[str], None]) -> Grade:
        if report.stopped.is_set():
            raise RuntimeError("the batch was stopped before this submission started")
        slot = slots.get()
        try:
            grade = grade_submission(source, release, sandbox, cell_timeout, total_timeout,
                                     slot, assignment, unsafe_no_sandbox)
        except Exception as err:  # a grader bug on one file must not stop the batch
            grade = Grade(source.path, sha256=source.sha256, status="unreadable",
                          rubric=assignment.rubric if assignment is not None else CORE_RUBRIC,
                          sandbox=UNSAFE if unsafe_no_sandbox else "bwrap",
                          problem=f"grader error: {type(err).__name__}: {err}")
        finally:
            slots.put(slot)
        report.finished(grade, done)  # a gradebook that cannot record stops the batch
        return grade

    try:
        with progress_bar(len(inputs), report.echo) as done, \
                ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            try:
                grades = list(pool.map(lambda source: one(source, done), inputs))
            except BaseException:  # Ctrl-C: finish (and record) only what is running
                report.stopped.set()
                raise
    finally:
        for lock in locks:
            if lock is not None:
                os.close(lock)
    return grades
