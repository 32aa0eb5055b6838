"""labutils.mlp_budget: the one model of the MNIST budget assignment (build, count, shapes), its
data for the grader, and its self-checks on right and typical wrong answers. No test touches
MNIST: the accuracy is measured on a small synthetic test set labelled by a known network."""

from __future__ import annotations

import re

import pytest
import torch
from torch import nn

from labutils import mlp_budget
from labutils.mlp_budget import (
    PARAMETER_BUDGET,
    build_mlp,
    check_accuracy,
    check_budget,
    check_layers,
    parameter_count,
    state_shapes,
    submission_data,
    test_accuracy,
)

RIGHT = [784, 16, 10]
"""A design within the budget (not the model solution's: this file ships to students)."""


def labelled_by(model: nn.Module, n: int = 200, seed: int = 0):
    """Random images labelled by `model`'s own predictions: it scores 100% on them."""
    images = torch.randn(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        return images, model(images).argmax(dim=1)


@pytest.fixture
def perfect(monkeypatch):
    """(model, test set) with the model right on every image; the checks see that test set."""
    torch.manual_seed(0)
    model = build_mlp(RIGHT)
    test_set = labelled_by(model)
    monkeypatch.setattr(mlp_budget, "_test_set", lambda: test_set)
    return model, test_set


def printed(capsys, check, namespace) -> str:
    check(namespace)
    return capsys.readouterr().out


# -- the model of the task --------------------------------------------------------------------


@pytest.mark.parametrize("sizes", [[784, 10], RIGHT, [784, 32, 16, 10], [3, 1, 1, 2]])
def test_build_count_and_shapes_agree(sizes):
    model = build_mlp(sizes)
    linear = [m for m in model if isinstance(m, nn.Linear)]
    assert isinstance(model[0], nn.Flatten)
    pairs = list(zip(sizes[:-1], sizes[1:], strict=True))
    assert [(m.in_features, m.out_features) for m in linear] == pairs
    assert [type(m) for m in model[1:]] == [nn.Linear, nn.ReLU] * (len(sizes) - 2) + [nn.Linear]
    assert parameter_count(sizes) == sum(p.numel() for p in model.parameters())
    assert state_shapes(sizes) == {k: tuple(v.shape) for k, v in model.state_dict().items()}


def test_lesson_network_is_over_the_budget_and_right_is_within():
    assert parameter_count([784, 32, 16, 10]) > PARAMETER_BUDGET >= parameter_count(RIGHT)


@pytest.mark.parametrize("bad", ["784-16-10", 784, [784], [784, 0, 10], [784, 3.5, 10],
                                 [784, True, 10], (784, -1, 10)])
def test_bad_layer_lists_are_refused_with_the_fix(bad):
    with pytest.raises(ValueError, match="layer_sizes"):
        build_mlp(bad)
    with pytest.raises(ValueError, match="layer_sizes"):
        parameter_count(bad)


def test_test_accuracy_counts_right_answers_and_leaves_eval_mode(perfect):
    model, (images, labels) = perfect
    model.train()
    assert test_accuracy(model) == 1.0 and not model.training
    assert test_accuracy(model, (images, (labels + 1) % 10), batch_size=7) == 0.0


# -- data for the grader ----------------------------------------------------------------------


def test_submission_data_is_plain_detached_cpu_tensors():
    model = build_mlp(RIGHT).double()
    data = submission_data({"layer_sizes": RIGHT, "model": model, "other": 1})
    assert set(data) == {"layer_sizes"} | {f"model/{k}" for k in state_shapes(RIGHT)}
    assert data["layer_sizes"].dtype == torch.int64 and data["layer_sizes"].tolist() == RIGHT
    for key, shape in state_shapes(RIGHT).items():
        value = data[f"model/{key}"]
        assert type(value) is torch.Tensor and value.dtype == torch.float32
        assert tuple(value.shape) == shape and not value.requires_grad
        assert value.device.type == "cpu"
    with torch.no_grad():
        model[1].weight.add_(1.0)  # training on afterwards does not change what was collected
    assert not torch.equal(data["model/1.weight"], model[1].weight.float())


@pytest.mark.parametrize("namespace", [{}, {"layer_sizes": "abc", "model": 3},
                                       {"layer_sizes": None, "model": None}])
def test_submission_data_leaves_unreadable_names_out(namespace):
    assert submission_data(namespace) == {}


# -- the self-checks --------------------------------------------------------------------------


def test_checks_pass_on_a_right_design(capsys, perfect):
    model, _ = perfect
    namespace = {"layer_sizes": RIGHT, "model": model}
    for check, name in ((check_layers, "layers"), (check_budget, "budget"),
                        (check_accuracy, "accuracy")):
        out = printed(capsys, check, namespace)
        assert re.match(rf"^\W*PASS {name}:", out), out


WRONG_LAYERS = {
    "first": [100, 16, 10], "last": [784, 16, 9], "hidden": [784, 10], "text": "784, 16, 10",
}


@pytest.mark.parametrize("what", list(WRONG_LAYERS))
def test_layers_check_fails_on_typical_mistakes_with_a_hint(capsys, what):
    out = printed(capsys, check_layers, {"layer_sizes": WRONG_LAYERS[what]})
    assert re.match(r"^\W*FAIL layers:", out) and "Hint:" in out, out


def test_budget_check_fails_over_the_budget_without_an_answer(capsys):
    out = printed(capsys, check_budget, {"layer_sizes": [784, 32, 16, 10]})
    assert re.match(r"^\W*FAIL budget:", out) and "Hint:" in out, out
    assert "[" not in out, out  # no layer list that would fit


def test_accuracy_check_fails_below_the_target(capsys, perfect):
    model, (images, labels) = perfect
    with torch.no_grad():
        model[3].bias.add_(torch.arange(10.0) * 100)  # always predicts 9
    out = printed(capsys, check_accuracy, {"layer_sizes": RIGHT, "model": model})
    assert re.match(r"^\W*FAIL accuracy: test accuracy \d+\.\d\d%", out) and "Hint:" in out, out


@pytest.mark.parametrize("case", ["other sizes", "changed model", "not a model", "nan"])
def test_accuracy_check_fails_when_the_grader_could_not_rebuild_it(capsys, perfect, case):
    model, _ = perfect
    sizes = RIGHT
    if case == "other sizes":
        sizes = [784, 15, 10]
    elif case == "changed model":
        model = nn.Sequential(*model, nn.Softmax(dim=1), nn.Linear(10, 10))
    elif case == "not a model":
        model = [1, 2, 3]
    else:
        with torch.no_grad():
            model[1].weight[0, 0] = float("nan")
    out = printed(capsys, check_accuracy, {"layer_sizes": sizes, "model": model})
    assert re.match(r"^\W*FAIL accuracy:", out) and "Hint:" in out, out


def test_checks_fail_without_their_names(capsys):
    for check in (check_layers, check_budget, check_accuracy):
        out = printed(capsys, check, {})
        assert re.match(r"^\W*FAIL \w+: `\w+`.* not defined yet", out), out
