"""Wall times of the course itself: `make run`, `make test`, and set-up (fresh and no-op)."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@dataclass
class WallTime:
    """One command's wall time against its target."""

    what: str
    seconds: float
    target_s: float
    ok: bool
    detail: str = ""


def _timed(cmd: list[str], cwd: Path) -> tuple[float, str, int]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    return time.perf_counter() - start, proc.stdout + proc.stderr, proc.returncode


def per_notebook_seconds(run_output: str) -> list[tuple[str, float]]:
    """Parse the table `make run` prints into (notebook, seconds)."""
    rows = []
    for line in run_output.splitlines():
        match = re.match(r"^(notebooks/\S+)\s+(ok|FAILED)\s+([\d.]+)$", line.strip())
        if match:
            rows.append((match.group(1), float(match.group(3))))
    return rows


def course_wall_times() -> tuple[list[WallTime], list[tuple[str, float]]]:
    """`make run` and `make test` in this checkout (environment installed), and a no-op setup."""
    results = []
    seconds, out, code = _timed(["make", "setup"], REPO)
    results.append(WallTime("make setup, nothing changed (no-op)", seconds, 5, code == 0 and
                            seconds < 5))
    seconds, out, code = _timed(["make", "run"], REPO)
    notebooks = per_notebook_seconds(out)
    results.append(WallTime("make run (every notebook, installed env)", seconds, 150,
                            code == 0 and seconds <= 150, "" if code == 0 else out[-500:]))
    seconds, out, code = _timed(["make", "test"], REPO)
    summary = " ".join(line for line in out.splitlines() if " passed" in line)
    results.append(WallTime("make test (unit tests + nbval)", seconds, 360,
                            code == 0 and seconds <= 360, summary))
    return results, notebooks


def fresh_clone_setup() -> list[WallTime]:
    """`make setup` in a fresh clone (creates .venv, installs), then again (no-op)."""
    with tempfile.TemporaryDirectory() as tmp:
        clone = Path(tmp) / "main"
        subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
        if (REPO.parent / "shared").is_dir():
            shutil.copytree(REPO.parent / "shared", Path(tmp) / "shared")
        first, out, code = _timed(["make", "setup"], clone)
        second, _, code2 = _timed(["make", "setup"], clone)
    return [
        WallTime("make setup on a fresh clone (install)", first, 180, code == 0 and first <= 180,
                 "" if code == 0 else out[-500:]),
        WallTime("make setup again on that clone (no-op)", second, 5, code2 == 0 and second < 5),
    ]
