"""The bubblewrap sandbox a submission's kernel runs in, and the student package it imports.

Inside, the file system is an allow-list, nothing of the host besides: the system folders
(/usr, /bin, /sbin, /lib*) and the few /etc entries a process needs, the venv and the Python
installation it points to (each exactly, nothing above them), all read-only; `/tmp` = the
submission's own new folder (the only writable place); the student package read-only; the
assignment's shared data folders (plugin.Assignment.shared_data), read-only; a fresh
/dev and /proc. No network (new network namespace: only an unconfigured loopback), a new PID,
IPC and UTS namespace and session, killed with its parent. The kernel starts with an
allow-listed environment (`Sandbox.environment`) and, as root, runs as an unprivileged user id
without capabilities, with limits on memory (address space), CPU time, processes and file size.
`labutils` comes from a wheel built from the student part of the package (labutils/ without
labutils/instructor), never from the checkout.
"""

from __future__ import annotations

import atexit
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import labutils
import labutils.instructor

INSIDE_TMP = "/tmp"
"""Where the submission's temporary folder appears inside the sandbox (its working directory)."""
INSIDE_STUDENT_PACKAGE = "/tmp/.labutils-student"
"""Where the installed student package appears (read-only), first on PYTHONPATH."""
SANDBOX_UID_BASE = 61000
"""Submissions run as uid/gid SANDBOX_UID_BASE + slot, a slot held by one job of one grading
run at a time (a lock file per slot), so the process-count limit and the final kill are per
submission, even with several grading runs on one machine (only when the grader is root)."""
SLOT_LOCKS = Path("/tmp")
"""Where the slot lock files live (fixed, whatever TMPDIR says, so every run sees them)."""
MAX_SLOTS = 4096


class SandboxUnavailable(RuntimeError):
    """bwrap (or prlimit) is missing or does not work here."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of one submission's processes (set with prlimit before bwrap starts)."""

    memory_bytes: int = 6 * 2**30
    """Address space per process (RLIMIT_AS); torch alone maps ~2 GiB."""
    cpu_seconds: int = 900
    """CPU time per process (RLIMIT_CPU); wall time is bounded by the total timeout."""
    processes: int = 256
    """Processes and threads of the sandbox's user id (RLIMIT_NPROC; enforced when not root)."""
    file_bytes: int = 256 * 2**20
    """Largest file a submission may write (RLIMIT_FSIZE)."""

    def prlimit_args(self) -> list[str]:
        return [
            f"--as={self.memory_bytes}", f"--cpu={self.cpu_seconds}",
            f"--nproc={self.processes}", f"--fsize={self.file_bytes}", "--core=0",
        ]


def instructor_repository() -> Path:
    """The checkout the instructor package runs from (found from its files, not the cwd)."""
    return Path(labutils.instructor.__file__).resolve().parents[2]


def check_available() -> None:
    """Raise SandboxUnavailable unless bwrap and prlimit exist and bwrap can start a sandbox."""
    missing = [tool for tool in ("bwrap", "prlimit") if shutil.which(tool) is None]
    if missing:
        raise SandboxUnavailable(
            f"{' and '.join(missing)} not found: install bubblewrap (Debian/Ubuntu: "
            "`apt-get install bubblewrap`; util-linux provides prlimit), or pass "
            "--unsafe-no-sandbox to run submissions with your own permissions")
    system = [a for name in SYSTEM_FOLDERS for a in _bind_or_link(Path(name))]
    probe = subprocess.run(  # the options the real sandbox uses, on an empty root
        ["bwrap", "--dev", "/dev", "--proc", "/proc", *system, "--perms", "0755", "--dir",
         "/etc", "--remount-ro", "/", "--unshare-pid", "--unshare-net", "--die-with-parent",
         "--new-session", "true"],
        capture_output=True, text=True, timeout=30, check=False)
    if probe.returncode != 0:
        raise SandboxUnavailable(
            f"bwrap cannot create a sandbox here ({probe.stderr.strip()[:200]}); user "
            "namespaces may be disabled. Pass --unsafe-no-sandbox to grade without one")


