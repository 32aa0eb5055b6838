"""Run one prepared notebook: a worker process (the grader's side) drives a kernel (the
submission's side, sandboxed) and logs each cell's outputs as it goes.

Who runs where:
- the grader (this process) makes a private state folder (worker files, never visible to the
  kernel) and a box folder (the kernel's /tmp, its only writable place), starts the worker with
  its output going to a file (no pipe a submission's child could hold open), waits at most the
  total timeout, then kills the worker's process group, the sandbox and, as root, every process
  of the sandbox's user id;
- the worker (`python -m labutils.instructor.grading.executing SPEC`) runs nbclient against the
  kernel over Unix sockets in the box (the sandbox has no network), appends one JSON line per
  cell to a progress log (O(outputs) in all, never the whole notebook per cell) and dies with
  the grader (parent-death signal);
- the kernel runs inside bwrap (see sandbox.py) and dies with the worker (--die-with-parent;
  the whole PID namespace goes when its first process does).
For debugging the grader: LABUTILS_GRADE_KEEP=1 keeps the temporary folders (state/worker.log,
state/progress.jsonl), LABUTILS_GRADE_LOG=10 makes nbclient log at debug level.
"""

from __future__ import annotations

import ctypes
import json
import os
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

from labutils.instructor.grading.reading import DATA_PATH_TOKEN
from labutils.instructor.grading.sandbox import (
    INSIDE_TMP,
    Sandbox,
    kill_user_processes,
    sandbox_uid,
)

MAX_CELL_OUTPUT = 256 * 1024
"""Bytes of output kept per cell (the rest is dropped and noted)."""
MAX_NOTEBOOK_OUTPUT = 8 * 2**20
"""Bytes of output kept for the whole notebook."""
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
    try:
        state, box = root / "state", root / "box"
        state.mkdir()
        box.mkdir()
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
        else:
            spec["uid"] = None
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
                [sys.executable, "-m", "labutils.instructor.grading.executing",
                 str(state / "spec.json")],
                cwd=state, env=env, start_new_session=True, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT)
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
            tail = (state / "worker.log").read_text("utf-8", "replace").strip().splitlines()[-3:]
            run.problem = f"grading worker failed (exit {proc.returncode}): {' | '.join(tail)}"
        if not run.problem:
            run.running_cell = None
        if data_name:
            run.data, run.data_problem = read_box_file(box, data_name)
        return run
    finally:
        if not os.environ.get("LABUTILS_GRADE_KEEP"):
            shutil.rmtree(root, ignore_errors=True)


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
        lines = path.read_text("utf-8").splitlines()
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


# ---------------------------------------------------------------------------------------------
# The worker (runs outside the sandbox, as the grader's child)


def _die_with_parent(parent: int) -> None:
    """Get SIGKILL when the grader dies (Linux), and stop now if it already has."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        raise SystemExit("the grader is gone")


def _worker(spec_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    _die_with_parent(spec["parent"])
    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    box = Path(spec["box"])
    nb = nbformat.read(spec["notebook"], as_version=4)
    progress = open(spec["progress"], "a", encoding="utf-8", buffering=1)  # noqa: SIM115

    def log(**record) -> None:
        progress.write(json.dumps(record) + "\n")

    kernel_dir = box / ".kernel"
    kernel_dir.mkdir()
    km = AsyncKernelManager(transport="ipc", ip=str(kernel_dir / "k"), cache_ports=False)
    km.shell_port, km.iopub_port, km.stdin_port, km.hb_port, km.control_port = 1, 2, 3, 4, 5
    km.connection_file = str(Path(spec["progress"]).with_name("connection.json"))
    km.write_connection_file()
    info = json.loads(Path(km.connection_file).read_text())
    if spec["sandboxed"]:
        info["ip"] = "/tmp/.kernel/k"  # the same sockets, seen from inside the sandbox
    (kernel_dir / "connection.json").write_text(json.dumps(info))
    if spec.get("uid") is not None:
        for path in (kernel_dir, kernel_dir / "connection.json"):
            os.chown(path, spec["uid"], spec["uid"])
    km._kernel_spec = KernelSpec(argv=spec["kernel_argv"], display_name="graded",
                                 language="python", interrupt_mode="message", env={})
    cell_timeout = spec["cell_timeout"]
    data_path = box / spec["data_name"] if spec["data_name"] else None
    last = len(nb.cells) - 1

    class Client(NotebookClient):
        """nbclient that keeps at most MAX_CELL_OUTPUT / MAX_NOTEBOOK_OUTPUT bytes of output."""

        kept_total = 0
        kept: dict[int, int] = {}
        cut: set[int] = set()

        def output(self, outs, msg, display_id, cell_index):
            size = len(json.dumps(msg.get("content", {})))
            used = self.kept.get(cell_index, 0)
            if used + size > MAX_CELL_OUTPUT or self.kept_total + size > MAX_NOTEBOOK_OUTPUT:
                self.cut.add(cell_index)
                return None
            self.kept[cell_index] = used + size
            Client.kept_total += size
            return super().output(outs, msg, display_id, cell_index)

    client = Client(
        nb, km=km, timeout=cell_timeout, startup_timeout=120, interrupt_on_timeout=True,
        error_on_timeout={"ename": "CellTimeoutError", "evalue": f"over {cell_timeout} s",
                          "traceback": []},
        allow_errors=True, skip_cells_with_tag="", coalesce_streams=True,
        log_level=int(os.environ.get("LABUTILS_GRADE_LOG", "30")),
        shutdown_kernel="immediate", resources={"metadata": {"path": str(box)}},
    )

    def started(notebook) -> None:
        log(kernel_pid=getattr(km.provisioner, "pid", None))

    def before(cell, cell_index) -> None:
        if cell_index == last and data_path is not None:
            _remove(data_path)  # only what the collection cell writes counts
        log(start=cell_index)

    def after(cell, cell_index, execute_reply) -> None:
        timeout = (execute_reply or {}).get("content", {}).get("ename") == "CellTimeoutError"
        if timeout and not any(o.get("output_type") == "error" for o in cell.outputs):
            cell.outputs.append(nbformat.v4.new_output(
                "error", ename="CellTimeoutError", evalue=f"over {cell_timeout} s",
                traceback=[]))
        log(done=cell_index, outputs=cell.outputs, count=cell.get("execution_count"),
            timeout=timeout, truncated=cell_index in client.cut)

    client.on_notebook_start = started
    client.on_cell_execute = before
    client.on_cell_executed = after
    problem = ""
    try:
        client.execute()
    except DeadKernelError:
        problem = "the kernel died (crash, os._exit, a kill or out of memory)"
    except RuntimeError as err:  # e.g. "Kernel died before replying to kernel_info"
        problem = f"the kernel died: {err}"[:300] if "died" in str(err) else (
            f"the kernel stopped: {err}"[:300])
    except Exception as err:  # a grader failure must still leave a record behind
        problem = f"execution stopped: {type(err).__name__}: {err}"[:300]
    log(end=True, problem=problem)
    progress.close()
    return 0


def _remove(path: Path) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink()
    except OSError:
        pass


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m labutils.instructor.grading.executing SPEC.json")
    raise SystemExit(_worker(sys.argv[1]))
