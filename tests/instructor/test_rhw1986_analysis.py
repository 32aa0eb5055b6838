"""Tests of labutils.instructor.rhw1986.analysis: the paper's solution checks and the failure labels."""

from __future__ import annotations

import math

import pytest
import torch

from labutils.instructor.rhw1986 import (
    CHECK_NAMES,
    PAPER_WEIGHTS,
    analyse_solution,
    classify_failure,
    paper_weights,
    solution_checks,
    stack_weights,
    summarise_solutions,
)


def test_paper_figure_1_passes_every_check():
    report = analyse_solution(PAPER_WEIGHTS)
    assert report.passed and report.reasons == []
    assert report.verdict == "matches the paper's solution"
    assert all(report.checks[key] for key in CHECK_NAMES)
    assert max(report.antisymmetry_error) < 1e-12
    assert report.twin_correlation == pytest.approx(-1.0)
    assert report.left_ratios[0] == pytest.approx([1.0, 2.0, 3.944], abs=1e-3)
    text = str(report)
    assert "verdict: matches the paper's solution" in text and len(report.lines()) == 8


def test_breaking_the_mirror_symmetry_fails_with_that_reason():
    w = paper_weights()
    w["hidden.weight"][0, 0] = 3.0  # was 14.2, its mirror partner stays -14.2
    report = analyse_solution(w)
    assert not report.passed and not report.checks["antisymmetric"]
    assert any("hidden unit 1 is not mirror anti-symmetric" in r for r in report.reasons)


def test_breaking_the_ratio_fails_with_that_reason():
    w = paper_weights()
    row = torch.tensor([20.0, 10.8, 3.6, -3.6, -10.8, -20.0], dtype=torch.float64)
    w["hidden.weight"] = torch.stack([row, -row])  # still mirrored and solving, but 1:3:5.6
    report = analyse_solution(w)
    assert report.checks["antisymmetric"] and report.checks["classifies_all"]
    assert not report.checks["ratio_124"] and not report.passed
    assert report.verdict == "solves the task, but not the way the paper's network does"
    assert any("not 1:2:4" in r for r in report.reasons)


def test_flipped_sign_pattern_and_a_non_solution():
    w = paper_weights()
    w["output.bias"] = -w["output.bias"]
    report = analyse_solution(w)
    assert not report.checks["output_bias_positive"] and not report.checks["classifies_all"]
    assert report.verdict.startswith("does not solve the task")
    assert report.n_wrong == 8  # it now answers "not symmetric" for every case
    assert any("sign pattern" in r for r in report.reasons)


@pytest.mark.parametrize(
    ("key", "shape", "expected"),
    [
        ("hidden.weight", (2, 5), r"hidden.weight: expected shape \(2, 6\), got \(2, 5\)"),
        ("hidden.bias", (3,), r"hidden.bias: expected shape \(2,\), got \(3,\)"),
        ("output.weight", (2, 1), r"output.weight: expected shape \(1, 2\), got \(2, 1\)"),
        ("output.bias", (), r"output.bias: expected shape \(1,\), got \(\)"),
    ],
)
def test_wrong_shapes_name_expected_and_got(key, shape, expected):
    w = paper_weights()
    w[key] = torch.zeros(shape, dtype=torch.float64)
    with pytest.raises(ValueError, match=expected):
        analyse_solution(w)


def test_missing_keys_and_non_mappings_are_rejected():
    w = paper_weights()
    del w["output.bias"]
    with pytest.raises(ValueError, match="lack output.bias"):
        analyse_solution(w)
    with pytest.raises(ValueError, match="mapping"):
        analyse_solution([1, 2, 3])


def test_batched_checks_and_summary():
    batch = stack_weights([PAPER_WEIGHTS, PAPER_WEIGHTS])
    batch["hidden.weight"][1, 0, 0] = 3.0
    checks = solution_checks(batch)
    assert checks["antisymmetric"].tolist() == [True, False]
    shares = summarise_solutions(batch)
    assert shares["antisymmetric"] == 0.5 and shares["all"] == 0.5
    assert shares["output_bias_positive"] == 1.0


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
