"""Images in notebooks render everywhere: GitHub, `make lab` (rooted at notebooks/), VS Code, Colab.

The rule: a picture shown by a markdown cell is a cell attachment (`![text](attachment:NAME)`,
the image stored inside the notebook), so it needs no file beside the notebook and no network.
The one exception is the "Open in Colab" badge, Google's own image at a fixed URL. Pictures drawn
by `make images` are attached byte for byte as they are in images/.
"""

import base64
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from labutils.colab import BADGE_IMAGE
from labutils.figures import attach_images

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for p in (REPO / "notebooks").rglob("*.ipynb") if not p.name.startswith("."))
MARKDOWN_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)")
HTML_IMAGE = re.compile(r"<img\b[^>]*?\bsrc\s*=\s*[\"']?([^\"'\s>]+)", re.IGNORECASE)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def image_targets(source: str) -> list[str]:
    """Every image a markdown source shows, in markdown or HTML syntax."""
    return MARKDOWN_IMAGE.findall(source) + HTML_IMAGE.findall(source)


def rule_violations(path: Path) -> list[str]:
    """What breaks the image rule in one notebook (empty when it holds)."""
    problems = []
    nb = nbformat.read(path, as_version=4)
    for index, cell in enumerate(nb.cells):
        where = f"{path.name} cell {index}"
        attachments = cell.get("attachments") or {}
        if cell.cell_type != "markdown":
            if attachments:
                problems.append(f"{where}: a {cell.cell_type} cell with attachments")
            continue
        shown = set()
        for target in image_targets(cell.source):
            if target == BADGE_IMAGE:
                continue
            if not target.startswith("attachment:"):
                problems.append(f"{where}: image {target!r} is not a cell attachment "
                                "(embed it: see labutils/figures.py, `make images`)")
                continue
            name = target.removeprefix("attachment:")
            shown.add(name)
            bundle = attachments.get(name)
            if not bundle:
                problems.append(f"{where}: shows attachment {name!r}, which the cell lacks")
                continue
            for mime, data in bundle.items():
                if not mime.startswith("image/"):
                    problems.append(f"{where}: attachment {name!r} has type {mime}")
                elif mime == "image/png" and not base64.b64decode(data).startswith(PNG_SIGNATURE):
                    problems.append(f"{where}: attachment {name!r} is not a PNG")
        for name in set(attachments) - shown:
            problems.append(f"{where}: attachment {name!r} is stored but never shown")
    return problems


def test_notebooks_are_found():
    names = {p.relative_to(REPO / "notebooks").as_posix() for p in NOTEBOOKS}
    assert "01_autograd.ipynb" in names
    if (REPO / "notebooks" / "instructor").is_dir():  # absent from the student release
        assert any(name.startswith("instructor/") for name in names)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_image_is_an_attachment_or_the_colab_badge(path):
    assert rule_violations(path) == []


def test_attachments_match_the_figures_of_images_folder():
    """`make images` redraws images/ and re-attaches: a stale copy in a notebook fails here."""
    used = set()
    for path in NOTEBOOKS:
        for cell in nbformat.read(path, as_version=4).cells:
            for name, bundle in (cell.get("attachments") or {}).items():
                drawn = REPO / "images" / name
                if drawn.is_file():
                    used.add(name)
                    assert base64.b64decode(bundle["image/png"]) == drawn.read_bytes(), (
                        f"{path.name}: attachment {name} differs from images/{name}; run "
                        "`make images`")
    assert used == {p.name for p in (REPO / "images").glob("*.png")}, "unused file in images/"


def test_the_rule_catches_links_that_break_outside_the_repository(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("![graph](../images/graph.png)"),
        nbformat.v4.new_markdown_cell('<img src="https://example.org/x.png" width=200>'),
        nbformat.v4.new_markdown_cell("![missing](attachment:gone.png)"),
    ])
    path = tmp_path / "probe.ipynb"
    nbformat.write(nb, path)
    problems = rule_violations(path)
    assert len(problems) == 3
    assert "../images/graph.png" in problems[0] and "example.org" in problems[1]
    assert "lacks" in problems[2]


def test_attach_images_embeds_and_is_idempotent(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    shutil.copy(REPO / "images" / "graph_composition.png", folder / "g.png")
    path = tmp_path / "lesson.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("A picture: ![graph](attachment:g.png)"),
        nbformat.v4.new_markdown_cell("![pasted by hand](attachment:other.png)"),
    ]), path)
    assert attach_images([path], folder) == [path]
    cell = nbformat.read(path, as_version=4).cells[0]
    embedded = base64.b64decode(cell.attachments["g.png"]["image/png"])
    assert embedded == (folder / "g.png").read_bytes()
    before = path.read_bytes()
    assert attach_images([path], folder) == []          # nothing new: file not rewritten
    assert path.read_bytes() == before