def sandbox_problem() -> str:
    """Why sandboxed grading cannot run here, as a loud line ('' when it can)."""
    try:
        check_available()
    except (SandboxUnavailable, OSError, subprocess.SubprocessError) as err:
        return f"SANDBOX TESTS SKIPPED: {err}"
    return ""


SYSTEM_FOLDERS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
"""Host folders visible read-only inside (symlinks, as in a merged /usr, stay symlinks)."""
ETC_ENTRIES = (
    "alternatives", "ca-certificates", "ca-certificates.conf", "fonts", "host.conf", "hosts",
    "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "locale.alias", "localtime", "matplotlibrc",
    "mime.types", "nsswitch.conf", "os-release", "ssl", "timezone",
)
"""The /etc entries visible inside (libraries, certificates, fonts, time zone): no passwd,
no host name, no configuration of the instructor's machine beyond these."""


@dataclass
class Sandbox:
    """How to start a sandboxed kernel for the submissions of one grading run."""

    student_package: Path
    """Folder holding the installed student package (pip --target)."""
    hidden: list[Path] = field(default_factory=list)
    """Folders replaced by empty ones, where they lie inside a folder the sandbox sees."""
    hidden_files: list[Path] = field(default_factory=list)
    """Files replaced by an empty one, where they lie inside a folder the sandbox sees."""
    limits: Limits = field(default_factory=Limits)
    shared: dict[str, Path] = field(default_factory=dict)
    """Read-only folders the kernel sees at their own path, each named by an environment
    variable (the assignment's data: plugin.Assignment.shared_data)."""

    def __post_init__(self) -> None:
        for name, folder in self.shared.items():
            self.shared[name] = Path(folder).resolve()
            problem = _shared_problem(name, self.shared[name])
            if problem:
                raise ValueError(f"cannot share {name}={folder} with the sandbox: {problem}")

    def command(self, box: Path, argv: list[str], slot: int = 0,
                options_file: Path | None = None) -> list[str]:
        """The command line that runs `argv` inside the sandbox with `box` as its /tmp.

        With `options_file` (in a folder the sandbox cannot see), bwrap reads its options from
        that file, so /proc/1/cmdline inside shows no host path. Start it with
        `environment()` as its whole environment and no descriptor but 0, 1 and 2.
        """
        options = self._mounts(box)
        options += ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
                    "--unshare-cgroup-try", "--die-with-parent", "--new-session",
                    "--hostname", "sandbox", "--chdir", INSIDE_TMP, "--clearenv"]
        for key, value in self.environment().items():
            options += ["--setenv", key, value]
        inside = ["--"]
        if os.geteuid() == 0:  # run the submission as a user of its own, without capabilities
            uid = str(sandbox_uid(slot))
            options += ["--cap-add", "CAP_SETUID,CAP_SETGID"]
            inside += [_tool("setpriv"), f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                       "--inh-caps=-all", "--bounding-set=-all", "--"]
        limits = [_tool("prlimit"), *self.limits.prlimit_args(), "--"]
        if options_file is None:
            return [*limits, _tool("bwrap"), *options, *inside, *argv]
        Path(options_file).write_bytes(b"".join(o.encode() + b"\0" for o in options))
        return [*limits, "/bin/sh", "-c", f'exec {_tool("bwrap")} --args 3 "$@" 3<"$0"',
                str(options_file), *inside, *argv]

    def environment(self) -> dict[str, str]:
        """The kernel's whole environment: nothing of the instructor's shell or the grader."""
        venv_bin = str(Path(sys.executable).parent)
        return {
            "PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin",
            "HOME": INSIDE_TMP, "TMPDIR": INSIDE_TMP, "USER": "student",
            "PYTHONPATH": INSIDE_STUDENT_PACKAGE, "PYTHONNOUSERSITE": "1",
            "PYTHONHASHSEED": "0", "LABUTILS_PROGRESS": "0", "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": f"{INSIDE_TMP}/.matplotlib", "IPYTHONDIR": f"{INSIDE_TMP}/.ipython",
            "JUPYTER_RUNTIME_DIR": f"{INSIDE_TMP}/.jupyter",
            "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        } | {name: str(folder) for name, folder in self.shared.items()}

    def _mounts(self, box: Path) -> list[str]:
        """bwrap options building the allow-listed file system on an empty root."""
        args = ["--dev", "/dev", "--proc", "/proc"]
        for name in SYSTEM_FOLDERS:
            args += _bind_or_link(Path(name))
        args += ["--perms", "0755", "--dir", "/etc"]
        for name in ETC_ENTRIES:
            args += _bind_or_link(Path("/etc", name))
        kept = visible_python()
        shared = sorted(set(self.shared.values()))
        seen = [Path(p) for p in SYSTEM_FOLDERS] + kept + shared
        args += ["--bind", str(box), INSIDE_TMP]
        for path in kept + shared:
            for parent in reversed(path.parents):  # made traversable, holding nothing else
                if parent != Path("/") and parent != Path(INSIDE_TMP):
                    args += ["--perms", "0755", "--dir", str(parent)]
            args += ["--ro-bind", str(path), str(path)]
        args += ["--ro-bind", str(self.student_package), INSIDE_STUDENT_PACKAGE]
        read_only = ["--remount-ro", "/"]
        for path in self._hidden_inside(seen):
            if path.is_dir():
                args += ["--tmpfs", str(path)]
                read_only += ["--remount-ro", str(path)]
            else:
                args += ["--ro-bind", "/dev/null", str(path)]
        return args + read_only

    def _hidden_inside(self, seen: list[Path]) -> list[Path]:
        """What must stay hidden although it lies inside a folder the sandbox sees (e.g. an
        instructor package installed into the venv, or a submission next to Python)."""
        candidates = [Path(labutils.instructor.__file__).parent, instructor_repository(),
                      *self.hidden, *self.hidden_files]
        kept = visible_python()
        found = []
        for path in candidates:
            path = path.resolve()
            if (path.exists() and any(_inside(path, s) and path != s for s in seen)
                    and not any(_inside(k, path) for k in kept)):
                found.append(path)
        return sorted(set(found), key=lambda p: len(p.parts))


def visible_python() -> list[Path]:
    """The venv and the Python installation behind it (each exactly once, outermost only),
    besides what the system folders already show."""
    paths = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix,
                                        Path(sys.executable).resolve().parent)}
    system = [Path(p).resolve() for p in SYSTEM_FOLDERS if Path(p).exists()]
    paths = {p for p in paths if not any(_inside(p, s) for s in system)}
    return sorted(p for p in paths if not any(_inside(p, q) and p != q for q in paths))


