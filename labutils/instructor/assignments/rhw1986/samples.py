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


HONEST_DEFINITIONS = """import copy
import statistics
import torch
from torch import nn
CAP = {cap}
inputs = torch.tensor([[(i >> (5 - b)) & 1 for b in range(6)] for i in range(64)],
                      dtype=torch.float32)
targets = (inputs == inputs.flip(1)).all(1).float()[:, None]


def new_network(seed):
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(6, 2), nn.Sigmoid(), nn.Linear(2, 1), nn.Sigmoid())
    with torch.no_grad():
        for p in net.parameters():
            p.uniform_(-0.3, 0.3)
    return net


def learned(net):
    return bool(((net(inputs) - targets).abs() < 0.5).all())


def train(net):
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    errors = []
    while len(errors) < CAP and not learned(net):
        E = 0.5 * ((net(inputs) - targets) ** 2).sum()
        errors.append(E.item())
        opt.zero_grad()
        E.backward()
        opt.step()
    return errors


def study_run(seed):
    run_net = new_network(seed)
    start = copy.deepcopy(run_net.state_dict())
    return start, len(train(run_net)), learned(run_net)
"""
"""An honest solution in the typical style (nn.Sequential, float32, optim.SGD, stop when every
output is on the correct side of 0.5 or at CAP): the definitions its cells share."""

HONEST_MAIN = """net = new_network(SEED)
initial_weights = copy.deepcopy(net.state_dict())
errors = train(net)
sweeps = len(errors)
"""

HONEST_STUDY = """runs = [study_run(seed) for seed in STUDY_SEEDS]
study_starts = [start for start, _, _ in runs]
study_sweeps = [n for _, n, _ in runs]
study_learned = [ok for _, _, ok in runs]
study_success_rate = sum(study_learned) / len(runs)
study_median_sweeps = statistics.median([n for _, n, ok in runs if ok] or [0])
"""


def honest_submission(seed: int, cap: int = 5000, study_runs: int = 50) -> str:
    """Source of one code cell of an honest solution: its run from `seed`, and a Part 5 study
    of `study_runs` seeds from `seed` on."""
    return (HONEST_DEFINITIONS.format(cap=cap)
            + f"SEED = {seed}\nSTUDY_SEEDS = range({seed}, {seed + study_runs})\n"
            + HONEST_MAIN + HONEST_STUDY)
