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
# What `python -m venv` puts in a new environment itself, before anything from the lock.
VENV_BOOTSTRAP = {"pip"} | ({"setuptools"} if sys.version_info < (3, 12) else set())


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _project() -> dict:
    if tomllib is None:
        pytest.skip("reading pyproject.toml needs tomllib (Python >= 3.11)")
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def _lock() -> list[Requirement]:
    """Every pin in constraints.txt (comments and blank lines skipped)."""
    lines = (line.split("#", 1)[0].strip() for line in LOCK.read_text().splitlines())
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


def test_readme_states_the_supported_pythons():
    requires = _project()["requires-python"]
    readme = (REPO / "README.md").read_text()
    assert f'requires-python = "{requires}"' in readme, (
        f"README.md's Requirements must quote pyproject's requires-python = \"{requires}\"")


def test_lock_is_exact_pins_without_duplicates():
    seen = set()
    for pin in _lock():
        specs = list(pin.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"not an exact pin: {pin}"
        key = (canonicalize_name(pin.name), str(pin.marker))
        assert key not in seen, f"{pin.name} pinned twice in constraints.txt"
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
