"""The assignment: release rules, the committed student copy, the self-checks, and both
notebooks executed (the student copy fails exactly where solutions are missing; the instructor
source passes every check and reproduces its stored outputs)."""

from __future__ import annotations

import io
import shutil
from argparse import Namespace
from contextlib import redirect_stdout
from pathlib import Path

import nbformat
import pytest
import torch
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from torch import nn

from labutils import checks
from labutils.instructor.assignment import (
    ANSWER_PLACEHOLDER,
    CODE_PLACEHOLDER,
    OPTIONAL_PLACEHOLDER,
    SOLUTION_SOURCE,
    STUDENT_COPY,
    ReleaseError,
    cells_needing_solutions,
    check_cells,
    check_name,
    release,
    release_main,
    release_notebook,
    release_text,
    source_checksum,
)
from labutils.colab import CourseRepository
from labutils.instructor.grading import grade_all
from labutils.instructor.rhw1986 import SymmetryNet, paper_weights, symmetry_dataset

REPO_ROOT = Path(__file__).resolve().parents[1]
REPO = CourseRepository("https://github.com/owner/course", "main")


def nb_of(*cells) -> nbformat.NotebookNode:
    nb = new_notebook(cells=list(cells))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


# -- the release rules ------------------------------------------------------------------------


def test_release_replaces_solutions_keeps_indentation_and_clears_outputs():
    code = new_code_cell(
        "def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n\nprint(f(1))",
        outputs=[new_output("stream", name="stdout", text="2\n")], execution_count=3)
    code.metadata["tags"] = ["volatile-output"]
    source = nb_of(new_markdown_cell("# Title"), code)
    student = release_notebook(source, "notebooks/x.ipynb", REPO)
    cell = student.cells[2]  # title, Colab setup, then ours
    assert cell.source == (f"def f(x):\n    {CODE_PLACEHOLDER[0]}\n    {CODE_PLACEHOLDER[1]}\n"
                           "\nprint(f(1))")
    assert cell.outputs == [] and cell.execution_count is None and cell.metadata == {}
    assert source.cells[1].outputs, "the instructor notebook must not be changed"


def test_release_answers_checks_optional_and_instructor_only_cells():
    source = nb_of(
        new_markdown_cell("# Title"),
        new_markdown_cell("<!-- INSTRUCTOR ONLY -->\nNotes for graders."),
        new_code_cell(
            "# NBVAL_IGNORE_OUTPUT\n### BEGIN OPTIONAL SOLUTION\nx = 1\n### END SOLUTION"),
        new_code_cell("# CHECK: thing (do not edit)\nprint('PASS thing: ok')"),
        new_code_cell("# INSTRUCTOR ONLY\nassert True"),
        new_markdown_cell("### Q\n<!-- BEGIN SOLUTION -->\nSecret answer.\n<!-- END SOLUTION -->"),
    )
    student = release_notebook(source, "notebooks/x.ipynb", REPO)
    texts = [c.source for c in student.cells]
    assert not any("INSTRUCTOR" in t or "Secret" in t or "NBVAL" in t for t in texts)
    assert texts[2] == OPTIONAL_PLACEHOLDER[0]
    check = student.cells[3]
    assert check_name(check) == "thing"
    assert check.metadata == {"editable": False, "deletable": False, "tags": ["check"]}
    assert texts[4] == f"### Q\n{ANSWER_PLACEHOLDER}"
    assert student.cells[0].source.startswith("[![Open In Colab]")
    assert "notebooks/x.ipynb" in student.cells[0].source


@pytest.mark.parametrize(("cells", "message"), [
    ([new_code_cell("### BEGIN SOLUTION\nx = 1")], "never closed"),
    ([new_code_cell("x = 1\n### END SOLUTION")], "without a BEGIN marker"),
    ([new_code_cell("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION")], "inside"),
    ([new_markdown_cell("<!-- BEGIN SOLUTION -->\ntext")], "never closed"),
    ([new_code_cell("# CHECK: a (do not edit)\n### BEGIN SOLUTION\n### END SOLUTION")],
     "must not contain a solution"),
    ([new_code_cell("# CHECK: a (do not edit)"), new_code_cell("# CHECK: a (do not edit)")],
     "repeated: a"),
])
def test_release_rejects_broken_sources(cells, message):
    with pytest.raises(ReleaseError, match=message):
        release_notebook(nb_of(*cells), "notebooks/x.ipynb", REPO)


def test_checksum_ignores_trailing_whitespace_only():
    assert source_checksum("a = 1  \nb\n\n") == source_checksum("a = 1\nb")
    assert source_checksum("a = 1") != source_checksum("a = 2")


