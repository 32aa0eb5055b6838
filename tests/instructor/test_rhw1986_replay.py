"""The 1986 assignment's judgement of the collected data (labutils.instructor.assignments.
rhw1986.replay), in-process on plain data: training points only for a start the protocol could
have drawn, trained long enough by the paper's rule; a replay that does not stay finite is no
match; float32 training by the paper's rule is accepted, other rules and forged data are not."""

from __future__ import annotations

import io

import pytest
import torch

from labutils import checks
from labutils.instructor.assignments.rhw1986 import ASSIGNMENT, replay
from labutils.instructor.grading.loading import load_data
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


def saved(data) -> bytes:
    buffer = io.BytesIO()
    torch.save(data, buffer)
    return buffer.getvalue()


def judge(raw: bytes) -> replay.Verdict:
    """The grader's verdict on the collection file `raw`, loaded as the core loads it."""
    return replay.judge_data(*load_data(raw, spec=ASSIGNMENT.entries))


def judged(data: dict[str, torch.Tensor]) -> replay.Verdict:
    """The grader's verdict on the collection file holding `data`."""
    return judge(saved(data))


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


# -- a student's float32 training, and rules and data that are not the paper's ---------


def student_run(sweeps: int, rule: str = "paper"):
    """The data a student's float32 training would hand over (`rule`: paper, mean, no_momentum)."""
    from torch import nn

    torch.manual_seed(5)
    x = torch.tensor([[(i >> (5 - b)) & 1 for b in range(6)] for i in range(64)],
                     dtype=torch.float32)
    d = (x == x.flip(1)).all(1).float()
    hidden, output = nn.Linear(6, 2), nn.Linear(2, 1)
    params = [*hidden.parameters(), *output.parameters()]
    for p in params:
        nn.init.uniform_(p, -0.3, 0.3)
    state = lambda: {"hidden.weight": hidden.weight, "hidden.bias": hidden.bias,  # noqa: E731
                     "output.weight": output.weight, "output.bias": output.bias}
    data = {f"initial/{k}": v.detach().double().clone() for k, v in state().items()}
    opt = torch.optim.SGD(params, lr=0.1, momentum=0.0 if rule == "no_momentum" else 0.9)
    errors = []
    for _ in range(sweeps):
        opt.zero_grad()
        y = torch.sigmoid(output(torch.sigmoid(hidden(x))))[:, 0]
        errors.append(0.5 * ((y - d) ** 2).sum().item())
        loss = 0.5 * ((y - d) ** 2).mean() if rule == "mean" else 0.5 * ((y - d) ** 2).sum()
        loss.backward()
        opt.step()
    data.update({f"final/{k}": v.detach().double().clone() for k, v in state().items()})
    data.update({"inputs": x.double(), "targets": d.double(), "sweeps": torch.tensor(sweeps),
                 "errors": torch.tensor(errors, dtype=torch.float64)})
    return data


def test_replay_accepts_float32_training_by_the_paper_rule():
    verdict = judge(saved(student_run(120)))
    assert verdict.replay == "matches" and verdict.data_ok and verdict.sweeps == 120
    assert verdict.problems == [] and verdict.findings == []


@pytest.mark.parametrize("rule", ["mean", "no_momentum"])
def test_replay_catches_another_rule(rule):
    verdict = judge(saved(student_run(60, rule)))
    assert verdict.replay.startswith("differs: error at sweep "), verdict.replay


def test_replay_catches_typed_numbers_and_shuffled_data():
    import torch

    data = student_run(40)
    data["sweeps"] = torch.tensor(1425)
    assert "40 errors recorded" in judge(saved(data)).replay
    data = student_run(40)
    data["final/hidden.bias"] = data["final/hidden.bias"] + 0.5
    assert judge(saved(data)).replay.startswith("differs: final hidden.bias")
    data = student_run(5)
    order = torch.randperm(64)
    data["inputs"], data["targets"] = data["inputs"][order], data["targets"][order]
    assert judge(saved(data)).data_ok  # any order of the 64 cases
    data["targets"] = 1 - data["targets"]
    assert not judge(saved(data)).data_ok


def test_a_replay_that_differs_names_the_self_checks_diagnosis():
    judgement = ASSIGNMENT.judge(*load_data(saved(student_run(60, "mean")),
                                            spec=ASSIGNMENT.entries))
    assert "the error is an average" in judgement.diagnosis, judgement.diagnosis
    assert {k: judgement.scores[k] for k in ("data", "replay")} == {"data": 1.0, "replay": 0.0}
