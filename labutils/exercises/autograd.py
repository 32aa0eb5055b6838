"""The checks of lesson 01's exercises (autograd): a derivative by hand, a gradient reset, a
gradient-descent step under `torch.no_grad()`.

Each check prints one TODO, PASS or FAIL line (labutils.exercises.exercise). A FAIL says what is
wrong and which section to re-read; it never prints the values the exercise asks for.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from labutils.exercises import Problem, exercise
from labutils.exercises._compare import close, same_everywhere_ratio

SLOPE_POINTS = torch.tensor([-1.7, -0.9, -0.3, 0.4, 0.8, 1.3, 2.1], dtype=torch.float64)
"""Where the derivative of h(t) = sin(t ** 2) is compared with autograd."""


def _autograd_h_prime(points: torch.Tensor) -> torch.Tensor:
    t = points.clone().requires_grad_()
    torch.sin(t ** 2).sum().backward()
    return t.grad


def _judge_h_prime(h_prime: Callable) -> str:
    if not callable(h_prime):
        raise Problem(f"`h_prime` is a {type(h_prime).__name__}, not a function.",
                      "define it with `def h_prime(t):` and return the derivative at t.")
    try:
        found = h_prime(SLOPE_POINTS.clone())
    except (TypeError, ValueError) as err:
        raise Problem(f"`h_prime` fails on a tensor of points: {err}.",
                      "use torch.sin, torch.cos and tensor arithmetic (the math module works "
                      "on single floats only).") from err
    if not isinstance(found, torch.Tensor) or found.shape != SLOPE_POINTS.shape:
        raise Problem("`h_prime(t)` must return a tensor shaped like t (one slope per point).",
                      "compute with tensor operations on t, as in section 4, and return that.")
    found = found.detach().to(torch.float64)
    wanted = _autograd_h_prime(SLOPE_POINTS)
    if close(found, wanted):
        return f"your derivative matches autograd at all {len(SLOPE_POINTS)} test points."
    if close(found, torch.cos(SLOPE_POINTS ** 2)):
        raise Problem("your formula is the outer function's derivative only.",
                      "the chain rule (section 4) also multiplies by the derivative of the "
                      "inner function t ** 2.")
    ratio = same_everywhere_ratio(found, wanted)
    if ratio is not None:
        raise Problem(f"your slopes are autograd's times the same factor everywhere ({ratio:g}).",
                      "check the constant factor and the sign of each derivative you used.")
    wrong = int((~torch.isclose(found, wanted, rtol=1e-6, atol=1e-9)).sum())
    raise Problem(f"your derivative differs from autograd's at {wrong} of {len(found)} points.",
                  "write h as outer(inner(t)) and multiply outer' (at the inner value) by "
                  "inner' (section 4).")


def check_chain_rule(h_prime: Callable | None) -> None:
    """Exercise 1.1: `h_prime(t)`, the derivative of sin(t ** 2) by hand, against autograd."""
    exercise("Exercise 1.1 (derivative by hand)", h_prime, _judge_h_prime)


def slopes_with(reset: Callable, values: list[float]) -> list[float]:
    """The slope of t ** 3 at each value, with one tracked tensor moved from value to value."""
    t = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    found = []
    for value in values:
        with torch.no_grad():
            t.fill_(value)
        reset(t)
        (t ** 3).backward()
        found.append(t.grad.item())
    return found


def _judge_reset(reset: Callable) -> str:
    if not callable(reset):
        raise Problem(f"`reset` is a {type(reset).__name__}, not a function.",
                      "define it with `def reset(t):`.")
    values = [0.5, -1.5, 2.0, 1.0]
    try:
        found = slopes_with(reset, values)
    except AttributeError as err:
        raise Problem(f"`reset` failed on the first point: {err}.",
                      "before the first backward() a tensor's .grad is None: your reset must "
                      "work then too (section 6 shows two ways to reset).") from err
    except (TypeError, RuntimeError) as err:
        raise Problem(f"after your reset, backward() or .grad failed: {err}.",
                      "a reset changes only t's gradient (section 6): keep t itself tracked, "
                      "and give .grad a tensor or None.") from err
    own = [3 * v ** 2 for v in values]
    if close(torch.tensor(found), torch.tensor(own)):
        return f"each of the {len(values)} slopes is its point's own."
    if close(torch.tensor(found), torch.tensor(own).cumsum(0)):
        raise Problem("the slopes still add up from point to point: your reset did not change "
                      "t's gradient.", "change `t.grad` itself (section 6); rebinding the name "
                      "t inside `reset` changes nothing outside it.")
    raise Problem("with your reset the slopes are not the points' own slopes.",
                  "reset only the gradient (section 6), not t's value.")


def check_reset(reset: Callable | None) -> None:
    """Exercise 1.2: `reset(t)` leaves no gradient from the previous point."""
    exercise("Exercise 1.2 (reset a gradient)", reset, _judge_reset)


def _descent_reference(start: torch.Tensor, lr: float, steps: int, *, add_up: bool = False
                       ) -> torch.Tensor:
    w, gradient = start.clone(), torch.zeros_like(start)
    for _ in range(steps):
        gradient = gradient + 2 * w if add_up else 2 * w
        w = w - lr * gradient
    return w


def _run_descend(descend: Callable, start: torch.Tensor, lr: float, steps: int) -> torch.Tensor:
    w = start.clone().requires_grad_()
    try:
        descend(w, lr, steps)
    except RuntimeError as err:
        if "leaf Variable" in str(err):
            raise Problem("your update is recorded by autograd, which refuses to change a "
                          "tracked leaf in place.", "do the update inside "
                          "`with torch.no_grad():` (section 7).") from err
        if "does not require grad" in str(err):
            raise Problem("after your first step w no longer requires a gradient.",
                          "change the tensor w in place (`-=`) instead of building a new "
                          "tensor (section 7).") from err
        raise
    except TypeError as err:
        raise Problem(f"your steps failed: {err}.", "after a step written `w = w - ...` the "
                      "name w holds a new computed tensor, which gets no .grad: change w in "
                      "place under torch.no_grad() (section 7).") from err
    if not (w.is_leaf and w.requires_grad):
        raise Problem("after `descend`, w is no longer a tracked leaf.",
                      "keep w as it is and only change its values in place (section 7).")
    return w.detach()


def _judge_descend(descend: Callable) -> str:
    if not callable(descend):
        raise Problem(f"`descend` is a {type(descend).__name__}, not a function.",
                      "define it with `def descend(w, lr, steps):`.")
    start = torch.tensor([1.5, -2.0, 0.5], dtype=torch.float64)
    for lr, steps in ((0.1, 4), (0.05, 7)):
        found = _run_descend(descend, start, lr, steps)
        if close(found, _descent_reference(start, lr, steps)):
            continue
        if close(found, start):
            raise Problem("w did not change.", "update the tensor w itself, in place with `-=`; "
                          "a new tensor named w is lost when the function returns.")
        if close(found, _descent_reference(start, lr, steps, add_up=True)):
            raise Problem("your steps use gradients that add up from step to step.",
                          "reset w's gradient before each backward() (section 6).")
        if close(found, _descent_reference(start, lr, 1)):
            raise Problem(f"w moved as after one step, but {steps} steps were asked.",
                          "loop `steps` times: loss, backward, update.")
        if (found ** 2).sum() > (start ** 2).sum():
            raise Problem("the loss grew: w moved uphill.",
                          "a descent step subtracts lr times the gradient (section 7).")
        raise Problem(f"after {steps} steps with lr={lr}, w is not where gradient descent "
                      "leads.", "each step needs a fresh loss, a reset gradient, backward(), "
                      "then the update under torch.no_grad() (sections 6 and 7).")
    return "w goes downhill in place, step after step, and stays a tracked leaf."


def check_descend(descend: Callable | None) -> None:
    """Exercise 1.3: `descend(w, lr, steps)`, gradient descent on (w ** 2).sum() in place."""
    exercise("Exercise 1.3 (update under no_grad)", descend, _judge_descend)
