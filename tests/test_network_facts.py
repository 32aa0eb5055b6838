"""Tests of labutils.network_facts: judging a trained network by the paper's reasoning, on
hand-built networks whose verdict is known (tests/test_network_facts_constructed.py holds the
constructed networks that earlier versions misjudged)."""

from __future__ import annotations

import itertools
import subprocess
import sys

import pytest
import torch

from labutils.network_facts import (
    MARGIN,
    check_weights,
    complement_normalised,
    many_network_facts,
    network_facts,
)
from labutils.paper1986 import PAPER_WEIGHTS, paper_weights
from labutils.symmetry_task import forward


def with_magnitudes(outer: float, middle: float, inner: float) -> dict[str, torch.Tensor]:
    """The paper's network with other mirror-pair magnitudes on both hidden units."""
    w = paper_weights()
    row = torch.tensor([outer, middle, inner, -inner, -middle, -outer], dtype=torch.float64)
    w["hidden.weight"] = torch.stack([row, -row])
    return w


def smallest_signed_sum(magnitudes: tuple[float, float, float]) -> float:
    """min |s . m| over s in {-1, 0, 1}^3 without s = 0, written out independently of the code:
    an asymmetric input of an anti-symmetric unit gives exactly such a sum."""
    return min(
        abs(sum(s * m for s, m in zip(signs, magnitudes, strict=True)))
        for signs in itertools.product((-1, 0, 1), repeat=3)
        if any(signs)
    )


def complement_unit(weights: dict[str, torch.Tensor], unit: int) -> dict[str, torch.Tensor]:
    """Replace hidden unit `unit` by its complement (same network function)."""
    w = {key: value.clone() for key, value in weights.items()}
    v = float(w["output.weight"][0, unit])
    w["hidden.weight"][unit] *= -1
    w["hidden.bias"][unit] *= -1
    w["output.weight"][0, unit] = -v
    w["output.bias"] += v
    return w


# --- the paper's network --------------------------------------------------------------------


def test_paper_network_solves_by_the_papers_reason():
    facts = network_facts(PAPER_WEIGHTS)
    assert facts.solves and facts.within_half and facts.error < facts.error_bound == 3.5
    assert facts.mirror_antisymmetric and facts.paper_reason and facts.twins
    assert facts.paper_signs and facts.complemented == (False, False)
    assert facts.used == (True, True) and min(facts.output_effect) > 0.5
    assert facts.scale == pytest.approx((14.2, 14.2))
    assert facts.pair_antisymmetry_error == ((0.0, 0.0, 0.0), (0.0, 0.0, 0.0))
    # 14.2 - 7.2 - 3.6 = 3.4 is the smallest asymmetric sum; symmetric inputs give 0.
    assert facts.smallest_asymmetric_sum == pytest.approx((3.4, 3.4))
    assert facts.largest_symmetric_sum == pytest.approx((0.0, 0.0), abs=1e-12)
    assert facts.ratios[0] == pytest.approx((1.0, 2.0, 14.2 / 3.6))
    assert facts.ratio_text(0) == "1.0:2.0:3.9"
    assert "[yes] solves the task" in str(facts) and len(facts.lines()) == 7


# --- ratios: judged by the property, not by a window around 1:2:4 -----------------------------


def test_ratio_1_2_3_collides_and_fails_nonzero_sums():
    facts = network_facts(with_magnitudes(10.8, 7.2, 3.6))  # 3.6 + 7.2 - 10.8 = 0
    assert facts.mirror_antisymmetric
    assert facts.nonzero_sums == (False, False) and not facts.paper_reason
    assert facts.smallest_asymmetric_sum[0] == pytest.approx(0.0, abs=1e-12)
    assert facts.ratios[0] == pytest.approx((1.0, 2.0, 3.0))


@pytest.mark.parametrize(
    "ratio", [(1.0, 1.5, 3.0), (1.0, 2.5, 5.0), (2.0, 3.0, 4.0), (1.0, 2.0, 3.2), (1.0, 1.9, 3.0)]
)
@pytest.mark.parametrize("smallest", [3.6, 0.6, 36.0])
def test_other_ratios_are_judged_by_the_smallest_asymmetric_sum(ratio, smallest):
    magnitudes = tuple(smallest * r / ratio[0] for r in ratio)
    facts = network_facts(with_magnitudes(*magnitudes[::-1]))
    # The margin is a fraction of the unit's largest weight: the verdict ignores the scale.
    expected = smallest_signed_sum(magnitudes) >= MARGIN * max(magnitudes)
    assert expected is (ratio not in ((1.0, 2.0, 3.2), (1.0, 1.9, 3.0)))
    assert facts.smallest_asymmetric_sum[0] == pytest.approx(smallest_signed_sum(magnitudes))
    assert facts.nonzero_sums == (expected, expected)
    assert facts.paper_reason is expected
    assert facts.ratios[1] == pytest.approx(tuple(r / ratio[0] for r in ratio))


