"""The bubblewrap sandbox a submission's kernel runs in, and the student package it imports.

Inside: the whole file system read-only, the instructor repository, $HOME, /run, /var/tmp and
the submissions' folders hidden (replaced by empty folders), the Python installation and its venv
visible read-only, `/tmp` = the submission's own temporary folder (the only writable place), no
network (new network namespace: no interfaces but an unconfigured loopback; host Unix sockets
under /run and /tmp hidden), a new PID namespace and session, killed with its parent. The
kernel runs as an unprivileged user id (when the grader is root) with limits on memory
(address space), CPU time, processes and file size. `labutils` comes from a wheel built from the
student part of the package (labutils/ without labutils/instructor), never from the checkout.
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
    probe = subprocess.run(
        ["bwrap", "--ro-bind", "/", "/", "--unshare-pid", "--unshare-net", "--die-with-parent",
         "--new-session", "--dev", "/dev", "--proc", "/proc", "true"],
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


@dataclass
class Sandbox:
    """How to start a sandboxed kernel for the submissions of one grading run."""

    student_package: Path
    """Folder holding the installed student package (pip --target)."""
    hidden: list[Path] = field(default_factory=list)
    """Folders replaced by empty ones inside (besides the repository, $HOME and /run)."""
    hidden_files: list[Path] = field(default_factory=list)
    """Files replaced by an empty one (submissions whose folder cannot be hidden)."""
    limits: Limits = field(default_factory=Limits)

    def command(self, box: Path, argv: list[str], slot: int = 0,
                options_file: Path | None = None) -> list[str]:
        """The command line that runs `argv` inside the sandbox with `box` as its /tmp.

        With `options_file` (in a folder the sandbox cannot see), bwrap reads its options from
        that file, so /proc/1/cmdline inside shows no host path.
        """
        options = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
        options += self._mounts(box)
        options += ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
                    "--unshare-cgroup-try", "--die-with-parent", "--new-session",
                    "--hostname", "sandbox", "--chdir", INSIDE_TMP, "--clearenv"]
        for key, value in self.environment().items():
            options += ["--setenv", key, value]
        inside = ["--"]
        if os.geteuid() == 0:  # run the submission as a user of its own, without capabilities
            uid = str(sandbox_uid(slot))
            options += ["--cap-add", "CAP_SETUID,CAP_SETGID"]
            inside += ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                       "--inh-caps=-all", "--bounding-set=-all", "--"]
        limits = ["prlimit", *self.limits.prlimit_args(), "--"]
        if options_file is None:
            return [*limits, "bwrap", *options, *inside, *argv]
        Path(options_file).write_bytes(b"".join(o.encode() + b"\0" for o in options))
        return [*limits, "/bin/sh", "-c", 'exec bwrap --args 3 "$@" 3<"$0"', str(options_file),
                *inside, *argv]

    def environment(self) -> dict[str, str]:
        venv_bin = str(Path(sys.executable).parent)
        return {
            "PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin",
            "HOME": INSIDE_TMP, "TMPDIR": INSIDE_TMP, "USER": "student",
            "PYTHONPATH": INSIDE_STUDENT_PACKAGE, "PYTHONNOUSERSITE": "1",
            "PYTHONHASHSEED": "0", "LABUTILS_PROGRESS": "0", "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": f"{INSIDE_TMP}/.matplotlib", "IPYTHONDIR": f"{INSIDE_TMP}/.ipython",
            "JUPYTER_RUNTIME_DIR": f"{INSIDE_TMP}/.jupyter",
            "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        }

    def _mounts(self, box: Path) -> list[str]:
        """Hide and re-expose folders, shallowest first, so a deeper rule wins."""
        home = Path(os.path.expanduser("~"))
        hide = {instructor_repository(), home, Path("/run"), Path("/var/tmp"),
                Path(tempfile.gettempdir()), *self.hidden}
        keep = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve().parent}
        keep = {p.resolve() for p in keep}
        rules = [(p.resolve(), "hide") for p in hide if p.resolve() != Path("/")]
        rules += [(p, "keep") for p in keep if any(_inside(p, h) for h, _ in rules)]
        rules.sort(key=lambda rule: len(rule[0].parts))
        args: list[str] = []
        read_only: list[str] = []
        for path, kind in rules:
            if not path.exists() or _inside(path, Path("/tmp")):
                continue  # /tmp is replaced by the box as a whole
            if kind == "hide":
                args += ["--tmpfs", str(path)]
                read_only += ["--remount-ro", str(path)]
                continue
            hidden_above = [h for h, k in rules if k == "hide" and h in path.parents]
            if hidden_above:  # bwrap would make the folders in between 0700: make them 0755
                top = max(hidden_above, key=lambda h: len(h.parts))
                for parent in reversed(path.parents):
                    if top in parent.parents:
                        args += ["--perms", "0755", "--dir", str(parent)]
            args += ["--ro-bind", str(path), str(path)]
        for path in self.hidden_files:
            if path.exists() and not _inside(path, Path("/tmp")):
                args += ["--ro-bind", "/dev/null", str(path.resolve())]
        args += ["--bind", str(box), INSIDE_TMP]
        for path in sorted(keep, key=lambda p: len(p.parts)):
            if _inside(path, Path("/tmp")) and path.exists():  # e.g. a CI clone's .venv in /tmp
                for parent in reversed(path.parents):  # made inside the box, traversable
                    if Path("/tmp") in parent.parents:
                        args += ["--perms", "0755", "--dir", str(parent)]
                args += ["--ro-bind", str(path), str(path)]
        args += ["--ro-bind", str(self.student_package), INSIDE_STUDENT_PACKAGE]
        return args + read_only  # last: the mount points above were created in those tmpfs


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
