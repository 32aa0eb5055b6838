"""Assignments as plug-ins (labutils.instructor.grading.plugin): rubric files read with clear
errors, assignments found by name, and a grader core that imports no assignment."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from labutils.instructor.grading import plugin
from labutils.instructor.grading.plugin import (
    AssignmentError,
    Rubric,
    RubricError,
    assignment_names,
    load_assignment,
    load_rubric,
)
from labutils.instructor.release import SOLUTION_SUFFIX

GRADING = Path(plugin.__file__).parent
REPO_ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENT_MODULES = ("labutils.instructor.assignments", "labutils.instructor.rhw1986",
                      "labutils.network_facts", "labutils.paper1986")
"""Modules only an assignment may import (the 1986 judge's own)."""
GOOD_LINE = 'name = "runs"\nkind = "auto"\npoints = 1\ntext = "it runs"\n'


def rubric_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rubric.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_rubric_is_read_in_file_order(tmp_path):
    path = rubric_file(tmp_path, f"[[line]]\n{GOOD_LINE}\n[[line]]\nname = \"report\"\n"
                       "kind = \"manual\"\npoints = 2.5\ntext = \"the report\"\n\n[[line]]\n"
                       "name = \"seed\"\nkind = \"info\"\ntext = \"the seed learned\"\n")
    rubric = load_rubric(path)
    assert [(line.name, line.kind, line.points) for line in rubric.lines] == [
        ("runs", "auto", 1), ("report", "manual", 2.5), ("seed", "info", 0)]
    assert rubric.auto_total == 1 and rubric.manual_total == 2.5
    assert rubric.describe()[0] == f"rubric: {path}"


@pytest.mark.parametrize(("text", "message"), [
    ("[[line]]\nname = ", "not valid TOML: "),
    ("title = 'x'\n", "no rubric lines"),
    (f"[[line]]\n{GOOD_LINE}[[line]]\n{GOOD_LINE}", "rubric line 2 ('runs'): the name is used"),
    ("[[line]]\nname = 'a b'\nkind = 'auto'\ntext = 't'\n", "rubric line 1: name must be"),
    ("[[line]]\nname = 'a'\nkind = 'bonus'\ntext = 't'\n",
     "rubric line 1 ('a'): kind must be one of auto, manual, info (got 'bonus')"),
    ("[[line]]\nname = 'a'\nkind = 'auto'\npoints = -1\ntext = 't'\n", "points must be a number"),
    ("[[line]]\nname = 'a'\nkind = 'auto'\npoints = '3'\ntext = 't'\n", "points must be a number"),
    ("[[line]]\nname = 'a'\nkind = 'info'\npoints = 3\ntext = 't'\n", "an info line earns no"),
    ("[[line]]\nname = 'a'\nkind = 'auto'\ntext = ' '\n", "text must say what earns"),
    ("[[line]]\nname = 'a'\nkind = 'auto'\ntext = 't'\npoint = 3\n", "unknown key(s) point"),
    ("[[line]]\nname = 'runs'\nkind = 'manual'\ntext = 't'\n", "'runs' is scored by the grader"),
])
def test_a_bad_rubric_names_the_file_and_the_line(tmp_path, text, message):
    path = rubric_file(tmp_path, text)
    with pytest.raises(RubricError) as raised:
        load_rubric(path)
    assert str(raised.value).startswith(f"{path}: ") and message in str(raised.value)


def test_a_missing_rubric_file_is_named(tmp_path):
    with pytest.raises(RubricError, match="missing.toml: cannot read the rubric"):
        load_rubric(tmp_path / "missing.toml")


def test_assignments_are_found_by_their_folder_and_unknown_names_listed():
    names = assignment_names()
    assert "rhw1986" in names
    with pytest.raises(AssignmentError, match=r"unknown assignment 'nope'; known: .*rhw1986"):
        load_assignment("nope")


def test_a_new_assignment_is_one_folder(tmp_path, monkeypatch):
    package = tmp_path / "extra" / "toy"
    package.mkdir(parents=True)
    (package / "rubric.toml").write_text(f"[[line]]\n{GOOD_LINE}")
    (package / "__init__.py").write_text(
        "from pathlib import Path\n"
        "from labutils.instructor.grading.plugin import Assignment, Judgement, load_rubric\n"
        "ASSIGNMENT = Assignment('toy', 'Toy', 'notebooks/instructor/07_toy_solution.ipynb',\n"
        "    'notebooks/07_toy.ipynb', ('x',), 'labutils.checks:submission_data', {},\n"
        "    load_rubric(Path(__file__).with_name('rubric.toml')), lambda d, p: Judgement())\n")
    import labutils.instructor.assignments as assignments

    monkeypatch.setattr(assignments, "__path__", [*assignments.__path__, str(package.parent)])
    assert "toy" in assignment_names()
    toy = load_assignment("toy")
    assert toy.rubric.auto_total == 1 and toy.judge({}, []) == plugin.Judgement()
    sys.modules.pop("labutils.instructor.assignments.toy", None)


def test_every_assignment_declares_a_release_the_release_tool_makes():
    for name in assignment_names():
        assignment = load_assignment(name)
        assert isinstance(assignment.rubric, Rubric) and assignment.rubric.auto_total > 0
        stem = Path(assignment.source).stem.removesuffix(SOLUTION_SUFFIX)
        assert assignment.student_copy == f"notebooks/{stem}.ipynb", name
        assert (REPO_ROOT / assignment.source).is_file(), assignment.source
        assert assignment.judge.__module__.startswith(f"labutils.instructor.assignments.{name}")


def test_every_assignment_scores_each_of_its_auto_lines_even_without_data():
    for name in assignment_names():
        assignment = load_assignment(name)
        judgement = assignment.judge({}, ["no data"])
        judged = {line.name for line in assignment.rubric.of_kind("auto")} - set(
            plugin.CORE_LINES)
        assert set(judgement.scores) == judged, name
        assert all(value == 0 for value in judgement.scores.values())
        assert set(judgement.info) == {line.name for line in assignment.rubric.of_kind("info")}


def core_modules() -> list[str]:
    return sorted(f"labutils.instructor.grading.{path.stem}" for path in GRADING.glob("*.py")
                  if path.stem != "__init__")


def test_importing_the_grader_core_loads_no_assignment():
    code = ("import importlib, sys\n"
            f"for name in {core_modules()!r}:\n"
            "    importlib.import_module(name)\n"
            "from labutils.instructor.grading.command import add_grade_arguments\n"
            "import argparse; add_grade_arguments(argparse.ArgumentParser())\n"
            f"print(sorted(m for m in sys.modules if m.startswith({ASSIGNMENT_MODULES!r})))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, check=True)
    assert done.stdout.strip() == "['labutils.instructor.assignments']", done.stdout
    # only the package that lists them (its __init__ names the default, imports nothing)


def test_no_grader_core_module_imports_an_assignment():
    found = []
    for path in sorted(GRADING.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            found += [f"{path.name}: {n}" for n in names if n.startswith(ASSIGNMENT_MODULES)]
    assert found == []
    assert len(core_modules()) >= 10


def test_grade_picks_the_assignment_named_else_by_the_releases_check_cells(tmp_path):
    from nbformat import write
    from nbformat.v4 import new_notebook

    from labutils.instructor.assignment import load_release
    from labutils.instructor.grading.command import pick_assignment

    assert pick_assignment("mnist_budget", None)[0].name == "mnist_budget"
    assert pick_assignment(None, None) == (load_assignment("rhw1986"), "the default")
    for name in assignment_names():
        assignment = load_assignment(name)
        release = tmp_path / f"{name}.ipynb"
        write(load_release(REPO_ROOT, assignment.source, assignment.student_copy), release)
        assert pick_assignment(None, release)[0].name == name
    write(new_notebook(), tmp_path / "other.ipynb")
    assert pick_assignment(None, tmp_path / "other.ipynb")[1] == "the default"
