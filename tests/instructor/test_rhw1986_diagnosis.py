"""One diagnosis for the self-check and the grader: a replay that differs is named, in the
grader's row (Judgement.diagnosis), by exactly the message the training self-check prints, so
three different mistakes read as three different diagnoses, not as one "replay differs"."""

from __future__ import annotations

import io

import pytest
import torch
from torch import nn

from labutils.checks import Problem, evaluate_training
from labutils.instructor.assignments.rhw1986 import ASSIGNMENT
from labutils.instructor.grading.loading import load_data

KEYS = ("hidden.weight", "hidden.bias", "output.weight", "output.bias")
MISTAKES = {"mean": "the error is an average", "no_momentum": "no momentum",
            "pile_up": "gradients pile up"}


def student_run(mistake: str, sweeps: int = 60) -> dict[str, torch.Tensor]:
    """A student's float32 nn.Sequential training with one classic mistake (or none)."""
    torch.manual_seed(11)
    x = torch.tensor([[(i >> (5 - b)) & 1 for b in range(6)] for i in range(64)],
                     dtype=torch.float32)
    d = (x == x.flip(1)).all(1).float()[:, None]
    net = nn.Sequential(nn.Linear(6, 2), nn.Sigmoid(), nn.Linear(2, 1), nn.Sigmoid())
    with torch.no_grad():
        for p in net.parameters():
            p.uniform_(-0.3, 0.3)
    names = dict(zip(KEYS, ("0.weight", "0.bias", "2.weight", "2.bias"), strict=True))
    data = {f"initial/{k}": net.state_dict()[n].double().clone() for k, n in names.items()}
    opt = torch.optim.SGD(net.parameters(), lr=0.1,
                          momentum=0.0 if mistake == "no_momentum" else 0.9)
    errors = []
    for _ in range(sweeps):
        if mistake != "pile_up":
            opt.zero_grad()
        squares = (net(x) - d) ** 2
        errors.append(0.5 * squares.sum().item())
        (0.5 * (squares.mean() if mistake == "mean" else squares.sum())).backward()
        opt.step()
    data.update({f"final/{k}": net.state_dict()[n].double().clone() for k, n in names.items()})
    data.update({"inputs": x.double(), "targets": d[:, 0].double(),
                 "errors": torch.tensor(errors, dtype=torch.float64),
                 "sweeps": torch.tensor(sweeps)})
    return data


def judged(data: dict[str, torch.Tensor]):
    buffer = io.BytesIO()
    torch.save(data, buffer)
    return ASSIGNMENT.judge(*load_data(buffer.getvalue(), spec=ASSIGNMENT.entries))


def self_check_message(data: dict[str, torch.Tensor]) -> str:
    initial = {k: data[f"initial/{k}"] for k in KEYS}
    with pytest.raises(Problem) as failed:
        evaluate_training(initial, data["errors"], int(data["sweeps"]))
    return failed.value.message


def test_three_mistakes_give_three_diagnoses_shared_with_the_self_check():
    found = {}
    for mistake, name in MISTAKES.items():
        data = student_run(mistake)
        judgement = judged(data)
        assert judgement.scores["replay"] == 0.0
        assert judgement.diagnosis == self_check_message(data)
        assert name in judgement.diagnosis, judgement.diagnosis
        assert ("diagnosis", judgement.diagnosis) not in judgement.rows  # the core adds it
        found[mistake] = judgement.diagnosis
    assert len(set(found.values())) == 3


def test_the_paper_rule_has_no_training_diagnosis():
    judgement = judged(student_run("none"))
    assert judgement.scores["replay"] == 1.0
    assert not any(name in judgement.diagnosis for name in MISTAKES.values())
