"""In-lesson fill-in exercises: one feedback line per exercise, never an exception.

An exercise cell of a lesson starts its answer as `None`, holds the student's code where the
release writes `# YOUR CODE HERE`, and ends by calling that lesson's check (in
`labutils.exercises.<lesson module>`), which prints exactly one of

- `TODO`: the answer is still `None` (not done yet: Run all goes on),
- `PASS`: the answer behaves as asked,
- `FAIL`: what is wrong and where to look, never the expected value itself.

No later cell of a lesson may depend on an exercise's answer, so an unfilled exercise never
stops Run all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from labutils.checks._report import CheckResult, Problem

__all__ = ["Problem", "TODO_MARK", "exercise"]

TODO_MARK = "⏳ TODO"
"""How an exercise that is not done yet is printed."""

NOT_DONE = ("not done yet: replace `# YOUR CODE HERE` with your code, then run this cell "
            "again (the rest of the lesson runs without it).")


def exercise(name: str, answer: Any, judge: Callable[[Any], str | None]) -> CheckResult:
    """Print TODO, PASS or FAIL for one exercise; `judge` raises Problem for a wrong answer.

    `judge(answer)` may return a short PASS message (else "looks right."). Any other exception
    raised while judging (the student's own code failing) becomes a FAIL line naming it.
    """
    if answer is None:
        print(f"{TODO_MARK} {name}: {NOT_DONE}")
        return CheckResult(name, "NOTE", NOT_DONE)
    try:
        message = judge(answer) or "looks right."
        result = CheckResult(name, "PASS", message)
    except Problem as problem:
        result = CheckResult(name, "FAIL", problem.message, problem.hint, problem.lines)
    except Exception as err:  # the student's code raised while the check used it
        result = CheckResult(
            name, "FAIL", f"your answer could not be used: {type(err).__name__}: {err}",
            "run your code in a cell of its own and fix the error it shows.")
    print(result.text())
    return result
