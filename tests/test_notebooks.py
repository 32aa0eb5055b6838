"""Course-wide notebook rules: order, stable metadata, linked images, kernels, seeds, and the
cell-tag rules that keep test machinery out of what students read.

Tag rules (README, "Testing discipline"):
- nbval and papermill are steered by cell tags only, never by `# NBVAL_...` comment lines:
  `nbval-ignore-output` (output depends on the machine or the data), `volatile-output` (timings:
  stored without output, so nbval never compares it), `raises-exception` together with
  `skip-execution` (a teaching cell that raises on purpose), `parameters` (papermill).
- Assertions that exist for CI (accuracy thresholds, "the helper equals the loop") live in cells
  tagged `ci-check`: hidden (metadata jupyter.source_hidden), first line
  `# Automatic check (run by the course's tests): ...`, no output.
- Visible cells of the numbered lessons never mention the offline data mirror, LABUTILS_*
  variables, nbval or papermill.
"""

import re
from pathlib import Path

import nbformat
import pytest

from labutils import notebooks

REPO = Path(__file__).resolve().parents[1]
ALL = sorted(p for p in (REPO / "notebooks").rglob("*.ipynb") if not p.name.startswith("."))
LESSONS = sorted((REPO / "notebooks").glob("0[1-4]_*.ipynb"))
IMAGE_LINK = re.compile(r"!\[[^\]]*\]\(([^)\s]+)")

CI_CHECK_TAG = "ci-check"
CI_CHECK_FIRST_LINE = "# Automatic check (run by the course's tests):"
ASSIGNMENT_CHECK_TAG = "check"  # the assignment's visible self-check cells (labutils.instructor)
ALLOWED_TAGS = {"nbval-ignore-output", "volatile-output", "raises-exception", "skip-execution",
                "parameters", CI_CHECK_TAG, ASSIGNMENT_CHECK_TAG}
NBVAL_COMMENT = re.compile(r"^\s*#+\s*(NBVAL_|PYTEST_VALIDATE_)", re.MULTILINE)
MACHINERY_WORDS = re.compile(r"mirror|LABUTILS_|nbval|papermill|automatic check", re.IGNORECASE)


def test_course_order_is_numeric_and_skips_student_copies():
    names = [p.name for p in notebooks.course_notebooks(REPO / "notebooks")]
    assert names[0] == "01_autograd.ipynb"
    numbers = [int(n.split("_")[0]) for n in names]
    assert numbers == sorted(numbers)
    for path in notebooks.course_notebooks(REPO / "notebooks"):
        assert not notebooks.is_student_copy(path)


def test_every_linked_image_exists():
    for path in ALL:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type != "markdown":
                continue
            for target in IMAGE_LINK.findall(cell.source):
                if target.startswith(("http://", "https://", "attachment:", "data:")):
                    continue
                assert (path.parent / target).is_file(), f"{path.name} links missing {target}"


def test_stored_notebooks_carry_no_volatile_metadata():
    for path in ALL:
        nb = nbformat.read(path, as_version=4)
        assert "papermill" not in nb.metadata, path.name
        assert nb.metadata["kernelspec"]["name"] == "python3", path.name
        for cell in nb.cells:
            assert "execution" not in cell.metadata and "papermill" not in cell.metadata, path.name


def test_clean_notebook_drops_timing_and_volatile_outputs():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("print(1)", execution_count=1, outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="1\n")]),
        nbformat.v4.new_code_cell("print(a); print(b)", execution_count=2, outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="a\n"),
            nbformat.v4.new_output("stream", name="stdout", text="b\n")]),
        nbformat.v4.new_code_cell("print(time)", execution_count=3, outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="0.3 s\n")]),
    ])
    nb.metadata.update(papermill={"duration": 1.0}, language_info={"name": "python",
                                                                   "version": "3.11.7"})
    nb.cells[0].metadata.update(papermill={"start_time": "x"}, execution={"a": 1}, tags=[])
    nb.cells[2].metadata["tags"] = [notebooks.VOLATILE_TAG]
    cleaned = notebooks.clean_notebook(nb)
    assert "papermill" not in cleaned.metadata
    assert cleaned.metadata["language_info"] == {"name": "python"}
    assert cleaned.cells[0].metadata == {} and len(cleaned.cells[0].outputs) == 1
    assert [o.text for o in cleaned.cells[1].outputs] == ["a\nb\n"]
    assert cleaned.cells[2].outputs == [] and cleaned.cells[2].execution_count is None


