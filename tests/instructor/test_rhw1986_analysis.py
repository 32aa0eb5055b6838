"""Tests of labutils.instructor.rhw1986.analysis: study summaries and the failure labels."""

from __future__ import annotations

import math

import pytest
import torch

from labutils.instructor.rhw1986 import (
    FACT_NAMES,
    PAPER_WEIGHTS,
    classify_failure,
    classify_failures,
    paper_weights,
    stack_weights,
    summarise_solutions,
)


def test_summary_is_the_share_of_each_verdict_over_the_networks():
    # Figure 1 holds every fact. With its first unit's inner pair set to (+0.6, +0.6) the
    # network misses a case by 0.95 (no "solves"), that pair no longer has opposite weights
    # (no mirror anti-symmetry, nor the paper's reason), but the units stay sign-flipped twins
    # (cosine -0.97) with Figure 1's signs.
    one_pair_same_sign = paper_weights()
    one_pair_same_sign["hidden.weight"][0, 2:4] = 0.6
    assert summarise_solutions(stack_weights([PAPER_WEIGHTS])) == dict.fromkeys(FACT_NAMES, 1.0)
    shares = summarise_solutions(stack_weights([one_pair_same_sign, PAPER_WEIGHTS,
                                                one_pair_same_sign]))
    assert shares == pytest.approx({"solves": 1 / 3, "mirror_antisymmetric": 1 / 3,
                                    "paper_reason": 1 / 3, "twins": 1.0, "paper_signs": 1.0})


def test_summary_counts_each_fact_over_a_batch():
    collide = paper_weights()
    row = torch.tensor([10.8, 7.2, 3.6, -3.6, -7.2, -10.8], dtype=torch.float64)
    collide["hidden.weight"] = torch.stack([row, -row])  # 1:2:3, sums collide
    wrong = paper_weights()
    wrong["output.bias"] -= 20.0  # answers "not symmetric" everywhere
    batch = stack_weights([PAPER_WEIGHTS, collide, wrong, PAPER_WEIGHTS])
    shares = summarise_solutions(batch)
    assert list(shares) == list(FACT_NAMES)
    assert shares["solves"] == pytest.approx(0.5)  # paper twice; 1:2:3 misses some cases
    # `wrong` answers 0 whatever its hidden units do: no unit is used, so nothing holds.
    assert shares["paper_reason"] == pytest.approx(0.5)  # the paper twice
    assert shares["mirror_antisymmetric"] == 0.75 and shares["twins"] == 0.75
    assert shares["paper_signs"] == pytest.approx(0.75)
    strict = summarise_solutions(batch, margin=0.25)
    assert strict["paper_reason"] == 0.0  # the paper's smallest asymmetric sum is 3.4 / 14.2


def _stuck(output_bias: float) -> dict[str, torch.Tensor]:
    w = paper_weights()
    w["output.bias"] = torch.tensor([output_bias], dtype=torch.float64)
    return w


def test_classify_failure_labels():
    flat = [4.0] * 101
    assert classify_failure(_stuck(-30.0), flat) == "plateau"
    assert classify_failure(_stuck(-30.0), [10.0 - 0.05 * t for t in range(101)]) == "improving"
    assert classify_failure(_stuck(9.0), [2.0] * 101) == "local_minimum"
    broken = _stuck(math.nan)
    assert classify_failure(broken, [math.nan] * 3) == "diverged"
    with pytest.raises(ValueError, match="errors is empty"):
        classify_failure(PAPER_WEIGHTS, [])


def test_classify_failures_labels_only_the_unsolved():
    batch = stack_weights([PAPER_WEIGHTS, _stuck(-30.0), _stuck(9.0)])
    final = torch.tensor([0.3, 4.0, 2.0], dtype=torch.float64)
    tail = torch.tensor([0.3, 4.0, 2.0], dtype=torch.float64)
    labels = classify_failures(batch, [120, None, None], final, tail)
    assert labels == ["solved", "plateau", "local_minimum"]
