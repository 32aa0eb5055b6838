"""The assignment: release rules, the committed student copy (no answers, no protocol values,
no test machinery), and both notebooks executed: the student copy fails exactly where solutions
are missing; the instructor source passes every check and reproduces its stored outputs.

The self-checks themselves are tested on student-style solutions in tests/test_checks.py."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from labutils import checks
from labutils.instructor.assignment import (
    ANSWER_PLACEHOLDER,
    CODE_PLACEHOLDER,
    KEPT_TAGS,
    OPTIONAL_PLACEHOLDER,
    ReleaseError,
    cells_needing_solutions,
    check_cells,
    check_name,
    release,
    release_notebook,
    release_text,
    source_checksum,
)
from labutils.instructor.course.badges import CourseRepository
from labutils.instructor.grading.plugin import load_assignment
from labutils.instructor.release_texts import student_makefile
from labutils.paper1986 import PAPER_DOI, PAPER_URL

RHW1986 = load_assignment("rhw1986")
SOLUTION_SOURCE, STUDENT_COPY = RHW1986.source, RHW1986.student_copy

REPO_ROOT = Path(__file__).resolve().parents[2]
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
    code.metadata["tags"] = ["volatile-output", "parameters"]
    code.metadata["scrolled"] = True
    source = nb_of(new_markdown_cell("# Title"), code)
    student = release_notebook(source, "notebooks/x.ipynb", REPO)
    cell = student.cells[2]  # title, Colab setup, then ours
    assert cell.source == (f"def f(x):\n    {CODE_PLACEHOLDER[0]}\n    {CODE_PLACEHOLDER[1]}\n"
                           "\nprint(f(1))")
    assert cell.outputs == [] and cell.execution_count is None
    # Only the tags the grader needs survive (an unreproducible output is not compared).
    assert cell.metadata == {"tags": ["volatile-output"]}
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


def _student() -> nbformat.NotebookNode:
    return nbformat.read(REPO_ROOT / STUDENT_COPY, as_version=4)


def _source() -> nbformat.NotebookNode:
    return nbformat.read(REPO_ROOT / SOLUTION_SOURCE, as_version=4)


def _without_hints(markdown: str) -> str:
    return re.sub(r"<details>.*?</details>", "", markdown, flags=re.DOTALL)


def test_committed_student_copy_is_what_release_produces():
    committed = (REPO_ROOT / STUDENT_COPY).read_text(encoding="utf-8")
    assert committed == release_text(REPO_ROOT, SOLUTION_SOURCE, STUDENT_COPY), (
        f"{STUDENT_COPY} is stale: regenerate it (make assignment) and commit it")


def test_student_copy_leaks_no_solution_and_keeps_every_check():
    source, student = _source(), _student()
    text = "\n".join(c.source for c in student.cells)
    for secret in ("BEGIN SOLUTION", "END SOLUTION", "INSTRUCTOR", "SEED = ", "686",
                   "optim.SGD(", "uniform_(", "new_network"):
        assert secret not in text, secret
    assert list(check_cells(student)) == list(check_cells(source)) == list(checks.CHECK_READS)
    for name, cell in check_cells(student).items():
        assert cell.source == check_cells(source)[name].source
        assert cell.metadata["editable"] is False and cell.metadata["deletable"] is False
    assert all(not c.get("outputs") for c in student.cells if c.cell_type == "code")
    badge = student.cells[0].source.split("\n")[0]
    assert badge.startswith("[![Open In Colab]") and f"/{STUDENT_COPY})" in badge


def test_student_copy_links_the_paper_and_gives_no_protocol_values_before_hints():
    student = _student()
    markdown = "\n".join(c.source for c in student.cells if c.cell_type == "markdown")
    assert PAPER_URL in markdown and PAPER_DOI in markdown
    told = _without_hints(markdown)
    values = re.compile(r"(?<![\d./])0\.[139](?![\d/])|ε =|α =|uniform in|1 : 2 : 4|momentum=|lr=")
    assert not values.findall(told), "the student copy tells protocol values outside a hint"
    assert markdown.count("<details>") >= 5
    asked = set(re.findall(r"`([A-Za-z_]\w*)`", told))
    needed = {name for names in checks.CHECK_READS.values() for name in names}
    assert needed <= asked, f"names the checks read but the text never asks for: {needed - asked}"


def test_student_copy_tells_only_commands_the_release_has():
    markdown = "\n".join(c.source for c in _student().cells if c.cell_type == "markdown")
    targets = set(re.findall(r"`make ([a-z][a-z-]*)", markdown))
    assert targets, "the student copy tells how to export the hand-in (make export)"
    makefile = student_makefile((REPO_ROOT / "Makefile").read_text(encoding="utf-8"))
    assert targets <= set(re.findall(r"^([a-z][a-z-]*):", makefile, re.MULTILINE)), targets
    commands = set(re.findall(r"`python -m labutils ([a-z]+)", markdown))
    for command in commands:  # the student package's own CLI knows each one
        run = subprocess.run([sys.executable, "-m", "labutils", command, "--help"],
                             capture_output=True, text=True)
        assert run.returncode == 0, run.stdout + run.stderr


def test_student_copy_shows_no_test_machinery():
    for cell in _student().cells:
        assert "NBVAL" not in cell.source and "nbval" not in cell.source
        # Tags are metadata, not text a student reads: the check cells' own tag, and the
        # tags that keep the study's timings out of the grader's output comparison.
        assert set(cell.metadata.get("tags", [])) <= set(KEPT_TAGS)


def test_instructor_source_has_no_stale_references():
    text = "\n".join(c.source for c in _source().cells)
    assert "notebooks/solutions" not in text and "labutils.instructor.rhw1986" not in text
    for cell in _source().cells:
        tags = set(cell.metadata.get("tags", []))
        assert tags <= {"nbval-ignore-output", "volatile-output"}, tags


def test_release_writes_and_checks(tmp_path):
    root = tmp_path / "course"
    (root / "notebooks" / "instructor").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "pyproject.toml", root / "pyproject.toml")
    shutil.copy(REPO_ROOT / SOLUTION_SOURCE, root / SOLUTION_SOURCE)
    assert release(root, SOLUTION_SOURCE, STUDENT_COPY, check=True).changed
    assert not (root / STUDENT_COPY).exists(), "--check must not write"
    paths = (SOLUTION_SOURCE, STUDENT_COPY)
    assert release(root, *paths).changed and not release(root, *paths, check=True).changed
    assert (root / STUDENT_COPY).read_text() == (REPO_ROOT / STUDENT_COPY).read_text()
    with pytest.raises(FileNotFoundError, match="Instructor source not found"):
        release(tmp_path, SOLUTION_SOURCE, STUDENT_COPY, check=True)


# -- both notebooks executed ------------------------------------------------------------------


def _execute(path: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                   skip_cells_with_tag="", resources={"metadata": {"path": str(path.parent)}}
                   ).execute()
    return nb


def _text(cell: nbformat.NotebookNode) -> str:
    """What nbval compares, without images: streams and text/plain results."""
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type == "error":
            parts.append(f"{out.ename}: {out.evalue}")
        elif "data" in out:
            parts.append(out.data.get("text/plain", ""))
    return "".join(parts)


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The student copy and the instructor source, executed in a fresh kernel each."""
    folder = tmp_path_factory.mktemp("release")
    student = Path(shutil.copy(REPO_ROOT / STUDENT_COPY, folder / "student.ipynb"))
    solution = Path(shutil.copy(REPO_ROOT / SOLUTION_SOURCE, folder / "solution.ipynb"))
    return _execute(student), _execute(solution)