def test_failed_run_leaves_the_notebook_untouched(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('ok')"),
                                         nbformat.v4.new_code_cell("1 / 0")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = tmp_path / "broken.ipynb"
    nbformat.write(nb, path)
    before = path.read_bytes()
    result = notebooks.run_notebook(path, timeout=60)
    assert not result.ok and "ZeroDivisionError" in result.error and "cell 1" in result.error
    assert path.read_bytes() == before


# ---------------------------------------------------------------- tag rules


def tags(cell) -> list[str]:
    return list(cell.metadata.get("tags", []))


def is_hidden(cell) -> bool:
    return bool(cell.metadata.get("jupyter", {}).get("source_hidden"))


def tag_rule_violations(nb, lesson: bool = True) -> list[str]:
    """Every breach of the tag rules in one notebook, as readable messages (empty: all good)."""
    found = []
    for index, cell in enumerate(nb.cells):
        where = f"cell {index}"
        cell_tags = tags(cell)
        unknown = set(cell_tags) - ALLOWED_TAGS
        if unknown:
            found.append(f"{where}: unknown tag(s) {sorted(unknown)}; allowed: "
                         f"{sorted(ALLOWED_TAGS)}")
        if cell.cell_type == "code" and NBVAL_COMMENT.search(cell.source):
            found.append(f"{where}: an NBVAL comment line; use the cell tag instead "
                         "(e.g. nbval-ignore-output)")
        if "raises-exception" in cell_tags and "skip-execution" not in cell_tags:
            found.append(f"{where}: raises-exception without skip-execution (papermill would "
                         "stop the run)")
        if CI_CHECK_TAG in cell_tags:
            if cell.cell_type != "code":
                found.append(f"{where}: ci-check on a {cell.cell_type} cell")
                continue
            if not is_hidden(cell):
                found.append(f"{where}: ci-check cell not hidden (set metadata "
                             "jupyter.source_hidden = true)")
            if not cell.source.startswith(CI_CHECK_FIRST_LINE):
                found.append(f"{where}: ci-check cell must start with {CI_CHECK_FIRST_LINE!r}")
            if cell.get("outputs"):
                found.append(f"{where}: ci-check cell stores output (it should only assert)")
        elif lesson and MACHINERY_WORDS.search(cell.source):
            word = MACHINERY_WORDS.search(cell.source).group(0)
            found.append(f"{where}: visible cell mentions test machinery ({word!r}); move it "
                         "into labutils or a hidden ci-check cell")
    return found


@pytest.mark.parametrize("path", ALL, ids=lambda p: str(p.relative_to(REPO / "notebooks")))
def test_notebooks_follow_the_tag_rules(path):
    nb = nbformat.read(path, as_version=4)
    assert tag_rule_violations(nb, lesson=path in LESSONS) == [], path.name


def test_lesson_04_checks_its_accuracy_in_hidden_cells():
    nb = nbformat.read(REPO / "notebooks" / "04_mnist_mlp.ipynb", as_version=4)
    checks = [cell.source for cell in nb.cells if CI_CHECK_TAG in tags(cell)]
    assert any(">= 0.95" in source for source in checks)
    visible = "\n".join(cell.source for cell in nb.cells if CI_CHECK_TAG not in tags(cell))
    assert "assert" not in visible


def _cell(source: str, *cell_tags: str, hidden: bool = False, outputs=()):
    cell = nbformat.v4.new_code_cell(source, outputs=list(outputs))
    if cell_tags:
        cell.metadata["tags"] = list(cell_tags)
    if hidden:
        cell.metadata["jupyter"] = {"source_hidden": True}
    return cell


def test_tag_rules_catch_each_breach():
    good = nbformat.v4.new_notebook(cells=[
        _cell("x = 1", "nbval-ignore-output"),
        _cell(f"{CI_CHECK_FIRST_LINE} x is one.\nassert x == 1", CI_CHECK_TAG, hidden=True),
        _cell("1 / 0", "raises-exception", "skip-execution"),
    ])
    assert tag_rule_violations(good) == []
    printed = nbformat.v4.new_output("stream", name="stdout", text="1\n")
    cases = {
        "NBVAL comment": _cell("# NBVAL_IGNORE_OUTPUT\nprint(1)"),
        "unknown tag": _cell("x = 1", "nbval-ignore-ouput"),
        "without skip-execution": _cell("1 / 0", "raises-exception"),
        "not hidden": _cell(f"{CI_CHECK_FIRST_LINE} x.\nassert x", CI_CHECK_TAG),
        "must start with": _cell("assert x >= 0.95", CI_CHECK_TAG, hidden=True),
        "stores output": _cell(f"{CI_CHECK_FIRST_LINE} x.\nprint(x)", CI_CHECK_TAG,
                               hidden=True, outputs=[printed]),
        "test machinery": _cell("import os\nos.environ['LABUTILS_DATA_MIRROR']"),
    }
    for expected, cell in cases.items():
        found = tag_rule_violations(nbformat.v4.new_notebook(cells=[cell]))
        assert any(expected in message for message in found), (expected, found)
    mirror_talk = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "The offline mirror is used in CI.")])
    assert tag_rule_violations(mirror_talk, lesson=False) == []
    assert "mirror" in tag_rule_violations(mirror_talk)[0]
