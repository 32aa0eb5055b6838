"""What the MNIST budget assignment's model solution
(notebooks/instructor/06_assignment_mnist_solution.ipynb) must show when it runs: within the
budget and at or above the target accuracy, judged on the text its cells printed.

test_executed_mnist_budget.py applies them to nbval's own run of the notebook in the same pytest
session (tests/conftest.py); test_mnist_budget_thresholds.py feeds them doctored text, so each
can fail."""

from __future__ import annotations

import re

from labutils.mlp_budget import PARAMETER_BUDGET, TARGET_ACCURACY

NOTEBOOK = "06_assignment_mnist_solution.ipynb"
_RESULT = re.compile(r"^([\d,]+) parameters \(budget [\d,]+\), test accuracy (\d+\.\d+)%", re.M)
_CHECK = re.compile(r"^\W*(PASS|FAIL) (layers|budget|accuracy):", re.M)


def _result(texts: list[str]) -> tuple[int, float]:
    rows = [row for text in texts for row in _RESULT.findall(text)]
    assert rows, "the notebook printed no 'N parameters (budget B), test accuracy A%' line"
    parameters, percent = rows[-1]
    return int(parameters.replace(",", "")), float(percent) / 100


def check_within_budget(texts: list[str]) -> None:
    """The model solution's network has at most PARAMETER_BUDGET parameters."""
    parameters, _ = _result(texts)
    assert parameters <= PARAMETER_BUDGET, f"{parameters:,} parameters"


def check_beats_target(texts: list[str]) -> None:
    """The model solution reaches TARGET_ACCURACY on the 10,000 test images."""
    _, accuracy = _result(texts)
    assert accuracy >= TARGET_ACCURACY, f"test accuracy {accuracy:.4f}"


def check_every_check_passes(texts: list[str]) -> None:
    """Each of the three self-checks printed PASS."""
    found = {name: status for text in texts for status, name in _CHECK.findall(text)}
    assert found == dict.fromkeys(("layers", "budget", "accuracy"), "PASS"), found


CHECKS = (check_within_budget, check_beats_target, check_every_check_passes)
