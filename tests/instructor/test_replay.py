"""The grader's judgement of the collected data (labutils.instructor.grading.replay), in-process
on plain data: training and network points only for a start the protocol could have drawn,
trained long enough by the paper's rule; a replay that does not stay finite is no match."""

from __future__ import annotations

import io

import torch

from labutils import checks
from labutils.instructor.grading import replay
from labutils.network_facts import network_facts
from labutils.paper1986 import paper_weights
from labutils.symmetry_task import WEIGHT_KEYS, cases, weight_shapes

SHAPES = weight_shapes(2)


def uniform_start(seed: int, bound: float) -> dict[str, torch.Tensor]:
    """Every weight and bias uniform in [-bound, bound] (float64)."""
    g = torch.Generator().manual_seed(seed)
    return {k: (torch.rand(s, generator=g, dtype=torch.float64) * 2 - 1) * bound
            for k, s in SHAPES.items()}


def collected(initial: dict, sweeps: int, final: dict | None = None) -> dict[str, torch.Tensor]:
    """What the collection cell hands over for an honest run of the paper's rule from `initial`
    (`final` forges the final weights)."""
    x, d = cases()
    errors, replayed = replay.replay(initial, sweeps)
    final = replayed if final is None else final
    data = {"inputs": x, "targets": d, "errors": torch.tensor(errors, dtype=torch.float64),
            "sweeps": torch.tensor(sweeps)}
    for key in WEIGHT_KEYS:
        data[f"initial/{key}"], data[f"final/{key}"] = initial[key], final[key]
    return data


def judged(data: dict[str, torch.Tensor]) -> replay.Verdict:
    """The grader's verdict on the collection file holding `data`."""
    raw = io.BytesIO()
    torch.save(data, raw)
    return replay.judge(raw.getvalue())


def test_a_drawn_start_trained_long_enough_earns_the_points():
    for seed in range(3):
        verdict = judged(collected(uniform_start(seed, 0.3), 50))
        assert verdict.replay_matches and verdict.start_ok and verdict.trained, verdict.findings


def test_figure1_declared_as_the_start_with_0_sweeps_earns_nothing():
    verdict = judged(collected(paper_weights(), 0))
    assert verdict.replay_matches  # nothing to replay: the replay cannot tell
    assert not verdict.start_ok and not verdict.trained
    text = "; ".join(verdict.findings)
    assert "Figure 1" in text and "(no training)" in text and "only 0 sweeps" in text, text
    assert "no training or network points" in text, text


def test_a_start_that_already_solves_plus_5_sweeps_earns_nothing():
    row = torch.tensor([3.6, 7.2, 14.2, -14.2, -7.2, -3.6], dtype=torch.float64)
    solved = {"hidden.weight": torch.stack([row, -row]),
              "hidden.bias": torch.tensor([-1.1, -1.1], dtype=torch.float64),
              "output.weight": torch.tensor([[-8.8, -8.8]], dtype=torch.float64),
              "output.bias": torch.tensor([6.4], dtype=torch.float64)}
    assert network_facts(solved).solves
    verdict = judged(collected(solved, 5))
    assert verdict.replay_matches and not verdict.trained
    assert any("already solve" in f for f in verdict.findings), verdict.findings


def test_a_start_from_a_wide_range_earns_nothing():
    verdict = judged(collected(uniform_start(0, 15.0), 50))
    assert verdict.replay_matches and not verdict.start_ok and not verdict.trained
    assert any("start not one the protocol could draw" in f for f in verdict.findings)


def test_a_start_from_a_slightly_wider_range_earns_nothing_in_20_seeds():
    trained = [judged(collected(uniform_start(seed, 0.5), 50)).trained
               for seed in range(20)]
    assert not any(trained), trained


def test_a_handful_of_sweeps_earns_no_training_points():
    verdict = judged(collected(uniform_start(0, 0.3), 5))
    assert verdict.replay_matches and verdict.start_ok and not verdict.trained
    assert any("only 5 sweeps" in f for f in verdict.findings), verdict.findings


def test_a_replay_that_overflows_is_no_match():
    """Weights near the float64 maximum: the replayed hidden weights overflow to inf after two
    sweeps, so a forged finite final weight gave a NaN gap, which used to pass."""
    big = 1.7e308
    start = {"hidden.weight": torch.tensor([[big, -big, 0, 0, 0, 0]] * 2, dtype=torch.float64),
             "hidden.bias": torch.zeros(2, dtype=torch.float64),
             "output.weight": torch.tensor([[big, -big]], dtype=torch.float64),
             "output.bias": torch.zeros(1, dtype=torch.float64)}
    _, replayed = replay.replay(start, 2)
    assert not torch.isfinite(replayed["hidden.weight"]).all()
    forged = {**replayed, "hidden.weight": paper_weights()["hidden.weight"]}
    verdict = judged(collected(start, 2, final=forged))
    assert verdict.replay.startswith("differs"), verdict.replay
    assert not verdict.trained


def test_the_grader_and_the_self_check_share_one_start_test():
    assert replay.start_problem is checks.start_problem
    start = uniform_start(0, 15.0)
    message = checks.start_problem(start).message
    assert any(message in f for f in judged(collected(start, 50)).findings)
