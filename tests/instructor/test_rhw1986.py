"""Tests of labutils.instructor.rhw1986: dataset, network, the paper's rule and the two trainers."""

from __future__ import annotations

import pytest
import torch
from rhw1986_compare import max_difference

from labutils.instructor.rhw1986 import (
    PAPER_WEIGHTS,
    SymmetryNet,
    flush_denormal_is_on,
    initial_weights,
    seed_for,
    stack_weights,
    train_many,
    train_single,
)
from labutils.network_facts import network_facts
from labutils.symmetry_task import cases, summed_error, sweep

# --- network ----------------------------------------------------------------------------------


def test_net_shapes_and_initial_range():
    net = SymmetryNet(generator=torch.Generator().manual_seed(1))
    assert net.hidden.weight.shape == (2, 6) and net.output.weight.shape == (1, 2)
    assert all(p.dtype == torch.float64 for p in net.parameters())
    assert all(float(w.abs().max()) <= 0.3 for w in net.weights().values())
    wide = SymmetryNet(hidden=4, init_range=2.0, generator=torch.Generator().manual_seed(1))
    assert float(wide.weights()["hidden.weight"].abs().max()) > 0.3
    y = net(cases()[0])
    assert y.shape == (64, 1) and bool(((y > 0) & (y < 1)).all())


def test_initial_weights_are_reproducible_from_seed_and_index():
    a, b = initial_weights(7, 3), initial_weights(7, 3)
    assert max_difference(a, b) == 0
    assert max_difference(a, initial_weights(7, 4)) > 0
    assert max_difference(a, initial_weights(8, 3)) > 0
    net = SymmetryNet(generator=torch.Generator().manual_seed(seed_for(7, 3)))
    assert max_difference(net.weights(), a) == 0
    assert max_difference(SymmetryNet.from_weights(a).weights(), a) == 0


def test_unknown_activation_lists_valid_ones():
    with pytest.raises(ValueError, match="sigmoid, tanh, relu"):
        SymmetryNet(activation="swish")
    with pytest.raises(ValueError, match="sigmoid, tanh, relu"):
        train_many(1, 1, activation="swish")


def test_paper_weights_solve_the_task_even_after_someone_changes_a_copy():
    PAPER_WEIGHTS["output.bias"].mul_(-1)  # made every later analysis wrong when it was a dict
    net = SymmetryNet.from_weights(PAPER_WEIGHTS)
    x, d = cases()
    assert bool(((net(x)[:, 0] > 0.5) == (d > 0.5)).all())
    assert network_facts(PAPER_WEIGHTS).solves


# --- the paper's rule -------------------------------------------------------------------------


def test_reference_rule_equals_torch_sgd_with_momentum():
    weights, velocity = initial_weights(0, 0), None
    net = SymmetryNet.from_weights(weights)
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, dampening=0)
    x, d = cases()
    for _ in range(25):
        weights, velocity = sweep(weights, velocity, eps=0.1, alpha=0.9)
        opt.zero_grad()
        summed_error(net(x), d[:, None]).backward()
        opt.step()
    assert max_difference(net.weights(), weights) < 1e-12


# --- many runs at once ------------------------------------------------------------------------


def test_batched_equals_single_runs_over_2000_sweeps():
    # Seed indices 0 and 1 stay unsolved, 3 solves after ~1,400 sweeps.
    indices = [0, 1, 3]
    starts = [initial_weights(0, i) for i in indices]
    study = train_many(
        len(indices), max_sweeps=2000, dtype=torch.float64, initial_weights=stack_weights(starts)
    )
    solved = []
    for k, start in enumerate(starts):
        single = train_single(SymmetryNet.from_weights(start), max_sweeps=2000)
        assert study.sweeps[k] == single.sweeps
        assert max_difference(study.run_weights(k), single.weights) <= 1e-4
        assert float(study.final_errors[k]) == pytest.approx(single.final_error, abs=1e-8)
        solved.append(single.solved)
    assert True in solved and False in solved


@pytest.mark.parametrize(
    "options",
    [
        {"activation": "tanh"},
        {"activation": "relu"},
        {"optimizer": "adam", "lr": 0.01},
        {"loss": "cross_entropy"},
        {"scheduler": "warmup"},
        {"scheduler": "cosine", "momentum": 0.5},
        {"hidden": 3, "init_range": 1.0},
        {"per_pattern": True},
    ],
)
def test_batched_equals_single_runs_for_the_workarounds(options):
    sweeps = 40 if options.get("per_pattern") else 200
    study = train_many(2, max_sweeps=sweeps, criterion=None, dtype=torch.float64, seed=5, **options)
    single_options = {
        k: v for k, v in options.items() if k not in ("hidden", "init_range", "activation")
    }
    for i in range(2):
        net = SymmetryNet.from_weights(
            study.start_weights(i), activation=study.config["activation"]
        )
        single = train_single(net, max_sweeps=sweeps, criterion=None, **single_options)
        assert max_difference(study.run_weights(i), single.weights) <= 1e-9


def test_study_is_reproducible_and_summarised():
    a = train_many(150, max_sweeps=3000, seed=1)
    b = train_many(150, max_sweeps=3000, seed=1)
    assert a.sweeps == b.sweeps and a.labels == b.labels
    assert 0.4 <= a.success_rate <= 0.9
    low, high = a.success_interval()
    assert low < a.success_rate < high
    assert set(a.label_counts()) <= {"solved", "plateau", "local_minimum", "improving", "diverged"}
    assert all(
        (label == "solved") == (s is not None) for label, s in zip(a.labels, a.sweeps, strict=True)
    )
    q1, median, q3 = a.sweep_quantiles()
    assert q1 <= median <= q3 and median == a.median_sweeps
    assert a.weights["hidden.weight"].shape == (150, 2, 6)
    assert a.history.shape == (len(a.history_sweeps), 150)
    assert "solved" in str(a) and repr(a).startswith("StudyResult(") and len(repr(a)) < 200


