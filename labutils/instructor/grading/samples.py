"""A known submission body for smoke-testing the grader: the paper's rule written in plain
PyTorch, trained for a fixed number of sweeps. Used by the hostile test suite and the grading
benchmark, and handy for an instructor checking a grading set-up before the real batch."""

from __future__ import annotations


def training_submission(sweeps: int, reduction: str = "sum", seed: int = 3) -> str:
    """Source of one code cell defining the names the grader collects, trained `sweeps` sweeps.

    `reduction="mean"` gives the classic wrong rule (each weight change 1/64 of the paper's).
    """
    if reduction not in ("sum", "mean"):
        raise ValueError(f"reduction must be 'sum' or 'mean', not {reduction!r}")
    return f"""import torch
from torch import nn
torch.manual_seed({seed})
inputs = torch.tensor([[(i >> (5 - b)) & 1 for b in range(6)] for i in range(64)],
                      dtype=torch.float32)
targets = (inputs == inputs.flip(1)).all(1).float()[:, None]
net = nn.Sequential(nn.Linear(6, 2), nn.Sigmoid(), nn.Linear(2, 1), nn.Sigmoid())
for p in net.parameters():
    nn.init.uniform_(p, -0.3, 0.3)
initial_weights = {{k: v.clone() for k, v in net.state_dict().items()}}
opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
errors = []
for sweep in range({sweeps}):
    opt.zero_grad()
    E = 0.5 * ((net(inputs) - targets) ** 2).{reduction}()
    errors.append(E.item())
    E.backward()
    opt.step()
sweeps = len(errors)
"""