def test_cells_needing_solutions_follows_names_stubs_and_checks():
    stub = f"    {CODE_PLACEHOLDER[0]}\n    {CODE_PLACEHOLDER[1]}"
    stub8 = stub.replace("    ", "        ")
    nb = nb_of(
        new_code_cell("import math\nk = 2"),                           # 0 fine
        new_code_cell(f"{CODE_PLACEHOLDER[0]}\n{CODE_PLACEHOLDER[1]}"),  # 1 raises
        new_code_cell(f"def f(x):\n{stub}\n\nclass C:\n    def __init__(self):\n{stub8}"),  # 2
        new_code_cell("# CHECK: uses_k (do not edit)\nprint(k)"),      # 3 fine
        new_code_cell("# CHECK: uses_f (do not edit)\nprint(f)"),      # 4 FAIL (stub)
        new_code_cell("y = f(k)"),                                     # 5 raises in stub
        new_code_cell("z = y + math.pi\nw = [i for i in range(k)]"),   # 6 NameError
        new_code_cell("def later():\n    return z"),                   # 7 fine: body not run
        new_code_cell("# CHECK: uses_z (do not edit)\nprint(z)"),      # 8 FAIL (missing)
    )
    reads = {"uses_k": ("k",), "uses_f": ("f",), "uses_z": ("z",)}
    assert cells_needing_solutions(nb, reads) == {
        1: "NotImplementedError", 4: "FAIL", 5: "NotImplementedError", 6: "NameError",
        8: "FAIL"}


# -- the committed student copy ---------------------------------------------------------------


def test_committed_student_copy_is_what_release_produces():
    committed = (REPO_ROOT / STUDENT_COPY).read_text(encoding="utf-8")
    assert committed == release_text(REPO_ROOT), (
        f"{STUDENT_COPY} is stale: run `make release` (python -m labutils release)")


def test_student_copy_leaks_no_solution_and_keeps_every_check():
    source = nbformat.read(REPO_ROOT / SOLUTION_SOURCE, as_version=4)
    student = nbformat.read(REPO_ROOT / STUDENT_COPY, as_version=4)
    text = "\n".join(c.source for c in student.cells)
    for secret in ("BEGIN SOLUTION", "END SOLUTION", "INSTRUCTOR", "SEED = ", "1,054",
                   "optim.SGD(net.parameters()"):
        assert secret not in text
    assert list(check_cells(student)) == list(check_cells(source)) == list(checks.CHECK_READS)
    for name, cell in check_cells(student).items():
        assert cell.source == check_cells(source)[name].source
        assert cell.metadata["editable"] is False and cell.metadata["deletable"] is False
    assert all(not c.get("outputs") for c in student.cells if c.cell_type == "code")
    assert f"blob/main/{STUDENT_COPY})" in student.cells[0].source.split("\n")[0]


def test_release_command_checks_writes_and_reports(tmp_path):
    root = tmp_path / "course"
    (root / "notebooks" / "instructor").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "pyproject.toml", root / "pyproject.toml")
    shutil.copy(REPO_ROOT / SOLUTION_SOURCE, root / SOLUTION_SOURCE)
    assert release(root, check=True).changed
    assert not (root / STUDENT_COPY).exists(), "--check must not write"
    assert release(root).changed and not release(root, check=True).changed
    assert (root / STUDENT_COPY).read_text() == (REPO_ROOT / STUDENT_COPY).read_text()
    printed = io.StringIO()
    with redirect_stdout(printed):
        assert release_main(Namespace(check=True)) == 0  # the real repository is up to date
    assert "up to date" in printed.getvalue()
    with pytest.raises(FileNotFoundError, match="Instructor source not found"):
        release(tmp_path, check=True)


# -- the self-checks, on plain values ---------------------------------------------------------


class Net(nn.Module):
    def __init__(self, hidden_fn=torch.sigmoid, init=0.3, width=2):
        super().__init__()
        self.hidden = nn.Linear(6, width, dtype=torch.float64)
        self.output = nn.Linear(width, 1, dtype=torch.float64)
        self.hidden_fn = hidden_fn
        with torch.no_grad():
            for p in self.parameters():
                p.uniform_(-init, init)

    def forward(self, x):
        return torch.sigmoid(self.output(self.hidden_fn(self.hidden(x))))


def make_sgd(net):
    return torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)


def sweep_with(scale=0.5, reduce="sum", zero=True):
    def train_sweep(net, optimizer, inputs, targets):
        if zero:
            optimizer.zero_grad()
        squared = (net(inputs) - targets) ** 2
        error = scale * (squared.sum() if reduce == "sum" else squared.mean())
        error.backward()
        optimizer.step()
        return error.item()
    return train_sweep


def run_check(function, **names) -> str:
    printed = io.StringIO()
    with redirect_stdout(printed):
        function(names)
    return printed.getvalue()


def test_dataset_check():
    x, d = symmetry_dataset()
    assert run_check(checks.check_dataset, inputs=x, targets=d).startswith("✅ PASS dataset:")
    shuffled = torch.randperm(64, generator=torch.Generator().manual_seed(0))
    assert "PASS" in run_check(checks.check_dataset, inputs=x[shuffled], targets=d[shuffled])
    for inputs, targets, hint in [
        (x, d[:, 0], "broadcasts to (64, 64)"),
        (x, 1 - d, "inverted"),
        (x.long(), d, ".double()"),
        (x[:32], d[:32], "shape (64, 6)"),
        (x.tolist(), d, "not a tensor"),
        (torch.cat([x[:32], x[:32]]), d, "only 32 distinct"),
    ]:
        out = run_check(checks.check_dataset, inputs=inputs, targets=targets)
        assert out.startswith("❌ FAIL dataset:") and hint in out, out
    assert "not defined yet" in run_check(checks.check_dataset)


