"""Training by the paper's protocol: one network at a time, or thousands at once.

The rule of the paper is dw(t) = -eps * dE/dw(t) + alpha * dw(t-1), with E the error summed over
all 64 cases and one weight change per sweep. It is exactly torch.optim.SGD(lr=eps,
momentum=alpha, dampening=0) on the summed error: SGD keeps b(t) = alpha * b(t-1) + g(t) and
steps w -= lr * b(t), and lr * b(t) is the paper's -dw(t).

Sweep counting (both trainers): errors[t] is E after t weight changes. Before each change the
trainer checks the criterion; a run that meets it after t changes took t sweeps. A run that has
not met it after `max_sweeps` changes is unsolved (sweeps None).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import torch
from torch import nn

from labutils.instructor.rhw1986.dataset import N_CASES, N_INPUTS, symmetry_dataset
from labutils.instructor.rhw1986.model import (
    WEIGHT_KEYS,
    Weights,
    check_activation,
    check_weights,
)
from labutils.instructor.rhw1986.model import initial_weights as _initial_weights

CRITERIA = {"half": 0.5, "0.2": 0.2, "0.1": 0.1}
"""Stopping criteria: every output within this distance of its target. "half" (the default) is
every output on the right side of 0.5, the paper's notion of having learned the task."""

OPTIMIZERS = ("sgd", "adam")
"""Update rules: "sgd" with momentum is the paper's rule; "adam" is torch.optim.Adam's."""

LOSSES = ("sse", "cross_entropy")
"""Training losses, both summed over the 64 cases: the paper's 1/2 sum (y - d)^2, or the
binary cross-entropy of the output unit."""

WARMUP_SWEEPS = 200
"""Length of the "warmup" learning-rate schedule, in sweeps."""

PAPER_SWEEPS = 1425
"""Sweeps the paper's network took to learn the task (Figure 1 caption)."""


def _cosine(max_sweeps: int) -> Callable[[int], float]:
    return lambda t: 0.5 * (1.0 + math.cos(math.pi * min(t, max_sweeps) / max_sweeps))


