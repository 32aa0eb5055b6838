"""The engine against labutils.symmetry_task, the one model of the task: SymmetryNet computes
its forward pass, and the fused batched kernel of train_many makes its sweeps."""

from __future__ import annotations

import pytest
import torch
from rhw1986_compare import max_difference

from labutils.instructor.rhw1986 import (
    SymmetryNet,
    batched_forward,
    initial_weights,
    stack_weights,
    train_many,
)
from labutils.symmetry_task import ACTIVATIONS, cases, forward, sweep


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_symmetry_net_and_batched_forward_compute_the_one_model(name):
    starts = [initial_weights(0, i, hidden=3, init_range=2.0) for i in range(3)]
    for w in starts:
        y = SymmetryNet.from_weights(w, activation=name)(cases()[0])[:, 0].detach()
        torch.testing.assert_close(y, forward(w, hidden=name)[1], rtol=0, atol=1e-14)
    batched = batched_forward(stack_weights(starts), name)
    torch.testing.assert_close(batched, forward(stack_weights(starts), hidden=name)[1])


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_fused_kernel_makes_the_sweeps_of_the_one_model(name):
    sweeps, eps, alpha = 40, 0.25, 0.8
    starts = [initial_weights(1, i, hidden=2, init_range=1.0) for i in range(4)]
    study = train_many(len(starts), sweeps, criterion=None, activation=name, lr=eps,
                       momentum=alpha, dtype=torch.float64, initial_weights=stack_weights(starts))
    for k, w in enumerate(starts):
        velocity = None
        for _ in range(sweeps):
            w, velocity = sweep(w, velocity, eps=eps, alpha=alpha, hidden=name)
        assert max_difference(study.run_weights(k), w) < 1e-10
