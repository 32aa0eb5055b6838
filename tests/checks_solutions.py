"""Student solutions for tests/test_checks.py, in two styles the model solution does not use
(raw tensors with hand-written momentum; nn.Sequential with torch.optim.SGD), each able to plant
a classic mistake, and `printed` (what a check prints).

Ships with the student tree: it uses only the student package.
"""

from __future__ import annotations

import io
from contextlib import redirect_stdout

import torch
import torch.nn.functional as F
from torch import nn

from labutils.checks._protocol import protocol

START, STEP, CARRY = protocol("start"), protocol("step"), protocol("carry")


def raw_tensor_solution(seed: int = 0, max_sweeps: int = 5000, bug: str | None = None) -> dict:
    """Raw tensors, hand-written momentum, inputs from bit shifts (least significant bit first),
    targets of shape (64,), E from F.mse_loss(reduction="sum"). `bug` plants a classic mistake."""
    torch.manual_seed(seed)
    numbers = torch.arange(64)
    inputs = torch.stack([(numbers >> k) & 1 for k in range(6)], dim=1).double()
    targets = (inputs[:, :3] == inputs[:, 3:].flip(1)).all(1).double()
    low, high = (0.0, 1.0) if bug == "init in [0, 1]" else (-START, START)
    W1 = torch.empty(6, 2, dtype=torch.float64).uniform_(low, high).requires_grad_()
    b1 = torch.empty(2, dtype=torch.float64).uniform_(low, high).requires_grad_()
    W2 = torch.empty(2, 1, dtype=torch.float64).uniform_(low, high).requires_grad_()
    b2 = torch.empty(1, dtype=torch.float64).uniform_(low, high).requires_grad_()
    params = [W1, b1, W2, b2]
    net = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
    initial_weights = {name: p.detach().clone() for name, p in net.items()}
    alpha = {"no momentum": 0.0, "momentum 0.5": 0.5}.get(bug, CARRY)
    changes = [torch.zeros_like(p) for p in params]

    def forward(x):
        y = torch.sigmoid(torch.sigmoid(x @ W1 + b1) @ W2 + b2)
        return y if bug == "targets broadcast" else y[:, 0]  # (64, 1) - (64,) is (64, 64)

    def change_weights():
        with torch.no_grad():
            for p, change in zip(params, changes, strict=True):
                change.mul_(alpha).sub_(STEP * p.grad)
                p.add_(change)
                if bug != "no zero_grad":
                    p.grad.zero_()

    errors = []
    reduction = "mean" if bug == "mean instead of sum" else "sum"
    for _ in range(max_sweeps):
        y = forward(inputs)
        if ((y.flatten() - targets).abs() < 0.5).all():
            break
        if bug == "per-case updates":
            errors.append(0.5 * float(((y - targets) ** 2).sum().detach()))
            for x, d in zip(inputs, targets, strict=True):
                (0.5 * F.mse_loss(forward(x[None]), d[None], reduction="sum")).backward()
                change_weights()
            continue
        if bug == "targets broadcast":
            E = 0.5 * ((y - targets) ** 2).sum()
        else:
            E = 0.5 * F.mse_loss(y, targets, reduction=reduction)
        errors.append(E.item())
        E.backward()
        change_weights()
    return {"inputs": inputs, "targets": targets, "net": net,
            "initial_weights": initial_weights, "errors": errors, "sweeps": len(errors)}


def sequential_solution(seed: int = 0, max_sweeps: int = 5000, dtype=torch.float64,
                        init: bool = True, zero_grad: bool = True, step: float = STEP,
                        carry: float = CARRY, output_fn: bool = True) -> dict:
    """nn.Sequential, torch.optim.SGD, nn.MSELoss(reduction="sum") / 2, cloned tensors.
    `step` and `carry` replace the learning rate and momentum; `output_fn=False` leaves the
    output unit without its activation function."""
    torch.manual_seed(seed)
    codes = torch.arange(64)
    inputs = ((codes[:, None] >> torch.arange(5, -1, -1)) & 1).to(dtype)
    targets = (inputs == inputs.flip(1)).all(1, keepdim=True).to(dtype)
    net = nn.Sequential(nn.Linear(6, 2, dtype=dtype), nn.Sigmoid(),
                        nn.Linear(2, 1, dtype=dtype), *[nn.Sigmoid()] * output_fn)
    if init:
        with torch.no_grad():
            for p in net.parameters():
                p.uniform_(-START, START)
    initial_weights = {name: p.detach().clone() for name, p in net.state_dict().items()}
    optimizer = torch.optim.SGD(net.parameters(), lr=step, momentum=carry)
    loss = nn.MSELoss(reduction="sum")
    errors = []
    for _ in range(max_sweeps):
        y = net(inputs)
        if ((y - targets).abs() < 0.5).all():
            break
        if zero_grad:
            optimizer.zero_grad()
        E = loss(y, targets) / 2
        errors.append(E.item())
        E.backward()
        optimizer.step()
    return {"inputs": inputs, "targets": targets, "net": net,
            "initial_weights": initial_weights, "errors": errors, "sweeps": len(errors)}


def printed(check, namespace) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        check(namespace)
    return out.getvalue()