def _step(max_sweeps: int) -> Callable[[int], float]:
    every = max(1, max_sweeps // 5)
    return lambda t: 0.5 ** (t // every)


def _warmup(max_sweeps: int) -> Callable[[int], float]:
    return lambda t: min(1.0, (t + 1) / WARMUP_SWEEPS)


SCHEDULERS: dict[str, Callable[[int], Callable[[int], float]]] = {
    "cosine": _cosine,
    "step": _step,
    "warmup": _warmup,
}
"""Learning-rate schedules by name: each maps max_sweeps to a function sweep -> factor on lr.
"cosine" anneals lr to 0 at the cap, "step" halves it five times, "warmup" grows it linearly
from lr/WARMUP_SWEEPS to lr over the first WARMUP_SWEEPS sweeps. A callable sweep -> factor may
be passed too."""


# ----------------------------------------------------------------------------------------------
# Checks and small pieces


def check_criterion(criterion: str | float | None) -> float:
    """The tolerance of `criterion` ("half", "0.2", "0.1"; None trains to the cap: tolerance 0)."""
    if criterion is None:
        return 0.0
    key = criterion if isinstance(criterion, str) else f"{criterion:g}"
    if key == "0.5":
        key = "half"
    if key not in CRITERIA:
        raise ValueError(
            f"unknown criterion {criterion!r}; valid ones are: {', '.join(CRITERIA)} "
            "(or None to train until the sweep cap)"
        )
    return CRITERIA[key]


def check_optimizer(optimizer: str) -> str:
    """Return `optimizer` if it is one of OPTIMIZERS, else raise ValueError listing them."""
    if optimizer not in OPTIMIZERS:
        raise ValueError(
            f"unknown optimizer {optimizer!r}; valid ones are: {', '.join(OPTIMIZERS)}"
        )
    return optimizer


def check_loss(loss: str) -> str:
    """Return `loss` if it is one of LOSSES, else raise ValueError listing them."""
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; valid ones are: {', '.join(LOSSES)}")
    return loss


def check_rates(lr: float, momentum: float) -> None:
    """Raise ValueError unless lr > 0 and 0 <= momentum < 1."""
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr}")
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum must be in [0, 1), got {momentum}")


def check_max_sweeps(max_sweeps: int) -> int:
    """Return the sweep cap if it is an int >= 0, else raise ValueError."""
    if isinstance(max_sweeps, bool) or not isinstance(max_sweeps, int) or max_sweeps < 0:
        raise ValueError(f"max_sweeps must be a whole number >= 0, got {max_sweeps!r}")
    return max_sweeps


def schedule_factor(
    scheduler: str | Callable[[int], float] | None, max_sweeps: int
) -> Callable[[int], float] | None:
    """The function sweep -> learning-rate factor for `scheduler` (a name of SCHEDULERS,
    a callable, or None for a constant rate)."""
    if scheduler is None or callable(scheduler):
        return scheduler
    if scheduler not in SCHEDULERS:
        raise ValueError(
            f"unknown scheduler {scheduler!r}; valid ones are: {', '.join(SCHEDULERS)} "
            "(or None, or a function sweep -> factor)"
        )
    return SCHEDULERS[scheduler](max(1, max_sweeps))


def summed_squared_error(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The paper's error E = 1/2 * sum over cases and outputs of (y - d)^2 (a sum, not a mean)."""
    if outputs.shape != targets.shape:
        raise ValueError(
            f"outputs and targets must have the same shape, got {tuple(outputs.shape)} "
            f"and {tuple(targets.shape)}"
        )
    return 0.5 * ((outputs - targets) ** 2).sum()


def criterion_met(
    outputs: torch.Tensor, targets: torch.Tensor, criterion: str | None = "half"
) -> bool:
    """True when every output is within the criterion's distance of its target."""
    tolerance = check_criterion(criterion)
    return bool((outputs - targets).abs().max() < tolerance)


# ----------------------------------------------------------------------------------------------
# The paper's rule by hand


def reference_sweep(
    weights: Mapping[str, torch.Tensor],
    velocity: Mapping[str, torch.Tensor] | None = None,
    eps: float = 0.1,
    alpha: float = 0.9,
) -> tuple[Weights, Weights]:
    """One weight change of the paper's rule for a logistic 6-h-1 net, by the paper's equations.

    Back-propagation written out (no autograd): with y the output and h the hidden activities,
    dE/dy = y - d, the output's delta is (y - d) y (1 - y), a hidden unit's delta is the output
    delta times its outgoing weight times h (1 - h), and each weight's gradient is the sum over
    the 64 cases of (delta of the unit it feeds) x (activity it carries). Then
    dw(t) = -eps * dE/dw + alpha * dw(t-1). `velocity` is dw(t-1) (None: zeros, the first sweep).
    Returns (new weights, new velocity dw(t)).
    """
    check_weights(weights)
    w = {key: torch.as_tensor(weights[key]) for key in WEIGHT_KEYS}
    x, d = symmetry_dataset(w["hidden.weight"].dtype)
    h = torch.sigmoid(x @ w["hidden.weight"].T + w["hidden.bias"])  # (64, h)
    y = torch.sigmoid(h @ w["output.weight"].T + w["output.bias"])  # (64, 1)
    delta_out = (y - d) * y * (1 - y)  # dE/d(net input of the output)
    delta_hidden = (delta_out @ w["output.weight"]) * h * (1 - h)  # (64, h)
    grads = {
        "hidden.weight": delta_hidden.T @ x,
        "hidden.bias": delta_hidden.sum(0),
        "output.weight": delta_out.T @ h,
        "output.bias": delta_out.sum(0),
    }
    new_velocity = {}
    for key in WEIGHT_KEYS:
        previous = torch.zeros_like(w[key]) if velocity is None else torch.as_tensor(velocity[key])
        new_velocity[key] = -eps * grads[key] + alpha * previous
    new_weights = {key: w[key] + new_velocity[key] for key in WEIGHT_KEYS}
    return new_weights, new_velocity


# ----------------------------------------------------------------------------------------------
# One network


@dataclass
class RunResult:
    """How one training run went.

    sweeps: weight changes until the criterion was met, or None if it was not within the cap.
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
        from labutils.instructor.rhw1986.analysis import classify_failure

        return classify_failure(self.weights, self.errors, activation=self.activation)

    def __repr__(self) -> str:
        return str(self)

    def __str__(self) -> str:
        done = (
            f"solved in {self.sweeps} sweeps"
            if self.solved
            else f"unsolved after {self.max_sweeps} sweeps"
        )
        return f"RunResult({done}, final E = {self.final_error:.4f})"


def make_optimizer(
    name: str, params, lr: float = 0.1, momentum: float = 0.9
) -> torch.optim.Optimizer:
    """The torch optimizer called `name`: "sgd" is the paper's rule (dampening 0), "adam" Adam."""
    check_optimizer(name)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, dampening=0.0)
    return torch.optim.Adam(params, lr=lr)


def _training_loss(net: nn.Module, x: torch.Tensor, d: torch.Tensor, loss: str) -> torch.Tensor:
    if loss == "sse":
        return summed_squared_error(net(x), d)
    if hasattr(net, "logits"):
        return nn.functional.binary_cross_entropy_with_logits(net.logits(x), d, reduction="sum")
    return nn.functional.binary_cross_entropy(net(x), d, reduction="sum")


def _net_weights(net: nn.Module) -> Weights:
    """The WEIGHT_KEYS of any module with `hidden` and `output` nn.Linear layers, detached."""
    state = net.state_dict()
    missing = [key for key in WEIGHT_KEYS if key not in state]
    if missing:
        raise ValueError(
            f"the network must have nn.Linear layers named `hidden` (6 -> h) and `output` "
            f"(h -> 1), like SymmetryNet; its state_dict lacks {', '.join(missing)}"
        )
    return {key: state[key].detach().clone() for key in WEIGHT_KEYS}


def train_single(
    net: nn.Module,
    max_sweeps: int = 5000,
    criterion: str | None = "half",
    lr: float = 0.1,
    momentum: float = 0.9,
    optimizer: str = "sgd",
    loss: str = "sse",
    scheduler: str | Callable[[int], float] | None = None,
    per_pattern: bool = False,
) -> RunResult:
    """Train `net` in place by the paper's protocol (with torch.optim) and return a RunResult.

    `net` is a SymmetryNet, or any module with layers `hidden` and `output` whose forward
    returns the output unit's activity (N, 1).

    Defaults are the paper's: full sweeps over the 64 cases, summed squared error, SGD with
    lr 0.1 and momentum 0.9, stop when every output is on the right side of 0.5. `per_pattern`
    changes the weights after every case (cases in dataset order) instead of once per sweep.
    """
    check_max_sweeps(max_sweeps)
    tolerance = check_criterion(criterion)
    check_optimizer(optimizer)
    check_loss(loss)
    check_rates(lr, momentum)
    factor = schedule_factor(scheduler, max_sweeps)
    check_weights(_net_weights(net))
    dtype = net.hidden.weight.dtype
    x, d = symmetry_dataset(dtype)
    opt = make_optimizer(optimizer, net.parameters(), lr=lr, momentum=momentum)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, factor) if factor is not None else None
    errors: list[float] = []
    sweeps = None
    for t in range(max_sweeps + 1):
        with torch.no_grad():
            y = net(x)
            errors.append(float(summed_squared_error(y, d)))
            if bool((y - d).abs().max() < tolerance):
                sweeps = t
                break
        if t == max_sweeps:
            break
        cases = [slice(i, i + 1) for i in range(N_CASES)] if per_pattern else [slice(None)]
        for case in cases:
            opt.zero_grad()
            _training_loss(net, x[case], d[case], loss).backward()
            opt.step()
        if sched is not None:
            sched.step()
    return RunResult(
        sweeps=sweeps,
        errors=errors,
        weights=_net_weights(net),
        solved=sweeps is not None,
        criterion=criterion,
        max_sweeps=max_sweeps,
        activation=getattr(net, "activation", "sigmoid"),
    )


