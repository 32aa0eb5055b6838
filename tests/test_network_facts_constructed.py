"""Constructed networks that labutils.network_facts judged against the paper's reasoning before
(issue 18, item 4), each with the verdict the paper's reasoning gives. Every test here failed on
the earlier code (per-unit norm ratio, "used" from the input weights, absolute margins 0.5 and
0.1, E on complement-normalised weights) and passes now."""

from __future__ import annotations

import pytest
import torch

from labutils.network_facts import many_network_facts, network_facts
from labutils.paper1986 import PAPER_WEIGHTS, paper_weights
from labutils.symmetry_task import cases, forward

PAPER_E = network_facts(PAPER_WEIGHTS).error


def add_unit(w: dict, inputs: list[float], bias: float, out: float) -> dict:
    """The network `w` with a third hidden unit."""
    w = {k: v.clone() for k, v in w.items()}
    w["hidden.weight"] = torch.cat([w["hidden.weight"], torch.tensor([inputs]).double()])
    w["hidden.bias"] = torch.cat([w["hidden.bias"], torch.tensor([bias]).double()])
    w["output.weight"] = torch.cat([w["output.weight"], torch.tensor([[out]]).double()], 1)
    return w


def refit_output(w: dict, logit: float = 10.0) -> dict:
    """New output weights -V and bias c: the output's net input is >= +logit on every symmetric
    case and <= -logit on every asymmetric one (the hidden units must separate the two)."""
    hidden, _ = forward(w)
    total = hidden.sum(1)
    symmetric = cases()[1] == 1
    low, high = float(total[symmetric].max()), float(total[~symmetric].min())
    v = 2 * logit / (high - low)
    w = {k: t.clone() for k, t in w.items()}
    w["output.weight"] = torch.full_like(w["output.weight"], -v)
    w["output.bias"] = torch.tensor([v * (low + high) / 2], dtype=torch.float64)
    return w


def random_inputs() -> list[float]:
    g = torch.Generator().manual_seed(0)
    return (torch.rand(6, generator=g, dtype=torch.float64) * 6 - 3).tolist()


# --- (a) anti-symmetry per mirror pair ------------------------------------------------------


def test_one_same_sign_pair_is_not_opposite_weights():
    # Old: one norm ratio per unit, 0.075 <= 0.1, so "opposite weights in every mirror pair".
    w = paper_weights()
    w["hidden.weight"][0, 2:4] = 0.6
    facts = network_facts(w)
    assert facts.antisymmetric == (False, True) and not facts.mirror_antisymmetric
    assert facts.pair_antisymmetry_error[0] == pytest.approx((0.0, 0.0, 2.0))
    assert "[no ] mirror anti-symmetric" in str(facts)


def test_a_third_used_unit_with_a_same_sign_pair_is_not_mirror_anti_symmetric():
    # Old: [16, 8, 0.6, 0.6, -8, -16] has norm ratio 0.067, and the network was "mirror".
    facts = network_facts(add_unit(paper_weights(), [16, 8, 0.6, 0.6, -8, -16], -1.1, -8.8))
    assert facts.used == (True, True, True)
    assert facts.antisymmetric == (True, True, False) and not facts.mirror_antisymmetric


# --- (b) a unit is used only if the outputs depend on it -------------------------------------


@pytest.mark.parametrize(
    "bias, out", [(0.7, 0.0), (-1000.0, -8.8)], ids=["output weight 0", "never on"]
)
def test_an_unused_third_unit_does_not_change_the_verdict(bias, out):
    # Old: the random unit is not "degenerate" (input weights not ~0), so not mirror, not the
    # paper's reason, though the network computes exactly Figure 1's function.
    facts = network_facts(add_unit(paper_weights(), random_inputs(), bias, out))
    assert facts.used == (True, True, False) and facts.output_effect[2] == 0.0
    assert facts.solves and facts.error == pytest.approx(PAPER_E, abs=1e-12)
    assert facts.mirror_antisymmetric and facts.paper_reason and facts.twins
    assert facts.paper_signs and facts.ratios[2] is None
    assert "hidden unit 3: not used" in str(facts)


def test_a_third_unit_the_outputs_depend_on_is_judged():
    # The same random unit with outgoing weight -2: it moves outputs by more than USED_TOL.
    facts = network_facts(add_unit(paper_weights(), random_inputs(), 0.7, -2.0))
    assert facts.used == (True, True, True) and facts.output_effect[2] > 0.01
    assert not facts.mirror_antisymmetric and not facts.paper_reason


# --- (c) margins relative to the unit's largest weight ---------------------------------------


def test_figure_1_scaled_by_a_tenth_and_refitted_is_the_papers_reason():
    # Old: the smallest asymmetric sum 0.34 < 0.5, "not the paper's reason", though E ~ 0.
    w = paper_weights()
    w["hidden.weight"] *= 0.1
    w["hidden.bias"][:] = -1.3
    facts = network_facts(refit_output(w))
    assert facts.solves and facts.error < 1e-6
    assert facts.smallest_asymmetric_sum == pytest.approx((0.34, 0.34))
    assert facts.mirror_antisymmetric and facts.paper_reason


def test_figure_1_times_ten_with_the_outer_pair_one_percent_unequal_is_the_papers_reason():
    # Old: a symmetric input gives 1.42 > 0.1, "not the paper's reason"; 1.42 is 0.0099 of the
    # unit's largest weight 143.42, a 1% difference, as in Figure 1 read off a figure.
    w = {k: 10 * v for k, v in paper_weights().items()}
    w["hidden.weight"][:, 5] *= 1.01
    facts = network_facts(w)
    assert facts.largest_symmetric_sum == pytest.approx((1.42, 1.42))
    assert facts.solves and facts.mirror_antisymmetric and facts.paper_reason


# --- (d) solves and E on the weights as given ------------------------------------------------


def test_a_constant_unit_with_a_huge_outgoing_weight_does_not_flip_solves():
    # Old: the complement of the unit (activity exactly 0 -> 1, weight +1e20 -> -1e20, output
    # bias 6.4 + 1e20 = 1e20) cancels to net input 0: every output 0.5, E = 8, "does not solve".
    w = add_unit(paper_weights(), [0.0] * 6, -1000.0, 1e20)
    facts = network_facts(w)
    assert facts.solves and facts.error == pytest.approx(PAPER_E, abs=1e-12)
    assert facts.used == (True, True, False) and facts.complemented == (False, False, False)
    assert facts.paper_reason


def test_the_constructed_networks_batched_get_the_same_verdicts():
    nets = [
        add_unit(paper_weights(), [0.0] * 6, -1000.0, 1e20),
        add_unit(paper_weights(), random_inputs(), 0.7, 0.0),
        add_unit(paper_weights(), [16, 8, 0.6, 0.6, -8, -16], -1.1, -8.8),
    ]
    batched = {key: torch.stack([n[key] for n in nets]) for key in nets[0]}
    for many, net in zip(many_network_facts(batched), nets, strict=True):
        one = network_facts(net)
        for name in ("solves", "used", "antisymmetric", "nonzero_sums", "paper_reason"):
            assert getattr(many, name) == getattr(one, name), name
        assert many.error == pytest.approx(one.error, abs=1e-12)
