"""Run one prepared notebook: a worker process (the grader's side) drives a kernel (the
submission's side, sandboxed) and logs each cell's outputs as it goes.

Who runs where:
- the grader (this process) makes a private state folder (worker files, never visible to the
  kernel) and, apart from it, a box folder (the kernel's /tmp, its only writable place; its
  host path names nothing else of the grader), starts the worker with
  its output going to a file (no pipe a submission's child could hold open), waits at most the
  total timeout, then kills the worker's process group, the sandbox and, as root, every process
  of the sandbox's user id;
- the worker (`python -m labutils.instructor.grading.worker SPEC`, worker.py) runs nbclient
  against the kernel over Unix sockets in the box (the sandbox has no network), appends one
  JSON line per cell to a progress log (bounded, never the whole notebook per cell) and dies
  with the grader (parent-death signal); it starts the kernel with stdin/stdout/stderr on
  /dev/null, no other descriptor and the sandbox's environment (nothing of the grader);
- the kernel runs inside bwrap (see sandbox.py) and dies with the worker (--die-with-parent;
  the whole PID namespace goes when its first process does).
For debugging the grader: LABUTILS_GRADE_KEEP=1 keeps the temporary folders (state/worker.log,
state/progress.jsonl), LABUTILS_GRADE_LOG=10 makes nbclient log at debug level.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from labutils.instructor.grading.collecting import DATA_PATH_TOKEN
from labutils.instructor.grading.sandbox import (
    INSIDE_TMP,
    Sandbox,
    kill_user_processes,
    sandbox_uid,
)
from labutils.instructor.grading.worker import MAX_LOG_BYTES, MAX_PROGRESS_BYTES

MAX_DATA_BYTES = 16 * 2**20
"""Largest data file the grader reads back from the box."""


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
    truncated: list[int] = field(default_factory=list)
    """Cells whose output went over the limits and was cut."""
    data: bytes | None = None
    """The collection cell's file, read from the box (None: not written or not a plain file)."""
    data_problem: str = ""