def _bind_or_link(path: Path) -> list[str]:
    if path.is_symlink():
        return ["--symlink", os.readlink(path), str(path)]
    if path.exists():
        return ["--ro-bind", str(path), str(path)]
    return []


def _tool(name: str) -> str:
    """The absolute path of a host tool (the kernel's launcher gets no PATH of the grader)."""
    found = shutil.which(name)
    if found is None:
        raise SandboxUnavailable(f"{name} not found: install it (see check_available)")
    return found


def sandbox_uid(slot: int) -> int:
    return SANDBOX_UID_BASE + slot


def acquire_slot() -> tuple[int, int]:
    """A free slot and the open lock-file descriptor that holds it (close it to release)."""
    for slot in range(MAX_SLOTS):
        path = SLOT_LOCKS / f".labutils-grading-slot-{slot}.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        return slot, fd
    raise SandboxUnavailable(f"all {MAX_SLOTS} sandbox slots are in use")


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _shared_problem(name: str, folder: Path) -> str:
    """Why `folder` cannot be shown to the kernel as `name` ('' when it can)."""
    if name in Sandbox(Path("/")).environment():
        return f"{name} is set by the sandbox itself"
    if not name.isidentifier() or not name.isupper():
        return "the variable must be an upper-case name"
    if not folder.is_dir():
        return "not a folder"
    secret = [Path(labutils.instructor.__file__).parent.resolve(), instructor_repository()]
    if folder == Path("/") or any(_inside(path, folder) for path in secret):
        return "it holds the instructor package or repository"
    return ""


