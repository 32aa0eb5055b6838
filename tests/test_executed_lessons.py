"""The lessons' thresholds, judged on what nbval's run of lessons 03 and 04 printed in this
pytest session (make nbval, make test); without --nbval these tests are deselected, and with it
they fail when a lesson did not run (tests/conftest.py)."""

import pytest
from lesson_thresholds import (
    LESSON_03,
    LESSON_04,
    check_extra_mse_is_the_quadratic_form,
    check_fast_path_reaches_threshold,
    check_fast_path_trains_like_the_loop,
    check_fit_reproduces_the_loop,
    check_loop_reaches_threshold,
)

pytestmark = pytest.mark.executed_lessons


def test_executed_03_fit_reproduces_the_loop(executed_lesson):
    check_fit_reproduces_the_loop(executed_lesson(LESSON_03))


def test_executed_03_extra_mse_is_the_quadratic_form(executed_lesson):
    check_extra_mse_is_the_quadratic_form(executed_lesson(LESSON_03))


def test_executed_04_loop_reaches_95_percent(executed_lesson):
    check_loop_reaches_threshold(executed_lesson(LESSON_04))


def test_executed_04_fast_path_trains_like_the_loop(executed_lesson):
    check_fast_path_trains_like_the_loop(executed_lesson(LESSON_04))


def test_executed_04_fast_path_reaches_95_percent(executed_lesson):
    check_fast_path_reaches_threshold(executed_lesson(LESSON_04))
