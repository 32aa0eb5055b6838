"""Student ids come from the LMS download layout (Moodle folders, Canvas file names, or the
README's hand-in name), are restricted to a safe charset, and every file that gives no id or
two files for one student are reported with the fix."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from labutils.instructor.grading.identity import (
    IdentityError,
    check_id,
    find_notebooks,
    identify,
    student_of,
)

HOSTILE = ["=cmd|' /C calc'!A0", "<script>alert(1)</script>", "../../etc", "..", "s1\u202e",
           "\u2066s1", "s\u200f1", "-1+2", "@SUM(A1)", "+1", "a b", "a,b", "a;b", "a\"b",
           "a'b", "a&b", "a\\b", "a/b", "a\nb", "é", "", "x" * 65]


def touch(root: Path, name: str, text: str = "{}") -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_default_pattern_is_the_readme_hand_in_name(tmp_path):
    paths = [touch(tmp_path, "05_assignment_20231234.ipynb", "one"),
             touch(tmp_path, "05_assignment_jdoe.ipynb", "two")]
    found = identify(paths, root=tmp_path)
    assert [(i.student, i.file_name) for i in found.items] == [
        ("20231234", "05_assignment_20231234.ipynb"), ("jdoe", "05_assignment_jdoe.ipynb")]
    assert found.entries[0] == ("20231234", hashlib.sha256(b"one").hexdigest())


def test_default_pattern_takes_both_assignments_hand_in_names():
    """The names the student README and the notebooks ask for, for each assignment."""
    readme = (Path(__file__).resolve().parents[2] / "labutils" / "instructor" / "release_files"
              / "README.md").read_text(encoding="utf-8")
    for name, student in [("05_assignment_20231234.ipynb", "20231234"),
                          ("06_assignment_mnist_20231234.ipynb", "20231234"),
                          ("06_assignment_mnist_j.doe.ipynb", "j.doe")]:
        assert student_of(Path(name)) == student
        assert name.rsplit("_", 1)[0] + "_<studentid>" in readme
    assert student_of(Path("Copy of 05_assignment.ipynb")) is None


def test_moodle_folders_and_file_prefixes(tmp_path):
    folder = touch(tmp_path, "Jane Q Doe_12345_assignsubmission_file_/05_assignment.ipynb")
    prefix = touch(tmp_path, "Ann Lee_678_assignsubmission_file_05_assignment.ipynb")
    found = identify([folder, prefix], layout="moodle", root=tmp_path)
    assert {i.student: i.file_name for i in found.items} == {
        "12345": "Jane Q Doe_12345_assignsubmission_file_/05_assignment.ipynb",
        "678": "Ann Lee_678_assignsubmission_file_05_assignment.ipynb"}


def test_canvas_file_names_late_or_not(tmp_path):
    paths = [touch(tmp_path, "doejane_12345_67890_05_assignment.ipynb"),
             touch(tmp_path, "leeann_LATE_678_99_05_assignment-1.ipynb")]
    found = identify(paths, layout="canvas")
    assert [i.student for i in found.items] == ["12345", "678"]


def test_files_matching_no_id_are_listed_with_the_fix(tmp_path):
    paths = [touch(tmp_path, "05_assignment_s1.ipynb"),
             touch(tmp_path, "Copy of 05_assignment.ipynb"),
             touch(tmp_path, "solution.ipynb")]
    with pytest.raises(IdentityError) as err:
        identify(paths, root=tmp_path)
    text = str(err.value)
    assert "2 file(s)" in text and "'Copy of 05_assignment.ipynb'" in text
    assert "'solution.ipynb'" in text and "--layout moodle" in text and "--id-pattern" in text
    with pytest.raises(IdentityError, match="matches no id"):
        identify(paths[:1], layout="canvas")


def test_custom_pattern_needs_an_id_group(tmp_path):
    path = touch(tmp_path, "hw5-s-0042.ipynb")
    assert identify([path], pattern=r"^hw5-(?P<id>s-\d+)\.ipynb$").items[0].student == "s-0042"
    with pytest.raises(IdentityError, match="no named group id"):
        identify([path], pattern=r"^hw5-(s-\d+)\.ipynb$")
    with pytest.raises(IdentityError, match="unknown layout"):
        identify([path], layout="blackboard")


@pytest.mark.parametrize("student", HOSTILE)
def test_hostile_ids_are_refused(student):
    with pytest.raises(IdentityError, match="not a safe id"):
        check_id(student)


@pytest.mark.parametrize("student", [s for s in HOSTILE if s and "/" not in s and "\n" not in s
                                     and s not in ("..",) and len(s) < 60])
def test_hostile_ids_in_file_names_are_refused_by_name(tmp_path, student):
    path = touch(tmp_path, f"05_assignment_{student}.ipynb")
    with pytest.raises(IdentityError, match="unsafe id") as err:
        identify([path])
    assert "Fix:" in str(err.value)


def test_safe_ids_pass():
    for student in ["20231234", "jdoe", "j.doe-2", "A_1", "jane@uni.example"]:
        assert check_id(student) == student


def test_two_files_for_one_student(tmp_path):
    first = touch(tmp_path, "doejane_12345_1_05_assignment.ipynb", "old")
    second = touch(tmp_path, "doejane_12345_1_05_assignment-1.ipynb", "new")
    with pytest.raises(IdentityError, match="more than one file") as err:
        identify([second, first], layout="canvas")
    assert "doejane_12345_1_05_assignment.ipynb" in str(err.value)
    assert "duplicates='last'" in str(err.value)
    found = identify([second, first], layout="canvas", duplicates="last")
    assert [i.path for i in found.items] == [second]  # last in name order
    assert found.skipped == ["doejane_12345_1_05_assignment.ipynb: 12345 has a later file, "
                             "doejane_12345_1_05_assignment-1.ipynb"]


def test_find_notebooks_skips_checkpoints(tmp_path):
    kept = touch(tmp_path, "A_1_assignsubmission_file_/05_assignment.ipynb")
    touch(tmp_path, "A_1_assignsubmission_file_/.ipynb_checkpoints/05_assignment-checkpoint.ipynb")
    touch(tmp_path, "notes.txt")
    assert find_notebooks(tmp_path) == [kept]


def test_no_absolute_path_in_file_names(tmp_path):
    path = touch(tmp_path, "05_assignment_s1.ipynb")
    elsewhere = touch(tmp_path / "other", "05_assignment_s2.ipynb")
    found = identify([path, elsewhere], root=tmp_path / "sub")
    assert [i.file_name for i in found.items] == ["05_assignment_s1.ipynb",
                                                  "05_assignment_s2.ipynb"]


def test_duplicates_last_is_natural_order(tmp_path):
    paths = [touch(tmp_path / "a", "05_assignment_s1-2.ipynb"),
             touch(tmp_path / "a", "05_assignment_s1-10.ipynb"),
             touch(tmp_path / "a", "05_assignment_s1.ipynb")]
    pattern = r"^05_assignment_(?P<id>[a-z0-9]+)(-\d+)?\.ipynb$"
    found = identify(paths, pattern=pattern, duplicates="last", root=tmp_path)
    assert [i.file_name for i in found.items] == ["a/05_assignment_s1-10.ipynb"]
    assert len(found.skipped) == 2
