"""The checks of lesson 03's exercises (linear regression): the normal equations, the mean
squared error, one SGD step written by hand.

Each check prints one TODO, PASS or FAIL line (labutils.exercises.exercise). A FAIL says what is
wrong and which section to re-read; it never prints the values the exercise asks for.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from labutils.exercises import Problem, exercise


def _judge_normal_equations(theta, A: torch.Tensor, y: torch.Tensor) -> str:
    if not isinstance(theta, torch.Tensor):
        raise Problem(f"`normal_theta` is a {type(theta).__name__}, not a tensor.",
                      "torch.linalg.solve(M, b) returns the tensor theta that solves M theta = b.")
    if tuple(theta.shape) != (A.shape[1], 1):
        raise Problem(f"`normal_theta` has shape {tuple(theta.shape)}; it needs one row per "
                      "column of A and one column.",
                      "solve with the matrix A.T @ A and the right-hand side A.T @ y (section 2).")
    theta = theta.detach().double()
    A, y = A.double(), y.double()
    best = torch.linalg.lstsq(A, y).solution
    gap = ((A @ theta - y) ** 2).mean() - ((A @ best - y) ** 2).mean()
    if gap <= 1e-4:
        return "its MSE equals the least-squares MSE: both solve the same problem."
    raise Problem(f"its MSE is {gap.item():.3g} above the least-squares MSE, so it does not "
                  "solve the normal equations.",
                  "the matrix is A.T @ A, the right-hand side A.T @ y (both sides multiplied by "
                  "A.T, section 2); A includes the column of ones.")


def check_normal_equations(normal_theta, A: torch.Tensor, y: torch.Tensor) -> None:
    """Exercise 3.1: theta from the normal equations, judged by its MSE against lstsq's."""
    exercise("Exercise 3.1 (normal equations)", normal_theta,
             lambda theta: _judge_normal_equations(theta, A, y))


def _mse_cases() -> list[tuple[torch.Tensor, torch.Tensor]]:
    generator = torch.Generator().manual_seed(3)
    return [(torch.randn(n, 1, generator=generator), torch.randn(n, 1, generator=generator))
            for n in (5, 64, 1)]


def _judge_mse(mse: Callable) -> str:
    if not callable(mse):
        raise Problem(f"`mse` is a {type(mse).__name__}, not a function.",
                      "define it with `def mse(predictions, targets):`.")
    for predictions, targets in _mse_cases():
        found = mse(predictions.clone(), targets.clone())
        if isinstance(found, torch.Tensor):
            if found.numel() != 1:
                raise Problem(f"`mse` returned a tensor of shape {tuple(found.shape)}, not one "
                              "number.", "average the squared differences over all examples.")
            found = found.item()
        wanted = nn.functional.mse_loss(predictions, targets).item()
        n = len(targets)
        if abs(found - wanted) <= 1e-6 * max(1.0, abs(wanted)):
            continue
        if n > 1 and abs(found - wanted * n) <= 1e-5 * max(1.0, abs(wanted * n)):
            raise Problem(f"for {n} examples your value is {n} times too large: a sum, not a "
                          "mean.", "divide by the number of examples, e.g. with .mean().")
        root = wanted ** 0.5
        if abs(found - root) <= 1e-6 * max(1.0, root):
            raise Problem("your value is the square root of the mean squared error.",
                          "the MSE is the mean of the squares, with no root (section 2).")
        raise Problem(f"on {n} random examples your value differs from the mean of the "
                      "squared differences.",
                      "square the differences predictions - targets first, then average them "
                      "(section 2's formula).")
    return "it agrees with nn.MSELoss on 3 random batches."


def check_mse(mse) -> None:
    """Exercise 3.2: `mse(predictions, targets)` against nn.functional.mse_loss."""
    exercise("Exercise 3.2 (mean squared error)", mse, _judge_mse)


def _model_with_gradients() -> tuple[nn.Linear, list[torch.Tensor]]:
    with torch.random.fork_rng(devices=[]):  # the lesson's random numbers stay as they were
        torch.manual_seed(7)
        model = nn.Linear(3, 1)
        x, y = torch.randn(8, 3), torch.randn(8, 1)
    nn.functional.mse_loss(model(x), y).backward()
    return model, [p.detach().clone() for p in model.parameters()]


def _judge_sgd_step(sgd_step: Callable, lr: float = 0.1) -> str:
    if not callable(sgd_step):
        raise Problem(f"`sgd_step` is a {type(sgd_step).__name__}, not a function.",
                      "define it with `def sgd_step(parameters, lr):`.")
    model, before = _model_with_gradients()
    grads = [p.grad.clone() for p in model.parameters()]
    reference = [b - lr * g for b, g in zip(before, grads, strict=True)]
    try:
        sgd_step(list(model.parameters()), lr)
    except RuntimeError as err:
        if "in-place" not in str(err):
            raise
        raise Problem("PyTorch refused to change a parameter in place while recording "
                      "gradients.", "do the update inside `with torch.no_grad():` "
                      "(lesson 01).") from err
    after = [p.detach() for p in model.parameters()]
    if all(torch.allclose(a, r, atol=1e-7) for a, r in zip(after, reference, strict=True)):
        return "each parameter moved by -lr times its gradient, as optim.SGD moves it."
    moved = [a - b for a, b in zip(after, before, strict=True)]
    if all(torch.equal(m, torch.zeros_like(m)) for m in moved):
        raise Problem("the parameters did not change.",
                      "update them in place (`parameter -= ...` under torch.no_grad()); "
                      "`parameter = parameter - ...` only rebinds a local name.")
    flat_moved = torch.cat([m.ravel() for m in moved])
    flat_step = torch.cat([(-lr * g).ravel() for g in grads])
    if torch.allclose(flat_moved, -flat_step, atol=1e-7):
        raise Problem("every parameter moved uphill: along +gradient.",
                      "a descent step subtracts the gradient (section 5's loop, lesson 02).")
    ratio = (flat_moved @ flat_step / (flat_step @ flat_step)).item()
    if torch.allclose(flat_moved, ratio * flat_step, atol=1e-6):
        raise Problem(f"the step points the right way but is {ratio:.3g} times the size "
                      "optim.SGD takes.", "multiply each gradient by lr, once.")
    raise Problem("the parameters moved, but not by -lr times their gradients.",
                  "loop over the parameters and subtract lr * parameter.grad from each.")


def check_sgd_step(sgd_step) -> None:
    """Exercise 3.3: `sgd_step(parameters, lr)` against what torch.optim.SGD does."""
    exercise("Exercise 3.3 (one SGD step by hand)", sgd_step, _judge_sgd_step)
