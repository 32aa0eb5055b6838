"""labutils.instructor.lessons: a lesson's exercises become `# YOUR CODE HERE`, nothing else."""

import nbformat
import pytest

from labutils.instructor.assignment import ReleaseError
from labutils.instructor.lessons import is_exercise, release_lesson

EXERCISE = "answer = None\n### BEGIN SOLUTION\nanswer = 2 * x\n### END SOLUTION\ncheck(answer)"


def _lesson(source: str = EXERCISE) -> nbformat.NotebookNode:
    out = nbformat.v4.new_output("stream", name="stdout", text="PASS\n")
    return nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Lesson"),
        nbformat.v4.new_code_cell("x = 1\nprint(x)", execution_count=1, outputs=[out]),
        nbformat.v4.new_code_cell(source, execution_count=2, outputs=[out]),
    ])


def test_exercise_region_becomes_placeholder_and_loses_outputs():
    lesson = _lesson()
    student = release_lesson(lesson)
    assert student.cells[2].source == "answer = None\n# YOUR CODE HERE\ncheck(answer)"
    assert student.cells[2].outputs == [] and student.cells[2].execution_count is None
    assert student.cells[1].outputs == lesson.cells[1].outputs  # other outputs stay
    assert "2 * x" in lesson.cells[2].source  # the instructor lesson is not changed
    assert [is_exercise(c) for c in lesson.cells] == [False, False, True]


def test_unbalanced_region_is_refused_with_its_cell():
    with pytest.raises(ReleaseError, match="cell 3"):
        release_lesson(_lesson("### BEGIN SOLUTION\nanswer = 1"))