def execute(
    nb: nbformat.NotebookNode,
    sandbox: Sandbox | None,
    cell_timeout: int = 120,
    total_timeout: int = 900,
    slot: int = 0,
    data_name: str = "",
) -> Execution:
    """Run `nb` in a fresh kernel (sandboxed unless `sandbox` is None) in a new temporary box.

    After `total_timeout` seconds everything the run started is killed and what ran so far is
    returned. `data_name` is the file the collection cell writes in the box (read back here).
    Both temporary folders are removed afterwards.
    """
    start = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="labutils-grade-"))
    box = Path(tempfile.mkdtemp(prefix="labutils-box-"))  # apart: its path names only itself
    try:
        state = root / "state"
        state.mkdir()
        if sandbox is not None and os.geteuid() == 0:
            os.chown(box, sandbox_uid(slot), sandbox_uid(slot))
        box.chmod(0o700)
        spec = {
            "notebook": str(state / "in.ipynb"), "progress": str(state / "progress.jsonl"),
            "box": str(box), "cell_timeout": cell_timeout, "parent": os.getpid(),
            "data_name": data_name, "sandboxed": sandbox is not None,
        }
        if sandbox is not None:
            spec["uid"] = sandbox_uid(slot) if os.geteuid() == 0 else None
            spec["kernel_argv"] = sandbox.command(box, _kernel_argv(INSIDE_TMP), slot,
                                                  state / "bwrap.options")
            spec["kernel_env"] = sandbox.environment()
        else:
            spec["uid"], spec["kernel_env"] = None, None
            spec["kernel_argv"] = _kernel_argv(str(box))
        if data_name and nb.cells:  # the collection cell's target, as the kernel sees it
            nb = nbformat.from_dict(json.loads(json.dumps(nb)))
            inside = f"{INSIDE_TMP}/{data_name}" if sandbox is not None else str(box / data_name)
            nb.cells[-1].source = nb.cells[-1].source.replace(DATA_PATH_TOKEN, repr(inside))
        (state / "in.ipynb").write_text(nbformat.writes(nb), encoding="utf-8")
        (state / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
        env = {**os.environ, "LABUTILS_PROGRESS": "0", "PYTHONHASHSEED": "0"}
        with open(state / "worker.log", "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "labutils.instructor.grading.worker",
                 str(state / "spec.json")],
                cwd=state, env=env, start_new_session=True, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, close_fds=True, pass_fds=())
            timed_out = False
            try:
                proc.wait(timeout=total_timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
            _kill_all(proc, state, slot if sandbox is not None else None)
        run = _read_progress(nb, state / "progress.jsonl")
        run.seconds = time.perf_counter() - start
        run.timed_out = timed_out
        if timed_out:
            run.problem = f"total timeout: killed after {total_timeout} s"
        elif proc.returncode != 0 and not run.problem:
            run.problem = (f"grading worker failed (exit {proc.returncode}): "
                           f"{log_tail(state / 'worker.log')}")
        if not run.problem:
            run.running_cell = None
        if data_name:
            run.data, run.data_problem = read_box_file(box, data_name)
        return run
    finally:
        if not os.environ.get("LABUTILS_GRADE_KEEP"):
            shutil.rmtree(root, ignore_errors=True)
            shutil.rmtree(box, ignore_errors=True)


def _kernel_argv(box: str) -> list[str]:
    return [sys.executable, "-m", "ipykernel_launcher", "-f", f"{box}/.kernel/connection.json"]


def _kill_all(proc: subprocess.Popen, state: Path, slot: int | None) -> None:
    """Kill the worker's process group, the kernel's sandbox and the sandbox user's processes."""
    for pid, group in ((proc.pid, True), (_progress_value(state, "kernel_pid"), False)):
        if not pid:
            continue
        try:
            os.killpg(pid, signal.SIGKILL) if group else os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    if slot is not None:
        kill_user_processes(slot)


def _progress_value(state: Path, key: str):
    try:
        for line in (state / "progress.jsonl").read_text("utf-8").splitlines():
            if line.startswith(f'{{"{key}"'):
                return json.loads(line)[key]
    except (OSError, ValueError):
        pass
    return None


def _read_progress(nb: nbformat.NotebookNode, path: Path) -> Execution:
    """The executed notebook rebuilt from the worker's progress log (outputs per cell)."""
    executed = nbformat.from_dict(json.loads(json.dumps(nb)))
    run = Execution(executed, 0.0)
    started = False
    try:
        with open(path, "rb") as handle:  # the worker keeps it under MAX_PROGRESS_BYTES
            lines = handle.read(MAX_PROGRESS_BYTES + 2**20).decode("utf-8", "replace")
        lines = lines.splitlines()
    except OSError:
        lines = []
    running = None
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            break  # a line cut by a kill
        if "start" in record:
            running = record["start"]
            started = True
        elif "done" in record:
            cell = executed.cells[record["done"]]
            cell.outputs = nbformat.from_dict(record["outputs"])
            cell.execution_count = record.get("count")
            if record.get("timeout"):
                run.cell_timeouts.append(record["done"])
            if record.get("truncated"):
                run.truncated.append(record["done"])
            running = None
        elif "end" in record:
            run.problem = record.get("problem", "")
    run.running_cell = running
    if not started and not run.problem:
        run.problem = "the kernel did not start"
    if not lines:
        run.nb = None
    return run


def log_tail(path: Path, lines: int = 3, width: int = 300) -> str:
    """The last lines of the worker's log for a grade row: bounded, printable ASCII only (no
    control, bidi or markup character survives; the kernel cannot write that log anyway)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(max(0, os.path.getsize(path) - MAX_LOG_BYTES))
            text = handle.read(MAX_LOG_BYTES).decode("utf-8", "replace")
    except OSError:
        return "no log"
    last = text.strip().splitlines()[-lines:]
    return " / ".join(re.sub(r"[^ -~]|[<>|`*_\[\]]", "?", line.strip()) for line in last)[:width]


def read_box_file(box: Path, name: str) -> tuple[bytes | None, str]:
    """Read `box/name` without following links or blocking on a FIFO, at most MAX_DATA_BYTES."""
    try:
        fd = os.open(box / name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None, "the collection cell wrote no data"
    except OSError as err:
        return None, f"data file not readable ({err.strerror})"
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None, "data file is not a plain file"
        if info.st_size > MAX_DATA_BYTES:
            return None, f"data file too large ({info.st_size} bytes)"
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(MAX_DATA_BYTES + 1), ""
    finally:
        os.close(fd)
