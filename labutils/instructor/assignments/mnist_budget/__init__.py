"""The MNIST assignment as a grader plug-in: design an MLP for MNIST under a parameter budget
and beat a test accuracy (lesson 04).

What it collects: `layer_sizes` and `model`, made plain tensors by the student package's
`labutils.mlp_budget.submission_data` ("layer_sizes" int64, "model/<key>" float32). How it is
judged: judge.py (the network rebuilt from the declared layer list with build_mlp, the saved
weights loaded with strict keys and shapes, its accuracy measured on the MNIST test set in the
grader's process; no student code runs there). Its rubric: rubric.toml next to this file.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from labutils.instructor.assignments.mnist_budget.judge import COLLECT_FUNCTION, judge_data
from labutils.instructor.grading.plugin import Assignment, Entry, Judgement, load_rubric
from labutils.mlp_budget import COLLECTED
from labutils.paths import MIRROR_ENV, data_dir

ENTRIES: dict[str, Entry] = {
    "layer_sizes": Entry("int64", (None,), longest=12),
    "model/*.weight": Entry("float32", (None, None), longest=4096),
    "model/*.bias": Entry("float32", (None,), longest=4096),
}
"""The collection file's tensors; judge.py then checks them against the declared layer list
(and bounds it: at most 12 layers, 4,096 wide, 1,000,000 parameters)."""


def shared_data() -> dict[str, Path]:
    """MNIST for the student's kernel: the grader's offline mirror (LABUTILS_DATA_MIRROR) if it
    has one, else its data folder, shown read-only as the kernel's mirror (labutils.data copies
    the files into the submission's own folder from there)."""
    mirror = os.environ.get(MIRROR_ENV)
    return {MIRROR_ENV: Path(mirror).expanduser() if mirror else data_dir(create=True)}


def judgement(data: dict[str, torch.Tensor], problems: list[str]) -> Judgement:
    """The budget judgement: data, budget, accuracy; parameters and accuracy as information."""
    verdict = judge_data(data, problems)
    parameters = "?" if verdict.parameters is None else f"{verdict.parameters}"
    accuracy = "?" if verdict.accuracy is None else f"{verdict.accuracy:.2%}"
    layers = "?" if verdict.layer_sizes is None else "-".join(map(str, verdict.layer_sizes))
    return Judgement(
        scores={"data": float(verdict.data_ok),
                "budget": float(verdict.data_ok and verdict.under_budget),
                "accuracy": float(verdict.solved)},
        info={"parameters": parameters, "test_accuracy": accuracy},
        rows=[("layers", layers), *(("finding", finding) for finding in verdict.findings)],
        columns={"layers": layers, "findings": "; ".join(verdict.findings)},
        summary={"layers": layers, "accuracy": accuracy},
        problems=verdict.problems,
        diagnosis=verdict.diagnosis,
    )


ASSIGNMENT = Assignment(
    name="mnist_budget",
    title="An MLP for MNIST under a parameter budget",
    source="notebooks/instructor/06_assignment_mnist_solution.ipynb",
    student_copy="notebooks/06_assignment_mnist.ipynb",
    collected=COLLECTED,
    collect=COLLECT_FUNCTION,
    entries=ENTRIES,
    rubric=load_rubric(Path(__file__).with_name("rubric.toml")),
    judge=judgement,
    shared_data=shared_data,
)
