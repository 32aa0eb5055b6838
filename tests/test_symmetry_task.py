"""Tests of labutils.symmetry_task, the one model of the mirror-symmetry task: the 64 cases,
the forward pass for each activation, E and one sweep of the paper's rule, in any dtype."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from torch import nn

from labutils.symmetry_task import (
    ACTIVATIONS,
    WEIGHT_KEYS,
    case_label,
    cases,
    codes_of,
    forward,
    gradient,
    summed_error,
    sweep,
    weight_shapes,
)


def start(seed: int, hidden: int = 2, dtype: torch.dtype = torch.float64) -> dict:
    """Weights uniform in [-1, 1] (a generic point, not the protocol's start)."""
    g = torch.Generator().manual_seed(seed)
    return {k: (torch.rand(s, generator=g, dtype=torch.float64) * 2 - 1).to(dtype)
            for k, s in weight_shapes(hidden).items()}


FUNCTIONS = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}
"""The hidden-unit functions written out here, independently of ACTIVATIONS."""


class Net(nn.Module):
    """A 6-h-1 network of nn.Linear layers named as WEIGHT_KEYS say."""

    def __init__(self, w: dict, name: str) -> None:
        super().__init__()
        h = w["hidden.weight"].shape[0]
        self.hidden = nn.Linear(6, h, dtype=w["hidden.weight"].dtype)
        self.output = nn.Linear(h, 1, dtype=w["hidden.weight"].dtype)
        self.load_state_dict(w)
        self.fn = FUNCTIONS[name]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.output(self.fn(self.hidden(x))))


# --- the cases --------------------------------------------------------------------------------


def test_the_64_cases_are_distinct_and_8_are_mirror_symmetric():
    x, d = cases()
    assert x.shape == (64, 6) and d.shape == (64,) and x.dtype == d.dtype == torch.float64
    assert codes_of(x).tolist() == list(range(64))
    assert x[5].tolist() == [0, 0, 0, 1, 0, 1] and x[63].tolist() == [1] * 6
    symmetric = [i for i in range(64) if case_label(i) == case_label(i)[::-1]]
    assert len(symmetric) == 8 and d.nonzero().flatten().tolist() == symmetric
    assert int(d.sum()) == 8 and set(d.tolist()) == {0.0, 1.0}


def test_cases_in_a_given_order_and_dtype():
    order = torch.randperm(64, generator=torch.Generator().manual_seed(0))
    x, d = cases(order, torch.float32)
    assert x.dtype == d.dtype == torch.float32
    assert torch.equal(codes_of(x), order)
    assert torch.equal(d, cases()[1][order].float())


def test_case_label_rejects_out_of_range():
    assert case_label(12) == "001100"
    with pytest.raises(ValueError, match="0..63"):
        case_label(64)


# --- the network ------------------------------------------------------------------------------


def test_weight_keys_and_shapes_are_those_of_nn_linear_layers():
    net = Net(start(0, hidden=3), "sigmoid")
    assert tuple(net.state_dict()) == WEIGHT_KEYS
    assert {k: tuple(v.shape) for k, v in net.state_dict().items()} == weight_shapes(3)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_forward_matches_an_nn_module(name, dtype):
    w = start(1, hidden=3, dtype=dtype)
    x = cases()[0]
    hidden, y = forward(w, hidden=name)
    assert hidden.shape == (64, 3) and y.shape == (64,) and y.dtype == dtype
    torch.testing.assert_close(y, Net(w, name)(x.to(dtype))[:, 0].detach())


def test_forward_of_batched_weights_is_each_network_forward():
    runs = [start(seed) for seed in range(3)]
    batched = {k: torch.stack([w[k] for w in runs]) for k in WEIGHT_KEYS}
    hidden, y = forward(batched, hidden="tanh")
    assert hidden.shape == (3, 64, 2) and y.shape == (3, 64)
    for s, w in enumerate(runs):
        torch.testing.assert_close(y[s], forward(w, hidden="tanh")[1])


def test_forward_takes_functions_and_rejects_unknown_activations():
    w = start(2)
    identity = forward(w, hidden=lambda t: t, output=lambda t: t)[1]
    x = cases()[0]
    by_hand = (x @ w["hidden.weight"].T + w["hidden.bias"]) @ w["output.weight"][0]
    torch.testing.assert_close(identity, by_hand + w["output.bias"])
    with pytest.raises(ValueError, match="unknown activation 'swish'.*sigmoid, tanh, relu"):
        forward(w, hidden="swish")


# --- E and the paper's rule -------------------------------------------------------------------


def test_summed_error_is_half_the_sum_per_network():
    y, d = torch.tensor([0.5, 1.0, 0.0]), torch.tensor([1.0, 1.0, 1.0])
    assert float(summed_error(y, d)) == pytest.approx(0.5 * (0.25 + 0 + 1))
    assert float(summed_error(y[:, None], d[:, None])) == pytest.approx(0.625)
    assert summed_error(torch.stack([y, d]), d).tolist() == pytest.approx([0.625, 0.0])
    for wrong in (d[:2], d[:, None]):
        with pytest.raises(ValueError, match="same shape"):
            summed_error(y, wrong)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_sweeps_equal_autograd_and_momentum_by_hand(name):
    w, velocity = start(3), None
    params = {k: v.clone().requires_grad_() for k, v in w.items()}
    moved = {k: torch.zeros_like(v) for k, v in w.items()}
    x, d = cases()
    for t in range(5):
        eps, alpha = 0.3 / (t + 1), 0.7
        w_before = w
        w, velocity = sweep(w, velocity, eps=eps, alpha=alpha, hidden=name)
        y = torch.sigmoid(FUNCTIONS[name](x @ params["hidden.weight"].T + params["hidden.bias"])
                          @ params["output.weight"][0] + params["output.bias"])
        error = 0.5 * ((y - d) ** 2).sum()
        grads = torch.autograd.grad(error, list(params.values()))
        assert float(gradient(w_before, hidden=name)[0]) == pytest.approx(error.item(), abs=1e-12)
        with torch.no_grad():
            for (k, p), g in zip(params.items(), grads, strict=True):
                moved[k] = -eps * g + alpha * moved[k]
                p += moved[k]
    for k in WEIGHT_KEYS:
        torch.testing.assert_close(w[k], params[k].detach(), rtol=0, atol=1e-12)
        torch.testing.assert_close(velocity[k], moved[k], rtol=0, atol=1e-12)


def test_gradient_returns_e_and_a_sweep_keeps_the_dtype():
    w = start(4, dtype=torch.float32)
    error, grads = gradient(w)
    assert float(error) == pytest.approx(float(summed_error(forward(w)[1], cases()[1])))
    assert all(grads[k].shape == w[k].shape and grads[k].dtype == torch.float32 for k in w)
    new, velocity = sweep(w, None, eps=0.1, alpha=0.9)
    assert all(new[k].dtype == velocity[k].dtype == torch.float32 for k in WEIGHT_KEYS)
    assert all(torch.equal(velocity[k], -0.1 * grads[k]) for k in WEIGHT_KEYS)


def test_gradient_over_some_cases_only():
    w = start(5)
    x, d = cases()
    whole = gradient(w)[1]
    halves = [gradient(w, x[part], d[part])[1] for part in (slice(0, 32), slice(32, 64))]
    for k in WEIGHT_KEYS:
        torch.testing.assert_close(halves[0][k] + halves[1][k], whole[k])


def test_the_model_imports_nothing_instructor_only():
    code = ("import sys, labutils.symmetry_task\n"
            "print([m for m in sys.modules if m.startswith('labutils.') and m != "
            "'labutils.symmetry_task'])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
