"""The student release's tree: layout, Colab settings, generated files, building and forks
(labutils.instructor.release). The leak tests are in test_release.py."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from labutils import runner
from labutils.instructor import assignment, cli, release
from labutils.instructor.course import badges

REPO = Path(__file__).resolve().parents[2]
STUDENT_REPO = badges.read_course_repository(REPO / "pyproject.toml", which="student")


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("student") / "course"
    release.build_release(target, REPO)
    return target


# -- layout and contents of the release -------------------------------------------------------

def test_release_layout(tree):
    top = sorted(p.name for p in tree.iterdir())
    assert top == [".ci", ".github", ".gitignore", "Makefile", "README.md", "constraints.txt",
                   "data", "environment.yml", "images", "labutils", "notebooks", "pyproject.toml",
                   "site", "tests"]
    for folder in release.INSTRUCTOR_FOLDERS:
        assert not (tree / folder).exists(), folder
    assert (tree / ".ci" / "run").stat().st_mode & 0o111, ".ci/run must be executable"
    lessons = sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb")
                     if not runner.is_student_copy(p))
    shipped = sorted(p.name for p in (tree / "notebooks").glob("*.ipynb"))
    assert set(lessons) < set(shipped)
    assert not (tree / "tests" / "instructor").exists()
    assert (tree / "tests" / "conftest.py").is_file()
    assert not list(tree.rglob("__pycache__"))


def test_lessons_ship_with_outputs_and_the_assignment_without(tree):
    for path in sorted((tree / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        outputs = sum(len(c.get("outputs", [])) for c in nb.cells if c.cell_type == "code")
        if runner.is_student_copy(path):
            assert outputs == 0, path.name
            assert not any(assignment.has_solution(c) for c in nb.cells), path.name
        else:
            assert outputs > 0, f"{path.name} ships without its outputs"
    assert sorted(p.name for p in (tree / "notebooks").glob("*.ipynb")
                  if runner.is_student_copy(p)) == ["05_assignment.ipynb",
                                                   "06_assignment_mnist.ipynb"]


def test_student_tree_runs_and_tests_only_lessons(tree):
    """Without notebooks/instructor/, make run still skips the student copy of the assignment."""
    names = [p.name for p in runner.course_notebooks(tree / "notebooks")]
    assert names and all(n[:2] in {"01", "02", "03", "04"} for n in names)
    for copy in ("05_assignment.ipynb", "06_assignment_mnist.ipynb"):
        assert f"--ignore=notebooks/{copy}" in (tree / "Makefile").read_text()


def test_every_notebook_points_at_the_student_repository(tree):
    assert badges.read_course_repository(tree / "pyproject.toml") == STUDENT_REPO
    assert badges.update_badges(tree, check=True, echo=print) == 0
    for path in (tree / "notebooks").glob("*.ipynb"):
        text = path.read_text()
        assert f"github/{STUDENT_REPO.slug}/blob/{STUDENT_REPO.branch}/notebooks/{path.name}" \
            in text
        assert f"git+{STUDENT_REPO.url}@{STUDENT_REPO.branch}" in text
        instructor = badges.read_course_repository(REPO / "pyproject.toml")
        if instructor.url != STUDENT_REPO.url:
            assert f"/{instructor.slug}/" not in text, path.name  # badges, images
            assert f"git+{instructor.url}@" not in text, path.name


def test_images_link_files_the_student_repository_holds(tree):
    """Colab shows a notebook without its repository: images come from the published tree."""
    prefix = f"https://raw.githubusercontent.com/{STUDENT_REPO.slug}/{STUDENT_REPO.branch}/"
    for path in (tree / "notebooks").glob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            for url in re.findall(r"https://raw\.githubusercontent\.com/[^)\s\"'>]+", cell.source):
                assert url.startswith(prefix), f"{path.name}: {url}"
                assert (tree / url.removeprefix(prefix)).is_file(), f"{path.name}: {url}"


def test_student_pyproject_packages_only_the_student_part(tree):
    import tomllib

    ours = tomllib.loads((REPO / "pyproject.toml").read_text())
    theirs = tomllib.loads((tree / "pyproject.toml").read_text())
    assert theirs["project"]["dependencies"] == ours["project"]["dependencies"]
    assert theirs["project"]["optional-dependencies"] == ours["project"]["optional-dependencies"]
    find = theirs["tool"]["setuptools"]["packages"]["find"]
    assert "labutils.instructor" in find["exclude"] and "labutils.instructor.*" in find["exclude"]
    assert "package-data" not in theirs["tool"]["setuptools"]
    assert theirs["tool"]["labutils"] == {"repository": STUDENT_REPO.url,
                                          "branch": STUDENT_REPO.branch}


def test_student_makefile_has_the_student_targets_only(tree):
    text = (tree / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][\w-]*):", text, re.M))
    assert {"setup", "run", "test", "lab", "export", "lint"} <= targets
    assert not targets & set(release.INSTRUCTOR_TARGETS)
    phony = next(line for line in text.split("\n") if line.startswith(".PHONY:"))
    assert not set(phony.split()[1:]) & set(release.INSTRUCTOR_TARGETS)


def test_student_readme(tree):
    text = (tree / "README.md").read_text()
    for needed in ("Save a copy in Drive", "setup cell", "make run", "make test", "make lab",
                   "make export", ".ipynb", "HTML", STUDENT_REPO.url):
        assert needed in text, needed
    for path in sorted((tree / "notebooks").glob("*.ipynb")):
        rel = f"notebooks/{path.name}"
        assert STUDENT_REPO.badge_line(rel) in text, f"course map lacks {rel}"
    assert "{{" not in text
    assert "instructor" not in text.lower()


# -- building: refusals, --replace, --with-report, the command line ---------------------------

def test_refuses_a_folder_with_other_content(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(release.ReleaseBuildError, match="not empty"):
        release.build_release(tmp_path, REPO)
    with pytest.raises(release.ReleaseBuildError, match="does not look like"):
        release.build_release(tmp_path, REPO, replace=True)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_refuses_the_instructor_repository_itself():
    for target in (REPO, REPO / "notebooks", REPO.parent):
        with pytest.raises(release.ReleaseBuildError, match="instructor repository"):
            release.build_release(target, REPO, replace=True)


def test_replace_keeps_git_and_removes_stale_files(tree, tmp_path):
    import shutil

    target = tmp_path / "published"
    shutil.copytree(tree, target)
    (target / ".git").mkdir()
    (target / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (target / "notebooks" / "stale.ipynb").write_text("{}")
    release.build_release(target, REPO, replace=True)
    assert (target / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"
    assert not (target / "notebooks" / "stale.ipynb").exists()
    assert (target / "notebooks" / "05_assignment.ipynb").is_file()


def test_command_line_builds_and_reports_errors(tmp_path, capsys):
    assert cli.main(["release", "--to", str(tmp_path / "a")]) == 0
    assert "wrote the student repository" in capsys.readouterr().out
    assert cli.main(["release", "--to", str(tmp_path / "a")]) == 2
    assert "--replace" in capsys.readouterr().err


def test_with_report_adds_the_reference_report_as_html(tmp_path):
    if not list((REPO / "notebooks" / "instructor").glob(release.REPORT_GLOB)):
        pytest.skip("no reference report in notebooks/instructor/")
    built = release.build_release(tmp_path / "after", REPO, with_report=True)
    pages = [name for name in built.files if name.endswith("_report.html")]
    assert pages and all(name.startswith("notebooks/") for name in pages)
    assert not list((tmp_path / "after" / "notebooks").glob("*_report.ipynb"))
    assert pages[0] in (tmp_path / "after" / "README.md").read_text()


# -- forks -------------------------------------------------------------------------------------

def test_release_follows_a_forks_student_setting():
    fork = badges.CourseRepository("https://github.com/some-school/dl-course-2027", "spring")
    text = release.student_pyproject((REPO / "pyproject.toml").read_text(), fork)
    import tomllib

    assert tomllib.loads(text)["tool"]["labutils"] == {"repository": fork.url, "branch": "spring"}
    source = release.solution_sources(REPO)[0]
    nb = assignment.release_notebook(nbformat.read(source, as_version=4),
                                     "notebooks/05_assignment.ipynb", fork)
    assert badges.badge_problems(nb, "notebooks/05_assignment.ipynb", fork) == []


def test_no_test_hard_codes_the_repository_or_branch():
    """Forks change URL and branch: tests read them from pyproject.toml instead."""
    table = [badges.read_course_repository(REPO / "pyproject.toml", which=which)
             for which in badges.SETTINGS]
    offenders = []
    for path in sorted((REPO / "tests").rglob("*.py")):
        text = path.read_text()
        for number, line in enumerate(text.split("\n"), start=1):
            hard = [repo.url for repo in table if repo.url in line]
            if re.search(r"blob/(main|master)\b", line) and "fork" not in line:
                hard.append("a hard-coded branch")
            if hard:
                offenders.append(f"{path.relative_to(REPO)}:{number}: {', '.join(hard)}")
    assert not offenders, "\n".join(offenders)


GRADE_ARGS = ["a.ipynb", "b.ipynb", "--out", "g.csv", "--cell-timeout", "5", "--total-timeout",
              "9", "--jobs", "2", "--release", "r.ipynb", "--memory", "512", "--unsafe-no-sandbox"]


def test_grade_takes_exactly_the_graders_own_arguments():
    """One grade parser: the instructor CLI's `grade` is grading.command's, --memory and
    --unsafe-no-sandbox included (a partial copy of it once lived in cli.py)."""
    import argparse

    from labutils.instructor.grading.command import add_grade_arguments

    args = cli.build_parser().parse_args(["grade", *GRADE_ARGS])
    assert args.func is cli._grade
    own = add_grade_arguments(argparse.ArgumentParser()).parse_args(GRADE_ARGS)
    assert {k: v for k, v in vars(args).items() if k not in ("func", "command")} == vars(own)
    assert (args.memory, args.unsafe_no_sandbox, args.jobs) == (512, True, 2)


INSTRUCTOR_COMMANDS = (["release", "--to", "x"], ["grade", "a.ipynb"], ["assignment"],
                       ["badges"], ["images"])


@pytest.mark.parametrize("command", INSTRUCTOR_COMMANDS, ids=lambda c: c[0])
def test_instructor_commands_live_in_the_instructor_cli_only(command, capsys):
    from labutils import cli as student_cli

    assert cli.build_parser().parse_args(command).command == command[0]
    with pytest.raises(SystemExit):
        student_cli.build_parser().parse_args(command)
    assert "invalid choice" in capsys.readouterr().err


MOVED = ("colab.py", "figures.py", "notebooks.py", "device.py")
"""Modules the student package held before: the course tooling is labutils.instructor.course,
the notebook runner labutils.runner; device.py was dead code."""


def _top_level_names(path: Path) -> set[str]:
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.ClassDef) and not node.name.startswith("_")}


def test_student_package_ships_no_course_tooling(tree):
    shipped = sorted((tree / "labutils").rglob("*.py"))
    assert shipped and not {p.name for p in shipped} & set(MOVED)
    tooling = set().union(*(_top_level_names(p) for p in
                            (REPO / "labutils" / "instructor" / "course").glob("*.py")))
    assert {"update_badges", "make_images", "read_course_repository"} <= tooling
    for path in shipped:
        assert not _top_level_names(path) & tooling, path.relative_to(tree)


def test_student_makefile_calls_only_what_ships(tree):
    """Every `python -m labutils COMMAND` of the student Makefile is a student command."""
    import argparse

    from labutils import cli as student_cli

    text = (tree / "Makefile").read_text()
    called = set(re.findall(r"-m labutils (\w+)", text))
    parser = student_cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert {"run", "export"} <= called <= set(sub.choices)
    assert "-m labutils.instructor" not in text
