"""The checks of lesson 02's exercises (optimizers): a momentum step by hand, a training loop
with a learning-rate scheduler.

Each check prints one TODO, PASS or FAIL line (labutils.exercises.exercise), compares the
student's code with `torch.optim` doing the same job, and never prints the values it expects.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch
from torch import nn

from labutils.exercises import Problem, exercise
from labutils.exercises._compare import close

START = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
TARGET = torch.tensor([0.3, 0.8, -1.2], dtype=torch.float64)
SCALE = torch.tensor([1.0, 4.0, 0.25], dtype=torch.float64)


def _loss(p: torch.Tensor) -> torch.Tensor:
    return (SCALE * (p - TARGET) ** 2).sum()


def _momentum_reference(lr: float, mu: float, steps: int, variant: str = "pytorch"
                        ) -> torch.Tensor:
    """Where `steps` momentum steps lead: PyTorch's rule, or a classic mistake's."""
    p, velocity = START.clone(), torch.zeros_like(START)
    for _ in range(steps):
        g = 2 * SCALE * (p - TARGET)
        if variant == "update p first":
            p = p - lr * velocity
        if variant == "no memory":
            velocity = g
        elif variant == "damped":
            velocity = mu * velocity + (1 - mu) * g
        else:
            velocity = mu * velocity + g
        if variant != "update p first":
            p = p - lr * velocity
    return p


def _run_momentum(momentum_step: Callable, lr: float, mu: float, steps: int
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    p, velocity = START.clone().requires_grad_(), torch.zeros_like(START)
    for _ in range(steps):
        p.grad = None
        _loss(p).backward()
        try:
            momentum_step(p, velocity, lr, mu)
        except RuntimeError as err:
            if "leaf Variable" not in str(err):
                raise
            raise Problem("autograd refuses to change the tracked parameter p in place.",
                          "update p inside `with torch.no_grad():` (section 2).") from err
    return p.detach(), velocity


def _judge_momentum(momentum_step: Callable) -> str:
    if not callable(momentum_step):
        raise Problem(f"`momentum_step` is a {type(momentum_step).__name__}, not a function.",
                      "define it with `def momentum_step(p, velocity, lr, mu):`.")
    for lr, mu, steps in ((0.05, 0.9, 6), (0.02, 0.5, 9)):
        found, velocity = _run_momentum(momentum_step, lr, mu, steps)
        if close(found, _momentum_reference(lr, mu, steps)):
            continue
        if close(found, START):
            raise Problem("p did not change.", "change the tensor p itself in place (`-=`) "
                          "under torch.no_grad(); a new tensor named p is lost on return.")
        if not velocity.any() or close(found, _momentum_reference(lr, mu, steps, "no memory")):
            raise Problem("your steps are plain SGD steps: the velocity does not carry over "
                          "from one call to the next.", "update the tensor `velocity` in place "
                          "(a method ending in `_`, or `velocity[:] = ...`), as the table's "
                          "rule says.")
        for variant, hint in (
            ("update p first", "p moved with the previous step's velocity: update the velocity "
                               "first, then move p with the new one (the table's order)."),
            ("damped", "you scaled the gradient by (1 - mu): in PyTorch's rule the velocity "
                       "adds the gradient itself (the table, row `SGD(lr, momentum=μ)`)."),
        ):
            if close(found, _momentum_reference(lr, mu, steps, variant)):
                raise Problem(f"after {steps} steps with mu={mu}, p differs from "
                              "torch.optim.SGD(momentum=mu).", hint)
        if _loss(found) > _loss(START):
            raise Problem("the loss grew: p moved uphill.", "a step subtracts lr times the "
                          "velocity (the table's rule).")
        raise Problem(f"after {steps} steps with lr={lr} and mu={mu}, p differs from "
                      "torch.optim.SGD(momentum=mu).", "compare your two lines with the "
                      "table's rule, term by term, signs included.")
    return "your steps follow torch.optim.SGD with momentum, for two settings."


def check_momentum_step(momentum_step: Callable | None) -> None:
    """Exercise 2.1: `momentum_step(p, velocity, lr, mu)` against torch.optim.SGD(momentum)."""
    exercise("Exercise 2.1 (momentum by hand)", momentum_step, _judge_momentum)


STEPS, LR, STEP_SIZE, GAMMA = 25, 0.1, 10, 0.5
"""Exercise 2.2's schedule, as its task states it: SGD(lr=0.1), halved every 10 steps."""


def _reference_training(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> list[float]:
    optimizer = torch.optim.SGD(net.parameters(), lr=LR)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=STEP_SIZE, gamma=GAMMA)
    rates = []
    for _ in range(STEPS):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.zero_grad()
        nn.functional.mse_loss(net(x), y).backward()
        optimizer.step()
        scheduler.step()
    return rates


def _describe(rates: list[float]) -> str:
    changes = [k for k in range(1, len(rates)) if rates[k] != rates[k - 1]]
    if not changes:
        return "your rate never changes: a scheduler acts only when its step() is called"
    first = changes[0]
    return (f"your rate first changes after {first} steps, multiplied by "
            f"{rates[first] / rates[first - 1]:.3g}")


def _judge_scheduled(answer: tuple[Callable, torch.Tensor, torch.Tensor]) -> str:
    train_scheduled, x, y = answer
    if not callable(train_scheduled):
        raise Problem(f"`train_scheduled` is a {type(train_scheduled).__name__}, not a "
                      "function.", "define it with `def train_scheduled(net, steps):`.")
    torch.manual_seed(7)
    net, reference = nn.Linear(x.shape[1], y.shape[1]), nn.Linear(x.shape[1], y.shape[1])
    reference.load_state_dict(net.state_dict())
    initial = _flat(reference)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rates = train_scheduled(net, STEPS)
    wanted = _reference_training(reference, x, y)
    if close(_flat(net), initial):
        raise Problem("net did not change: nothing trained it.", "each step needs "
                      "optimizer.step() (section 4), with the optimizer built on "
                      "net.parameters().")
    if any("before `optimizer.step()`" in str(w.message) for w in caught):
        raise Problem("PyTorch warned that the scheduler stepped before the optimizer did.",
                      "in each step call optimizer.step() first, then scheduler.step() "
                      "(section 6).")
    if not isinstance(rates, list | tuple) or len(rates) != STEPS:
        raise Problem(f"`train_scheduled(net, {STEPS})` must return a list of {STEPS} "
                      "learning rates, one per step.", "append the rate in use to a list "
                      "before each step, as `lr_trace` does.")
    if not close(torch.tensor(rates, dtype=torch.float64), torch.tensor(wanted)):
        raise Problem(f"{_describe(list(rates))}, which is not the schedule asked for.",
                      "check the scheduler's step_size and gamma, and that you read the rate "
                      "before stepping the scheduler (section 6).")
    if close(_flat(net), _flat(reference)):
        return f"the rates and the trained weights match a scheduled SGD run of {STEPS} steps."
    raise Problem("the rates are right, but net's weights differ from SGD trained with them.",
                  "each step: zero_grad(), the loss of net on (x, y), backward(), "
                  "optimizer.step() (section 4), for the optimizer the scheduler was built on.")


def _flat(net: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().ravel() for p in net.parameters()])


def check_train_scheduled(train_scheduled: Callable | None, x: torch.Tensor,
                          y: torch.Tensor) -> None:
    """Exercise 2.2: `train_scheduled(net, steps)`, SGD with a StepLR schedule on (x, y)."""
    answer = None if train_scheduled is None else (train_scheduled, x, y)
    exercise("Exercise 2.2 (a scheduler in the loop)", answer, _judge_scheduled)
