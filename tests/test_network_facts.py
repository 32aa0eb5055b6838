"""Tests of the student-safe helpers for experiment 1: labutils.network_facts (judging a
trained network by the paper's reasoning, on hand-built networks), labutils.paper1986,
labutils.stats and labutils.network_plots."""

from __future__ import annotations

import itertools
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
import torch  # noqa: E402

from labutils.network_facts import (  # noqa: E402
    MARGIN,
    check_weights,
    complement_normalised,
    many_network_facts,
    network_facts,
    network_outputs,
)
from labutils.network_plots import draw_network, hinton_plot  # noqa: E402
from labutils.paper1986 import PAPER_SWEEPS, PAPER_URL, PAPER_WEIGHTS, paper_weights  # noqa: E402
from labutils.stats import wilson_interval  # noqa: E402


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


@pytest.mark.parametrize("ratio", [(1.0, 1.5, 3.0), (1.0, 2.5, 5.0), (2.0, 3.0, 4.0)])
@pytest.mark.parametrize("smallest", [3.6, 0.6])
def test_other_ratios_are_judged_by_the_smallest_asymmetric_sum(ratio, smallest):
    magnitudes = tuple(smallest * r / ratio[0] for r in ratio)
    facts = network_facts(with_magnitudes(*magnitudes[::-1]))
    expected = smallest_signed_sum(magnitudes) >= MARGIN
    assert facts.smallest_asymmetric_sum[0] == pytest.approx(smallest_signed_sum(magnitudes))
    assert facts.nonzero_sums == (expected, expected)
    assert facts.paper_reason is expected
    assert facts.ratios[1] == pytest.approx(tuple(r / ratio[0] for r in ratio))


def test_the_smaller_1_1p5_3_network_falls_below_the_margin():
    # 0.6 : 0.9 : 1.8 gives 1.8 - 0.9 - 0.6 = 0.3 < 0.5, the paper-sized one 1.8 >= 0.5.
    assert not network_facts(with_magnitudes(1.8, 0.9, 0.6)).paper_reason
    assert network_facts(with_magnitudes(10.8, 5.4, 3.6)).paper_reason


def test_a_symmetric_input_that_does_not_cancel_fails_nonzero_sums():
    w = paper_weights()
    w["hidden.weight"][0, 0] = 13.9  # partner stays -14.2: still anti-symmetric within 10%
    facts = network_facts(w)
    assert facts.antisymmetric == (True, True)
    assert facts.largest_symmetric_sum[0] == pytest.approx(0.3)
    assert facts.nonzero_sums == (False, True)


# --- complements ------------------------------------------------------------------------------


@pytest.mark.parametrize("unit", [0, 1])
def test_complement_of_a_paper_unit_gets_the_papers_verdict(unit):
    flipped = complement_unit(paper_weights(), unit)
    _, y = network_outputs(flipped)
    _, y_paper = network_outputs(PAPER_WEIGHTS)
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


def test_an_all_zero_unit_is_degenerate_with_no_ratio():
    w = paper_weights()
    w["hidden.weight"][1] = 0.0
    facts = network_facts(w)
    assert facts.degenerate == (False, True)
    assert facts.ratios[1] is None and not facts.antisymmetric[1]
    assert not facts.nonzero_sums[1]
    assert all(abs(r) < 10 for r in facts.ratios[0])
    assert facts.used_units == [0] and facts.paper_reason
    assert "degenerate" in str(facts)


def test_every_unit_degenerate_is_not_the_papers_reason():
    w = paper_weights()
    w["hidden.weight"].zero_()
    facts = network_facts(w)
    assert facts.degenerate == (True, True) and facts.ratios == (None, None)
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
    assert facts.solves and facts.paper_reason and facts.degenerate == (False, False, True)


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
    with pytest.raises(ValueError, match="unknown activation"):
        network_outputs(paper_weights(), activation="swish")


# --- the paper's numbers --------------------------------------------------------------------------


def test_paper_weights_cannot_be_changed():
    PAPER_WEIGHTS["output.bias"].mul_(-1)
    PAPER_WEIGHTS["hidden.weight"].zero_()
    assert float(PAPER_WEIGHTS["output.bias"]) == pytest.approx(6.4)
    assert float(PAPER_WEIGHTS["hidden.weight"].abs().max()) == pytest.approx(14.2)
    with pytest.raises(TypeError, match="read-only"):
        PAPER_WEIGHTS["output.bias"] = torch.zeros(1)
    assert list(PAPER_WEIGHTS) == list(paper_weights()) and len(PAPER_WEIGHTS) == 4
    copy = paper_weights(torch.float32)
    copy["output.bias"] += 1
    assert copy["output.bias"].dtype == torch.float32
    assert float(PAPER_WEIGHTS["output.bias"]) == pytest.approx(6.4)
    assert PAPER_SWEEPS == 1425 and PAPER_URL.endswith("323533a0")


# --- statistics -------------------------------------------------------------------------------


def test_wilson_interval_known_values_and_bad_input():
    low, high = wilson_interval(657, 1000)
    assert low == pytest.approx(0.6270, abs=1e-4) and high == pytest.approx(0.6858, abs=1e-4)
    assert wilson_interval(0, 50)[0] == 0.0 and wilson_interval(0, 50)[1] == pytest.approx(
        0.0713, abs=1e-4
    )
    assert wilson_interval(50, 50)[1] == 1.0
    wide, narrow = wilson_interval(30, 60, 0.99), wilson_interval(30, 60, 0.9)
    assert wide[0] < narrow[0] and wide[1] > narrow[1]
    for bad in ((1, 0), (5, 3), (-1, 3), (1.5, 3)):
        with pytest.raises(ValueError):
            wilson_interval(*bad)
    with pytest.raises(ValueError, match="confidence"):
        wilson_interval(1, 3, confidence=95)


# --- pictures -----------------------------------------------------------------------------------


def test_network_pictures_have_titles_and_labels():
    ax = draw_network(PAPER_WEIGHTS, title="Figure 1")
    assert ax.get_title().startswith("Figure 1")
    texts = [t.get_text() for t in ax.texts]
    assert "14.2" in texts and "-1.1" in texts and "6.4" in texts
    ax = hinton_plot(PAPER_WEIGHTS, title="Hinton")
    assert ax.get_title().startswith("Hinton") and ax.get_xlabel() and ax.get_ylabel()
    with pytest.raises(ValueError, match="lack"):
        draw_network({})


# --- the boundary -------------------------------------------------------------------------------


def test_student_modules_do_not_import_the_instructor_package():
    code = (
        "import sys\n"
        "import labutils.network_facts, labutils.network_plots\n"
        "import labutils.paper1986, labutils.stats\n"
        "print([m for m in sys.modules if m.startswith('labutils.instructor')])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