def hide_submissions(sandbox: Sandbox, paths: list[Path]) -> None:
    """Hide each submission's folder, or the file itself where the folder holds Python."""
    python = [Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()]
    for path in paths:
        folder = Path(path).resolve().parent
        if folder == Path("/") or any(_inside(p, folder) for p in python):
            sandbox.hidden_files.append(Path(path).resolve())
        elif folder not in sandbox.hidden:
            sandbox.hidden.append(folder)


# ---------------------------------------------------------------------------------------------
# The student package, as students install it


STUDENT_README = "The student part of labutils, built by the grader for a sandboxed kernel.\n"


def student_source_hash(repo: Path | None = None) -> str:
    """sha256 over the student package's files (what the wheel is built from)."""
    repo = repo or instructor_repository()
    digest = hashlib.sha256()
    for path in sorted(_student_files(repo)):
        digest.update(str(path.relative_to(repo)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _student_files(repo: Path) -> list[Path]:
    package = repo / "labutils"
    files = [repo / "pyproject.toml"]
    for path in package.rglob("*"):
        relative = path.relative_to(package)
        if relative.parts[0] == "instructor" or "__pycache__" in relative.parts:
            continue
        if path.is_file():
            files.append(path)
    return files


_BUILT: dict[str, Path] = {}


def student_package(repo: Path | None = None) -> Path:
    """The installed student package for the current source, built once per process (per
    source hash) in a temporary folder removed at exit."""
    repo = repo or instructor_repository()
    key = student_source_hash(repo)
    if key not in _BUILT or not _BUILT[key].is_dir():
        folder = Path(tempfile.mkdtemp(prefix="labutils-student-"))
        atexit.register(shutil.rmtree, folder, True)
        folder.chmod(0o755)  # the sandbox's user reads it
        _BUILT[key] = build_student_package(folder / "site", repo)
    return _BUILT[key]


def build_student_package(target: Path, repo: Path | None = None) -> Path:
    """Install the student part of labutils into `target` (pip wheel, then pip install --target).

    The wheel is built from a temporary copy of pyproject.toml and labutils/ without
    labutils/instructor, so the sandbox cannot import the instructor package.
    """
    repo = repo or instructor_repository()
    target = Path(target)
    with tempfile.TemporaryDirectory(prefix="labutils-student-build-") as tmp:
        source = Path(tmp) / "src"
        for path in _student_files(repo):
            destination = source / path.relative_to(repo)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)
        (source / "README.md").write_text(STUDENT_README)
        wheels = Path(tmp) / "wheels"
        pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input",
               "--no-color", "-q"]
        _run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels),
              str(source)], "build the student wheel")
        wheel = next(wheels.glob("labutils-*.whl"))
        _run([*pip, "install", "--no-deps", "--no-compile", "--target", str(target),
              str(wheel)], "install the student wheel")
    if (target / "labutils" / "instructor").exists():
        raise SandboxUnavailable("the student wheel contains labutils/instructor (build error)")
    for path in [target, *target.rglob("*")]:  # readable by the sandbox's user id
        path.chmod(0o755 if path.is_dir() else 0o644)
    return target


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False,
                          env={**os.environ, "PIP_NO_INDEX": "1"})
    if done.returncode != 0:
        raise SandboxUnavailable(f"could not {what}: {done.stderr.strip()[-400:]}")


def kill_user_processes(slot: int) -> None:
    """Kill every process running as the sandbox user id of `slot` (a last sweep, as root)."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        return
    uid = str(sandbox_uid(slot))
    subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                    "kill", "-KILL", "-1"], capture_output=True, check=False, timeout=30)
