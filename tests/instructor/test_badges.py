"""labutils.instructor.course.badges: every notebook's badge and setup cell agree with
pyproject.toml; `python -m labutils.instructor badges` rewrites them."""

import shutil
from pathlib import Path

import nbformat
import pytest

from labutils.instructor import cli
from labutils.instructor.course import badges

REPO = Path(__file__).resolve().parents[2]


def test_every_notebook_agrees_with_the_configured_repository():
    assert badges.update_badges(REPO, check=True, echo=print) == 0, "run `make badges`"


def test_badge_points_at_the_notebooks_own_path():
    repo = badges.read_course_repository(REPO / "pyproject.toml")
    line = repo.badge_line("notebooks/01_autograd.ipynb")
    assert line.endswith(f"/blob/{repo.branch}/notebooks/01_autograd.ipynb)")
    assert f"git+{repo.url}@{repo.branch}" in repo.setup_source()


def test_apply_is_idempotent_and_inserts_missing_cells():
    repo = badges.CourseRepository("https://github.com/someone/course", "dev")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title")])
    assert badges.apply_badges(nb, "notebooks/x.ipynb", repo)
    assert not badges.apply_badges(nb, "notebooks/x.ipynb", repo)
    assert badges.badge_problems(nb, "notebooks/x.ipynb", repo) == []
    assert nb.cells[0].source.splitlines()[1] == "# Title"
    other = badges.CourseRepository("https://github.com/fork/course", "main")
    assert len(badges.badge_problems(nb, "notebooks/x.ipynb", other)) == 2
    del nb.cells[1].metadata["cellView"]
    assert badges.badge_problems(nb, "notebooks/x.ipynb", repo) == [
        'Colab setup cell is not collapsed on Colab (metadata cellView: "form")']


def test_setup_cell_is_a_colab_form_that_speaks_only_to_students():
    """Colab hides a code cell only with cellView "form"; its #@title line is what students see."""
    repo = badges.CourseRepository("https://github.com/someone/course", "dev")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title")])
    badges.apply_badges(nb, "notebooks/x.ipynb", repo)
    setup = nb.cells[1]
    assert setup.metadata["cellView"] == "form"
    assert setup.source.startswith("#@title ") and setup.source.splitlines()[0] == (
        "#@title Setup (Colab only): installs the course helpers")
    for word in ("test", "nbval", "make badges", "CI", "written by", "NBVAL"):
        assert word not in setup.source, word


def _project_copy(tmp_path: Path, tool_table: str) -> Path:
    (tmp_path / "labutils").mkdir()
    (tmp_path / "notebooks").mkdir()
    shutil.copy(REPO / "notebooks" / "01_autograd.ipynb", tmp_path / "notebooks")
    shutil.copytree(REPO / "images", tmp_path / "images")
    (tmp_path / "pyproject.toml").write_text(f'[project]\nname = "x"\n{tool_table}')
    return tmp_path


def test_no_repository_url_is_a_clear_error(tmp_path, monkeypatch, capsys):
    root = _project_copy(tmp_path, "[tool.labutils]\nbranch = \"main\"\n")
    monkeypatch.chdir(root)
    before = (root / "notebooks" / "01_autograd.ipynb").read_bytes()
    assert cli.main(["badges"]) == 2
    err = capsys.readouterr().err
    assert "No repository URL set" in err and "[tool.labutils]" in err
    assert (root / "notebooks" / "01_autograd.ipynb").read_bytes() == before


def test_non_github_url_is_refused(tmp_path):
    root = _project_copy(tmp_path, '[tool.labutils]\nrepository = "ftp://example.org/x"\n')
    with pytest.raises(badges.CourseConfigError, match="not a GitHub URL"):
        badges.read_course_repository(root / "pyproject.toml")


def test_badges_command_rewrites_a_fork(tmp_path, monkeypatch):
    root = _project_copy(tmp_path, '[tool.labutils]\nrepository = "https://github.com/fork/c"\n')
    monkeypatch.chdir(root)
    assert cli.main(["badges", "--check"]) == 1
    assert cli.main(["badges"]) == 0
    assert cli.main(["badges", "--check"]) == 0
    text = (root / "notebooks" / "01_autograd.ipynb").read_text()
    assert "colab.research.google.com/github/fork/c/blob/main/notebooks/01_autograd.ipynb" in text


def test_student_setting_is_read_beside_the_course_one(tmp_path):
    root = _project_copy(tmp_path, '[tool.labutils]\nrepository = "https://github.com/t/src"\n'
                                   'student_repository = "https://github.com/t/course"\n'
                                   'student_branch = "spring"\n')
    course = badges.read_course_repository(root / "pyproject.toml")
    student = badges.read_course_repository(root / "pyproject.toml", which="student")
    assert (course.url, course.branch) == ("https://github.com/t/src", "main")
    assert (student.url, student.branch) == ("https://github.com/t/course", "spring")
    assert "git+https://github.com/t/course@spring" in student.setup_source()


def test_missing_student_setting_names_the_key(tmp_path):
    root = _project_copy(tmp_path, '[tool.labutils]\nrepository = "https://github.com/t/src"\n')
    with pytest.raises(badges.CourseConfigError, match="student_repository"):
        badges.read_course_repository(root / "pyproject.toml", which="student")


def test_update_badges_with_an_explicit_repository(tmp_path):
    root = _project_copy(tmp_path, '[tool.labutils]\nrepository = "https://github.com/t/src"\n')
    other = badges.CourseRepository("https://github.com/t/course", "spring")
    assert badges.update_badges(root, echo=print, repo=other) == 0
    text = (root / "notebooks" / "01_autograd.ipynb").read_text()
    assert "github/t/course/blob/spring/notebooks/01_autograd.ipynb" in text
    assert badges.update_badges(root, check=True, echo=print, repo=other) == 0
    # the course setting differs: badge and setup cell (the pictures are embedded, not linked)
    assert badges.update_badges(root, check=True, echo=print) == 2
