"""The MNIST budget assignment's notebooks: the committed student copy is a fresh release of the
instructor source, holds no line of its solutions, and, executed (on a small synthetic stand-in
for MNIST), fails exactly where solutions are missing. The instructor source itself is run by
nbval (its results: test_executed_mnist_budget.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from labutils.instructor.assignment import (
    BEGIN_ANSWER,
    BEGIN_SOLUTION,
    END_ANSWER,
    END_SOLUTION,
    READ_ONLY,
    cells_needing_solutions,
    check_cells,
    check_name,
    release_notebook,
)
from labutils.instructor.course.badges import read_course_repository
from labutils.mlp_budget import CHECK_READS

REPO = Path(__file__).resolve().parents[2]
SOURCE = "notebooks/instructor/06_assignment_mnist_solution.ipynb"
STUDENT_COPY = "notebooks/06_assignment_mnist.ipynb"

FAKE_MNIST = '''import torch
import labutils.mlp_budget


def _fake_mnist(train):
    generator = torch.Generator().manual_seed(int(train))
    return (torch.randn(256, 1, 28, 28, generator=generator),
            torch.randint(0, 10, (256,), generator=generator))


labutils.mlp_budget.mnist_tensors = _fake_mnist'''
"""A first cell for the test run: 256 random images per split instead of MNIST."""


def source() -> nbformat.NotebookNode:
    return nbformat.read(REPO / SOURCE, as_version=4)


def student() -> nbformat.NotebookNode:
    return nbformat.read(REPO / STUDENT_COPY, as_version=4)


def test_student_copy_is_a_fresh_release_of_the_source():
    fresh = nbformat.writes(release_notebook(source(), STUDENT_COPY,
                                             read_course_repository(REPO / "pyproject.toml")))
    committed = (REPO / STUDENT_COPY).read_text(encoding="utf-8")
    assert committed == fresh + ("" if fresh.endswith("\n") else "\n"), (
        f"{STUDENT_COPY} is stale: regenerate it from {SOURCE} and commit it")


def _solution_lines(nb: nbformat.NotebookNode) -> set[str]:
    """Every line inside a solution region of the source (code and markdown)."""
    lines, inside = set(), False
    for cell in nb.cells:
        for line in cell.source.split("\n"):
            marker = line.strip()
            if marker in (BEGIN_SOLUTION, BEGIN_ANSWER):
                inside = True
            elif marker in (END_SOLUTION, END_ANSWER):
                inside = False
            elif inside and marker and not marker.startswith("#"):
                lines.add(marker)
    return lines


def test_student_copy_holds_no_solution_and_keeps_its_checks_read_only():
    solution_lines = _solution_lines(source())
    assert len(solution_lines) > 10
    lines = {line.strip() for cell in student().cells for line in cell.source.split("\n")}
    assert sorted(solution_lines & lines) == []
    assert not any("INSTRUCTOR ONLY" in line for line in lines)
    checks = check_cells(student())
    assert list(checks) == list(CHECK_READS)
    assert all(cell.metadata.get(key) == value for cell in checks.values()
               for key, value in READ_ONLY.items())


@pytest.fixture(scope="module")
def executed_student_copy(tmp_path_factory) -> nbformat.NotebookNode:
    folder = tmp_path_factory.mktemp("mnist_budget")
    path = Path(shutil.copy(REPO / STUDENT_COPY, folder / "student.ipynb"))
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(FAKE_MNIST))
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(folder)}}).execute()
    nb.cells.pop(0)
    return nb


def test_student_copy_fails_exactly_where_solutions_are_missing(executed_student_copy):
    expected = cells_needing_solutions(student(), CHECK_READS)
    assert expected, "the student copy should have cells to fill in"
    for index, cell in enumerate(executed_student_copy.cells):
        if cell.cell_type != "code":
            continue
        errors = [o.ename for o in cell.outputs if o.output_type == "error"]
        text = "".join(o.get("text", "") for o in cell.outputs)
        if check_name(cell) is not None:
            assert not errors and expected.get(index) == "FAIL", (index, errors, text)
            assert text.startswith("❌ FAIL"), text
        else:
            assert errors == ([expected[index]] if index in expected else []), (index, errors)
