"""The grading worker: `python -m labutils.instructor.grading.worker SPEC.json`, started by
executing.execute outside the sandbox; it drives the submission's kernel with nbclient.

It starts the kernel with nothing of its own: stdin, stdout and stderr /dev/null, no other
descriptor (close_fds, empty pass_fds), the sandbox's allow-listed environment. It appends
one JSON line per cell to the progress log, keeps at most MAX_CELL_OUTPUT / MAX_NOTEBOOK_OUTPUT
bytes of output (display updates included), never writes more than MAX_PROGRESS_BYTES there or
MAX_LOG_BYTES to its own log, and survives any message the kernel sends (a comm, a malformed
output). It dies with the grader (parent-death signal).
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import nbformat

MAX_CELL_OUTPUT = 256 * 1024
"""Bytes of output kept per cell (the rest is dropped and noted)."""
MAX_NOTEBOOK_OUTPUT = 8 * 2**20
"""Bytes of output kept for the whole notebook."""
MAX_PROGRESS_BYTES = 2 * MAX_NOTEBOOK_OUTPUT + 8 * 2**20
"""Most the progress log may hold (outputs within the caps, plus per-cell records)."""
MAX_LOG_BYTES = 2**20
"""Most the worker writes to its own log (its stderr); the rest is dropped."""


class BoundedStream:
    """A text stream that passes on at most `limit` characters, then drops the rest."""

    def __init__(self, stream, limit: int) -> None:
        self.stream, self.left = stream, limit

    def write(self, text: str) -> int:
        if self.left > 0:
            self.stream.write(text[: self.left])
            self.left -= len(text)
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def __getattr__(self, name: str):
        return getattr(self.stream, name)


def _die_with_parent(parent: int) -> None:
    """Get SIGKILL when the grader dies (Linux), and stop now if it already has."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        raise SystemExit("the grader is gone")


def _client_class():
    """nbclient's NotebookClient, bounded: output caps (display updates included), no comm
    handling, and no kernel message that can stop the worker."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellControlSignal

    class Client(NotebookClient):
        def setup_caps(self) -> None:
            self.kept_total, self.kept, self.cut, self.running = 0, {}, set(), None

        def _charge(self, cells: list[int], size: int) -> bool:
            """Count `size` bytes against each cell in `cells` and the notebook, if they fit."""
            fits = self.kept_total + size * len(cells) <= MAX_NOTEBOOK_OUTPUT and all(
                self.kept.get(c, 0) + size <= MAX_CELL_OUTPUT for c in cells)
            if not fits:
                self.cut.update([*cells, self.running] if self.running is not None else cells)
                return False
            for cell in cells:
                self.kept[cell] = self.kept.get(cell, 0) + size
            self.kept_total += size * len(cells)
            return True

        def process_message(self, msg, cell, cell_index):
            self.running = cell_index
            try:
                return super().process_message(msg, cell, cell_index)
            except CellControlSignal:
                raise
            except Exception as err:  # a malformed message is dropped, never fatal
                self.log.warning("dropped a kernel message: %s", type(err).__name__)
                return None

        def output(self, outs, msg, display_id, cell_index):
            if not self._charge([cell_index], len(json.dumps(msg.get("content", {})))):
                return None
            return super().output(outs, msg, display_id, cell_index)

        def _update_display_id(self, display_id, msg):
            owners = self._display_id_map.get(display_id, {})
            cells = [c for c, indices in owners.items() for _ in indices]
            if cells and not self._charge(cells, len(json.dumps(msg.get("content", {})))):
                return None
            return super()._update_display_id(display_id, msg)

        def handle_comm_msg(self, outs, msg, cell_index):
            return None  # widgets are not graded: no state kept, no handler run

    return Client


def _kernel_manager(spec: dict, box: Path):
    """A kernel manager over Unix sockets in the box, with the kernel's command from `spec`."""
    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import AsyncKernelManager

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
    return km


def run_worker(spec_path: str) -> int:
    """Run the notebook of `spec_path`, logging each cell to the spec's progress log."""
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    _die_with_parent(spec["parent"])
    sys.stderr = BoundedStream(sys.stderr, MAX_LOG_BYTES)
    from nbclient.exceptions import DeadKernelError

    box = Path(spec["box"])
    nb = nbformat.read(spec["notebook"], as_version=4)
    progress = open(spec["progress"], "a", encoding="utf-8", buffering=1)  # noqa: SIM115
    written = [0]

    def log(**record) -> None:
        line = json.dumps(record) + "\n"
        if written[0] + len(line) > MAX_PROGRESS_BYTES and "outputs" in record:
            record.update(outputs=[], truncated=True)  # the log stays bounded
            line = json.dumps(record) + "\n"
        written[0] += len(line)
        progress.write(line)

    km = _kernel_manager(spec, box)
    cell_timeout = spec["cell_timeout"]
    data_path = box / spec["data_name"] if spec["data_name"] else None
    last = len(nb.cells) - 1
    client = _client_class()(
        nb, km=km, timeout=cell_timeout, startup_timeout=120, interrupt_on_timeout=True,
        error_on_timeout={"ename": "CellTimeoutError", "evalue": f"over {cell_timeout} s",
                          "traceback": []},
        allow_errors=True, skip_cells_with_tag="", coalesce_streams=True,
        store_widget_state=False, log_level=int(os.environ.get("LABUTILS_GRADE_LOG", "30")),
        shutdown_kernel="immediate", resources={"metadata": {"path": str(box)}},
    )
    client.setup_caps()

    def started(notebook) -> None:
        log(kernel_pid=getattr(km.provisioner, "pid", None))

    def before(cell, cell_index) -> None:
        client.running = cell_index
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
    launch = {"stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL,
              "stderr": subprocess.DEVNULL, "close_fds": True, "pass_fds": ()}
    if spec.get("kernel_env") is not None:
        launch["env"] = spec["kernel_env"]
    try:
        client.execute(**launch)
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
        raise SystemExit("usage: python -m labutils.instructor.grading.worker SPEC.json")
    raise SystemExit(run_worker(sys.argv[1]))