# ----------------------------------------------------------------------------------------------
# Thousands of networks at once


def stack_weights(runs: list[Mapping[str, torch.Tensor]]) -> Weights:
    """Batched weights (S, ...) from a list of S single-network weight mappings."""
    if not runs:
        raise ValueError("stack_weights needs at least one set of weights, got an empty list")
    for run in runs:
        check_weights(run)
    return {key: torch.stack([torch.as_tensor(run[key]) for run in runs]) for key in WEIGHT_KEYS}


def unstack_weights(weights: Mapping[str, torch.Tensor], index: int) -> Weights:
    """The weights of network `index` out of batched weights (a copy)."""
    check_weights(weights, batched=True)
    return {key: weights[key][index].clone() for key in WEIGHT_KEYS}


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a success probability (good also near 0 or 1)."""
    if trials <= 0:
        raise ValueError(f"trials must be > 0, got {trials}")
    z = {0.9: 1.6448536269514722, 0.95: 1.959963984540054, 0.99: 2.5758293035489004}.get(confidence)
    if z is None:
        z = math.sqrt(2) * torch.erfinv(torch.tensor(confidence, dtype=torch.float64)).item()
    p = successes / trials
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials**2)) / (1 + z * z / trials)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass
class StudyResult:
    """Many independent runs of the same protocol, one per seed index.

    sweeps[i]: sweeps network i took, or None if unsolved. final_errors[i]: its E when it stopped.
    weights: its final weights, batched (S, ...). labels[i]: "solved" or the failure label of
    classify_failure. history: E every `history_every` sweeps (rows: history_sweeps; NaN once a
    run has stopped). tail_errors[i]: E at sweep tail_sweep (80% of the cap), used to tell a run
    still improving from a stuck one.
    """

    config: dict
    sweeps: list[int | None]
    final_errors: torch.Tensor
    weights: Weights
    labels: list[str]
    history: torch.Tensor
    history_sweeps: list[int]
    tail_errors: torch.Tensor
    tail_sweep: int
    seconds: float = 0.0
    initial: Weights | None = field(default=None, repr=False)

    @property
    def n_seeds(self) -> int:
        return len(self.sweeps)

    @property
    def solved(self) -> torch.Tensor:
        """Bool tensor (S,): which runs met the criterion."""
        return torch.tensor([s is not None for s in self.sweeps], dtype=torch.bool)

    @property
    def n_solved(self) -> int:
        return sum(s is not None for s in self.sweeps)

    @property
    def success_rate(self) -> float:
        return self.n_solved / self.n_seeds

    def success_interval(self, confidence: float = 0.95) -> tuple[float, float]:
        """Wilson confidence interval of the success rate."""
        return wilson_interval(self.n_solved, self.n_seeds, confidence)

    @property
    def solved_sweeps(self) -> torch.Tensor:
        """Sweeps of the solved runs (float64, for quantiles)."""
        return torch.tensor([s for s in self.sweeps if s is not None], dtype=torch.float64)

    def sweep_quantiles(self, qs: tuple[float, ...] = (0.25, 0.5, 0.75)) -> list[float]:
        """Quantiles of sweeps over the solved runs (NaN if none solved)."""
        solved = self.solved_sweeps
        if solved.numel() == 0:
            return [math.nan] * len(qs)
        return torch.quantile(solved, torch.tensor(qs, dtype=torch.float64)).tolist()

    @property
    def median_sweeps(self) -> float:
        return self.sweep_quantiles((0.5,))[0]

    def label_counts(self) -> dict[str, int]:
        """How many runs got each label ("solved" and the failure labels), most common first."""
        counts: dict[str, int] = {}
        for label in self.labels:
            counts[label] = counts.get(label, 0) + 1
        return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))

    def run_weights(self, index: int) -> Weights:
        """The final weights of run `index`."""
        return unstack_weights(self.weights, index)

    def start_weights(self, index: int) -> Weights:
        """The weights run `index` started from (float64), to re-run it with train_single."""
        if self.initial is not None:
            return unstack_weights(self.initial, index)
        c = self.config
        return _initial_weights(c["seed"], index, c["hidden"], c["init_range"], torch.float64)

    def summary(self) -> dict[str, float]:
        """Headline numbers: seeds, success rate and its 95% interval, sweep quartiles."""
        low, high = self.success_interval()
        q1, median, q3 = self.sweep_quantiles()
        return {
            "seeds": self.n_seeds,
            "solved": self.n_solved,
            "success_rate": self.success_rate,
            "ci_low": low,
            "ci_high": high,
            "median_sweeps": median,
            "q1_sweeps": q1,
            "q3_sweeps": q3,
        }

    def __repr__(self) -> str:
        return f"StudyResult({self})"

    def __str__(self) -> str:
        s = self.summary()
        return (
            f"{s['solved']}/{s['seeds']} solved ({100 * s['success_rate']:.1f}%, 95% CI "
            f"{100 * s['ci_low']:.1f}-{100 * s['ci_high']:.1f}%), "
            f"median sweeps {s['median_sweeps']:.0f}"
        )


class _BatchedTrainer:
    """The batched engine behind train_many (see its docstring for the layout and tricks)."""

    def __init__(
        self,
        initial: Weights,
        activation: str,
        optimizer: str,
        loss: str,
        lr: float,
        momentum: float,
        factor: Callable[[int], float] | None,
        dtype: torch.dtype,
    ) -> None:
        self.h = check_weights(initial, batched=True)
        self.activation = activation
        self.optimizer = optimizer
        self.loss = loss
        self.lr = lr
        self.momentum = momentum
        self.factor = factor
        self.dtype = dtype
        # Cases are held with the 8 symmetric ones first, so the stopping check is one max over
        # the 56 others (their error y - d must stay below the tolerance) and one min over the 8.
        x, d = symmetry_dataset(dtype)
        order = torch.argsort(-d[:, 0], stable=True)
        self.n_symmetric = int(d.sum())
        self.row_of_case = torch.argsort(order).tolist()
        x1 = torch.cat([x, torch.ones(N_CASES, 1, dtype=dtype)], dim=1)[order]
        self.x1 = x1.contiguous()  # (64, 7): inputs and a column of ones for the biases
        self.x1t = x1.T.contiguous()  # (7, 64)
        self.d = d[order].contiguous()  # (64, 1)
        self.theta = self.pack(initial)  # (R, S)
        self.velocity = torch.zeros_like(self.theta)
        if optimizer == "adam":
            self.m = torch.zeros_like(self.theta)
            self.v = torch.zeros_like(self.theta)
        self.step_count = 0
        self._buffers_for(self.theta.shape[1])

    # Layout: theta is (R, S) with R = 7h + h + 1. Rows [0, 7h) are the hidden weights and biases
    # as a (7, h) block per seed (row i*h + j: input i (6 = bias) to hidden unit j), so
    # theta[:7h].view(7, h*S) is the matrix that multiplies the (64, 7) inputs-plus-ones of every
    # seed at once: column j*S + s is hidden unit j of seed s. Rows [7h, 8h) are the
    # hidden->output weights (h, S), the last row the output biases.

    def pack(self, weights: Mapping[str, torch.Tensor]) -> torch.Tensor:
        h = self.h
        s = weights["hidden.weight"].shape[0]
        theta = torch.empty(8 * h + 1, s, dtype=self.dtype)
        block = theta[: 7 * h].view(7, h, s)
        block[:N_INPUTS] = weights["hidden.weight"].permute(2, 1, 0)
        block[N_INPUTS] = weights["hidden.bias"].T
        theta[7 * h : 8 * h] = weights["output.weight"][:, 0, :].T
        theta[8 * h] = weights["output.bias"][:, 0]
        return theta

    def unpack(self, theta: torch.Tensor) -> Weights:
        h = self.h
        s = theta.shape[1]
        block = theta[: 7 * h].view(7, h, s)
        return {
            "hidden.weight": block[:N_INPUTS].permute(2, 1, 0).contiguous(),
            "hidden.bias": block[N_INPUTS].T.contiguous(),
            "output.weight": theta[7 * h : 8 * h].T.contiguous()[:, None, :],
            "output.bias": theta[8 * h][:, None].contiguous(),
        }

    def _buffers_for(self, s: int) -> None:
        h = self.h
        self.hidden_buf = torch.empty(N_CASES, h * s, dtype=self.dtype)
        self.out_buf = torch.empty(N_CASES, s, dtype=self.dtype)
        self.err_buf = torch.empty(N_CASES, s, dtype=self.dtype)
        self.tmp_buf = torch.empty(N_CASES, h * s, dtype=self.dtype)
        self.grad = torch.empty_like(self.theta)

    @property
    def n_active(self) -> int:
        return self.theta.shape[1]

    def compact(self, keep: torch.Tensor) -> None:
        """Drop the networks that have stopped (keep: bool mask over the active ones)."""
        self.theta = self.theta[:, keep]
        self.velocity = self.velocity[:, keep]
        if self.optimizer == "adam":
            self.m = self.m[:, keep]
            self.v = self.v[:, keep]
        self._buffers_for(self.theta.shape[1])

    def _activate(self, net_input: torch.Tensor) -> None:
        if self.activation == "sigmoid":
            net_input.sigmoid_()
        elif self.activation == "tanh":
            net_input.tanh_()
        else:
            net_input.relu_()

    def forward(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Hidden activities (64, h*S) and output errors e = y - d (64, S); keeps y for backward."""
        h, s = self.h, self.n_active
        act = torch.mm(self.x1, self.theta[: 7 * h].view(7, h * s), out=self.hidden_buf)
        self._activate(act)
        w2 = self.theta[7 * h : 8 * h]
        act3 = act.view(N_CASES, h, s)
        out = torch.addcmul(self.theta[8 * h], act3[:, 0], w2[0], out=self.out_buf)
        for j in range(1, h):
            out.addcmul_(act3[:, j], w2[j])
        out.sigmoid_()
        err = torch.sub(out, self.d, out=self.err_buf)
        return act, err

    def met(self, err: torch.Tensor, tolerance: float) -> torch.Tensor:
        """Bool (S,): every output within `tolerance` of its target (e <= 0 for the symmetric
        cases held first, e >= 0 for the others, so one min and one max decide)."""
        k = self.n_symmetric
        return (torch.amax(err[k:], 0) < tolerance) & (torch.amin(err[:k], 0) > -tolerance)

    def backward(self, act: torch.Tensor, err: torch.Tensor) -> None:
        """Gradients of the summed loss for every network into self.grad (destroys act, err)."""
        h, s = self.h, self.n_active
        y = self.out_buf
        delta = err
        if self.loss == "sse":  # dE/d(net input) = (y - d) y (1 - y); for cross-entropy y - d
            y.addcmul_(y, y, value=-1.0)
            delta.mul_(y)
        act3 = act.view(N_CASES, h, s)
        tmp3 = self.tmp_buf.view(N_CASES, h, s)
        torch.mul(act3, delta[:, None, :], out=tmp3)  # delta * activity of each hidden unit
        grad = self.grad
        torch.sum(tmp3, dim=0, out=grad[7 * h : 8 * h])
        torch.sum(delta, dim=0, out=grad[8 * h])
        # A hidden unit's delta is delta * w2 * f'(net input). The factor w2 is the same for all
        # 64 cases, so it is applied after the matrix product, to (7, h*S) instead of (64, h*S).
        if self.activation == "sigmoid":  # f' = h (1 - h): tmp (1 - h) = delta h (1 - h)
            tmp3.addcmul_(tmp3, act3, value=-1.0)
        else:
            if self.activation == "tanh":  # f' = 1 - h^2
                act.mul_(act).neg_().add_(1.0)
            else:  # relu: f' = 1 where h > 0
                act.sign_()
            torch.mul(act3, delta[:, None, :], out=tmp3)
        hidden_grad = grad[: 7 * h].view(7, h * s)
        torch.mm(self.x1t, self.tmp_buf, out=hidden_grad)
        hidden_grad.view(7, h, s).mul_(self.theta[7 * h : 8 * h])

    def pattern_backward(self, case: int) -> None:
        """Gradients of the loss on one case (dataset order) for every network into self.grad."""
        h, s = self.h, self.n_active
        row = self.row_of_case[case]
        x1 = self.x1[row]  # (7,)
        act = (x1[:, None, None] * self.theta[: 7 * h].view(7, h, s)).sum(0)  # (h, S)
        self._activate(act)
        w2 = self.theta[7 * h : 8 * h]
        y = torch.sigmoid((act * w2).sum(0) + self.theta[8 * h])  # (S,)
        delta = y - self.d[row, 0]
        if self.loss == "sse":
            delta = delta * y * (1 - y)
        grad = self.grad
        grad[7 * h : 8 * h] = act * delta
        grad[8 * h] = delta
        if self.activation == "sigmoid":
            deriv = act * (1 - act)
        elif self.activation == "tanh":
            deriv = 1 - act * act
        else:
            deriv = (act > 0).to(self.dtype)
        hidden_delta = delta * w2 * deriv  # (h, S)
        grad[: 7 * h].view(7, h, s).copy_(x1[:, None, None] * hidden_delta)

    def step(self, sweep: int) -> None:
        """Apply one update from self.grad, exactly as torch.optim's SGD / Adam would."""
        lr = self.lr * (self.factor(sweep) if self.factor is not None else 1.0)
        self.step_count += 1
        if self.optimizer == "sgd":
            self.velocity.mul_(self.momentum).add_(self.grad)
            self.theta.add_(self.velocity, alpha=-lr)
            return
        beta1, beta2, eps = 0.9, 0.999, 1e-8
        self.m.lerp_(self.grad, 1 - beta1)
        self.v.mul_(beta2).addcmul_(self.grad, self.grad, value=1 - beta2)
        bias1 = 1 - beta1**self.step_count
        bias2_sqrt = (1 - beta2**self.step_count) ** 0.5
        denom = (self.v.sqrt() / bias2_sqrt).add_(eps)
        self.theta.addcdiv_(self.m, denom, value=-lr / bias1)


