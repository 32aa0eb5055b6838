"""Tests of labutils.instructor.rhw1986.single (train_single, PaperSGD, make_optimizer) and of
both trainers under a learning-rate schedule (options.SCHEDULERS)."""

from __future__ import annotations

import pytest
import torch
from rhw1986_compare import max_difference

from labutils.instructor.rhw1986 import (
    CRITERIA,
    PaperSGD,
    SymmetryNet,
    initial_weights,
    make_optimizer,
    stack_weights,
    train_many,
    train_single,
)
from labutils.instructor.rhw1986.options import SCHEDULERS, WARMUP_SWEEPS
from labutils.symmetry_task import cases, summed_error, sweep

# --- single run -------------------------------------------------------------------------------


def test_train_single_counts_sweeps_and_stops_at_the_criterion():
    result = train_single(SymmetryNet.from_weights(initial_weights(0, 3)), max_sweeps=3000)
    assert result.solved and result.sweeps == len(result.errors) - 1
    x, d = cases()
    d = d[:, None]
    y = SymmetryNet.from_weights(result.weights)(x)
    assert bool(((y > 0.5) == (d > 0.5)).all())
    assert result.failure == "solved"
    assert "solved in" in str(result)


def test_train_single_stops_at_the_first_sweep_that_meets_the_criterion():
    x, d = cases()
    d = d[:, None]
    half = train_single(SymmetryNet.from_weights(initial_weights(0, 3)), criterion="half")
    strict = train_single(SymmetryNet.from_weights(initial_weights(0, 3)), criterion="0.2")
    assert strict.sweeps > half.sweeps
    miss = (SymmetryNet.from_weights(strict.weights)(x) - d).abs().max().detach()
    assert float(miss) < CRITERIA["0.2"]
    # One sweep earlier the stricter criterion was not met yet.
    earlier = train_single(
        SymmetryNet.from_weights(initial_weights(0, 3)),
        max_sweeps=strict.sweeps - 1,
        criterion="0.2",
    )
    assert not earlier.solved
    assert float((SymmetryNet.from_weights(earlier.weights)(x) - d).abs().max().detach()) >= 0.2


def test_train_single_unsolved_run_and_zero_cap():
    result = train_single(SymmetryNet.from_weights(initial_weights(0, 0)), max_sweeps=300)
    assert not result.solved and result.sweeps is None and len(result.errors) == 301
    assert result.failure in ("plateau", "local_minimum", "improving")
    assert len(train_single(SymmetryNet(), max_sweeps=0).errors) == 1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"criterion": "0.3"}, "half, 0.2, 0.1"),
        ({"max_sweeps": -1}, "max_sweeps"),
        ({"optimizer": "rmsprop"}, "sgd, adam"),
        ({"loss": "mse"}, "sse, cross_entropy"),
        ({"scheduler": "linear"}, "cosine, step, warmup"),
        ({"lr": 0.0}, "lr must be > 0"),
        ({"momentum": 1.0}, "momentum"),
        ({"momentum_form": "keras"}, "paper, torch"),
    ],
)
def test_train_single_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        train_single(SymmetryNet(), **kwargs)


# --- the paper's rule under a changing step size -----------------------------------------


def reference_run(start, sweeps, factor, lr=0.1, momentum=0.9):
    """The paper's equation by hand with eps(t) = lr * factor(t)."""
    weights, velocity = start, None
    for t in range(sweeps):
        weights, velocity = sweep(weights, velocity, eps=lr * factor(t), alpha=momentum)
    return weights


TABLE = [1.0 + 0.01 * t for t in range(60)]
"""A factor table of exactly 60 entries: sweeps 0..59 need a factor, sweep 60 none."""


@pytest.mark.parametrize(
    "scheduler",
    ["warmup", "step", lambda t: 1.0 + 0.5 * ((-1) ** t), TABLE.__getitem__],
    ids=["warmup", "step", "alternating", "table of max_sweeps entries"],
)
def test_both_trainers_follow_the_papers_rule_under_a_schedule(scheduler):
    sweeps = len(TABLE)
    factor = SCHEDULERS[scheduler](sweeps) if isinstance(scheduler, str) else scheduler
    assert len({factor(t) for t in range(sweeps)}) > 1  # eps really changes
    start = initial_weights(0, 3)
    expected = reference_run(start, sweeps, factor)
    single = train_single(
        SymmetryNet.from_weights(start), sweeps, criterion=None, scheduler=scheduler
    )
    many = train_many(
        1,
        sweeps,
        criterion=None,
        scheduler=scheduler,
        dtype=torch.float64,
        initial_weights=stack_weights([start]),
    )
    assert max_difference(single.weights, expected) < 1e-12
    assert max_difference(many.run_weights(0), expected) < 1e-12


def test_torchs_momentum_form_is_kept_as_a_named_option_and_differs_under_warmup():
    sweeps, start = 60, initial_weights(0, 3)
    net = SymmetryNet.from_weights(start)
    sgd = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, dampening=0)
    sched = torch.optim.lr_scheduler.LambdaLR(sgd, SCHEDULERS["warmup"](sweeps))
    x, d = cases()
    d = d[:, None]
    for _ in range(sweeps):
        sgd.zero_grad()
        summed_error(net(x), d).backward()
        sgd.step()
        sched.step()
    options = {"criterion": None, "scheduler": "warmup", "momentum_form": "torch"}
    single = train_single(SymmetryNet.from_weights(start), sweeps, **options)
    many = train_many(
        1, sweeps, dtype=torch.float64, initial_weights=stack_weights([start]), **options
    )
    assert max_difference(single.weights, net.weights()) < 1e-12
    assert max_difference(many.run_weights(0), net.weights()) < 1e-12
    paper = reference_run(start, sweeps, SCHEDULERS["warmup"](sweeps))
    assert max_difference(single.weights, paper) > 1e-3  # the two rules part under warmup
    assert WARMUP_SWEEPS > sweeps


def test_paper_sgd_equals_torch_sgd_with_a_constant_step():
    a, b = (
        SymmetryNet.from_weights(initial_weights(1, 1)),
        SymmetryNet.from_weights(initial_weights(1, 1)),
    )
    opt_a = make_optimizer("sgd", a.parameters())
    opt_b = make_optimizer("sgd", b.parameters(), momentum_form="torch")
    assert isinstance(opt_a, PaperSGD) and isinstance(opt_b, torch.optim.SGD)
    x, d = cases()
    d = d[:, None]
    for _ in range(30):
        for net, opt in ((a, opt_a), (b, opt_b)):
            opt.zero_grad()
            summed_error(net(x), d).backward()
            opt.step()
    assert max_difference(a.weights(), b.weights()) < 1e-12
    with pytest.raises(ValueError, match="paper, torch"):
        make_optimizer("sgd", a.parameters(), momentum_form="keras")