def test_a_study_run_can_be_recreated_as_a_single_run():
    study = train_many(6, max_sweeps=1500, seed=2, dtype=torch.float64)
    for i in range(6):
        assert max_difference(study.start_weights(i), initial_weights(2, i)) == 0
    i = next((k for k, s in enumerate(study.sweeps) if s is not None), 0)
    single = train_single(SymmetryNet.from_weights(study.start_weights(i)), max_sweeps=1500)
    assert single.sweeps == study.sweeps[i]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_seeds": 0}, "n_seeds"),
        ({"n_seeds": 2, "max_sweeps": -5}, "max_sweeps"),
        ({"n_seeds": 2, "activation": "gelu"}, "sigmoid, tanh, relu"),
        ({"n_seeds": 2, "optimizer": "lbfgs"}, "sgd, adam"),
        ({"n_seeds": 2, "loss": "hinge"}, "sse, cross_entropy"),
        ({"n_seeds": 2, "criterion": "exact"}, "half, 0.2, 0.1"),
        ({"n_seeds": 2, "hidden": 0}, "hidden"),
        ({"n_seeds": 3, "initial_weights": stack_weights([PAPER_WEIGHTS] * 2)}, "n_seeds is 3"),
    ],
)
def test_train_many_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        train_many(**kwargs)


class PlainNet(torch.nn.Module):
    """A 6-2-1 sigmoid network with `hidden` and `output` layers and no `logits()` method."""

    def __init__(self):
        super().__init__()
        self.hidden = torch.nn.Linear(6, 2, dtype=torch.float64)
        self.output = torch.nn.Linear(2, 1, dtype=torch.float64)

    def forward(self, x):
        return torch.sigmoid(self.output(torch.sigmoid(self.hidden(x))))


def test_train_single_accepts_any_module_with_hidden_and_output_layers():
    plain = PlainNet()
    with torch.no_grad():
        for p, w in zip(plain.parameters(), initial_weights(0, 3).values(), strict=True):
            p.copy_(w)
    result = train_single(plain, max_sweeps=50, criterion=None)
    reference = train_single(SymmetryNet.from_weights(initial_weights(0, 3)), 50, criterion=None)
    assert max_difference(result.weights, reference.weights) < 1e-12

    class Wrong(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(6, 1)

    with pytest.raises(ValueError, match="named `hidden`"):
        train_single(Wrong())


# --- float32 study against the single trainer ---------------------------------------------


def test_float32_study_takes_the_single_trainers_sweep_counts():
    # The report trains in float32; the single trainer in float64. Measured on the report's
    # 1,000 seeds at its 20,000-sweep cap (train_many in float32 and in float64): the same 943
    # runs solve, and 38 of their 943 sweep counts move from rounding, 31 by one sweep and 7 by
    # two, all of them counts above 3,960 (so none of the 657 within the 5,000 cap changes
    # side); on these 16 seeds at a 1,200 cap none move.
    n, cap = 16, 1200
    study = train_many(n, max_sweeps=cap, seed=0)
    assert study.config["dtype"] == "float32"
    singles = [
        train_single(SymmetryNet.from_weights(initial_weights(0, i)), max_sweeps=cap).sweeps
        for i in range(n)
    ]
    assert sum(s is not None for s in singles) >= 4 and None in singles
    assert study.sweeps == singles


# --- what a study records, by value -------------------------------------------------------


def test_history_tail_errors_and_labels_match_single_runs():
    cap, every = 500, 10
    starts = [initial_weights(0, i) for i in range(6)]
    study = train_many(
        6, cap, dtype=torch.float64, initial_weights=stack_weights(starts), history_every=every
    )
    assert study.history_sweeps == list(range(0, cap + 1, every)) and study.tail_sweep == 400
    for i, start in enumerate(starts):
        single = train_single(SymmetryNet.from_weights(start), max_sweeps=cap)
        stop = len(single.errors) - 1
        for row, t in enumerate(study.history_sweeps):
            value = float(study.history[row, i])
            if t <= stop:
                assert value == pytest.approx(single.errors[t], abs=1e-9), (i, t)
            else:
                assert value != value, (i, t)  # NaN once the run has stopped
        tail = float(study.tail_errors[i])
        if stop >= study.tail_sweep:
            assert tail == pytest.approx(single.errors[study.tail_sweep], abs=1e-9)
        else:
            assert tail != tail
        assert study.labels[i] == single.failure
    assert "plateau" in study.labels and "solved" not in study.labels[:2]


# --- process-wide settings ----------------------------------------------------------------


@pytest.mark.parametrize("flush", [True, False])
def test_train_many_restores_flush_denormal_and_threads(flush):
    threads = torch.get_num_threads()
    torch.set_flush_denormal(flush)
    try:
        if flush_denormal_is_on() != flush:
            pytest.skip("this CPU cannot flush subnormal floats")
        torch.set_num_threads(2)
        train_many(3, max_sweeps=20, num_threads=1)
        assert flush_denormal_is_on() == flush
        assert torch.get_num_threads() == 2
    finally:
        torch.set_flush_denormal(False)
        torch.set_num_threads(threads)


def test_cross_entropy_needs_logits():
    with pytest.raises(ValueError, match="logits"):
        train_single(PlainNet(), loss="cross_entropy")