def test_student_copy_fails_exactly_where_solutions_are_missing(executed):
    student, _ = executed
    release_nb = _student()
    expected = cells_needing_solutions(release_nb, checks.CHECK_READS)
    assert expected, "the student copy should have cells to fill in"
    for index, cell in enumerate(student.cells):
        if cell.cell_type != "code":
            continue
        errors = [o.ename for o in cell.outputs if o.output_type == "error"]
        name = check_name(cell)
        if name is not None:
            assert not errors, (name, errors)
            status = "FAIL" if expected.get(index) == "FAIL" else "PASS"
            assert _text(cell).startswith(("✅ PASS", "ℹ️ NOTE") if status == "PASS"
                                          else "❌ FAIL"), (name, _text(cell))
        else:
            assert errors == ([expected[index]] if index in expected else []), (index, errors)


def test_instructor_source_passes_every_check_and_reproduces_its_outputs(executed):
    _, solution = executed
    stored = _source()
    assert len(stored.cells) == len(solution.cells)
    checked = {}
    for old, new in zip(stored.cells, solution.cells, strict=True):
        if new.cell_type != "code":
            continue
        assert not [o for o in new.outputs if o.output_type == "error"], _text(new)
        if (name := check_name(new)) is not None:
            checked[name] = _text(new).startswith(f"✅ PASS {name}:")
        if not {"nbval-ignore-output", "volatile-output"} & set(old.metadata.get("tags", [])):
            assert _text(new) == _text(old), (old.source[:80], _text(new), _text(old))
    assert checked == dict.fromkeys(checks.CHECK_READS, True)
