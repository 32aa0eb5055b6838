"""Which notebooks `make run` executes: lessons yes, an unsolved student copy never."""

import nbformat

from labutils import notebooks


def _write(path, metadata=None):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(1)")])
    nb.metadata.update(metadata or {})
    nbformat.write(nb, path)
    return path


def test_student_copy_is_recognised_by_its_metadata_alone(tmp_path):
    """As in the student release, where notebooks/instructor/ does not exist."""
    lesson = _write(tmp_path / "01_lesson.ipynb")
    student = _write(tmp_path / "05_assignment.ipynb",
                     {"labutils": {notebooks.STUDENT_COPY_METADATA: True}})
    assert notebooks.is_student_copy(student) and not notebooks.is_student_copy(lesson)
    assert notebooks.course_notebooks(tmp_path) == [lesson]


def test_student_copy_is_recognised_by_its_instructor_source(tmp_path):
    (tmp_path / "instructor").mkdir()
    source = _write(tmp_path / "instructor" / "05_assignment_solution.ipynb")
    student = _write(tmp_path / "05_assignment.ipynb")
    assert notebooks.is_student_copy(student)
    assert notebooks.course_notebooks(tmp_path) == [source]


def test_unreadable_notebook_is_not_skipped(tmp_path):
    broken = tmp_path / "02_broken.ipynb"
    broken.write_text("not json")
    assert not notebooks.is_student_copy(broken)
    assert notebooks.course_notebooks(tmp_path) == [broken]
