"""The student version of a lesson (`notebooks/NN_*.ipynb`) for the release.

A lesson's fill-in exercises use the assignment's solution markers inside code cells:
`### BEGIN SOLUTION` ... `### END SOLUTION` becomes one `# YOUR CODE HERE` line (nothing
raises: an unfilled exercise must not stop Run all), and the cell loses its outputs, since they
show the solution at work. Every other cell keeps its stored outputs.
"""

from __future__ import annotations

import copy

import nbformat

from labutils.instructor.assignment import BEGIN_SOLUTION, END_SOLUTION, _replace_regions

LESSON_PLACEHOLDER = ("# YOUR CODE HERE",)


def is_exercise(cell: nbformat.NotebookNode) -> bool:
    """True for a code cell holding a solution region."""
    return cell.cell_type == "code" and any(
        line.strip() == BEGIN_SOLUTION for line in cell.source.split("\n"))


def release_lesson(lesson: nbformat.NotebookNode, name: str = "lesson") -> nbformat.NotebookNode:
    """The student lesson: solution regions replaced, exercise cells without outputs."""
    student = copy.deepcopy(lesson)
    for index, cell in enumerate(student.cells):
        if not is_exercise(cell):
            continue
        cell.source = _replace_regions(cell.source, {BEGIN_SOLUTION: LESSON_PLACEHOLDER},
                                       END_SOLUTION, f"{name}, cell {index + 1}")
        cell.outputs = []
        cell.execution_count = None
    return student
