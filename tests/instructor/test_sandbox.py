"""The sandbox, inventoried from inside: what a graded kernel can see and touch.

One submission, graded with the real grader (grade_all, bwrap), runs sandbox_inventory.py in
its kernel and prints what it finds: open descriptors, environment variable names, mounts,
writable places outside its box, instructor paths it can see, sockets it can connect to,
processes it can see and signal. Each test compares one part with the allow-list written here;
a failure prints the whole inventory. Without a working bwrap the tests skip with the reason.
Set LABUTILS_INVENTORY_OUT=FILE to keep the inventory (JSON) for a report.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import tempfile
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from labutils.instructor.grading import batch, grade_all
from labutils.instructor.grading.sandbox import (
    instructor_repository,
    sandbox_problem,
    student_package,
)

NO_BWRAP = sandbox_problem()
SCRIPT = Path(__file__).with_name("sandbox_inventory.py")
RELEASE = new_notebook(cells=[new_markdown_cell("# Inventory"),
                              new_code_cell("# YOUR CODE HERE\nraise NotImplementedError()")])
VENV, PYTHON = Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()

ENVIRONMENT = {
    "PATH", "HOME", "TMPDIR", "USER", "PYTHONPATH", "PYTHONNOUSERSITE", "PYTHONHASHSEED",
    "LABUTILS_PROGRESS", "MPLBACKEND", "MPLCONFIGDIR", "IPYTHONDIR", "JUPYTER_RUNTIME_DIR",
    "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "PWD",
}
"""The kernel's whole environment when it starts (names; PWD is set by bwrap's --chdir)."""
SET_BY_THE_KERNEL = {"CLICOLOR", "CLICOLOR_FORCE", "FORCE_COLOR", "GIT_PAGER", "PAGER", "TERM",
                     "PYDEVD_USE_FRAME_EVAL", "LC_CTYPE"}
"""Names ipykernel and Python's locale coercion set for themselves, inside."""
SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
"""System folders the kernel may see, read-only (/etc: only the entries a process needs)."""
DEVICES = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty",
           "/dev/ptmx", "/dev/pts/ptmx", "/dev/shm"}
"""Writable outside /tmp: the standard devices and the sandbox's own /dev/shm."""
VIRTUAL = {"proc", "tmpfs", "devpts", "mqueue", "devtmpfs"}


def allowed_mount(point: str, info: dict) -> bool:
    """A mount the kernel may have: system folders, the venv and Python read-only, its box,
    the student package, and the sandbox's own virtual file systems."""
    read_only = info["mode"] == "ro"
    if point in ("/", "/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue"):
        return info["fstype"] in VIRTUAL or point == "/proc"
    if point.startswith("/dev/"):  # device nodes bound by bwrap --dev
        return point in DEVICES
    if point == "/tmp":
        return info["mode"] == "rw"
    if point == "/tmp/.labutils-student":
        return read_only
    if point.startswith(("/proc/", "/sys/devices/system/cpu")):
        return read_only or point.startswith("/proc/")
    inside = [Path(point)] + list(Path(point).parents)
    return read_only and (point.startswith(SYSTEM) or VENV in inside or PYTHON in inside)


@pytest.fixture(scope="module")
def inventory(tmp_path_factory):
    if NO_BWRAP:
        pytest.skip(NO_BWRAP)
    student_package()  # built before the grader's temporary folder is redirected
    grader_temp = tmp_path_factory.mktemp("grader-temp")
    subs = tmp_path_factory.mktemp("subs")
    (subs / "classmate.ipynb").write_text("{}")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    secret_paths = [str(p) for p in (
        instructor_repository(), grader_temp, subs, Path.home(), VENV.parent, Path.cwd())]
    probe = {"tcp": [["127.0.0.1", server.getsockname()[1]], ["1.1.1.1", 53]],
             "paths": [*secret_paths, str(subs / "classmate.ipynb"),
                       str(instructor_repository() / "notebooks/instructor")]}
    nb = new_notebook(cells=[RELEASE.cells[0], new_code_cell(
        f"PROBE = {probe!r}\n" + SCRIPT.read_text())])
    nb.cells[1].execution_count = 1
    path = subs / "inventory.ipynb"
    path.write_text(json.dumps(nb))
    runs = []
    real_execute = batch.execute

    def execute(*args, **kwargs):
        runs.append(real_execute(*args, **kwargs))
        return runs[-1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tempfile, "tempdir", str(grader_temp))
        patch.setattr(batch, "execute", execute)
        patch.setenv("LABUTILS_TEST_SECRET", "instructor-shell-variable")
        try:
            grade_all([path], RELEASE, cell_timeout=300, total_timeout=400, echo=lambda t: None)
        finally:
            server.close()
    text = "".join(o.get("text", "") for o in runs[0].nb.cells[1].outputs)
    found = [line for line in text.splitlines() if line.startswith("INVENTORY ")]
    assert found, (runs[0].problem, runs[0].nb.cells[1].outputs)
    result = json.loads(found[0][len("INVENTORY "):])
    if os.environ.get("LABUTILS_INVENTORY_OUT"):
        Path(os.environ["LABUTILS_INVENTORY_OUT"]).write_text(json.dumps(result, indent=1))
    return {"found": result, "secret": secret_paths, "grader_temp": str(grader_temp)}


def shown(inventory: dict) -> str:
    return "inventory from inside the kernel:\n" + json.dumps(inventory["found"], indent=1)


