"""How a self-check talks to the student: one result, printed as a PASS, NOTE or FAIL line.

A wrong or missing answer never raises: the student reads what to look at, not a traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

MARKS = {"PASS": "✅ PASS", "NOTE": "ℹ️ NOTE", "FAIL": "❌ FAIL"}
"""How each status is printed. NOTE: nothing is wrong with the code, but there is something
to look at (e.g. a run that did not learn the task)."""


@dataclass
class CheckResult:
    """The outcome of one check: a status, a one-line message, details, and a hint."""

    name: str
    status: str
    message: str
    hint: str = ""
    lines: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True unless the check found a mistake (a NOTE is not a mistake)."""
        return self.status != "FAIL"

    def text(self) -> str:
        """The printed form: the status line, detail lines, then the hint."""
        out = [f"{MARKS[self.status]} {self.name}: {self.message}"]
        out += [f"    {line}" for line in self.lines]
        if self.hint:
            out.append(f"    Hint: {self.hint}")
        return "\n".join(out)


class Problem(Exception):
    """A mistake found by a check: what is wrong, and a hint that does not give the answer."""

    def __init__(self, message: str, hint: str = "", lines: list[str] | None = None) -> None:
        super().__init__(message)
        self.message, self.hint, self.lines = message, hint, lines or []


RESULTS: dict[str, CheckResult] = {}
"""The latest result of each check in this kernel (feedback only: the grader judges the
notebook's data itself)."""


def run_check(
    name: str,
    namespace: Mapping,
    reads: tuple[str, ...],
    evaluate: Callable[..., CheckResult],
) -> CheckResult:
    """Look up the names a check reads, evaluate, print; any exception becomes a FAIL line."""
    missing = [n for n in reads if n not in namespace]
    if missing:
        result = CheckResult(
            name, "FAIL", ", ".join(f"`{n}`" for n in missing) + " not defined yet.",
            "run the cells above this check, in order, first; this check reads "
            + ", ".join(f"`{n}`" for n in reads) + ".",
        )
    else:
        try:
            result = evaluate(*(namespace[n] for n in reads))
        except Problem as problem:
            result = CheckResult(name, "FAIL", problem.message, problem.hint, problem.lines)
        except NotImplementedError:
            result = CheckResult(
                name, "FAIL", "your code above is not filled in yet (NotImplementedError).",
                "replace each `# YOUR CODE HERE` and the `raise NotImplementedError()` under it "
                "with your code.",
            )
        except Exception as err:  # the student's code raised while the check used it
            result = CheckResult(
                name, "FAIL", f"the check could not use your objects: {type(err).__name__}: {err}",
                "run your own code in a cell of its own first and fix the error it shows.",
            )
    RESULTS[name] = result
    print(result.text())
    return result
