"""The "Open in Colab" badge and Colab setup cell of every notebook, written from one place.

The repository URL and branch live in pyproject.toml under [tool.labutils]; `make badges`
(`python -m labutils.instructor badges`) rewrites every notebook from them, and `--check` only
reports.
The instructor's repository also names the published student repository there
(`student_repository`, `student_branch`): the student release writes those into its own
pyproject.toml as `repository`/`branch`, so every notebook it ships points at the student copy.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import nbformat

from labutils.export import BADGE_PREFIX
from labutils.instructor.course.images import embed_in_notebook, image_problems
from labutils.paths import repo_root

BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
SETUP_MARKER = "#@title Setup (Colab only)"
"""First line of the setup cell; Colab shows it as the title of the collapsed cell."""
SETUP_METADATA = {"cellView": "form"}
"""Cell metadata that makes Colab collapse the setup cell to its title (a form)."""
_GITHUB = re.compile(r"^https://github\.com/([\w.-]+)/([\w.-]+?)(?:\.git)?/?$")


class CourseConfigError(ValueError):
    """The [tool.labutils] table of pyproject.toml is missing or wrong."""


@dataclass(frozen=True)
class CourseRepository:
    """Where students' Colab copies come from: a GitHub repository and branch."""

    url: str
    branch: str

    @property
    def slug(self) -> str:
        match = _GITHUB.match(self.url)
        assert match is not None
        return f"{match.group(1)}/{match.group(2)}"

    def badge_line(self, notebook: str) -> str:
        """Markdown for the badge of `notebook` (a path relative to the repository root)."""
        target = f"https://colab.research.google.com/github/{self.slug}/blob/{self.branch}/{notebook}"
        return f"{BADGE_PREFIX}{BADGE_IMAGE})]({target})"

    def setup_source(self) -> str:
        """The Colab setup cell: installs labutils from the course repository, only on Colab."""
        return (
            f"{SETUP_MARKER}: installs the course helpers\n"
            "import subprocess\n"
            "import sys\n"
            "\n"
            'if "google.colab" in sys.modules:\n'
            "    package = \"labutils @ git+" + f"{self.url}@{self.branch}" + "\"\n"
            "    subprocess.run([sys.executable, \"-m\", \"pip\", \"install\", \"-q\", package], "
            "check=True)"
        )


SETTINGS = {"course": ("repository", "branch"), "student": ("student_repository", "student_branch")}
"""[tool.labutils] keys of each repository: this one ("course") and the published student copy."""


def read_course_repository(
    pyproject: Path | None = None, which: str = "course"
) -> CourseRepository:
    """Read a repository URL and branch from [tool.labutils], with a clear error if unset.

    `which="course"` reads `repository`/`branch` (the repository this pyproject.toml belongs
    to); `which="student"` reads `student_repository`/`student_branch` (where the release is
    published; only the instructor's repository has them).
    """
    url_key, branch_key = SETTINGS[which]
    if pyproject is None:
        root = repo_root()
        if root is None:
            raise CourseConfigError("No course repository found (no pyproject.toml above the cwd).")
        pyproject = root / "pyproject.toml"
    with open(pyproject, "rb") as handle:
        table = tomllib.load(handle).get("tool", {}).get("labutils", {})
    url = str(table.get(url_key, "")).strip()
    branch = str(table.get(branch_key, "main")).strip() or "main"
    if not url:
        raise CourseConfigError(
            f"No {url_key} URL set in {pyproject}. Add under [tool.labutils]: "
            f'{url_key} = "https://github.com/OWNER/REPO" (and {branch_key} = "main"), '
            "then run `make badges`."
        )
    if not _GITHUB.match(url):
        raise CourseConfigError(
            f"[tool.labutils] {url_key} = {url!r} in {pyproject} is not a GitHub URL of the "
            "form https://github.com/OWNER/REPO (Colab opens notebooks from GitHub)."
        )
    return CourseRepository(url, branch)


def apply_badges(nb: nbformat.NotebookNode, relpath: str, repo: CourseRepository) -> bool:
    """Put the badge on the first line of the first markdown cell and the setup cell after it.

    Returns True when the notebook changed.
    """
    before = nbformat.writes(nb)
    badge = repo.badge_line(relpath)
    first = nb.cells[0] if nb.cells else None
    if first is not None and first.cell_type == "markdown":
        lines = first.source.split("\n")
        if lines[0].startswith(BADGE_PREFIX):
            lines[0] = badge
        else:
            lines.insert(0, badge)
        first.source = "\n".join(lines)
    else:
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(badge))
    setup = setup_cells(nb)
    if setup:
        setup[0].source = repo.setup_source()
    else:
        setup = [nbformat.v4.new_code_cell(repo.setup_source())]
        nb.cells.insert(1, setup[0])
    setup[0].metadata.update(SETUP_METADATA)
    return nbformat.writes(nb) != before


def setup_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    """The code cells that are Colab setup cells (first line SETUP_MARKER)."""
    return [c for c in nb.cells if c.cell_type == "code" and c.source.startswith(SETUP_MARKER)]


def badge_problems(nb: nbformat.NotebookNode, relpath: str, repo: CourseRepository) -> list[str]:
    """What disagrees with the configured badge and setup cell (empty when all is right)."""
    problems = []
    first = nb.cells[0] if nb.cells else None
    if first is None or first.cell_type != "markdown":
        problems.append("first cell is not the markdown cell with the Colab badge")
    elif first.source.split("\n")[0] != repo.badge_line(relpath):
        problems.append("Colab badge missing or pointing elsewhere")
    setup = setup_cells(nb)
    if len(setup) != 1:
        problems.append(f"expected one Colab setup cell, found {len(setup)}")
    elif setup[0].source != repo.setup_source():
        problems.append("Colab setup cell differs from the configured repository/branch")
    elif setup[0].metadata.get("cellView") != SETUP_METADATA["cellView"]:
        problems.append('Colab setup cell is not collapsed on Colab (metadata cellView: "form")')
    return problems


def all_notebooks(root: Path) -> list[Path]:
    """Every notebook under root/notebooks, without Jupyter's checkpoints and hidden files."""
    return sorted(
        path for path in (root / "notebooks").rglob("*.ipynb")
        if ".ipynb_checkpoints" not in path.parts and not path.name.startswith(".")
    )


def update_badges(
    root: Path | None = None,
    check: bool = False,
    echo=print,
    repo: CourseRepository | None = None,
) -> int:
    """Rewrite (or with `check`, verify) every notebook's badge and setup cell, and embed the
    pictures of images/ (labutils.instructor.course.images); return the number of problems found.

    `repo` defaults to the `repository`/`branch` in `root`'s pyproject.toml. The instructor's
    `make badges` also validates the student setting, so a typo shows before a release.
    """
    root = root or repo_root()
    if root is None:
        raise CourseConfigError("Run this inside the course repository.")
    if repo is None:
        repo = read_course_repository(root / "pyproject.toml")
        if (root / "labutils" / "instructor").is_dir():
            read_course_repository(root / "pyproject.toml", which="student")

    problems = 0
    for path in all_notebooks(root):
        relpath = path.relative_to(root).as_posix()
        nb = nbformat.read(path, as_version=4)
        if check:
            for problem in badge_problems(nb, relpath, repo) + image_problems(nb, root / "images"):
                echo(f"{relpath}: {problem}")
                problems += 1
        elif apply_badges(nb, relpath, repo) | embed_in_notebook(nb, root / "images"):
            nbformat.write(nb, path)
            echo(f"updated {relpath}")
    return problems