def test_descriptors_are_only_its_own(inventory):
    """No file of the grader crosses: every descriptor is /dev/null, a pipe, a socket, an
    anonymous inode or a file in its own box."""
    bad = {}
    for fd, d in inventory["found"]["descriptors"].items():
        target = d["target"]
        own = target.startswith(("pipe:", "socket:", "anon_inode:")) or target == "/dev/null"
        in_box = target.startswith("/tmp/") and d["path_here"]
        if not (own or in_box or (target == "/proc/self/fd" or target.startswith("/proc/"))):
            bad[fd] = d
    assert not bad, f"descriptors from outside: {bad}\n{shown(inventory)}"


def test_environment_is_the_allow_list(inventory):
    found = inventory["found"]
    assert set(found["environment_at_start"]) == ENVIRONMENT, shown(inventory)
    assert set(found["environment"]) <= ENVIRONMENT | SET_BY_THE_KERNEL, shown(inventory)


def test_mounts_are_the_allow_list(inventory):
    bad = {p: i for p, i in inventory["found"]["mounts"].items() if not allowed_mount(p, i)}
    assert not bad, f"mounts not allowed: {bad}\n{shown(inventory)}"


def test_folders_above_mounts_hold_nothing_else(inventory):
    """Nothing above the venv or Python is visible: each folder leads to mounts only."""
    points = set(inventory["found"]["mounts"])
    for folder, entries in inventory["found"]["ancestors"].items():
        assert isinstance(entries, dict), f"{folder}: {entries}\n{shown(inventory)}"
        if folder in ("/proc", "/dev", "/tmp"):
            continue  # the sandbox's own virtual file systems, and its box
        for entry, link in entries.items():
            child = os.path.join(folder, entry)
            leads = link or any(p == child or p.startswith(child + "/") for p in points)
            assert leads, f"{child} visible\n{shown(inventory)}"


def test_nothing_writable_outside_its_box(inventory):
    bad = [p for p in inventory["found"]["writable"]
           if p not in DEVICES and not p.startswith(("/dev/pts/", "/dev/shm/"))]
    assert not bad, f"writable outside /tmp: {bad}\n{shown(inventory)}"


def test_no_instructor_path_is_visible(inventory):
    """Of the instructor's paths, only folders on the way to the venv or Python exist (what
    they hold is tested above)."""
    on_the_way = {str(p) for p in [*VENV.parents, *PYTHON.parents]}
    seen = set(inventory["found"]["visible"]) - on_the_way
    assert not seen, shown(inventory)


def test_no_socket_outside_reachable_and_no_network(inventory):
    found = inventory["found"]
    assert found["connectable"] == [], shown(inventory)
    assert found["interfaces"] == ["lo"], shown(inventory)


def test_processes_are_its_own_sandbox(inventory):
    """It sees its sandbox's init (bwrap) and itself, and can signal only its own."""
    processes = inventory["found"]["processes"]
    others = {pid: p["comm"] for pid, p in processes.items() if not p["self"]}
    assert others == {"1": "bwrap"}, shown(inventory)
    assert not processes["1"]["signal"] or processes["1"]["uid"] == inventory["found"]["uid"]


def test_no_grader_path_or_variable_anywhere(inventory):
    """No host path of the grader's state or the instructor's disk, and no variable of the
    instructor's shell, appears anywhere (mount sources, cmdlines, descriptors...), except
    the host folder of its own box (the source of its /tmp)."""
    found = json.loads(json.dumps(inventory["found"]))
    box = found["mounts"].get("/tmp", {}).get("root", "")
    assert Path(box).name.startswith("labutils-box-"), shown(inventory)
    found["mounts"]["/tmp"]["root"] = "<its box>"
    del found["ancestors"], found["root"], found["visible"]  # tested above
    text = json.dumps(found).replace(str(VENV), "<venv>").replace(str(PYTHON), "<python>")
    leaks = [p for p in [*inventory["secret"], "LABUTILS_TEST_SECRET"] if p in text]
    assert not leaks, f"{leaks} appear in\n{shown(inventory)}"


# -- an assignment's shared data (plugin.Assignment.shared_data) ------------------------------


@pytest.mark.skipif(bool(NO_BWRAP), reason=NO_BWRAP)
def test_shared_data_is_read_only_at_its_own_path_and_named_by_its_variable(tmp_path):
    import subprocess

    from labutils.instructor.grading.sandbox import Sandbox

    data, box, package = tmp_path / "data", tmp_path / "box", tmp_path / "package"
    for folder in (data, box, package):
        folder.mkdir()
    (data / "set.txt").write_text("the data set\n")
    (tmp_path / "beside.txt").write_text("not shared\n")
    sandbox = Sandbox(package, shared={"COURSE_DATA": data})
    script = ('cat "$COURSE_DATA/set.txt"; touch "$COURSE_DATA/new" 2>/dev/null || echo ro; '
              f'ls {tmp_path}')
    done = subprocess.run(sandbox.command(box, ["/bin/sh", "-c", script]),
                          env=sandbox.environment(), capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["the", "data", "set", "ro", "data"], done.stderr
    assert sandbox.environment()["COURSE_DATA"] == str(data.resolve())


def test_shared_data_never_shows_the_instructor_side_or_replaces_the_environment(tmp_path):
    from labutils.instructor.grading.sandbox import Sandbox

    for name, folder, reason in [
            ("COURSE_DATA", instructor_repository(), "holds the instructor package"),
            ("COURSE_DATA", instructor_repository().parent, "holds the instructor package"),
            ("PYTHONPATH", tmp_path, "set by the sandbox itself"),
            ("COURSE_DATA", tmp_path / "missing", "not a folder")]:
        with pytest.raises(ValueError, match=reason):
            Sandbox(tmp_path, shared={name: folder})