def test_network_check():
    torch.manual_seed(0)
    assert "PASS network" in run_check(checks.check_network, net=Net())
    for net, hint in [
        (Net(torch.tanh), "tanh"),
        (Net(init=1.0), "outside [-0.3, 0.3]"),
        (Net(init=0.01), "not spread"),
        (Net(width=3), "6 -> 3 -> 1"),
        (nn.Linear(6, 1), "nn.Linear layers, expected 2"),
        ("a network", "not an nn.Module"),
    ]:
        out = run_check(checks.check_network, net=net)
        assert "FAIL network" in out and hint in out, out


def test_sweep_check_finds_the_usual_mistakes():
    torch.manual_seed(0)
    net = Net()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    ok = run_check(checks.check_sweep, net=net, make_optimizer=make_sgd, train_sweep=sweep_with())
    assert "PASS sweep" in ok
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items()), "net changed"
    cases = [
        (make_sgd, sweep_with(1.0, "mean"), "nn.MSELoss() averages"),
        (make_sgd, sweep_with(0.5, "mean"), "SUM over the 64 cases"),
        (make_sgd, sweep_with(1.0), "factor 1/2"),
        (make_sgd, sweep_with(zero=False), "zero_grad"),
        (lambda n: torch.optim.SGD(n.parameters(), lr=0.1), sweep_with(), "no momentum"),
        (lambda n: torch.optim.Adam(n.parameters(), lr=0.1), sweep_with(), "not Adam"),
        (make_sgd, lambda *a: 1.0, "did not change the weights"),
        (make_sgd, lambda *a: sweep_with()(*a) and None, "not a number"),
        (make_sgd, lambda *a: 1 / 0, "ZeroDivisionError"),
    ]
    for make, sweep, hint in cases:
        out = run_check(checks.check_sweep, net=net, make_optimizer=make, train_sweep=sweep)
        assert "FAIL sweep" in out and hint in out, (hint, out)

    def stub(*args):
        raise NotImplementedError()

    out = run_check(checks.check_sweep, net=net, make_optimizer=stub, train_sweep=stub)
    assert "not filled in yet" in out


def test_solution_check_and_grading_summary():
    paper = SymmetryNet.from_weights(paper_weights())
    out = run_check(checks.check_solution, net=paper, sweeps=1425)
    assert out.startswith("✅ PASS solution: your network matches")
    assert "sweeps reported: 1425" in out
    assert checks.grading_summary({"sweeps": 1425})["solved"] is True
    torch.manual_seed(1)
    out = run_check(checks.check_solution, net=Net(), sweeps=None)
    assert "FAIL solution" in out and "Hint:" in out and "Traceback" not in out
    assert checks.grading_summary({"sweeps": None}) == {
        "checks": {**{k: v.passed for k, v in checks.RESULTS.items()}}, "sweeps": None,
        "solved": False}
    assert checks.grading_summary({})["sweeps"] == "not defined"
    assert "not a number" in checks.grading_summary({"sweeps": "many"})["sweeps"]


# -- both notebooks executed (the release check) ---------------------------------------------


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """Grade the student copy and the instructor source as if they were submissions."""
    folder = tmp_path_factory.mktemp("release")
    student = shutil.copy(REPO_ROOT / STUDENT_COPY, folder / "student.ipynb")
    solution = shutil.copy(REPO_ROOT / SOLUTION_SOURCE, folder / "solution.ipynb")
    release_nb = nbformat.read(REPO_ROOT / STUDENT_COPY, as_version=4)
    grades = grade_all([Path(student), Path(solution)], release_nb, cell_timeout=120,
                       total_timeout=300, echo=lambda text: None, jobs=2)
    return release_nb, grades[0], grades[1]


def test_student_copy_fails_exactly_where_solutions_are_missing(executed):
    release_nb, student, _ = executed
    expected = cells_needing_solutions(release_nb, checks.CHECK_READS)
    assert expected, "the student copy should have cells to fill in"
    raised = {label: error.split(":")[0] for label, error in student.errors}
    assert raised == {f"cell {i + 1}": kind for i, kind in expected.items() if kind != "FAIL"}
    names = {i: check_name(release_nb.cells[i]) for i in expected if expected[i] == "FAIL"}
    assert student.checks == {name: "FAIL" if name in names.values() else "PASS"
                              for name in checks.CHECK_READS}
    assert student.timeouts == [] and student.problem == "" and student.differ == []
    assert student.unfilled == 3 and student.words == 0


def test_instructor_source_passes_every_check_and_reproduces_its_outputs(executed):
    _, _, solution = executed
    assert solution.runs_clean, (solution.errors, solution.problem)
    assert solution.checks == dict.fromkeys(checks.CHECK_READS, "PASS")
    assert solution.check_cells == dict.fromkeys(checks.CHECK_READS, "ok")
    assert solution.differ == [], solution.differ
    assert solution.sweeps.isdigit() and solution.solved == "yes"
    assert 400 <= solution.words <= 1500
