"""labutils.exercises.autograd: lesson 01's checks pass right answers, name typical mistakes,
say TODO for an unfilled answer, and never print the values the exercises ask for."""

import math

import pytest
import torch

from labutils.exercises import autograd
from labutils.exercises.autograd import check_chain_rule, check_descend, check_reset


def _printed(capsys, check, answer) -> str:
    check(answer)
    return capsys.readouterr().out


def _no_expected_values(out: str, values) -> None:
    for value in torch.as_tensor(values).ravel().tolist():
        for digits in (2, 3, 4):
            assert f"{value:.{digits}f}" not in out, (value, out)


def test_unfilled_answers_say_todo(capsys):
    for check in (check_chain_rule, check_reset, check_descend):
        assert "TODO" in _printed(capsys, check, None)


@pytest.mark.parametrize(("h_prime", "says"), [
    (lambda t: 2 * t * torch.cos(t ** 2), "PASS"),
    (lambda t: torch.cos(t ** 2), "outer function's derivative only"),
    (lambda t: t * torch.cos(t ** 2), "same factor everywhere (0.5)"),
    (lambda t: -2 * t * torch.cos(t ** 2), "same factor everywhere (-1)"),
    (lambda t: 2 * t * torch.sin(t ** 2), "differs from autograd's at"),
    (lambda t: 2 * t * math.cos(t ** 2), "use torch.sin, torch.cos"),
    (lambda t: 1.0, "tensor shaped like t"),
    (3.0, "not a function"),
])
def test_chain_rule(capsys, h_prime, says):
    out = _printed(capsys, check_chain_rule, h_prime)
    assert says in out and ("PASS" in out) == (says == "PASS")
    _no_expected_values(out, 2 * autograd.SLOPE_POINTS * torch.cos(autograd.SLOPE_POINTS ** 2))


def _reset_to_none(t):
    t.grad = None


def _zero_in_place(t):
    t.grad.zero_()


def _zero_if_any(t):
    if t.grad is not None:
        t.grad.zero_()


def _rebind(t):
    t = None  # noqa: F841 (the mistake under test)


def _grad_to_int(t):
    t.grad = 0


@pytest.mark.parametrize(("reset", "says"), [
    (_reset_to_none, "PASS"),
    (_zero_if_any, "PASS"),
    (_zero_in_place, "before the first backward() a tensor's .grad is None"),
    (_rebind, "still add up"),
    (_grad_to_int, "give .grad a tensor or None"),
])
def test_reset(capsys, reset, says):
    out = _printed(capsys, check_reset, reset)
    assert says in out and ("PASS" in out) == (says == "PASS")
    _no_expected_values(out, [3 * v ** 2 for v in (0.5, -1.5, 2.0, 1.0)])


def _descend(reset=True, no_grad=True, sign=-1, one_step=False, rebind=False):
    def descend(w, lr, steps):
        for _ in range(1 if one_step else steps):
            if reset:
                w.grad = None
            (w ** 2).sum().backward()
            if rebind:
                with torch.no_grad():
                    w = w + sign * lr * w.grad
            elif no_grad:
                with torch.no_grad():
                    w += sign * lr * w.grad
            else:
                w += sign * lr * w.grad
    return descend


@pytest.mark.parametrize(("settings", "says"), [
    ({}, "PASS"),
    ({"reset": False}, "gradients that add up"),
    ({"no_grad": False}, "torch.no_grad()"),
    ({"sign": 1}, "moved uphill"),
    ({"one_step": True}, "as after one step"),
    ({"rebind": True}, "no longer requires a gradient"),
])
def test_descend(capsys, settings, says):
    out = _printed(capsys, check_descend, _descend(**settings))
    assert says in out and ("PASS" in out) == (says == "PASS")
    start = torch.tensor([1.5, -2.0, 0.5], dtype=torch.float64)
    _no_expected_values(out, start * 0.8 ** 4)


def test_a_failing_student_function_is_a_fail_line_not_an_exception(capsys):
    def broken(t):
        raise KeyError("oops")

    for check in (check_chain_rule, check_reset, check_descend):
        assert "FAIL" in _printed(capsys, check, broken)
