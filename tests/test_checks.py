"""The assignment's self-checks (labutils.checks), tried on student solutions in two styles the
model solution does not use (tests/checks_solutions.py), and on each classic mistake.

These tests ship with the student tree: they use only the student package.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from checks_solutions import CARRY, STEP, printed, raw_tensor_solution, sequential_solution
from torch import nn

from labutils import checks
from labutils.checks._read import find_weights
from labutils.paper1986 import paper_weights

PACKAGE = Path(checks.__file__).resolve().parent


ALL_CHECKS = (checks.check_dataset, checks.check_network, checks.check_training,
              checks.check_solution)


@pytest.fixture(scope="module")
def raw_run() -> dict:
    return raw_tensor_solution(seed=0)


@pytest.fixture(scope="module")
def seed0_run() -> dict:
    """The seed-0 run of a plain nn.Sequential solution: solves in 686 sweeps with a ratio far
    from 1:2:4 (a valid solution that an earlier edition wrongly FAILed)."""
    return sequential_solution(seed=0)


# -- valid solutions pass ----------------------------------------------------------------------


def test_raw_tensor_solution_passes_every_check(raw_run):
    outputs = [printed(check, raw_run) for check in ALL_CHECKS]
    assert all(out.startswith(("✅ PASS", "ℹ️ NOTE")) for out in outputs), outputs
    assert raw_run["sweeps"] > 0
    assert outputs[2].startswith("✅ PASS training")
    print("\n".join(outputs))


def test_seed0_style_solution_is_not_failed(seed0_run):
    assert seed0_run["sweeps"] == 686
    outputs = [printed(check, seed0_run) for check in ALL_CHECKS]
    assert all(out.startswith("✅ PASS") for out in outputs), outputs
    assert "solves the task" in outputs[3] and "ratio" in outputs[3]
    print("\n".join(outputs))


def test_float32_sequential_solution_passes_with_a_note():
    run = sequential_solution(seed=3, max_sweeps=60, dtype=torch.float32)
    for check in ALL_CHECKS[:3]:
        out = printed(check, run)
        assert out.startswith("✅ PASS"), out
    assert "float32" in printed(checks.check_network, run)
    out = printed(checks.check_solution, run)
    assert out.startswith("ℹ️ NOTE solution") and "not a bug" in out


def test_networks_are_found_by_shape_in_any_container(raw_run):
    net = raw_run["net"]
    reference = checks.submission_data(raw_run)
    W1, b1, W2, b2 = (net[k] for k in ("W1", "b1", "W2", "b2"))
    forms = [
        [W1, b1, W2, b2],
        (W1.T, b1[None], W2.T, b2),
        {"output.bias": b2, "hidden.weight": W1.T, "hidden.bias": b1, "output.weight": W2.T},
        type("Holder", (), {})(),
    ]
    for name, value in zip(("W1", "b1", "W2", "b2"), (W1, b1, W2, b2), strict=True):
        setattr(forms[3], name, value)
    for form in forms:
        data = checks.submission_data({**raw_run, "net": form})
        for key in checks.WEIGHT_KEYS:
            assert torch.equal(data[f"final/{key}"], reference[f"final/{key}"])
        assert printed(checks.check_solution, {**raw_run, "net": form}).startswith("✅ PASS")


def test_named_layers_module_is_read_like_sequential(seed0_run):
    class Named(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = nn.Linear(6, 2, dtype=torch.float64)
            self.output = nn.Linear(2, 1, dtype=torch.float64)

        def forward(self, x):
            return torch.sigmoid(self.output(torch.sigmoid(self.hidden(x))))

    named = Named()
    sequential = seed0_run["net"]
    with torch.no_grad():
        for mine, theirs in zip(named.parameters(), sequential.parameters(), strict=True):
            mine.copy_(theirs)
    a = checks.submission_data({"net": named})
    b = checks.submission_data({"net": sequential})
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# -- each classic mistake gets its own FAIL ---------------------------------------------------


@pytest.mark.parametrize(("bug", "check", "expected"), [
    ("mean instead of sum", checks.check_training, "mistake: the error is an average"),
    ("no momentum", checks.check_training, "mistake: no momentum"),
    ("per-case updates", checks.check_training, "mistake: per-case updates"),
    ("no zero_grad", checks.check_training, "mistake: gradients pile up"),
    ("targets broadcast", checks.check_training, "mistake: targets broadcast"),
    ("init in [0, 1]", checks.check_network, "all 17 initial values are >= 0"),
])
def test_classic_mistakes_get_a_specific_fail(bug, check, expected):
    run = raw_tensor_solution(seed=0, max_sweeps=40, bug=bug)
    out = printed(check, run)
    assert out.startswith("❌ FAIL") and expected in out, out
    assert "Hint:" in out and "Traceback" not in out
    print(f"[{bug}]\n{out}")


def test_more_mistakes_in_the_sequential_style():
    default_init = sequential_solution(seed=1, max_sweeps=5, init=False)
    out = printed(checks.check_network, default_init)
    assert out.startswith("❌ FAIL network") and "PyTorch's own initialisation" in out, out
    piled = sequential_solution(seed=1, max_sweeps=30, zero_grad=False)
    assert "gradients pile up" in printed(checks.check_training, piled)
    aliased = sequential_solution(seed=1, max_sweeps=30)
    aliased["initial_weights"] = aliased["net"].state_dict()  # shares memory: changes in training
    out = printed(checks.check_training, aliased)
    assert "FAIL training" in out and "shares memory" in out, out
    late = {**aliased, "initial_weights": sequential_solution(seed=1, max_sweeps=0)["net"],
            "errors": aliased["errors"][1:], "sweeps": aliased["sweeps"] - 1}
    assert "one sweep late" in printed(checks.check_training, late)
    one_more = {**aliased, "initial_weights": late["initial_weights"],
                "errors": aliased["errors"] + [0.0]}
    out = printed(checks.check_training, one_more)
    assert "FAIL training" in out and "one more" in out, out


def test_momentum_mistakes_are_named_with_their_evidence():
    run = raw_tensor_solution(seed=0, max_sweeps=40, bug="momentum 0.5")
    out = printed(checks.check_training, run)
    assert out.startswith("❌ FAIL training") and "momentum" in out, out
    assert "your error at sweep 2 is" in out and "the replay's" in out, out


def test_a_network_fail_brings_no_misleading_training_fail():
    """No activation on the output unit: the network check says so; the training check does
    not send the student looking at the saved weights."""
    run = sequential_solution(seed=1, max_sweeps=30, output_fn=False)
    out = printed(checks.check_network, run)
    assert out.startswith("❌ FAIL network") and "output unit has no logistic" in out, out
    out = printed(checks.check_training, run)
    assert "not judged yet" in out and "network check" in out, out
    assert "saved" not in out and "mistake" not in out, out


def test_each_hint_is_printed_once():
    for bug in ("mean instead of sum", "no momentum", "per-case updates", "no zero_grad",
                "targets broadcast", "momentum 0.5"):
        out = printed(checks.check_training, raw_tensor_solution(seed=0, max_sweeps=20, bug=bug))
        assert out.count("Hint:") == 1 and "Also" not in out, out
        sentences = [s.strip() for s in re.split(r"[.:;]", out) if len(s.strip()) > 20]
        assert len(sentences) == len(set(sentences)), out


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_a_rule_1_percent_off_fails_and_an_honest_run_passes_in_every_seed(dtype):
    """50 seeds: the learning rate or the momentum 1% off (either way) leaves the replay in every
    one, in float64 and float32 alike, and the honest run never does. (The comparison the
    training check makes; the printed FAIL is tested on one seed.)"""
    from labutils.checks._training import first_departure

    def departs(run) -> bool:
        w0 = find_weights(run["initial_weights"], "initial_weights")
        return first_departure(w0, torch.tensor(run["errors"], dtype=torch.float64))[2] is not None

    honest, missed = [], []
    for seed in range(50):
        if departs(sequential_solution(seed=seed, max_sweeps=50, dtype=dtype)):
            honest.append(seed)
        for what, step, carry in (("step -1%", STEP * 0.99, CARRY), ("step +1%", STEP * 1.01,
                                  CARRY), ("carry -1%", STEP, CARRY * 0.99),
                                  ("carry +1%", STEP, CARRY * 1.01)):
            off = sequential_solution(seed=seed, max_sweeps=50, dtype=dtype, step=step,
                                      carry=carry)
            if not departs(off):
                missed.append((seed, what))
    assert not honest and not missed, (honest, missed)
    off = sequential_solution(seed=0, max_sweeps=50, dtype=dtype, carry=CARRY * 0.99)
    out = printed(checks.check_training, off)
    assert out.startswith("❌ FAIL training") and "momentum" in out, out


def test_starts_the_protocol_could_not_draw_fail_the_network_check():
    """The start judgement shared with the grader: Figure 1 (and a scaled copy), a start that
    already solves, a range too wide (by far, and by a little in 20 seeds out of 20)."""
    paper = paper_weights()
    row = torch.tensor([3.6, 7.2, 14.2, -14.2, -7.2, -3.6], dtype=torch.float64)
    solved = {**paper, "hidden.weight": torch.stack([row, -row])}  # 4:2:1 from the inside
    starts = {"Figure 1": paper, "scaled Figure 1": {k: v / 50 for k, v in paper.items()},
              "solves": solved}
    for seed in range(20):
        g = torch.Generator().manual_seed(seed)
        for bound in (15.0, 0.5):
            starts[f"U({bound}) seed {seed}"] = {
                k: (torch.rand(v.shape, generator=g, dtype=torch.float64) * 2 - 1) * bound
                for k, v in paper.items()}
    for name, start in starts.items():
        problem = checks.start_problem(start)
        assert problem is not None, name
    assert "Figure 1" in checks.start_problem(starts["scaled Figure 1"]).message
    assert "already solve" in checks.start_problem(solved).message
    honest = [sequential_solution(seed=seed, max_sweeps=0)["initial_weights"]
              for seed in range(50)]
    assert not [s for s in honest if checks.start_problem(find_weights(s, "initial_weights"))]


def test_fail_messages_print_no_answer_code():
    """Hints name what to look at; they never contain the code that fixes it."""
    code = re.compile(r"uniform_|zero_grad\(\)|optim\.|\.sum\(\)|mse_loss|lr=|momentum=|sigmoid\(")
    texts = []
    for bug in ("mean instead of sum", "no momentum", "per-case updates", "no zero_grad",
                "init in [0, 1]"):
        run = raw_tensor_solution(seed=0, max_sweeps=20, bug=bug)
        texts += [printed(check, run) for check in ALL_CHECKS]
    assert texts and not [t for t in texts if code.search(t)]


# -- bad and missing names --------------------------------------------------------------------


def test_dataset_check_is_order_free_and_explains_mistakes(raw_run):
    x, d = raw_run["inputs"], raw_run["targets"]
    order = torch.randperm(64, generator=torch.Generator().manual_seed(0))
    assert printed(checks.check_dataset, {"inputs": x[order], "targets": d[order, None]}
                   ).startswith("✅ PASS dataset")
    for inputs, targets, hint in [
        (x, 1 - d, "other way round"),
        (x.long(), d, "floating-point"),
        (x[:32], d[:32], "shape (32, 6)"),
        ("bits", d, "not a tensor"),
        (torch.cat([x[:32], x[:32]]), d, "only 32 different"),
        (x, d[:, None, None], "expected (64,) or (64, 1)"),
    ]:
        out = printed(checks.check_dataset, {"inputs": inputs, "targets": targets})
        assert out.startswith("❌ FAIL dataset") and hint in out, out


def test_checks_read_their_names_up_front():
    for check in ALL_CHECKS:
        out = printed(check, {})
        assert out.startswith("❌ FAIL") and "not defined yet" in out


def test_checks_never_raise_on_odd_values(raw_run):
    odd = [None, "net", 3, [1, 2], {"a": torch.zeros(3)}, nn.Linear(6, 1), torch.zeros(2, 6)]
    for value in odd:
        for name in ("net", "initial_weights", "errors", "sweeps", "inputs", "targets"):
            namespace = {**raw_run, name: value}
            for check in ALL_CHECKS:
                out = printed(check, namespace)
                assert out.startswith(("✅ PASS", "ℹ️ NOTE", "❌ FAIL")), out
            data = checks.submission_data(namespace)
            assert isinstance(data, dict)


def test_unfilled_code_reports_not_implemented():
    class Stub(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(6, 2), nn.Linear(2, 1)

        def forward(self, x):
            raise NotImplementedError()

    out = printed(checks.check_network, {"net": Stub(), "initial_weights": Stub()})
    assert "not filled in yet" in out


# -- the data the grader collects -------------------------------------------------------------


def test_submission_data_has_the_contract_keys_shapes_and_types(raw_run):
    data = checks.submission_data(raw_run)
    shapes = {"inputs": (64, 6), "targets": (64,), "errors": (raw_run["sweeps"],), "sweeps": ()}
    for prefix in ("initial", "final"):
        shapes |= {f"{prefix}/hidden.weight": (2, 6), f"{prefix}/hidden.bias": (2,),
                   f"{prefix}/output.weight": (1, 2), f"{prefix}/output.bias": (1,)}
    assert {k: tuple(v.shape) for k, v in data.items()} == shapes
    assert data["sweeps"].dtype == torch.int64
    assert all(v.dtype == torch.float64 for k, v in data.items() if k != "sweeps")
    assert all(not v.requires_grad for v in data.values())
    W1 = raw_run["net"]["W1"]
    assert torch.equal(data["final/hidden.weight"], W1.detach().T)
    assert torch.equal(data["initial/output.weight"], raw_run["initial_weights"]["W2"].T)
    assert checks.submission_data({}) == {}
    partial = checks.submission_data({"sweeps": "many", "errors": [1.0, "x"], "inputs": x_bad()})
    assert partial == {}


def x_bad():
    return torch.zeros(3, 6)


def test_submission_data_round_trips_through_weights_only_load(raw_run, tmp_path):
    data = checks.submission_data(raw_run)
    torch.save(data, tmp_path / "data.pt")
    loaded = torch.load(tmp_path / "data.pt", weights_only=True)
    assert loaded.keys() == data.keys() and all(torch.equal(loaded[k], data[k]) for k in data)


# -- what the student package does not contain ------------------------------------------------


def test_checks_import_nothing_instructor_only_and_hold_no_trainer():
    sources = {p.name: p.read_text(encoding="utf-8") for p in PACKAGE.glob("*.py")}
    assert sources and not [n for n, s in sources.items() if "instructor" in s]
    from labutils.checks import _rule

    assert _rule.MAX_REPLAY <= 50
    start = {k: torch.zeros(v) for k, v in
             {"hidden.weight": (2, 6), "hidden.bias": (2,), "output.weight": (1, 2),
              "output.bias": (1,)}.items()}
    errors, _ = _rule.replay(start, 10_000, _rule.PAPER)
    assert len(errors) == _rule.MAX_REPLAY
