"""One network at a time, with torch.optim: the trainer whose every step a reader can follow.

Sweep counting (shared with train_many): errors[t] is E after t weight changes. Before each
change the trainer checks the criterion; a run that meets it after t changes took t sweeps. A
run that has not met it after `max_sweeps` changes is unsolved (sweeps None).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from labutils.instructor.rhw1986.analysis import classify_failure
from labutils.instructor.rhw1986.options import (
    MOMENTUM_FORMS,
    OPTIMIZERS,
    Schedule,
    check_choice,
    check_options,
)
from labutils.network_weights import check_weights
from labutils.symmetry_task import N_CASES, WEIGHT_KEYS, cases, summed_error

Weights = dict[str, torch.Tensor]


class PaperSGD(torch.optim.Optimizer):
    """The paper's rule as a torch optimizer: dw(t) = -lr(t) * dE/dw + momentum * dw(t-1).

    With a constant lr it is torch.optim.SGD(lr, momentum, dampening=0). Under a learning-rate
    schedule it is not: SGD keeps v = momentum * v + g and steps -lr(t) * v, which rescales the
    previous change by lr(t)/lr(t-1). This optimizer keeps the previous change itself.
    """

    def __init__(self, params, lr: float = 0.1, momentum: float = 0.9) -> None:
        super().__init__(params, {"lr": lr, "momentum": momentum})

    @torch.no_grad()
    def step(self, closure=None):  # noqa: D102 (torch's signature)
        loss = None if closure is None else closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if "change" not in state:
                    state["change"] = torch.zeros_like(p)
                change = state["change"]
                change.mul_(group["momentum"]).add_(p.grad, alpha=-group["lr"])
                p.add_(change)
        return loss


def make_optimizer(
    name: str,
    params,
    lr: float = 0.1,
    momentum: float = 0.9,
    momentum_form: str = "paper",
) -> torch.optim.Optimizer:
    """The optimizer called `name`: "sgd" is the paper's rule (PaperSGD, or with
    momentum_form="torch" torch.optim.SGD with dampening 0), "adam" is torch.optim.Adam."""
    check_choice("optimizer", name, OPTIMIZERS)
    check_choice("momentum_form", momentum_form, MOMENTUM_FORMS)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    if momentum_form == "torch":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, dampening=0.0)
    return PaperSGD(params, lr=lr, momentum=momentum)


@dataclass
class TrainingRun:
    """How one run of train_single went.

    sweeps: weight changes until the criterion was met, or None if not within the cap.
    errors: E after 0, 1, 2, ... weight changes (the paper's summed squared error, whatever loss
    was trained). weights: the final weights. solved: the criterion was met.
    """

    sweeps: int | None
    errors: list[float]
    weights: Weights
    solved: bool
    criterion: str | None = "half"
    max_sweeps: int = 5000
    activation: str = "sigmoid"

    @property
    def final_error(self) -> float:
        """E after the last weight change."""
        return self.errors[-1]

    @property
    def failure(self) -> str:
        """Why an unsolved run failed ("solved" if it was not); see classify_failure."""
        if self.solved:
            return "solved"
        return classify_failure(self.weights, self.errors, activation=self.activation)

    def __repr__(self) -> str:
        return str(self)

    def __str__(self) -> str:
        done = (
            f"solved in {self.sweeps} sweeps"
            if self.solved
            else f"unsolved after {self.max_sweeps} sweeps"
        )
        return f"TrainingRun({done}, final E = {self.final_error:.4f})"


def net_weights(net: nn.Module) -> Weights:
    """A detached copy of the WEIGHT_KEYS of a module with nn.Linear layers `hidden` (6 -> h)
    and `output` (h -> 1), like SymmetryNet."""
    state = net.state_dict()
    missing = [key for key in WEIGHT_KEYS if key not in state]
    if missing:
        raise ValueError(
            f"the network must have nn.Linear layers named `hidden` (6 -> h) and `output` "
            f"(h -> 1), like SymmetryNet; its state_dict lacks {', '.join(missing)}"
        )
    weights = {key: state[key].detach().clone() for key in WEIGHT_KEYS}
    check_weights(weights)
    return weights


def _loss(net: nn.Module, x: torch.Tensor, d: torch.Tensor, loss: str) -> torch.Tensor:
    """The training loss named `loss`, summed over the cases in x."""
    if loss == "sse":
        return summed_error(net(x), d)
    return nn.functional.binary_cross_entropy_with_logits(net.logits(x), d, reduction="sum")


def train_single(
    net: nn.Module,
    max_sweeps: int = 5000,
    criterion: str | None = "half",
    lr: float = 0.1,
    momentum: float = 0.9,
    optimizer: str = "sgd",
    loss: str = "sse",
    scheduler: Schedule = None,
    per_pattern: bool = False,
    momentum_form: str = "paper",
) -> TrainingRun:
    """Train `net` in place by the paper's protocol and return a TrainingRun.

    `net` is a SymmetryNet, or any module with layers `hidden` and `output` whose forward
    returns the output unit's activity (N, 1); loss="cross_entropy" also needs its `logits`.

    Defaults are the paper's: full sweeps over the 64 cases, summed squared error, the paper's
    rule with eps 0.1 and alpha 0.9, stop when every output is on the right side of 0.5.
    `scheduler` multiplies eps by a factor per sweep; `per_pattern` changes the weights after
    every case (dataset order) instead of once per sweep.
    """
    tolerance, factor = check_options(
        max_sweeps, criterion, optimizer, momentum_form, loss, lr, momentum, scheduler
    )
    net_weights(net)
    if loss == "cross_entropy" and not callable(getattr(net, "logits", None)):
        raise ValueError(
            "loss='cross_entropy' needs the net input of the output unit: give the network a "
            "logits(x) method (SymmetryNet has one)"
        )
    x, d = cases(dtype=net.hidden.weight.dtype)
    d = d[:, None]  # a column, like the network's outputs
    opt = make_optimizer(optimizer, net.parameters(), lr, momentum, momentum_form)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, factor) if factor is not None else None
    groups = [slice(i, i + 1) for i in range(N_CASES)] if per_pattern else [slice(None)]
    errors: list[float] = []
    sweeps = None
    for t in range(max_sweeps + 1):
        with torch.no_grad():
            y = net(x)
            errors.append(float(summed_error(y, d)))
            if bool((y - d).abs().max() < tolerance):
                sweeps = t
                break
        if t == max_sweeps:
            break
        for case in groups:
            opt.zero_grad()
            _loss(net, x[case], d[case], loss).backward()
            opt.step()
        if sched is not None and t + 1 < max_sweeps:  # no factor is needed past the cap
            sched.step()
    return TrainingRun(
        sweeps=sweeps,
        errors=errors,
        weights=net_weights(net),
        solved=sweeps is not None,
        criterion=criterion,
        max_sweeps=max_sweeps,
        activation=getattr(net, "activation", "sigmoid"),
    )
