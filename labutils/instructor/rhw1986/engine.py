"""Thousands of networks at once: the batched engine behind train_many.

How it is fast: every network sees the same 64 inputs, so the hidden layer of all S networks
is ONE matrix product (64 x 7) @ (7 x h*S), biases folded in as a column of ones, and so is the
gradient of all hidden weights, (7 x 64) @ (64 x h*S). The rest is elementwise work on
(64, S)-sized arrays, mostly in place in preallocated buffers; networks that stop are dropped
from the arrays, so the cost follows the networks still training. The backward pass is written
out by hand (checked against the single trainer and the hand-written reference in the tests).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch

from labutils.network_facts import check_weights
from labutils.symmetry_task import N_CASES, N_INPUTS, cases

Weights = dict[str, torch.Tensor]


class BatchedEngine:
    """S networks as one parameter matrix, trained together (layout: the module docstring)."""

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
