"""The release states no protocol value of the 1986 assignment: not in what the self-checks
print on wrong submissions, not as a public constant of the student package."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from labutils.instructor import release

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("student") / "course"
    release.build_release(target, REPO)
    return target


# -- the checks and the student package state no protocol value ------------------------------

PROTOCOL_WORDS = re.compile(r"once per sweep|each sweep from|1/2|½|alpha times|sum over the 64|"
                            r"uniform(ly)? (in|from|between)|momentum of", re.IGNORECASE)
"""How a printed line could spell the protocol in words (the form of E, when weights change,
the momentum term, the initial range)."""


def protocol_numbers() -> re.Pattern:
    """The protocol's numbers (from the one place the checks keep them) as printed numbers."""
    from labutils.checks._protocol import _PROTOCOL

    forms = {f"{v:g}".lstrip("0") for v in _PROTOCOL.values()}
    return re.compile(r"(?<![\d.])(?<![<>]= )[-+±]?0?(" + "|".join(re.escape(f) for f in forms)
                      + r")(?!\d)")
    # a number after <= or >= is a threshold of labutils.network_facts, not the protocol


WRONG = {
    "mean error": ("E = 0.5 * ((net(inputs) - targets) ** 2).sum()",
                   "E = 0.5 * ((net(inputs) - targets) ** 2).mean()"),
    "no factor 1/2": ("E = 0.5 * (", "E = 1.0 * ("),
    "momentum 0.5": ("momentum=0.9", "momentum=0.5"),
    "momentum 0.891": ("momentum=0.9", "momentum=0.891"),
    "no momentum": ("momentum=0.9", "momentum=0.0"),
    "learning rate 0.099": ("lr=0.1", "lr=0.099"),
    "gradients pile up": ("    opt.zero_grad()\n", ""),
    "init [-0.5, 0.5]": ("-0.3, 0.3", "-0.5, 0.5"),
    "init [0, 1]": ("-0.3, 0.3", "0.0, 1.0"),
    "default init": ("    nn.init.uniform_(p, -0.3, 0.3)", "    pass"),
    "no output activation": ("nn.Linear(2, 1), nn.Sigmoid())", "nn.Linear(2, 1))"),
    "tanh hidden units": ("nn.Sigmoid(), nn.Linear(2, 1)", "nn.Tanh(), nn.Linear(2, 1)"),
    "targets broadcast": (".float()[:, None]", ".float()"),
}
"""Wrong submissions made from the grader's sample one by a single edit each."""


def check_output(source: str) -> str:
    """What the four self-checks print for a submission cell (run here, in a fresh namespace)."""
    import contextlib
    import io

    from labutils import checks

    namespace: dict = {}
    exec(compile(source, "<submission>", "exec"), namespace)  # noqa: S102 - our own sample
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for check in (checks.check_dataset, checks.check_network, checks.check_training,
                      checks.check_solution):
            check(namespace)
    return out.getvalue()


def test_leak_no_check_line_states_a_protocol_value():
    """Run the checks on wrong submissions; no printed line states the protocol in numbers or
    words (a wrong-protocol FAIL says where to look, and the evidence)."""
    from labutils.instructor.assignments.rhw1986.samples import training_submission

    base = training_submission(60)
    sources = {"sample": base, **{name: base.replace(old, new) for name, (old, new) in
                                  WRONG.items()}}
    assert all(sources[name] != base for name in WRONG), "a WRONG edit no longer applies"
    numbers, found, fails = protocol_numbers(), [], 0
    for name, source in sources.items():
        text = check_output(source)
        fails += "FAIL" in text
        for line in text.splitlines():
            if numbers.search(line) or PROTOCOL_WORDS.search(line):
                found.append(f"[{name}] {line.strip()}")
    assert not found, "check output states the protocol:\n" + "\n".join(found)
    assert fails >= len(WRONG), "every wrong submission should FAIL a check"


def protocol_constants(folder: Path) -> list[str]:
    """Public module-level names of the student package that hold a protocol number or are
    named like a protocol constant (RANGE, EPS, ALPHA, LR, MOMENTUM...). The lessons' exercise
    checks (labutils/exercises/) are left out: their rates and momenta are the lessons' own,
    taught in the open (lesson 02 writes SGD with momentum 0.9 on purpose)."""
    from labutils.checks._protocol import _PROTOCOL

    values = set(_PROTOCOL.values())
    named = re.compile(r"(^|_)(INIT|RANGE|EPS|EPSILON|ALPHA|LEARNING|LR|MOMENTUM|STEP|CARRY)"
                       r"(_|$)", re.I)
    thresholds = re.compile(r"(TOL|MARGIN)$")  # network_facts' tolerances, not the protocol
    found = []
    for path in sorted((folder / "labutils").rglob("*.py")):
        if path.parent.name == "exercises":
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            targets = (node.targets if isinstance(node, ast.Assign) else [node.target]
                       if isinstance(node, ast.AnnAssign) else [])
            names = [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
            numbers = {n.value for n in ast.walk(getattr(node, "value", None) or ast.Pass())
                       if isinstance(n, ast.Constant) and isinstance(n.value, float)}
            for name in (n for n in names if not n.startswith("_")):
                if named.search(name) or (numbers & values and not thresholds.search(name)):
                    found.append(f"{path.relative_to(folder)}: {name}")
    return found


def test_leak_no_public_name_of_the_student_package_holds_the_protocol(tree, tmp_path):
    assert not protocol_constants(tree), protocol_constants(tree)
    planted = tmp_path / "labutils"
    planted.mkdir()
    (planted / "extra.py").write_text("INIT_RANGE = 0.3\nEPS, ALPHA = 0.1, 0.9\n")
    assert len(protocol_constants(tmp_path)) == 3
