"""Build the student repository from this one (`python -m labutils.instructor release --to DIR`).

This repository is the instructor's single source; students receive a separate repository,
built here, that a course publishes as it is:

- copied: the lessons (`notebooks/NN_*.ipynb`, with outputs, except that each fill-in
  exercise's solution region becomes `# YOUR CODE HERE` and its cell loses its outputs:
  labutils.instructor.lessons), `images/`, `data/` (the committed files only), `labutils/`
  without `labutils/instructor/`, `tests/` without `tests/instructor/`, `site/` (the course
  website's sources: `make site`), `environment.yml`, `constraints.txt`, `.gitignore`;
- generated: each student assignment from its instructor source (`notebooks/instructor/
  NN_name_solution.ipynb` -> `notebooks/NN_name.ipynb`, no outputs, marked as a student copy),
  `pyproject.toml` (the student package only; `[tool.labutils]` names the student repository),
  the `Makefile` without the instructor targets, `.ci/run` and the student `README.md`
  (templates in `release_files/`), and `.github/workflows/site.yml`, which publishes the site
  on GitHub Pages;
- Colab: every notebook's badge and setup cell point at the student repository and branch
  (`student_repository`, `student_branch` in this repository's `[tool.labutils]`);
- `--with-report` adds the reference report as a self-contained HTML page (after the deadline).

Nothing under `notebooks/instructor/`, `tests/instructor/` or `labutils/instructor/` is ever
copied; tests/instructor/test_release.py checks the built tree for every line of every solution.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from labutils.instructor.course.badges import (
    CourseRepository,
    read_course_repository,
    update_badges,
)
from labutils.instructor.lessons import release_lesson
from labutils.instructor.release_texts import (  # noqa: F401 (part of this module's API)
    INSTRUCTOR_TARGETS,
    TEMPLATES,
    ReleaseBuildError,
    student_makefile,
    student_pyproject,
    student_readme,
)
from labutils.instructor.report_page import REPORT_GLOB, write_report_page  # noqa: F401
from labutils.paths import repo_root
from labutils.runner import STUDENT_COPY_METADATA

INSTRUCTOR_FOLDERS = ("labutils/instructor", "notebooks/instructor", "tests/instructor")
"""Folders that stay in this repository: the engine, grader and release tool, the solutions
and the reference report, and their tests."""

COPIED_FILES = ("environment.yml", "constraints.txt", ".gitignore")
COPIED_FOLDERS = ("images", "data", "labutils", "tests", "site")
GENERATED_FILES = ("README.md", "pyproject.toml", "Makefile", ".ci/run")
PUBLISHING = (".github/workflows/site.yml",)
"""Templates copied as they are: the GitHub Pages workflow that publishes the course site."""

SOLUTION_SUFFIX = "_solution"
_LESSON = re.compile(r"^\d+_.*\.ipynb$")
_SKIPPED_PARTS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".ruff_cache"}


@dataclass
class BuiltRelease:
    """What `build_release` wrote: the folder and every file in it (relative POSIX paths)."""

    root: Path
    files: list[str] = field(default_factory=list)
    repository: CourseRepository | None = None

    def summary(self) -> list[str]:
        """A few lines for the command line: where the badges point, what the tree holds."""
        tops: dict[str, int] = {}
        for name in self.files:
            top = name.split("/", 1)[0]
            tops[top] = tops.get(top, 0) + 1
        lines = [f"Colab badges and setup cells point at {self.repository.url} "
                 f"(branch {self.repository.branch})"] if self.repository else []
        lines += [f"{top:<18} {count:>4} file(s)" for top, count in sorted(tops.items())]
        return lines


def is_instructor_only(relpath: str) -> bool:
    """True for a path (relative, POSIX) under one of the INSTRUCTOR_FOLDERS."""
    return any(relpath == folder or relpath.startswith(folder + "/")
               for folder in INSTRUCTOR_FOLDERS)


def source_files(root: Path) -> list[str]:
    """Files of the instructor repository that git would commit (tracked or not ignored).

    Without git (a downloaded copy), every file except caches, virtual environments and the
    downloaded MNIST data.
    """
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=root, capture_output=True, check=True,
        ).stdout.decode("utf-8").split("\0")
    except (OSError, subprocess.CalledProcessError):
        listed = [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()]
        listed = [p for p in listed if not p.startswith((".git/", ".venv/", "data/MNIST/",
                                                         "build/"))
                  and ".egg-info/" not in p]
    found = []
    for name in sorted(set(filter(None, listed))):
        parts = name.split("/")
        if _SKIPPED_PARTS & set(parts) or not (root / name).is_file():
            continue
        found.append(name)
    return found


def shipped_copies(root: Path) -> list[str]:
    """The instructor repository's files that the student tree receives unchanged."""
    chosen = []
    for name in source_files(root):
        if is_instructor_only(name):
            continue
        parts = name.split("/")
        if name in COPIED_FILES or parts[0] in COPIED_FOLDERS:
            chosen.append(name)
        elif len(parts) == 2 and parts[0] == "notebooks" and _LESSON.match(parts[1]):
            if not _generated_student_copy(root, parts[1]):
                chosen.append(name)
    return chosen


