"""The MNIST budget assignment's model solution, judged on what nbval's run of it printed in this
pytest session (make nbval, make test); without --nbval these are deselected (tests/conftest.py)."""

import pytest
from mnist_budget_thresholds import CHECKS, NOTEBOOK

pytestmark = pytest.mark.executed_lessons


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
def test_executed_mnist_budget(executed_lesson, check):
    check(executed_lesson(NOTEBOOK))
