"""The generated files of the student release: pyproject.toml, Makefile and README.md."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import nbformat

from labutils.instructor.course.badges import CourseRepository

INSTRUCTOR_TARGETS = ("release", "assignment", "grade", "bench", "badges", "images")
"""Makefile targets left out of the student Makefile."""

TEMPLATES = Path(__file__).resolve().parent / "release_files"

STUDENT_DESCRIPTION = (
    "Helpers for a deep-learning lab course in PyTorch: data, training loops, plots, "
    "the assignment's self-checks, and notebook tooling."
)

class ReleaseBuildError(ValueError):
    """The release cannot be built (bad target folder, missing source, broken template)."""


# -- generated files ------------------------------------------------------------------------

def student_pyproject(text: str, repo: CourseRepository) -> str:
    """The student tree's pyproject.toml, made from the instructor's text.

    Same project, dependencies and tool settings; the package excludes labutils.instructor,
    the instructor's package data is left out, and [tool.labutils] names only the student
    repository (as `repository`/`branch`: the course site links its Colab badges there).
    """
    lines = text.split("\n")
    out: list[str] = []
    section = ""
    pending_comments: list[str] = []
    for line in lines:
        header = re.match(r"^\[([^\]]+)\]\s*$", line)
        if header:
            section = header.group(1).strip()
            out.extend(pending_comments)
            pending_comments = []
            if section == "tool.setuptools.package-data":
                continue
            out.append(line)
            if section == "tool.labutils":
                out += [
                    "# The ONE place that names this repository (the course site links its",
                    "# notebooks' \"Open in Colab\" badges here).",
                    f'repository = "{repo.url}"',
                    f'branch = "{repo.branch}"',
                ]
            continue
        if section in ("tool.labutils", "tool.setuptools.package-data"):
            if not line.strip():
                out.append(line)
            continue  # rewritten above / instructor-only package data
        if section == "project" and line.startswith("description ="):
            line = f'description = "{STUDENT_DESCRIPTION}"'
        if section == "tool.setuptools.packages.find" and line.startswith("include ="):
            out.append(line)
            line = 'exclude = ["labutils.instructor", "labutils.instructor.*"]'
        if line.startswith("#"):
            pending_comments.append(line)
            continue
        out.extend(pending_comments)
        pending_comments = []
        out.append(line)
    out.extend(pending_comments)
    result = re.sub(r"\n{3,}", "\n\n", "\n".join(out))
    _check_student_pyproject(text, result, repo)
    return result


def _check_student_pyproject(source: str, result: str, repo: CourseRepository) -> None:
    before, after = tomllib.loads(source), tomllib.loads(result)
    same = ("name", "version", "requires-python", "dependencies", "optional-dependencies")
    for key in same:
        if before["project"].get(key) != after["project"].get(key):
            raise ReleaseBuildError(f"student pyproject.toml: [project] {key} changed")
    table = after["tool"]["labutils"]
    if table != {"repository": repo.url, "branch": repo.branch}:
        raise ReleaseBuildError(f"student pyproject.toml: [tool.labutils] is {table}")
    if "package-data" in after["tool"].get("setuptools", {}):
        raise ReleaseBuildError("student pyproject.toml still declares instructor package data")


def student_makefile(text: str) -> str:
    """The instructor Makefile without the INSTRUCTOR_TARGETS rules (and their comments)."""
    out: list[str] = []
    comments: list[str] = []
    skipping = False
    for line in text.split("\n"):
        rule = re.match(r"^([A-Za-z][\w-]*)\s*:(?!=)", line)
        if skipping and (line.startswith("\t") or (line.strip() and not rule and
                                                     not line.startswith(("#", ".")) and
                                                     "=" not in line)):
            continue
        skipping = False
        if rule and rule.group(1) in INSTRUCTOR_TARGETS:
            skipping, comments = True, []
            if out and not out[-1].strip():
                out.pop()
            continue
        if line.startswith(".PHONY:"):
            names = [n for n in line.split(":", 1)[1].split() if n not in INSTRUCTOR_TARGETS]
            line = ".PHONY: " + " ".join(names)
        if line.startswith("#") and not line.startswith("#!"):
            comments.append(line)
            continue
        out.extend(comments)
        comments = []
        out.append(line)
    out.extend(comments)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out))


def _course_map(root: Path, notebooks: list[str], repo: CourseRepository) -> str:
    """The lesson table of the student README: the instructor README's rows for the shipped
    notebooks, with a Colab badge each (the notebook's title when the README has no row)."""
    readme = (root / "README.md").read_text(encoding="utf-8") if (root / "README.md").is_file() \
        else ""
    rows = ["| # | notebook | open | what you learn |", "|---|----------|------|----------------|"]
    for relpath in notebooks:
        name = Path(relpath).stem
        number = name.split("_", 1)[0]
        about = ""
        for line in readme.split("\n"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) >= 3 and f"({relpath})" in cells[1]:
                about = cells[-1]
                break
        if not about:
            about = _title(root / relpath)
        badge = repo.badge_line(relpath)
        rows.append(f"| {number} | [`{name}`]({relpath}) | {badge} | {about} |")
    return "\n".join(rows)


def _title(path: Path) -> str:
    if not path.is_file():
        return ""
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "markdown":
            for line in cell.source.split("\n"):
                if line.startswith("# "):
                    return line[2:].strip()
    return ""


def _pythons(requires: str) -> str:
    """The Python versions `requires` accepts, as a reader says them: "3.11, 3.12 or 3.13"."""
    from packaging.specifiers import SpecifierSet

    accepted = [f"3.{minor}" for minor in range(6, 30) if f"3.{minor}" in SpecifierSet(requires)]
    if not accepted:
        raise ReleaseBuildError(f"pyproject.toml: requires-python {requires!r} accepts no 3.x")
    return accepted[0] if len(accepted) == 1 else f"{', '.join(accepted[:-1])} or {accepted[-1]}"


def student_readme(root: Path, notebooks: list[str], repo: CourseRepository,
                   report: str | None) -> str:
    """The student README from release_files/README.md, with the repository and course map."""
    template = (TEMPLATES / "README.md").read_text(encoding="utf-8")
    with open(root / "pyproject.toml", "rb") as handle:
        requires = tomllib.load(handle)["project"]["requires-python"]
    report_line = (f"After the deadline: the reference report, [`{Path(report).name}`]({report})"
                   " (open it in a browser)." if report else "")
    values = {
        "REPOSITORY": repo.url,
        "BRANCH": repo.branch,
        "CLONE_FOLDER": repo.slug.split("/")[1],
        "REQUIRES_PYTHON": requires,
        "PYTHONS": _pythons(requires),
        "COURSE_MAP": _course_map(root, notebooks, repo),
        "REPORT": report_line,
    }
    text = template
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    left = re.findall(r"\{\{[A-Z_]+\}\}", text)
    if left:
        raise ReleaseBuildError(f"release_files/README.md: unknown placeholders {left}")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text)


