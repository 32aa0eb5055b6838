"""labutils.exercises.linear_regression: each check passes the solution and names each mistake."""

import torch

from labutils.data import load_regression_data
from labutils.exercises.linear_regression import check_mse, check_normal_equations, check_sgd_step


def _data():
    X, y = load_regression_data()
    return torch.cat([X, torch.ones(len(X), 1)], dim=1), y


def test_normal_equations(capsys):
    A, y = _data()
    assert check_normal_equations(None, A, y) is None
    assert "TODO Exercise 3.1" in capsys.readouterr().out
    check_normal_equations(torch.linalg.solve(A.T @ A, A.T @ y), A, y)
    assert "PASS Exercise 3.1" in capsys.readouterr().out
    cases = {
        "one row per column": torch.linalg.solve(A[:, :-1].T @ A[:, :-1], A[:, :-1].T @ y),
        "above the least-squares MSE": torch.zeros(A.shape[1], 1),
        "not a tensor": [0.5] * A.shape[1],
    }
    for expected, theta in cases.items():
        check_normal_equations(theta, A, y)
        out = capsys.readouterr().out
        assert "FAIL Exercise 3.1" in out and expected in out, (expected, out)


def _good_mse(predictions, targets):
    return ((predictions - targets) ** 2).mean()


def test_mse(capsys):
    check_mse(None)
    assert "TODO" in capsys.readouterr().out
    check_mse(_good_mse)
    assert "PASS Exercise 3.2" in capsys.readouterr().out
    cases = {
        "a sum, not a mean": lambda p, t: ((p - t) ** 2).sum(),
        "square root": lambda p, t: ((p - t) ** 2).mean().sqrt(),
        "not one number": lambda p, t: (p - t) ** 2,
        "differs from the mean": lambda p, t: (p - t).abs().mean(),
        "not a function": 0.5,
    }
    for expected, mse in cases.items():
        check_mse(mse)
        out = capsys.readouterr().out
        assert "FAIL Exercise 3.2" in out and expected in out, (expected, out)


def _good_step(parameters, lr):
    with torch.no_grad():
        for parameter in parameters:
            parameter -= lr * parameter.grad


def test_sgd_step(capsys):
    check_sgd_step(_good_step)
    assert "PASS Exercise 3.3" in capsys.readouterr().out

    def rebinding(parameters, lr):
        for parameter in parameters:
            parameter = parameter - lr * parameter.grad  # noqa: PLW2901

    def uphill(parameters, lr):
        _good_step(parameters, -lr)

    def double(parameters, lr):
        _good_step(parameters, 2 * lr)

    def no_grad_missing(parameters, lr):
        for parameter in parameters:
            parameter -= lr * parameter.grad

    def weights_only(parameters, lr):
        _good_step(parameters[:1], lr)

    cases = {"did not change": rebinding, "uphill": uphill, "2 times the size": double,
             "torch.no_grad()": no_grad_missing, "not by -lr times": weights_only}
    for expected, step in cases.items():
        check_sgd_step(step)
        out = capsys.readouterr().out
        assert "FAIL Exercise 3.3" in out and expected in out, (expected, out)


def test_checks_leave_the_global_random_state_alone(capsys):
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    check_sgd_step(_good_step)
    check_mse(_good_mse)
    assert torch.equal(torch.rand(3), expected)
