"""labutils.instructor.course.images: pictures render everywhere, offline too: Colab, GitHub,
JupyterLab (`make lab`), the HTML export.

The rule: a picture in a markdown cell is a file of images/, embedded in the markdown as a data: URI
whose title names the file (`make images` and `make badges` write it), with the bytes images/ holds.
A remote URL needs the network (and a raw GitHub URL a public repository: the instructor's is
private); a relative link breaks on Colab and under `make lab`; Colab does not render cell
attachments. The one remote image allowed is the Colab badge: it sits in a link to Colab, which
needs the network anyway (offline its alt text "Open In Colab" shows), and the same badge line is
used in README files, where GitHub does not render data: images.
"""

import base64
import re
from pathlib import Path

import nbformat
import pytest

from labutils.instructor import cli
from labutils.instructor.course.badges import BADGE_IMAGE, all_notebooks, update_badges
from labutils.instructor.course.images import (
    EMBEDDED,
    IMAGE_LINK,
    course_image_name,
    embed_course_images,
    embed_images,
    embed_in_notebook,
    image_problems,
)

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = all_notebooks(REPO)
HTML_IMAGE = r"<img\b[^>]*?\bsrc\s*=\s*[\"']?([^\"'\s>]+)"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def rule_violations(path: Path, images: Path) -> list[str]:
    """What breaks the picture rule in one notebook (empty when it holds)."""
    nb = nbformat.read(path, as_version=4)
    problems = [f"{path.name}: {problem}" for problem in image_problems(nb, images)]
    for index, cell in enumerate(nb.cells):
        where = f"{path.name} cell {index}"
        if cell.get("attachments"):
            problems.append(f"{where}: cell attachments (Colab does not render them)")
        if cell.cell_type != "markdown":
            continue
        shown = [(m.group(2), m.group(3)) for m in IMAGE_LINK.finditer(cell.source)]
        shown += [(target, None) for target in re.findall(HTML_IMAGE, cell.source, re.I)]
        for target, title in shown:
            if target == BADGE_IMAGE:
                continue
            if not target.startswith(EMBEDDED) or course_image_name(target, title) is None:
                problems.append(f"{where}: picture {target[:60]!r} is not an embedded file of "
                                "images/ (put it in images/, link it as ../images/NAME.png and "
                                "run `make images`)")
    return problems


def test_notebooks_are_found():
    names = {p.relative_to(REPO / "notebooks").as_posix() for p in NOTEBOOKS}
    assert "01_autograd.ipynb" in names
    assert any(name.startswith("instructor/") for name in names)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_picture_is_embedded_or_the_colab_badge(path):
    assert rule_violations(path, REPO / "images") == [], "run `make images`"


def test_every_file_of_images_folder_is_shown_somewhere():
    shown = set()
    for path in NOTEBOOKS:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "markdown":
                shown.update(course_image_name(m.group(2), m.group(3))
                             for m in IMAGE_LINK.finditer(cell.source))
    assert {p.name for p in (REPO / "images").glob("*.png")} <= shown, "unused file in images/"


def test_the_rule_catches_pictures_that_need_the_network_or_a_repository(tmp_path):
    (tmp_path / "graph.png").write_bytes(b"\x89PNG new")
    stale = embed_images("![g](images/graph.png)", tmp_path)
    (tmp_path / "graph.png").write_bytes(b"\x89PNG redrawn")
    attached = nbformat.v4.new_markdown_cell("![pasted](attachment:p.png)")
    attached["attachments"] = {"p.png": {"image/png": ""}}
    path = tmp_path / "probe.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("![graph](../images/graph.png)"),
        nbformat.v4.new_markdown_cell('<img src="https://example.org/x.png" width=200>'),
        attached,
        nbformat.v4.new_markdown_cell(
            "![raw](https://raw.githubusercontent.com/o/course/main/images/graph.png)"),
        nbformat.v4.new_markdown_cell(stale),
        nbformat.v4.new_markdown_cell("![unnamed](data:image/png;base64,iVBORw0K)"),
        nbformat.v4.new_markdown_cell(embed_images("![fine](../images/graph.png) and the "
                                                   f"badge ![Open In Colab]({BADGE_IMAGE})",
                                                   tmp_path)),
    ]), path)
    problems = rule_violations(path, tmp_path)
    assert sum("not embedded as images/ holds it" in p for p in problems) == 3  # 0, 3 and 4
    flagged = sorted({p.split(":")[0] for p in problems if "cell" in p.split(":")[0]})
    assert flagged == [f"probe.ipynb cell {i}" for i in (0, 1, 2, 3, 5)]


def test_embedding_is_idempotent_and_leaves_other_images_alone(tmp_path):
    one, two = b"\x89PNG one", b"\x89PNG two"
    (tmp_path / "g.png").write_bytes(one)
    source = ("![g](../images/g.png) ![h](https://raw.githubusercontent.com/x/y/main/images/g.png)"
              f" ![Open In Colab]({BADGE_IMAGE}) ![web](https://example.org/w.png)")
    once = embed_images(source, tmp_path)
    assert once.count(f'{EMBEDDED}{b64(one)} "images/g.png")') == 2
    assert f"![Open In Colab]({BADGE_IMAGE})" in once and "(https://example.org/w.png)" in once
    assert embed_images(once, tmp_path) == once
    (tmp_path / "g.png").write_bytes(two)  # `make images` redrew it
    assert embed_images(once, tmp_path).count(b64(two)) == 2


def test_a_missing_picture_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="run `make images`"):
        embed_images("![gone](../images/gone.png)", tmp_path)


def test_make_badges_embeds_the_pictures_of_lesson_01(tmp_path):
    (tmp_path / "notebooks").mkdir()
    nb = nbformat.read(REPO / "notebooks" / "01_autograd.ipynb", as_version=4)
    for cell in nb.cells:  # as an instructor writes a new picture
        if cell.cell_type == "markdown":
            cell.source = IMAGE_LINK.sub(
                lambda m: f"{m.group(1)}../images/{course_image_name(m.group(2), m.group(3))})"
                if course_image_name(m.group(2), m.group(3)) else m.group(0), cell.source)
    nbformat.write(nb, tmp_path / "notebooks" / "01_autograd.ipynb")
    (tmp_path / "images").symlink_to(REPO / "images")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.labutils]\nrepository = "https://github.com/t/course"\n')
    path = tmp_path / "notebooks" / "01_autograd.ipynb"
    assert rule_violations(path, REPO / "images") != []
    assert update_badges(tmp_path, echo=print) == 0
    assert rule_violations(path, REPO / "images") == []
    assert not embed_in_notebook(nbformat.read(path, as_version=4), REPO / "images")


def test_images_command_draws_the_figures_and_embed_rewrites_only_what_shows_one(tmp_path):
    assert cli.main(["images", "--folder", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.glob("*.png")) == [
        "graph_composition.png", "graph_composition_hidden.png"]
    shows, other = tmp_path / "shows.ipynb", tmp_path / "other.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("![g](../images/graph_composition.png)")]), shows)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# x")]), other)
    before = other.read_bytes()
    said = []
    embed_course_images([shows, other], tmp_path, echo=said.append)
    assert said == [f"embedded pictures in {shows}"] and other.read_bytes() == before
    assert image_problems(nbformat.read(shows, as_version=4), tmp_path) == []
