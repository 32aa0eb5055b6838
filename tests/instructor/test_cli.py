"""The instructor command line runs only from the installed package: `python -m` from inside a
fork would otherwise import the fork's code and run it with the instructor's permissions."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from labutils.instructor import cli

PACKAGE = Path(cli.__file__).resolve().parents[1]


def run_module(cwd: Path, pythonpath: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    return subprocess.run([sys.executable, "-m", "labutils.instructor", "release", "--help"],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_python_m_from_inside_a_fork_is_refused(tmp_path):
    fork = tmp_path / "fork"
    shutil.copytree(PACKAGE, fork / "labutils", ignore=shutil.ignore_patterns("__pycache__"))
    done = run_module(fork, pythonpath=None)
    assert done.returncode == 2, done.stdout[:300]
    assert f"labutils was imported from {fork}" in done.stderr
    assert "python -P -m labutils.instructor" in done.stderr and "usage" not in done.stdout


def test_a_checkout_named_in_pythonpath_runs(tmp_path):
    done = run_module(tmp_path, pythonpath=str(PACKAGE.parent))
    assert done.returncode == 0 and done.stdout.startswith("usage:"), done.stderr[-300:]


def test_origin_problem_names_the_installed_package(monkeypatch):
    monkeypatch.setattr(cli, "installed_root", lambda: PACKAGE.parent)
    monkeypatch.delenv("PYTHONPATH", raising=False)
    assert cli.origin_problem() == ""
    monkeypatch.setattr(cli, "installed_root", lambda: Path("/somewhere/else"))
    assert "not from the installed package (/somewhere/else)" in cli.origin_problem()
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(["", str(PACKAGE.parent)]))
    assert cli.origin_problem() == ""
