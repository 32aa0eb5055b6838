"""The MNIST budget assignment's judge: right data is rebuilt and measured, over-budget and
below-target data are told apart, and hostile data (huge declared layers, wrong shapes, NaN,
wrong dtypes, missing or extra entries, not a zip, pickled objects) is refused with a clear
problem before anything is allocated. The test set is a small synthetic one labelled by a
known network (no test touches MNIST; the model solution's real accuracy is judged on nbval's
run of the instructor notebook, tests/instructor/test_executed_mnist_budget.py)."""

from __future__ import annotations

import io

import pytest
import torch

from labutils import mlp_budget
from labutils.instructor.assignments.mnist_budget import judge as judge_module
from labutils.instructor.assignments.mnist_budget.judge import (
    MAX_PARAMETERS,
    judge,
    judge_data,
)
from labutils.mlp_budget import build_mlp, submission_data

RIGHT = [784, 31, 10]
OVER = [784, 40, 10]


def network(sizes: list[int], seed: int = 0) -> torch.nn.Sequential:
    torch.manual_seed(seed)
    return build_mlp(sizes)


def labelled_by(model, n: int = 300) -> tuple[torch.Tensor, torch.Tensor]:
    """Random images labelled by `model`'s own predictions (it scores 100% on them)."""
    images = torch.randn(n, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        return images, model(images).argmax(dim=1)


def collected(sizes: list[int] = RIGHT) -> tuple[dict[str, torch.Tensor], tuple]:
    """What the collection cell saves for a network of `sizes`, and a test set it gets right."""
    model = network(sizes)
    return submission_data({"layer_sizes": sizes, "model": model}), labelled_by(model)


def saved(value) -> bytes:
    buffer = io.BytesIO()
    torch.save(value, buffer)
    return buffer.getvalue()


@pytest.fixture
def no_rebuild(monkeypatch):
    """Fail the test if the judge builds a network (it must refuse before allocating)."""
    def refuse(sizes):
        raise AssertionError(f"build_mlp({sizes}) called on data that should be refused")
    monkeypatch.setattr(judge_module, "build_mlp", refuse)


# -- right, over budget, below target -----------------------------------------------------------


def test_right_data_is_rebuilt_and_measured_by_the_grader():
    data, test_set = collected()
    verdict = judge(saved(data), test_set=test_set)
    assert verdict.data_ok and verdict.problems == []
    assert verdict.layer_sizes == RIGHT and verdict.parameters == 24_655
    assert verdict.under_budget and verdict.accuracy == 1.0 and verdict.beats_target
    assert verdict.solved and verdict.diagnosis == ""


def test_the_grader_measures_on_the_shared_test_set_by_default(monkeypatch):
    data, test_set = collected()
    monkeypatch.setattr(mlp_budget, "_test_set", lambda: test_set)
    assert judge_data(data).accuracy == 1.0


def test_over_budget_is_measured_but_not_solved():
    data, test_set = collected(OVER)
    verdict = judge_data(data, test_set=test_set)
    assert verdict.data_ok and not verdict.under_budget and verdict.beats_target
    assert not verdict.solved and verdict.diagnosis == "over the budget"
    assert any("over the budget by 6,810" in finding for finding in verdict.findings)


def test_below_target_is_not_solved():
    data, (images, labels) = collected()
    verdict = judge_data(data, test_set=(images, (labels + 1) % 10))
    assert verdict.data_ok and verdict.under_budget and verdict.accuracy == 0.0
    assert not verdict.beats_target and verdict.diagnosis == "below the target accuracy"


def test_missing_data_says_why():
    verdict = judge(None, "the notebook defined neither layer_sizes nor model")
    assert not verdict.data_ok and verdict.problems == [
        "the notebook defined neither layer_sizes nor model"]
    assert verdict.diagnosis.startswith("not judged: the notebook defined")


def test_problems_a_loader_already_found_are_kept():
    data, test_set = collected()
    verdict = judge_data(data, ["unexpected entry 'x' ignored"], test_set=test_set)
    assert verdict.solved and verdict.problems == ["unexpected entry 'x' ignored"]


# -- hostile data -------------------------------------------------------------------------------


HUGE_LAYERS = {
    "wide": ([784, 10**9, 10], "outside 1..4096"),
    "too many parameters": ([784, 4000, 4000, 10], f"at most {MAX_PARAMETERS:,}"),
    "long list": ([784] + [1] * 1000 + [10], "expected (n,)"),
    "negative": ([784, -5, 10], "outside 1..4096"),
    "first": ([783, 31, 10], "first entry 783, expected 784"),
    "last": ([784, 31, 11], "last entry 11, expected 10"),
    "no hidden layer": ([784, 10], "no hidden layer"),
}


@pytest.mark.parametrize("case", list(HUGE_LAYERS))
def test_bad_layer_lists_are_refused_before_allocating(no_rebuild, case):
    sizes, message = HUGE_LAYERS[case]
    data = {"layer_sizes": torch.tensor(sizes, dtype=torch.int64),
            "model/1.weight": torch.zeros(1, 1)}
    verdict = judge(saved(data))
    assert not verdict.data_ok and verdict.accuracy is None and verdict.parameters is None
    assert any(message in problem for problem in verdict.problems), verdict.problems


def _doctored(edit: str) -> dict:
    data, _ = collected()
    if edit == "shape":
        data["model/1.weight"] = torch.zeros(30, 784)
    elif edit == "nan":
        data["model/3.weight"][0, 0] = float("nan")
    elif edit == "inf":
        data["model/1.bias"][0] = float("inf")
    elif edit == "float64 weights":
        data["model/1.weight"] = data["model/1.weight"].double()
    elif edit == "float layer list":
        data["layer_sizes"] = data["layer_sizes"].float()
    elif edit == "layer list as a matrix":
        data["layer_sizes"] = data["layer_sizes"][None]
    elif edit == "missing weight":
        del data["model/3.bias"]
    elif edit == "missing layer list":
        del data["layer_sizes"]
    elif edit == "extra entry":
        data["model/5.weight"] = torch.zeros(10, 10)
    elif edit == "not a tensor":
        data["model/1.bias"] = [0.0] * 31
    elif edit == "sparse":
        data["model/1.bias"] = data["model/1.bias"].to_sparse()
    return data


PROBLEMS = {
    "shape": "model/1.weight: shape (30, 784), expected (31, 784)",
    "nan": "model/3.weight: not finite",
    "inf": "model/1.bias: not finite",
    "float64 weights": "model/1.weight: dtype torch.float64, expected torch.float32",
    "float layer list": "layer_sizes: dtype torch.float32, expected torch.int64",
    "layer list as a matrix": "layer_sizes: shape (1, 3)",
    "missing weight": "model/3.bias: missing",
    "missing layer list": "layer_sizes: missing",
    "extra entry": "entries that build_mlp(layer_sizes) does not have: 'model/5.weight'",
    "not a tensor": "model/1.bias: not a plain tensor (list)",
    "sparse": "model/1.bias: not a plain dense tensor",
}


@pytest.mark.parametrize("edit", list(PROBLEMS))
def test_malformed_weights_are_refused_with_a_clear_problem(no_rebuild, edit):
    verdict = judge(saved(_doctored(edit)))
    assert not verdict.data_ok and verdict.accuracy is None and not verdict.solved
    assert any(PROBLEMS[edit] in problem for problem in verdict.problems), verdict.problems
    assert verdict.diagnosis.startswith("not judged: ")


class Gadget:
    """A pickled object: torch.load(weights_only=True) must refuse it."""


@pytest.mark.parametrize(("raw", "message"), [
    (b"not a zip archive", "not the zip archive torch.save writes"),
    (saved([1, 2, 3]), "not a dict"),
    (saved({f"k{i}": torch.zeros(1) for i in range(100)}), "entries (at most"),
])
def test_files_that_are_not_the_collected_dict_are_refused(no_rebuild, raw, message):
    verdict = judge(raw)
    assert not verdict.data_ok and message in verdict.problems[0], verdict.problems


def test_pickled_objects_are_refused(no_rebuild):
    buffer = io.BytesIO()
    torch.save({"layer_sizes": Gadget()}, buffer)
    verdict = judge(buffer.getvalue())
    assert not verdict.data_ok
    assert "torch.load(weights_only=True)" in verdict.problems[0], verdict.problems