def test_a_network_and_the_same_network_scaled_get_one_verdict():
    # 0.6 : 0.9 : 1.8 gives 1.8 - 0.9 - 0.6 = 0.3, a sixth of its largest weight, like the
    # paper-sized 3.6 : 5.4 : 10.8 (1.8 of 10.8); the absolute margin 0.5 of earlier versions
    # failed the small one. 1 : 2 : 3.2 gives a sixteenth (< MARGIN = 0.1) at every scale.
    for scale in (0.01, 1.0, 100.0):
        assert network_facts(with_magnitudes(*(scale * m for m in (10.8, 5.4, 3.6)))).paper_reason
        assert not network_facts(with_magnitudes(*(scale * m for m in (3.2, 2, 1)))).paper_reason


def test_no_three_pair_magnitudes_beat_a_quarter_of_the_largest():
    # The documented reason for MARGIN: the best code's smallest asymmetric sum is 0.25 of the
    # largest weight (1:2:4 and 2:3:4 reach it), searched over a grid of ratios a <= b <= 1.
    grid = torch.arange(1, 101, dtype=torch.float64) / 100
    a, b = (t.flatten() for t in torch.meshgrid(grid, grid, indexing="ij"))
    keep = a <= b
    m = torch.stack([a[keep], b[keep], torch.ones_like(a[keep])], 1)
    signs = torch.tensor(
        [s for s in itertools.product((-1, 0, 1), repeat=3) if any(s)], dtype=torch.float64
    )
    best = (m @ signs.T).abs().amin(1)
    assert float(best.max()) == pytest.approx(0.25)
    assert smallest_signed_sum((1, 2, 4)) / 4 == smallest_signed_sum((2, 3, 4)) / 4 == 0.25


def test_a_symmetric_input_that_does_not_cancel_fails_nonzero_sums():
    w = paper_weights()
    w["hidden.weight"][0, 0] = 13.8  # partner stays -14.2: still anti-symmetric within 10%
    facts = network_facts(w)
    assert facts.antisymmetric == (True, True)
    assert facts.largest_symmetric_sum[0] == pytest.approx(0.4)  # 0.028 of 14.2 > 0.02
    assert facts.nonzero_sums == (False, True)


# --- complements ------------------------------------------------------------------------------


@pytest.mark.parametrize("unit", [0, 1])
def test_complement_of_a_paper_unit_gets_the_papers_verdict(unit):
    flipped = complement_unit(paper_weights(), unit)
    _, y = forward(flipped)
    _, y_paper = forward(PAPER_WEIGHTS)
    assert float((y - y_paper).abs().max()) < 1e-12
    facts, paper = network_facts(flipped), network_facts(PAPER_WEIGHTS)
    assert facts.complemented == tuple(j == unit for j in range(2))
    for name in ("solves", "mirror_antisymmetric", "paper_reason", "twins", "paper_signs"):
        assert getattr(facts, name) == getattr(paper, name), name
    for unit_ratio, paper_ratio in zip(facts.ratios, paper.ratios, strict=True):
        assert unit_ratio == pytest.approx(paper_ratio)
    normal, replaced = complement_normalised(flipped)
    assert replaced.tolist() == [j == unit for j in range(2)]
    for key, value in paper_weights().items():
        assert torch.allclose(normal[key], value, atol=1e-12), key


# --- solving needs more than every output on the right side of 0.5 ----------------------------


def test_outputs_within_049_but_worse_than_a_constant_do_not_solve():
    w = paper_weights()
    w["output.weight"] *= 0.03  # the paper's answers, squeezed towards 0.5
    w["output.bias"] *= 0.03
    facts = network_facts(w)
    assert facts.within_half and 0.48 < facts.max_miss < 0.49
    assert facts.error > 3.5 and not facts.solves
    assert facts.paper_reason  # the hidden layer still works the paper's way
    assert "[no ] solves the task" in str(facts)