def _is_lesson(name: str) -> bool:
    parts = name.split("/")
    return len(parts) == 2 and parts[0] == "notebooks" and bool(_LESSON.match(parts[1]))


def _generated_student_copy(root: Path, name: str) -> bool:
    stem = name.removesuffix(".ipynb")
    return (root / "notebooks" / "instructor" / f"{stem}{SOLUTION_SUFFIX}.ipynb").is_file()


def solution_sources(root: Path) -> list[Path]:
    """The instructor sources of the assignments (`notebooks/instructor/*_solution.ipynb`)."""
    return sorted((root / "notebooks" / "instructor").glob(f"*{SOLUTION_SUFFIX}.ipynb"))


def student_assignments(
    root: Path, repo: CourseRepository
) -> dict[str, nbformat.NotebookNode]:
    """Each student assignment, as the release writes it: {relative path: notebook}."""
    from labutils.instructor.assignment import release_notebook

    made = {}
    for source in solution_sources(root):
        relpath = f"notebooks/{source.stem.removesuffix(SOLUTION_SUFFIX)}.ipynb"
        student = release_notebook(nbformat.read(source, as_version=4), relpath, repo)
        student.metadata["labutils"] = {STUDENT_COPY_METADATA: True}
        made[relpath] = student
    return made


# -- the build ------------------------------------------------------------------------------

def _prepare_target(target: Path, root: Path, replace: bool) -> None:
    """Make `target` an empty folder, refusing anything that could lose work."""
    target = target.resolve()
    scratch = root / "build"
    inside = target == root or root in target.parents
    if target in root.parents or target == scratch or (inside and scratch not in target.parents):
        raise ReleaseBuildError(
            f"{target} is (inside) the instructor repository {root}: build the release in a "
            "folder of its own (e.g. build/student or ../student-repository).")
    if not target.exists():
        target.mkdir(parents=True)
        return
    if not target.is_dir():
        raise ReleaseBuildError(f"{target} exists and is not a folder.")
    entries = [e for e in target.iterdir() if e.name != ".git"]
    if not entries:
        return
    looks_released = (target / "pyproject.toml").is_file() and (target / "notebooks").is_dir() \
        and not (target / "labutils" / "instructor").exists()
    if not replace:
        raise ReleaseBuildError(
            f"{target} is not empty. Choose a new folder, or pass --replace to replace an "
            "earlier release there (its .git folder is kept).")
    if not looks_released:
        raise ReleaseBuildError(
            f"{target} is not empty and does not look like an earlier student release "
            "(pyproject.toml and notebooks/, no labutils/instructor/): not replacing it.")
    for entry in entries:
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def build_release(
    target: Path,
    root: Path | None = None,
    with_report: bool = False,
    replace: bool = False,
) -> BuiltRelease:
    """Build the student repository from the instructor repository `root` into `target`."""
    root = (Path(root) if root is not None else repo_root())
    if root is None:
        raise FileNotFoundError("Run this inside the instructor repository (no pyproject.toml).")
    root = root.resolve()
    if not (root / "labutils" / "instructor").is_dir():
        raise ReleaseBuildError(
            f"{root} is not the instructor repository (it has no labutils/instructor/).")
    repo = read_course_repository(root / "pyproject.toml", which="student")
    target = Path(target)
    _prepare_target(target, root, replace)
    target = target.resolve()
    built = BuiltRelease(target, repository=repo)

    for name in shipped_copies(root):
        dest = target / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        if _is_lesson(name):
            lesson = nbformat.read(root / name, as_version=4)
            nbformat.write(release_lesson(lesson, name), dest)
        else:
            shutil.copy2(root / name, dest)

    for relpath, nb in student_assignments(root, repo).items():
        nbformat.write(nb, target / relpath)

    report = None
    if with_report:
        report = write_report_page(root, target)

    (target / "pyproject.toml").write_text(
        student_pyproject((root / "pyproject.toml").read_text(encoding="utf-8"), repo),
        encoding="utf-8")
    (target / "Makefile").write_text(
        student_makefile((root / "Makefile").read_text(encoding="utf-8")), encoding="utf-8")
    ci = target / ".ci" / "run"
    ci.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(TEMPLATES / ".ci" / "run", ci)
    ci.chmod(0o755)
    for name in PUBLISHING:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(TEMPLATES / name, target / name)

    # Every shipped notebook points at the student repository (badge, setup cell).
    update_badges(target, echo=lambda _line: None, repo=repo)
    notebooks = sorted(p.relative_to(target).as_posix()
                       for p in (target / "notebooks").glob("*.ipynb"))
    (target / "README.md").write_text(
        student_readme(root, notebooks, repo, report), encoding="utf-8")

    built.files = sorted(p.relative_to(target).as_posix() for p in target.rglob("*")
                         if p.is_file() and ".git" not in p.relative_to(target).parts)
    leaked = [name for name in built.files if is_instructor_only(name)]
    if leaked:
        raise ReleaseBuildError(f"instructor-only files in the release: {leaked}")
    return built
