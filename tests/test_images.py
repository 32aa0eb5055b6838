"""Images in notebooks render everywhere: GitHub, Colab, VS Code, `make lab` (rooted at notebooks/).

The rule: a picture in a markdown cell is a file of images/, linked by its raw GitHub URL in the
course repository named in pyproject.toml ([tool.labutils]), as `make badges` writes it. A relative
link breaks on Colab (no repository around the notebook) and under `make lab` (no files above its
root); a cell attachment is not rendered by Colab. The one other image allowed is the Colab badge.
"""

import re
from pathlib import Path

import nbformat
import pytest

from labutils.colab import BADGE_IMAGE, CourseRepository, apply_badges, read_course_repository
from labutils.figures import course_image_name, image_url, point_images_at

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for p in (REPO / "notebooks").rglob("*.ipynb") if not p.name.startswith("."))
MARKDOWN_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)")
HTML_IMAGE = re.compile(r"<img\b[^>]*?\bsrc\s*=\s*[\"']?([^\"'\s>]+)", re.IGNORECASE)


def image_targets(source: str) -> list[str]:
    """Every image a markdown source shows, in markdown or HTML syntax."""
    return MARKDOWN_IMAGE.findall(source) + HTML_IMAGE.findall(source)


def rule_violations(path: Path, repo: CourseRepository, images: Path) -> list[str]:
    """What breaks the image rule in one notebook (empty when it holds)."""
    problems = []
    for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
        where = f"{path.name} cell {index}"
        if cell.get("attachments"):
            problems.append(f"{where}: cell attachments (Colab does not render them)")
        if cell.cell_type != "markdown":
            continue
        for target in image_targets(cell.source):
            if target == BADGE_IMAGE:
                continue
            name = course_image_name(target)
            if name is None:
                problems.append(f"{where}: image {target!r} is not a file of images/ "
                                "(put it there and link it as `make badges` does)")
            elif target != image_url(repo, name):
                problems.append(f"{where}: image {target!r} should be {image_url(repo, name)} "
                                "(run `make badges`)")
            elif not (images / name).is_file():
                problems.append(f"{where}: images/{name} does not exist (run `make images`)")
    return problems


def test_notebooks_are_found():
    names = {p.relative_to(REPO / "notebooks").as_posix() for p in NOTEBOOKS}
    assert "01_autograd.ipynb" in names
    if (REPO / "notebooks" / "instructor").is_dir():  # absent from the student release
        assert any(name.startswith("instructor/") for name in names)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_image_is_a_course_image_at_its_raw_url_or_the_colab_badge(path):
    repo = read_course_repository(REPO / "pyproject.toml")
    assert rule_violations(path, repo, REPO / "images") == []


def test_every_file_of_images_folder_is_shown_somewhere():
    shown = set()
    for path in NOTEBOOKS:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "markdown":
                shown.update(filter(None, map(course_image_name, image_targets(cell.source))))
    assert {p.name for p in (REPO / "images").glob("*.png")} <= shown, "unused file in images/"


def test_the_rule_catches_links_that_break_outside_the_repository(tmp_path):
    repo = CourseRepository("https://github.com/someone/course", "main")
    (tmp_path / "graph.png").write_bytes(b"")
    path = tmp_path / "probe.ipynb"
    attached = nbformat.v4.new_markdown_cell("![pasted](attachment:p.png)")
    attached["attachments"] = {"p.png": {"image/png": ""}}
    nbformat.write(nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("![graph](../images/graph.png)"),
        nbformat.v4.new_markdown_cell('<img src="https://example.org/x.png" width=200>'),
        attached,
        nbformat.v4.new_markdown_cell(
            "![old fork](https://raw.githubusercontent.com/other/course/main/images/graph.png)"),
        nbformat.v4.new_markdown_cell(f"![gone]({image_url(repo, 'gone.png')})"),
        nbformat.v4.new_markdown_cell(f"![fine]({image_url(repo, 'graph.png')}) and the badge "
                                      f"![Open In Colab]({BADGE_IMAGE})"),
    ]), path)
    problems = rule_violations(path, repo, tmp_path)
    assert [p.split(":")[0] for p in problems] == [
        "probe.ipynb cell 0", "probe.ipynb cell 1", "probe.ipynb cell 2", "probe.ipynb cell 2",
        "probe.ipynb cell 3", "probe.ipynb cell 4"]


def test_make_badges_points_image_links_at_the_configured_repository():
    fork = CourseRepository("https://github.com/a-fork/course", "spring-2027")
    source = ("![g](../images/g.png) ![h](https://raw.githubusercontent.com/x/y/main/images/h.png)"
              f" ![Open In Colab]({BADGE_IMAGE}) ![web](https://example.org/w.png)")
    assert point_images_at(source, fork) == (
        "![g](https://raw.githubusercontent.com/a-fork/course/spring-2027/images/g.png) "
        "![h](https://raw.githubusercontent.com/a-fork/course/spring-2027/images/h.png)"
        f" ![Open In Colab]({BADGE_IMAGE}) ![web](https://example.org/w.png)")
    nb = nbformat.read(REPO / "notebooks" / "01_autograd.ipynb", as_version=4)
    assert apply_badges(nb, "notebooks/01_autograd.ipynb", fork)
    fork_images = "https://raw.githubusercontent.com/a-fork/course/spring-2027/images/"
    assert fork_images in nbformat.writes(nb)