def test_a_wrong_answer_does_not_solve():
    w = paper_weights()
    w["output.bias"] -= 20.0  # says "not symmetric" to everything
    facts = network_facts(w)
    assert not facts.within_half and not facts.solves and facts.max_miss > 0.5


# --- degenerate units ---------------------------------------------------------------------------


def test_an_all_zero_unit_is_not_used_and_has_no_ratio():
    w = paper_weights()
    w["hidden.weight"][1] = 0.0
    facts = network_facts(w)
    assert facts.used == (True, False) and facts.output_effect[1] < 1e-12
    assert facts.degenerate == (False, True)  # the alias of earlier versions
    assert facts.ratios[1] is None and not facts.antisymmetric[1]
    assert not facts.nonzero_sums[1]
    assert all(abs(r) < 10 for r in facts.ratios[0])
    assert facts.used_units == [0] and facts.paper_reason
    assert "hidden unit 2: not used" in str(facts)


def test_every_unit_unused_is_not_the_papers_reason():
    w = paper_weights()
    w["hidden.weight"].zero_()
    facts = network_facts(w)
    assert facts.used == (False, False) and facts.ratios == (None, None)
    assert not facts.mirror_antisymmetric and not facts.paper_reason and not facts.solves


def test_a_zero_pair_leaves_the_ratio_undefined():
    facts = network_facts(with_magnitudes(14.2, 7.2, 0.0))
    assert facts.ratios[0] is None and facts.ratio_text(0) == "undefined"
    assert not facts.paper_reason  # the inner pair alone differing gives sum 0


def test_one_and_three_hidden_units():
    w = paper_weights()
    one = {
        "hidden.weight": w["hidden.weight"][:1],
        "hidden.bias": w["hidden.bias"][:1],
        "output.weight": w["output.weight"][:, :1],
        "output.bias": w["output.bias"],
    }
    assert network_facts(one).twins is None
    three = {
        "hidden.weight": torch.cat([w["hidden.weight"], torch.zeros(1, 6, dtype=torch.float64)]),
        "hidden.bias": torch.cat([w["hidden.bias"], torch.zeros(1, dtype=torch.float64)]),
        "output.weight": torch.cat([w["output.weight"], torch.zeros(1, 1, dtype=torch.float64)], 1),
        "output.bias": w["output.bias"],
    }
    facts = network_facts(three)
    assert facts.solves and facts.paper_reason and facts.used == (True, True, False)


def test_many_network_facts_matches_one_at_a_time():
    nets = [paper_weights(), with_magnitudes(10.8, 7.2, 3.6), complement_unit(paper_weights(), 1)]
    batched = {key: torch.stack([n[key] for n in nets]) for key in nets[0]}
    for many, one in zip(
        many_network_facts(batched), [network_facts(n) for n in nets], strict=True
    ):
        assert (many.solves, many.paper_reason, many.complemented) == (
            one.solves,
            one.paper_reason,
            one.complemented,
        )
        assert many.error == pytest.approx(one.error, abs=1e-12)
        assert many.smallest_asymmetric_sum == pytest.approx(one.smallest_asymmetric_sum, abs=1e-12)


def test_non_finite_weights_are_judged_not_crashed_on():
    w = paper_weights()
    w["hidden.weight"][0, 0] = float("nan")
    facts = network_facts(w)
    assert not facts.solves and not facts.paper_reason and facts.ratios[0] is None
    w = paper_weights()
    w["output.bias"][0] = float("inf")
    facts = network_facts(w)
    assert not facts.solves and not facts.within_half and "not below" in facts.lines()[0]


# --- bad input ----------------------------------------------------------------------------------


def test_bad_weights_are_named():
    with pytest.raises(ValueError, match="lack output.bias"):
        network_facts({k: v for k, v in paper_weights().items() if k != "output.bias"})
    w = paper_weights()
    w["hidden.weight"] = torch.zeros(2, 5, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"hidden.weight: expected shape \(h, 6\)"):
        check_weights(w)
    w = paper_weights()
    w["output.weight"] = torch.zeros(2, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"output.weight: expected shape \(1, 2\)"):
        check_weights(w)
    with pytest.raises(ValueError, match="mapping"):
        network_facts([1, 2, 3])


# --- the boundary -------------------------------------------------------------------------------


def test_student_modules_do_not_import_the_instructor_package():
    code = (
        "import sys\n"
        "import labutils.network_facts, labutils.network_plots, labutils.network_weights\n"
        "import labutils.paper1986, labutils.stats\n"
        "print([m for m in sys.modules if m.startswith('labutils.instructor')])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
