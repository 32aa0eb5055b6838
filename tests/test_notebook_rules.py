"""The course's notebooks follow the course's rules: stable metadata, linked images, kernels,
the cell-tag rules that keep test machinery out of what students read, and the lessons' size.

Tag rules (docs/contributing.md, "Notebook rules"):
- nbval and papermill are steered by cell tags only, never by `# NBVAL_...` comment lines:
  `nbval-ignore-output` (output depends on the machine or the data), `volatile-output` (timings:
  stored without output, so nbval never compares it), `parameters` (papermill).
- No tag may change what runs: Colab's Run all knows no tags, so `raises-exception`,
  `skip-execution`, `nbval-skip` and `nbval-raises-exception` are refused. With them gone,
  nbval's run of a lesson is Run all, and the student release's nbval run (.ci/student_release)
  is the Run-all test of every release lesson.
- No test code in a notebook: no `ci-check` cells, no `assert` in a lesson. Thresholds CI relies
  on live in tests/test_lesson_thresholds.py, judged on the outputs of nbval's run.
- Visible cells of the numbered lessons never mention the offline data mirror, LABUTILS_*
  variables, nbval or papermill.
- Lessons are short: at most 5,000 markdown words for lessons 01-04 together, and every numbered
  section states its estimated time, e.g. `## 3. Loaders (5 min)`.
"""

import re
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
ALL = sorted(p for p in (REPO / "notebooks").rglob("*.ipynb") if not p.name.startswith("."))
LESSONS = sorted((REPO / "notebooks").glob("0[1-4]_*.ipynb"))
IMAGE_LINK = re.compile(r"!\[[^\]]*\]\(([^)\s]+)")

CI_CHECK_TAG = "ci-check"
ASSIGNMENT_CHECK_TAG = "check"  # the assignment's visible self-check cells (labutils.instructor)
ALLOWED_TAGS = {"nbval-ignore-output", "volatile-output", "parameters", ASSIGNMENT_CHECK_TAG}
EXECUTION_TAGS = {"raises-exception", "skip-execution", "nbval-skip", "nbval-raises-exception"}
"""Tags that change what runs (JupyterLab, nbclient, nbval): Colab ignores them all."""
CI_CHECK_EXEMPT: set[str] = set()
"""Notebooks whose ci-check cells have not moved into tests/ yet: none (the report's range
checks are tests/instructor/report_thresholds.py)."""
WORD_BUDGET = 5_000
ASSERT_LINE = re.compile(r"^\s*assert\b", re.MULTILINE)
SECTION = re.compile(r"^## (\d+)\. .*$", re.MULTILINE)
SECTION_TIME = re.compile(r"\((?:[^()]*, )?(?:about |~)?\d+ min\)\s*$")
NBVAL_COMMENT = re.compile(r"^\s*#+\s*(NBVAL_|PYTEST_VALIDATE_)", re.MULTILINE)
MACHINERY_WORDS = re.compile(r"mirror|LABUTILS_|nbval|papermill|automatic check", re.IGNORECASE)


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


# ---------------------------------------------------------------- tag rules


def tags(cell) -> list[str]:
    return list(cell.metadata.get("tags", []))


def tag_rule_violations(nb, lesson: bool = True, ci_check_allowed: bool = False) -> list[str]:
    """Every breach of the tag rules in one notebook, as readable messages (empty: all good)."""
    found = []
    allowed = ALLOWED_TAGS | ({CI_CHECK_TAG} if ci_check_allowed else set())
    for index, cell in enumerate(nb.cells):
        where = f"cell {index}"
        cell_tags = tags(cell)
        changing = set(cell_tags) & EXECUTION_TAGS
        if changing:
            found.append(f"{where}: tag(s) {sorted(changing)} change what runs, and Colab's Run "
                         "all ignores them; catch a teaching error in the cell and print it")
        unknown = set(cell_tags) - allowed - EXECUTION_TAGS
        if CI_CHECK_TAG in unknown:
            found.append(f"{where}: a ci-check cell is test code in a notebook; let the notebook "
                         "print the value and assert it in tests/test_lesson_thresholds.py")
            unknown.discard(CI_CHECK_TAG)
        if unknown:
            found.append(f"{where}: unknown tag(s) {sorted(unknown)}; allowed: {sorted(allowed)}")
        if cell.cell_type == "code" and NBVAL_COMMENT.search(cell.source):
            found.append(f"{where}: an NBVAL comment line changes what nbval does; use the cell "
                         "tag nbval-ignore-output instead")
        if lesson and cell.cell_type == "code" and ASSERT_LINE.search(cell.source):
            found.append(f"{where}: an assert in a lesson is test code; print the value and "
                         "assert it in tests/")
        if lesson and CI_CHECK_TAG not in cell_tags and MACHINERY_WORDS.search(cell.source):
            word = MACHINERY_WORDS.search(cell.source).group(0)
            found.append(f"{where}: visible cell mentions test machinery ({word!r}); move it "
                         "into labutils or tests/")
    return found


