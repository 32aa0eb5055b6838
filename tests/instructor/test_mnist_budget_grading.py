"""The MNIST budget assignment through the whole grader (the second plug-in): a network within
the budget and one over it, in one sandboxed batch, judged and scored by the assignment's own
rubric. The grader's test set is replaced by 20 synthetic images that a hand-set network
classifies perfectly, so no training runs here; the real MNIST evaluation is judge.py's."""

from __future__ import annotations

from copy import deepcopy

import pytest
import torch
from nbformat import write
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from labutils import mlp_budget
from labutils.instructor.assignment import release_notebook
from labutils.instructor.course.badges import CourseRepository
from labutils.instructor.grading import grade_all, load_assignment
from labutils.instructor.grading.sandbox import sandbox_problem

NO_BWRAP = sandbox_problem()
MNIST_BUDGET = load_assignment("mnist_budget")


def network_cell(hidden: int) -> str:
    """A student's answer: a 784-hidden-10 MLP whose first ten hidden units copy pixels 0-9
    to classes 0-9 (perfect on the synthetic test set)."""
    return (
        "import torch\nfrom labutils.mlp_budget import build_mlp\n"
        f"layer_sizes = [784, {hidden}, 10]\nmodel = build_mlp(layer_sizes)\n"
        "with torch.no_grad():\n    for p in model.parameters():\n        p.zero_()\n"
        "    model[1].weight[:10, :10] = torch.eye(10)\n"
        "    model[3].weight[:, :10] = torch.eye(10)")


def synthetic_test_set() -> tuple[torch.Tensor, torch.Tensor]:
    """20 images: class c lights pixel c of the first row, and nothing else."""
    labels = torch.arange(20) % 10
    images = torch.zeros(20, 1, 28, 28)
    images[torch.arange(20), 0, 0, labels] = 1.0
    return images, labels


RELEASE = release_notebook(new_notebook(cells=[
    new_markdown_cell("# Budget"),
    new_code_cell("### BEGIN SOLUTION\n" + network_cell(16) + "\n### END SOLUTION")]),
    "notebooks/budget.ipynb", CourseRepository("https://github.com/owner/course", "main"))


def submission(hidden: int):
    """The release with its answer cell filled in and run (it prints nothing)."""
    nb = deepcopy(RELEASE)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    for count, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        cell.execution_count = count + 1
    nb.cells[-1].source = network_cell(hidden)
    return nb


@pytest.mark.skipif(bool(NO_BWRAP), reason=NO_BWRAP)
def test_within_and_over_the_budget_in_one_sandboxed_batch(tmp_path, monkeypatch):
    monkeypatch.setattr(mlp_budget, "_test_set", synthetic_test_set)
    write(submission(16), tmp_path / "within.ipynb")  # 12,730 parameters
    write(submission(40), tmp_path / "over.ipynb")  # 31,810 parameters
    printed = []
    within, over = grade_all([tmp_path / "within.ipynb", tmp_path / "over.ipynb"], RELEASE,
                             cell_timeout=120, total_timeout=300, echo=printed.append,
                             assignment=MNIST_BUDGET, verbose=True)
    assert within.runs_clean and not within.differ, (within.problem, within.errors)
    assert within.points == {"runs": 1, "reproduced": 1, "data": 1, "budget": 2,
                             "accuracy": 3}, within.judgement
    assert within.judgement.info == {"parameters": "12730", "test_accuracy": "100.00%"}
    assert over.points == {"runs": 1, "reproduced": 1, "data": 1, "budget": 0, "accuracy": 0}
    assert over.judgement.diagnosis == "over the budget"
    assert over.judgement.info["parameters"] == "31810"
    assert printed[0].split()[:3] == ["within.ipynb", "graded", "8/8"]  # a line, then --verbose
    assert "total                   8/8 (runs 1/1" in printed[1]  # adds the whole table
    assert printed[2].split()[:3] == ["over.ipynb", "graded", "3/8"]
    assert printed[2].endswith("  over the budget")  # the diagnosed mistake on its line
    assert "manual -/4 (report -/4)" in printed[3] and "diagnosis" in printed[3]
    assert over.row()["points_budget"] == "0" and over.row()["layers"] == "784-40-10"
    assert within.judgement.diagnosis == "" and within.words == 0


def test_forged_collection_files_are_refused_by_the_declared_entries():
    """What the core's loader refuses by the plug-in's declaration, before its judge runs."""
    import io

    from labutils.instructor.grading.loading import load_data

    forged = {"layer_sizes": torch.tensor([784] + [16] * 12 + [10]),  # 14 entries (at most 12)
              "model/1.weight": torch.zeros(5000, 784),  # wider than any layer judged
              "model/1.bias": torch.zeros(16, dtype=torch.float64),
              "evil": torch.zeros(1)}
    buffer = io.BytesIO()
    torch.save(forged, buffer)
    data, problems = load_data(buffer.getvalue(), spec=MNIST_BUDGET.entries)
    assert data == {} and problems == [
        "layer_sizes: shape (14,), expected (n,)", "model/1.weight: shape (5000, 784), "
        "expected (n, n)", "model/1.bias: dtype torch.float64, expected torch.float32",
        "unexpected entry 'evil' ignored"]
    judgement = MNIST_BUDGET.judge(data, problems)
    assert judgement.scores == {"data": 0, "budget": 0, "accuracy": 0}
    assert judgement.diagnosis.startswith("not judged: layer_sizes: shape (14,)")
