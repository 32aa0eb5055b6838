"""Thousands of networks at once: the batched engine behind train_many.

How it is fast: every network sees the same 64 inputs, so the hidden layer of all S networks
is ONE matrix product (64 x 7) @ (7 x h*S), biases folded in as a column of ones, and so is the
gradient of all hidden weights, (7 x 64) @ (64 x h*S). The rest is elementwise work on
(64, S)-sized arrays, mostly in place in preallocated buffers; networks that stop are dropped
from the arrays, so the cost follows the networks still training. The backward pass is written
out by hand (checked against the single trainer and the hand-written reference in the tests).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch

from labutils.instructor.rhw1986.analysis import classify_failures
from labutils.instructor.rhw1986.model import initial_weights as draw_initial
from labutils.instructor.rhw1986.options import check_choice, check_count, check_options
from labutils.instructor.rhw1986.study import StudyResult, stack_weights
from labutils.network_facts import as_weights, check_weights
from labutils.progress import progress
from labutils.symmetry_task import ACTIVATIONS, N_CASES, N_INPUTS, cases

Weights = dict[str, torch.Tensor]


def flush_denormal_is_on() -> bool:
    """Whether torch currently flushes subnormal floats to zero (torch has no getter: a
    subnormal number times one comes out as 0 exactly when flushing is on)."""
    return bool((torch.tensor([1e-310], dtype=torch.float64) * 1.0)[0] == 0)


class BatchedEngine:
    """S networks as one parameter matrix, trained together (see train_many for the layout)."""

    def __init__(
        self,
        initial: Weights,
        activation: str,
        optimizer: str,
        loss: str,
        lr: float,
        momentum: float,
        momentum_form: str,
        factor: Callable[[int], float] | None,
        dtype: torch.dtype,
    ) -> None:
        self.h = check_weights(initial, batched=True)
        self.activation = activation
        self.optimizer = optimizer
        self.loss = loss
        self.lr = lr
        self.momentum = momentum
        self.momentum_form = momentum_form
        self.factor = factor
        self.dtype = dtype
        # Cases are held with the 8 symmetric ones first, so the stopping check is one max over
        # the 56 others (their error y - d must stay below the tolerance) and one min over the 8.
        x, d = cases(dtype=dtype)
        d = d[:, None]
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
        """Apply one update from self.grad with eps(t) = lr * factor(sweep): the paper's rule
        (or torch.optim.SGD's form, see MOMENTUM_FORMS), or exactly what torch.optim.Adam does."""
        lr = self.lr * (self.factor(sweep) if self.factor is not None else 1.0)
        self.step_count += 1
        if self.optimizer == "sgd" and self.momentum_form == "paper":
            self.velocity.mul_(self.momentum).add_(self.grad, alpha=-lr)  # dw(t)
            self.theta.add_(self.velocity)
            return
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
    engine: BatchedEngine,
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
    momentum_form: str = "paper",
) -> StudyResult:
    """Train `n_seeds` independent networks at once, each stopping at the criterion or the cap.

    Network i starts from initial_weights(seed, i, hidden, init_range) of
    labutils.instructor.rhw1986 (or from `initial_weights`, batched (n_seeds, ...)), and follows
    the trajectory train_single gives it (same rule, same sweep counting), up to float rounding.

    `momentum_form` picks how "sgd" applies momentum under a schedule (see MOMENTUM_FORMS;
    "paper" is the paper's equation). The layout and tricks are in the module docstring.

    `num_threads` sets torch's intra-op threads while training (None: leave as is). The default,
    1, is fastest on a shared or small machine: each operation is short, and threads waiting for
    a busy core can make a sweep ten times slower. The thread count and the flush-denormal
    setting are restored afterwards.
    """
    check_count("n_seeds", n_seeds, 1)
    tolerance, factor = check_options(
        max_sweeps, criterion, optimizer, momentum_form, loss, lr, momentum, scheduler
    )
    check_choice("activation", activation, tuple(ACTIVATIONS))
    if initial_weights is not None:
        hidden = check_weights(initial_weights, batched=True)
        given = torch.as_tensor(initial_weights["hidden.weight"]).shape[0]
        if given != n_seeds:
            raise ValueError(f"initial_weights hold {given} networks, but n_seeds is {n_seeds}")
        initial = as_weights(initial_weights, batched=True)
    else:
        check_count("hidden", hidden, 1)
        initial = stack_weights(
            [draw_initial(seed, i, hidden, init_range, torch.float64) for i in range(n_seeds)]
        )
    history_every = history_every or max(1, max_sweeps // 100)

    start = time.perf_counter()
    # Saturated units produce subnormal floats, which x86 CPUs process ~100x slower; flushing
    # them to zero changes nothing visible and keeps every sweep fast. Both settings are
    # process-wide, so they are put back as they were.
    flushing = flush_denormal_is_on()
    threads = torch.get_num_threads()
    torch.set_flush_denormal(True)
    if num_threads is not None:
        torch.set_num_threads(num_threads)
    try:
        engine = BatchedEngine(
            {k: v.to(dtype) for k, v in initial.items()},
            activation,
            optimizer,
            loss,
            lr,
            momentum,
            momentum_form,
            factor,
            dtype,
        )
        bar = progress(total=max_sweeps, desc="sweeps", unit="sweep") if show_progress else None
        record = _run_sweeps(engine, max_sweeps, tolerance, per_pattern, history_every, bar)
        if bar is not None:
            bar.close()
    finally:
        torch.set_flush_denormal(flushing)
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
        "momentum_form": momentum_form,
    }
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
