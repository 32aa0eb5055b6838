"""labutils.exercises.mnist: each check passes the solution and names each mistake."""

import torch

from labutils.exercises.mnist import check_batch_accuracy, check_parameter_count, check_train_step


def test_parameter_count(capsys):
    check_parameter_count(None)
    assert "TODO Exercise 4.1" in capsys.readouterr().out
    weights = 784 * 128 + 128 * 64 + 64 * 10
    biases = 128 + 64 + 10
    check_parameter_count(weights + biases)
    out = capsys.readouterr().out
    assert "PASS Exercise 4.1" in out and str(weights + biases) not in out
    cases = {"not the biases": weights, "biases only": biases,
             "first layer": weights + biases - 784 * 128 - 128,
             "not the number": weights + biases + 1, "not a whole number": "109k"}
    for expected, count in cases.items():
        check_parameter_count(count)
        out = capsys.readouterr().out
        assert "FAIL Exercise 4.1" in out and expected in out, (expected, out)
        assert str(weights + biases) not in out


def test_batch_accuracy(capsys):
    check_batch_accuracy(lambda s, y: (s.argmax(dim=1) == y).float().mean())
    assert "PASS Exercise 4.2" in capsys.readouterr().out
    check_batch_accuracy(lambda s, y: (s.argmax(dim=1) == y).sum().item() / len(y))
    assert "PASS Exercise 4.2" in capsys.readouterr().out
    cases = {
        "number of correct answers": lambda s, y: (s.argmax(dim=1) == y).sum(),
        "over the batch": lambda s, y: (s.argmax(dim=0) == y).float().mean(),
        "not one number": lambda s, y: (s.argmax(dim=1) == y).float(),
        "accuracy is wrong": lambda s, y: (s.argmin(dim=1) == y).float().mean(),
    }
    for expected, function in cases.items():
        check_batch_accuracy(function)
        out = capsys.readouterr().out
        assert "FAIL Exercise 4.2" in out and expected in out, (expected, out)


def _step(model, images, labels, optimizer, loss_fn, zero=True, step=True, item=True):
    if zero:
        optimizer.zero_grad()
    loss = loss_fn(model(images), labels)
    loss.backward()
    if step:
        optimizer.step()
    return loss.item() if item else None


def test_train_step(capsys):
    check_train_step(_step)
    assert "PASS Exercise 4.3" in capsys.readouterr().out
    cases = {
        "unchanged": lambda *a: _step(*a, step=False),
        "zero_grad": lambda *a: _step(*a, zero=False),
        "return the batch's loss": lambda *a: _step(*a, item=False),
    }
    for expected, function in cases.items():
        check_train_step(function)
        out = capsys.readouterr().out
        assert "FAIL Exercise 4.3" in out and expected in out, (expected, out)
    assert torch.is_grad_enabled()


def test_checks_leave_the_global_random_state_alone(capsys):
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    check_train_step(_step)
    check_batch_accuracy(lambda s, y: (s.argmax(dim=1) == y).float().mean())
    assert torch.equal(torch.rand(3), expected)
