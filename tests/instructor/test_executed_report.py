"""The reference report's range checks, judged on what nbval's run of it printed in this pytest
session (make nbval, make test); without --nbval they are deselected (tests/conftest.py)."""

import pytest
from report_thresholds import CHECKS, REPORT

pytestmark = pytest.mark.executed_lessons


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
def test_executed_report(executed_lesson, check):
    check(executed_lesson(REPORT))
