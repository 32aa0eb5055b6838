"""The paper's learning rule written out by hand (no autograd, no torch.optim): the yardstick
both trainers are tested against."""

from __future__ import annotations

from collections.abc import Mapping

import torch

from labutils.instructor.rhw1986.dataset import symmetry_dataset
from labutils.network_facts import WEIGHT_KEYS, as_weights, network_outputs

Weights = dict[str, torch.Tensor]


def summed_squared_error(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The paper's error E = 1/2 * sum over cases and outputs of (y - d)^2 (a sum, not a mean)."""
    if outputs.shape != targets.shape:
        raise ValueError(
            f"outputs and targets must have the same shape, got {tuple(outputs.shape)} "
            f"and {tuple(targets.shape)}"
        )
    return 0.5 * ((outputs - targets) ** 2).sum()


def reference_sweep(
    weights: Mapping[str, torch.Tensor],
    velocity: Mapping[str, torch.Tensor] | None = None,
    eps: float = 0.1,
    alpha: float = 0.9,
) -> tuple[Weights, Weights]:
    """One weight change of the paper's rule for a logistic 6-h-1 net, by the paper's equations.

    With y the output and h the hidden activities: the output's delta is (y - d) y (1 - y), a
    hidden unit's delta is the output delta times its outgoing weight times h (1 - h), and each
    weight's gradient is the sum over the 64 cases of (delta of the unit it feeds) x (activity
    it carries). Then dw(t) = -eps * dE/dw + alpha * dw(t-1), where eps is this sweep's step
    size (pass eps(t) to follow a schedule) and `velocity` is dw(t-1) (None: zeros, the first
    sweep). Returns (new weights, new velocity dw(t)).
    """
    w = as_weights(weights, dtype=torch.as_tensor(weights["hidden.weight"]).dtype)
    x, d = symmetry_dataset(w["hidden.weight"].dtype)
    h, y = network_outputs(w)
    y = y[:, None]
    delta_out = (y - d) * y * (1 - y)  # dE/d(net input of the output), (64, 1)
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
