"""The environment files agree: pyproject.toml, environment.yml, constraints.txt and the README.

pyproject.toml holds the ranges, constraints.txt the exact versions `make` installs (on every
supported Python), environment.yml the same packages for conda/Binder.
"""

import re
import sys
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11: unsupported, but the other tests still collect
    tomllib = None

REPO = Path(__file__).resolve().parents[1]
LOCK = REPO / "constraints.txt"
SITE_LOCK = REPO / "site" / "constraints.txt"
"""The course site's own tools (make site installs them into SITE_VENV, never into .venv)."""
SITE_VENV = REPO / "build" / "site-venv"
# What `python -m venv` puts in a new environment itself, before anything from the lock.
VENV_BOOTSTRAP = {"pip"} | ({"setuptools"} if sys.version_info < (3, 12) else set())


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _project() -> dict:
    if tomllib is None:
        pytest.skip("reading pyproject.toml needs tomllib (Python >= 3.11)")
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def _lock(path: Path = LOCK) -> list[Requirement]:
    """Every pin in constraints.txt, or another lock (comments and blank lines skipped)."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [Requirement(line) for line in lines if line]


def test_environment_matches_pyproject():
    project = _project()
    wanted = {_name(r): r.replace(" ", "") for r in project["dependencies"]}
    wanted |= {_name(r): r.replace(" ", "") for r in project["optional-dependencies"]["dev"]}
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = {_name(r): r.replace(" ", "") for r in pip_section if not r.startswith("-e")}
    assert listed == wanted
    assert "-e ." in pip_section, "environment.yml must install labutils itself"


def test_environment_python_is_supported():
    supported = SpecifierSet(_project()["requires-python"])
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python="))
    version = python.split("=", 1)[1]
    assert version in supported, f"environment.yml asks for {python}, pyproject says {supported}"


def test_readme_names_exactly_the_pythons_pyproject_accepts():
    supported = SpecifierSet(_project()["requires-python"])
    accepted = {f"3.{minor}" for minor in range(6, 30) if f"3.{minor}" in supported}
    readme = (REPO / "README.md").read_text()
    requirements = re.search(r"Requirements: (.*?)requires-python", readme, re.DOTALL)
    assert requirements, "README.md needs its Requirements paragraph (naming requires-python)"
    named = set(re.findall(r"\b3\.\d+\b", requirements.group(1)))
    assert named == accepted, f"README.md names Pythons {sorted(named)}, pyproject accepts " \
                              f"{sorted(accepted)} ({supported})"
    for version in re.findall(r"Python (3\.\d+) is not supported", readme):
        assert version not in supported, f"README.md says {version} is not supported"


@pytest.mark.parametrize("lock", [LOCK, SITE_LOCK], ids=["course", "site"])
def test_lock_is_exact_pins_without_duplicates(lock):
    seen = set()
    for pin in _lock(lock):
        specs = list(pin.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"not an exact pin: {pin}"
        key = (canonicalize_name(pin.name), str(pin.marker))
        assert key not in seen, f"{pin.name} pinned twice in {lock.name}"
        seen.add(key)


def test_lock_pins_every_package():
    project = _project()
    pinned = {canonicalize_name(pin.name) for pin in _lock()}
    needed = {canonicalize_name(Requirement(r).name)
              for r in project["dependencies"] + project["optional-dependencies"]["dev"]}
    assert needed <= pinned, f"not pinned in constraints.txt: {needed - pinned}"


@pytest.mark.skipif(not (Path(sys.prefix) / ".installed-stamp").exists(),
                    reason="this environment was not installed from the lock by `make setup`")
def test_lock_covers_this_environment():
    """Every package in the make-installed .venv is pinned, at the version installed.

    Fails when the lock misses a package this Python pulls in (dependencies can differ between
    Python versions) or when something was installed by hand: run `make lock`, or `make
    clean-venv setup` to go back to the lock.
    """
    pins = {}
    for pin in _lock():
        if pin.marker is None or pin.marker.evaluate():
            pins[canonicalize_name(pin.name)] = next(iter(pin.specifier)).version
    problems = []
    for dist in metadata.distributions():
        name = canonicalize_name(dist.metadata["Name"])
        if name in VENV_BOOTSTRAP or name == "labutils":
            continue
        if name not in pins:
            problems.append(f"{name}=={dist.version} installed but not pinned")
        elif pins[name] != dist.version:
            problems.append(f"{name}=={dist.version} installed, pinned =={pins[name]}")
    python = ".".join(map(str, sys.version_info[:3]))
    fix = "fix: `make lock`, or `make clean-venv setup` to return to the lock"
    report = "\n".join(sorted(problems))
    assert not problems, f"constraints.txt on Python {python} ({fix}):\n{report}"


def test_site_lock_pins_every_site_tool_within_its_range():
    pins = {canonicalize_name(p.name): next(iter(p.specifier)).version for p in _lock(SITE_LOCK)}
    wanted = _lock(REPO / "site" / "requirements.txt")
    assert wanted, "site/requirements.txt names no tool"
    for tool in wanted:
        name = canonicalize_name(tool.name)
        assert name in pins, f"{tool.name} of site/requirements.txt: not in site/constraints.txt"
        assert tool.specifier.contains(pins[name]), f"site lock pins {name}=={pins[name]}: {tool}"


def test_site_tools_stay_out_of_the_course_environment():
    """Students never install Sphinx: the course lock pins none of the site's own tools."""
    course = {canonicalize_name(p.name) for p in _lock()}
    site = {canonicalize_name(p.name) for p in _lock(REPO / "site" / "requirements.txt")}
    assert not course & site, f"site tools in constraints.txt: {sorted(course & site)}"


@pytest.mark.skipif(not (SITE_VENV / ".installed-stamp").exists(),
                    reason="the site's environment was not installed by `make site`")
def test_site_lock_covers_the_site_environment():
    """Every package `make site` installed into build/site-venv is pinned at its version."""
    import os
    import subprocess

    alone = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # only what it installed
    frozen = subprocess.run([str(SITE_VENV / "bin" / "python"), "-m", "pip", "freeze",
                             "--exclude-editable"], capture_output=True, text=True, check=True,
                            env=alone)
    pins = {canonicalize_name(p.name): next(iter(p.specifier)).version for p in _lock(SITE_LOCK)
            if p.marker is None or p.marker.evaluate()}
    problems = []
    for line in frozen.stdout.split():
        name, _, version = line.partition("==")
        if pins.get(canonicalize_name(name)) != version:
            problems.append(f"{line} installed, pinned {pins.get(canonicalize_name(name))}")
    assert not problems, "site/constraints.txt (re-pin: see its first lines):\n" + "\n".join(
        problems)