@dataclass
class _Record:
    """What the sweep loop keeps of every network, indexed by its seed index."""

    final_theta: torch.Tensor
    final_errors: torch.Tensor
    tail_errors: torch.Tensor
    sweeps: torch.Tensor
    history: torch.Tensor
    history_sweeps: list[int]
    tail_sweep: int


def _run_sweeps(
    engine: _BatchedTrainer,
    max_sweeps: int,
    tolerance: float,
    per_pattern: bool,
    history_every: int,
    bar=None,
) -> _Record:
    """The sweep loop of train_many: check, record the networks that stop, update the rest."""
    n_seeds = engine.n_active
    active = torch.arange(n_seeds)
    tail_sweep = (4 * max_sweeps) // 5
    history_sweeps = list(range(0, max_sweeps + 1, history_every))
    nan = torch.full((n_seeds,), math.nan, dtype=torch.float64)
    record = _Record(
        final_theta=torch.empty_like(engine.theta),
        final_errors=nan.clone(),
        tail_errors=nan.clone(),
        sweeps=torch.full((n_seeds,), -1, dtype=torch.long),
        history=torch.full((len(history_sweeps), n_seeds), math.nan, dtype=torch.float64),
        history_sweeps=history_sweeps,
        tail_sweep=tail_sweep,
    )
    for t in range(max_sweeps + 1):
        act, err = engine.forward()
        met = engine.met(err, tolerance)
        last = t == max_sweeps
        stop = torch.ones_like(met) if last else met
        any_stop = last or bool(met.any())
        if any_stop or t % history_every == 0 or t == tail_sweep:
            error = 0.5 * (err * err).sum(0).double()
            if t % history_every == 0:
                record.history[t // history_every, active] = error
            if t == tail_sweep:
                record.tail_errors[active] = error
        if any_stop:
            ids = active[stop]
            record.final_theta[:, ids] = engine.theta[:, stop]
            record.final_errors[ids] = error[stop]
            record.sweeps[active[met]] = t
            if last or bool(stop.all()):
                break
        # Networks that just stopped are saved above; they take this last step with the others
        # (cheaper than rebuilding the activations) and are dropped right after it.
        if per_pattern:
            for case in range(N_CASES):
                engine.pattern_backward(case)
                engine.step(t)
        else:
            engine.backward(act, err)
            engine.step(t)
        if any_stop:
            active = active[~stop]
            engine.compact(~stop)
        if bar is not None:
            bar.update(1)
    return record


def train_many(
    n_seeds: int,
    max_sweeps: int = 5000,
    criterion: str | None = "half",
    seed: int = 0,
    activation: str = "sigmoid",
    optimizer: str = "sgd",
    loss: str = "sse",
    hidden: int = 2,
    init_range: float = 0.3,
    scheduler: str | Callable[[int], float] | None = None,
    per_pattern: bool = False,
    dtype: torch.dtype = torch.float32,
    lr: float = 0.1,
    momentum: float = 0.9,
    initial_weights: Mapping[str, torch.Tensor] | None = None,
    history_every: int | None = None,
    show_progress: bool = False,
    num_threads: int | None = 1,
) -> StudyResult:
    """Train `n_seeds` independent networks at once, each stopping at the criterion or the cap.

    Network i starts from labutils.instructor.rhw1986.initial_weights(seed, i, hidden, init_range) (or from
    `initial_weights`, batched (n_seeds, ...)), and follows the same trajectory train_single gives
    it (same rule, same sweep counting), up to float rounding.

    How it is fast: every network sees the same 64 inputs, so the hidden layer of all S networks
    is ONE matrix product (64 x 7) @ (7 x h*S), biases folded in as a column of ones, and so is
    the gradient of all hidden weights, (7 x 64) @ (64 x h*S). The rest is elementwise work on
    (64, S)-sized arrays, mostly in place in preallocated buffers; networks that stop are
    dropped from the arrays, so the cost follows the networks still training.

    `num_threads` sets torch's intra-op threads while training (None: leave as is). The default,
    1, is fastest on a shared or small machine: each operation is short, and threads waiting for
    a busy core can make a sweep ten times slower.
    """
    if isinstance(n_seeds, bool) or not isinstance(n_seeds, int) or n_seeds < 1:
        raise ValueError(f"n_seeds must be a whole number >= 1, got {n_seeds!r}")
    check_max_sweeps(max_sweeps)
    tolerance = check_criterion(criterion)
    check_activation(activation)
    check_optimizer(optimizer)
    check_loss(loss)
    check_rates(lr, momentum)
    factor = schedule_factor(scheduler, max_sweeps)
    if initial_weights is not None:
        got = check_weights(initial_weights, batched=True)
        if initial_weights["hidden.weight"].shape[0] != n_seeds:
            raise ValueError(
                f"initial_weights hold {initial_weights['hidden.weight'].shape[0]} networks, "
                f"but n_seeds is {n_seeds}"
            )
        hidden = got
        initial = {
            key: torch.as_tensor(initial_weights[key]).detach().clone() for key in WEIGHT_KEYS
        }
    else:
        if hidden < 1:
            raise ValueError(f"hidden must be >= 1 hidden unit, got {hidden}")
        initial = stack_weights(
            [_initial_weights(seed, i, hidden, init_range, torch.float64) for i in range(n_seeds)]
        )
    history_every = history_every or max(1, max_sweeps // 100)

    start = time.perf_counter()
    # Saturated units produce subnormal floats, which x86 CPUs process ~100x slower; flushing
    # them to zero changes nothing visible and keeps every sweep fast.
    flushed = torch.set_flush_denormal(True)
    threads = torch.get_num_threads()
    if num_threads is not None:
        torch.set_num_threads(num_threads)
    try:
        engine = _BatchedTrainer(
            {k: v.to(dtype) for k, v in initial.items()},
            activation,
            optimizer,
            loss,
            lr,
            momentum,
            factor,
            dtype,
        )
        bar = None
        if show_progress:
            from labutils.progress import progress

            bar = progress(total=max_sweeps, desc="sweeps", unit="sweep")
        record = _run_sweeps(engine, max_sweeps, tolerance, per_pattern, history_every, bar)
        if bar is not None:
            bar.close()
    finally:
        if flushed:
            torch.set_flush_denormal(False)
        torch.set_num_threads(threads)
    seconds = time.perf_counter() - start

    weights = engine.unpack(record.final_theta)
    sweeps = [int(s) if s >= 0 else None for s in record.sweeps.tolist()]
    config = {
        "n_seeds": n_seeds,
        "max_sweeps": max_sweeps,
        "criterion": criterion,
        "seed": seed,
        "activation": activation,
        "optimizer": optimizer,
        "loss": loss,
        "hidden": hidden,
        "init_range": init_range,
        "scheduler": scheduler if isinstance(scheduler, str) or scheduler is None else "custom",
        "per_pattern": per_pattern,
        "dtype": str(dtype).replace("torch.", ""),
        "lr": lr,
        "momentum": momentum,
    }
    from labutils.instructor.rhw1986.analysis import classify_failures

    labels = classify_failures(
        {k: v.double() for k, v in weights.items()},
        sweeps,
        record.final_errors,
        record.tail_errors,
        activation=activation,
    )
    return StudyResult(
        config=config,
        sweeps=sweeps,
        final_errors=record.final_errors,
        weights=weights,
        labels=labels,
        history=record.history,
        history_sweeps=record.history_sweeps,
        tail_errors=record.tail_errors,
        tail_sweep=record.tail_sweep,
        seconds=seconds,
        initial=initial if initial_weights is not None else None,
    )