@pytest.mark.parametrize("path", ALL, ids=lambda p: str(p.relative_to(REPO / "notebooks")))
def test_notebooks_follow_the_tag_rules(path):
    nb = nbformat.read(path, as_version=4)
    exempt = path.relative_to(REPO / "notebooks").as_posix() in CI_CHECK_EXEMPT
    assert tag_rule_violations(nb, lesson=path in LESSONS, ci_check_allowed=exempt) == [], path.name


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
        _cell("print(x)", "volatile-output"),
        _cell("try:\n    1 / 0\nexcept ZeroDivisionError as e:\n    print('Error:', e)"),
    ])
    assert tag_rule_violations(good) == []
    cases = {
        "NBVAL comment": _cell("# NBVAL_IGNORE_OUTPUT\nprint(1)"),
        "unknown tag": _cell("x = 1", "nbval-ignore-ouput"),
        "change what runs": _cell("1 / 0", "raises-exception", "skip-execution"),
        "['nbval-skip'] change": _cell("x = 1", "nbval-skip"),
        "['nbval-raises-exception'] change": _cell("1 / 0", "nbval-raises-exception"),
        "test code in a notebook": _cell("# Automatic check\nx = 1", CI_CHECK_TAG, hidden=True),
        "an assert in a lesson": _cell("acc = 0.9\nassert acc >= 0.95"),
        "test machinery": _cell("import os\nos.environ['LABUTILS_DATA_MIRROR']"),
    }
    for expected, cell in cases.items():
        found = tag_rule_violations(nbformat.v4.new_notebook(cells=[cell]))
        assert any(expected in message for message in found), (expected, found)
    exempt = nbformat.v4.new_notebook(cells=[_cell("assert 1", CI_CHECK_TAG, hidden=True)])
    assert tag_rule_violations(exempt, lesson=False, ci_check_allowed=True) == []
    mirror_talk = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "The offline mirror is used in CI.")])
    assert tag_rule_violations(mirror_talk, lesson=False) == []
    assert "mirror" in tag_rule_violations(mirror_talk)[0]


def markdown_words(nb) -> int:
    """Words of prose, as the course counts them: every markdown cell, <details> included."""
    return sum(len(cell.source.split()) for cell in nb.cells if cell.cell_type == "markdown")


def test_lessons_01_to_04_stay_within_the_word_budget():
    counts = {path.name: markdown_words(nbformat.read(path, as_version=4)) for path in LESSONS}
    assert len(counts) == 4, counts
    assert sum(counts.values()) <= WORD_BUDGET, counts


def test_every_lesson_section_states_its_time():
    for path in LESSONS:
        nb = nbformat.read(path, as_version=4)
        sections = [m.group(0) for cell in nb.cells if cell.cell_type == "markdown"
                    for m in SECTION.finditer(cell.source)]
        assert sections, path.name
        untimed = [heading for heading in sections if not SECTION_TIME.search(heading)]
        assert untimed == [], f"{path.name}: sections without '(N min)': {untimed}"


def test_section_time_pattern():
    assert SECTION_TIME.search("## 3. Loaders (5 min)")
    assert SECTION_TIME.search("## 7. Training (about 25 min)")
    assert SECTION_TIME.search("## 2. A first derivative (~10 min)")
    assert not SECTION_TIME.search("## 3. Loaders")


def exercise_cells(nb) -> list:
    """The fill-in exercise cells of a lesson: code cells whose first line is `# Exercise N.M`."""
    return [cell for cell in nb.cells if cell.cell_type == "code"
            and cell.source.startswith("# Exercise ")]


@pytest.mark.parametrize("path", LESSONS[2:], ids=lambda p: p.name)
def test_lesson_exercises_are_fill_ins_that_pass_in_the_instructor_copy(path):
    """Two or three per lesson; `name = None`, then the solution region (instructor) or
    `# YOUR CODE HERE` (release), then the check. The instructor copy stores PASS lines (nbval
    runs the solutions in `make test`); the release copy stores no output."""
    cells = exercise_cells(nbformat.read(path, as_version=4))
    assert 2 <= len(cells) <= 3, path.name
    for cell in cells:
        lines = cell.source.split("\n")
        assert re.match(r"# Exercise \d\.\d \(about \d+ min\): ", lines[0]), lines[0]
        assert any(re.match(r"^\w+ = None$", line) for line in lines), cell.source
        assert re.match(r"^check_\w+\(", lines[-1]), cell.source
        text = "".join(o.get("text", "") for o in cell.outputs)
        if "### BEGIN SOLUTION" in cell.source:
            assert "PASS Exercise" in text and "FAIL" not in text, (lines[0], text)
        else:
            assert "# YOUR CODE HERE" in lines and cell.outputs == [], lines[0]
