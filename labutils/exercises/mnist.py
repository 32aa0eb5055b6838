"""The checks of lesson 04's exercises (MNIST): count a network's parameters, the accuracy of a
batch of scores, one training step. None of them trains on MNIST: each costs milliseconds.

Each check prints one TODO, PASS or FAIL line (labutils.exercises.exercise). A FAIL says what is
wrong and which section to re-read; it never prints the values the exercise asks for.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from labutils.exercises import Problem, exercise

WIDE_LAYERS = (784, 128, 64, 10)
"""The widened network of exercise 4.1: inputs, two hidden layers, outputs."""


def _judge_parameter_count(count, layers: tuple[int, ...] = WIDE_LAYERS) -> str:
    if isinstance(count, torch.Tensor) and count.numel() == 1:
        count = count.item()
    if isinstance(count, float) and count.is_integer():
        count = int(count)
    if isinstance(count, bool) or not isinstance(count, int):
        raise Problem(f"`wide_parameters` is a {type(count).__name__}, not a whole number.",
                      "add up the sizes of the weight matrices and bias vectors.")
    pairs = list(zip(layers[:-1], layers[1:], strict=True))
    weights = sum(a * b for a, b in pairs)
    biases = sum(b for _, b in pairs)
    if count == weights + biases:
        return "weights and biases of all three layers are counted."
    if count == weights:
        raise Problem("you counted the weights but not the biases.",
                      "each nn.Linear(a, b) also holds b biases (section 4).")
    if count == biases:
        raise Problem("you counted the biases only.",
                      "each nn.Linear(a, b) holds an a x b weight matrix too (section 4).")
    if count == weights + biases - layers[0] * layers[1] - layers[1]:
        raise Problem("the first layer (from the 784 pixels) is missing.",
                      "count all three nn.Linear layers of the widened network.")
    raise Problem("that is not the number of parameters of a 784-128-64-10 network.",
                  "for each nn.Linear(a, b), count a x b weights plus b biases, then add "
                  "the three layers; check it on the lesson's own network first.")


def check_parameter_count(wide_parameters) -> None:
    """Exercise 4.1: the parameter count of a 784-128-64-10 MLP, worked out by hand."""
    exercise("Exercise 4.1 (count parameters)", wide_parameters, _judge_parameter_count)


def _score_cases() -> list[tuple[torch.Tensor, torch.Tensor]]:
    generator = torch.Generator().manual_seed(4)
    cases = []
    for n in (10, 7, 300):
        scores = torch.randn(n, 10, generator=generator)
        labels = torch.randint(0, 10, (n,), generator=generator)
        labels[: n // 2] = scores[: n // 2].argmax(dim=1)  # about half of them right
        cases.append((scores, labels))
    return cases


def _as_number(value) -> float:
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise Problem(f"`batch_accuracy` returned a tensor of shape {tuple(value.shape)}, "
                          "not one number.", "average the correct answers over the batch.")
        return float(value.item())
    return float(value)


def _judge_batch_accuracy(batch_accuracy: Callable) -> str:
    if not callable(batch_accuracy):
        raise Problem(f"`batch_accuracy` is a {type(batch_accuracy).__name__}, not a function.",
                      "define it with `def batch_accuracy(scores, labels):`.")
    for scores, labels in _score_cases():
        found = _as_number(batch_accuracy(scores.clone(), labels.clone()))
        right = (scores.argmax(dim=1) == labels).sum().item()
        if abs(found - right / len(labels)) <= 1e-6:
            continue
        if abs(found - right) <= 1e-6:
            raise Problem("you return the number of correct answers, not the fraction.",
                          "divide by the number of images in the batch.")
        if len(labels) == 10:
            by_column = (scores.argmax(dim=0) == labels).float().mean().item()
            if abs(found - by_column) <= 1e-6:
                raise Problem("your predictions take the highest score over the batch, not "
                              "over the ten digits.", "use argmax(dim=1): one prediction per "
                              "row (section 6).")
        raise Problem(f"on a batch of {len(labels)} random scores your accuracy is wrong.",
                      "the prediction is the digit with the highest score, argmax(dim=1); "
                      "compare it with the labels and average (section 6).")
    return "it agrees with the definition on 3 random batches."


def check_batch_accuracy(batch_accuracy) -> None:
    """Exercise 4.2: `batch_accuracy(scores, labels)` on random scores."""
    exercise("Exercise 4.2 (accuracy of a batch)", batch_accuracy, _judge_batch_accuracy)


def _tiny_setup(seed: int = 5):
    with torch.random.fork_rng(devices=[]):  # the lesson's random numbers stay as they were
        torch.manual_seed(seed)
        model = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    generator = torch.Generator().manual_seed(seed)
    batches = [(torch.randn(4, 6, generator=generator),
                torch.randint(0, 3, (4,), generator=generator)) for _ in range(3)]
    return model, optimizer, batches


def _reference_steps() -> list[torch.Tensor]:
    model, optimizer, batches = _tiny_setup()
    loss_fn = nn.CrossEntropyLoss()
    for images, labels in batches:
        optimizer.zero_grad()
        loss_fn(model(images), labels).backward()
        optimizer.step()
    return [p.detach().clone() for p in model.parameters()]


def _judge_train_step(train_step: Callable) -> str:
    if not callable(train_step):
        raise Problem(f"`train_step` is a {type(train_step).__name__}, not a function.",
                      "define it with `def train_step(model, images, labels, optimizer, "
                      "loss_fn):`.")
    model, optimizer, batches = _tiny_setup()
    start = [p.detach().clone() for p in model.parameters()]
    loss_fn = nn.CrossEntropyLoss()
    returned = [train_step(model, images, labels, optimizer, loss_fn)
                for images, labels in batches]
    after = [p.detach() for p in model.parameters()]
    if all(torch.equal(a, s) for a, s in zip(after, start, strict=True)):
        raise Problem("three calls left the model's weights unchanged.",
                      "after loss.backward() the optimizer must take its step (section 7).")
    wanted = _reference_steps()
    if not all(torch.allclose(a, w, atol=1e-6) for a, w in zip(after, wanted, strict=True)):
        raise Problem("after three calls the weights differ from three steps of the loop.",
                      "gradients add up across calls unless optimizer.zero_grad() comes first; "
                      "the order is zero_grad, forward, loss, backward, step (section 7).")
    if not all(isinstance(value, (float, torch.Tensor)) for value in returned):
        raise Problem("the weights are right, but `train_step` should return the batch's loss.",
                      "return loss.item(), a plain number, as the loop keeps it.")
    return "three calls train exactly like three steps of the loop."


def check_train_step(train_step) -> None:
    """Exercise 4.3: `train_step(model, images, labels, optimizer, loss_fn)` on a tiny model."""
    exercise("Exercise 4.3 (one training step)", train_step, _judge_train_step)
