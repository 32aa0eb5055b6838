"""labutils.exercises.optimizers: lesson 02's checks pass right answers, name typical mistakes,
say TODO for an unfilled answer, and never print the values the exercises ask for."""

import pytest
import torch
from torch import nn

from labutils.exercises import optimizers
from labutils.exercises.optimizers import check_momentum_step, check_train_scheduled


def _momentum(order="velocity first", damped=False, in_place=True, no_grad=True, sign=-1):
    def momentum_step(p, velocity, lr, mu):
        g = (1 - mu) * p.grad if damped else p.grad
        with torch.set_grad_enabled(not no_grad):
            if order == "p first":
                p += sign * lr * velocity
            if in_place:
                velocity.mul_(mu).add_(g)
            else:
                velocity = mu * velocity + g
            if order != "p first":
                p += sign * lr * velocity
    return momentum_step


@pytest.mark.parametrize(("settings", "says"), [
    ({}, "PASS"),
    ({"order": "p first"}, "previous step's velocity"),
    ({"damped": True}, "scaled the gradient by (1 - mu)"),
    ({"in_place": False}, "plain SGD steps"),
    ({"no_grad": False}, "torch.no_grad()"),
    ({"sign": 1}, "moved uphill"),
])
def test_momentum_step(capsys, settings, says):
    check_momentum_step(_momentum(**settings))
    out = capsys.readouterr().out
    assert says in out and ("PASS" in out) == (says == "PASS")
    for lr, mu, steps in ((0.05, 0.9, 6), (0.02, 0.5, 9)):
        for value in optimizers._momentum_reference(lr, mu, steps).tolist():
            assert f"{value:.3f}" not in out


def test_momentum_reference_is_torch_sgd():
    p = optimizers.START.clone().requires_grad_()
    sgd = torch.optim.SGD([p], lr=0.05, momentum=0.9)
    for _ in range(6):
        sgd.zero_grad()
        optimizers._loss(p).backward()
        sgd.step()
    assert torch.allclose(p.detach(), optimizers._momentum_reference(0.05, 0.9, 6))


@pytest.fixture(scope="module")
def data():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(64, 3, generator=generator)
    return x, x @ torch.tensor([[2.0], [-1.0], [0.5]]) + 0.3


def _scheduled(data, order="optimizer first", gamma=0.5, step_size=10, record_after=False,
               zero=True):
    x, y = data

    def train_scheduled(net, steps):
        optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=gamma)
        rates = []
        for _ in range(steps):
            if not record_after:
                rates.append(optimizer.param_groups[0]["lr"])
            if zero:
                optimizer.zero_grad()
            nn.MSELoss()(net(x), y).backward()
            if order == "scheduler first":
                scheduler.step()
            if order != "no optimizer step":
                optimizer.step()
            if order == "optimizer first":
                scheduler.step()
            if record_after:
                rates.append(optimizer.param_groups[0]["lr"])
        return rates
    return train_scheduled


@pytest.mark.parametrize(("settings", "says"), [
    ({}, "PASS"),
    ({"order": "scheduler first"}, "scheduler stepped before the optimizer"),
    ({"order": "no scheduler step"}, "a scheduler acts only when its step() is called"),
    ({"order": "no optimizer step"}, "net did not change"),
    ({"gamma": 2.0}, "first changes after 10 steps, multiplied by 2"),
    ({"step_size": 5}, "first changes after 5 steps"),
    ({"record_after": True}, "first changes after 9 steps"),
    ({"zero": False}, "weights differ from SGD"),
])
def test_train_scheduled(capsys, data, settings, says):
    check_train_scheduled(_scheduled(data, **settings), *data)
    out = capsys.readouterr().out
    assert says in out and ("PASS" in out) == (says == "PASS")
    assert "0.05" not in out and "0.025" not in out


def test_unfilled_answers_say_todo(capsys, data):
    check_momentum_step(None)
    check_train_scheduled(None, *data)
    out = capsys.readouterr().out
    assert out.count("TODO") == 2 and "FAIL" not in out
