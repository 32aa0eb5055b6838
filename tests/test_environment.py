"""environment.yml (conda/Binder) and pyproject.toml must install the same packages."""

import re
from pathlib import Path

import tomllib
import yaml

REPO = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_environment_matches_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = {_name(r): r.replace(" ", "") for r in project["dependencies"]}
    wanted |= {_name(r): r.replace(" ", "") for r in project["optional-dependencies"]["dev"]}
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = {_name(r): r.replace(" ", "") for r in pip_section if not r.startswith("-e")}
    assert listed == wanted
    assert "-e ." in pip_section, "environment.yml must install labutils itself"


def test_lock_pins_every_package():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pinned = {_name(line) for line in (REPO / "constraints.txt").read_text().splitlines()
              if "==" in line}
    needed = {_name(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]
              if "python_version" not in r}  # back-ports for older Pythons are not installed
    assert needed <= pinned, f"not pinned in constraints.txt: {needed - pinned}"
