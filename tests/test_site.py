"""The course site (site/, `make site`): the preparation step, and the built pages.

The built-site tests read build/site/ (made by `make site`; .ci/run builds it, then runs this
file with LABUTILS_SITE_REQUIRED=1 so that a missing site fails instead of skipping). The
browser check (tests/test_site_browser.py) loads pages in headless Chromium, offline.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
SITE = REPO / "build" / "site"


def load_prepare():
    """site/prepare.py as a module (site/ is no package: its name is taken by the stdlib)."""
    spec = importlib.util.spec_from_file_location("site_prepare", REPO / "site" / "prepare.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


prepare = load_prepare()
BADGE = ("[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
         "(https://colab.research.google.com/github/o/r/blob/spring/notebooks/01_a.ipynb)")
RAW = "https://raw.githubusercontent.com/o/r/main/images/"


def built_site() -> Path:
    """build/site/, or a skip (a failure under LABUTILS_SITE_REQUIRED=1) when not built."""
    if not (SITE / "index.html").is_file():
        message = f"{SITE} is not built: run `make site` first"
        if os.environ.get("LABUTILS_SITE_REQUIRED") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return SITE


def expected_colab(notebook: str) -> str:
    """The Colab URL of `notebook` in the repository students use ([tool.labutils])."""
    table = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["labutils"]
    url = table.get("student_repository", table["repository"]).removeprefix("https://github.com/")
    branch = table.get("student_branch", table.get("branch", "main"))
    return f"https://colab.research.google.com/github/{url}/blob/{branch}/{notebook}"


# -- the preparation step ---------------------------------------------------------------------

@pytest.mark.parametrize("source", [
    "# Colab setup (written by `make badges`): installs the course helpers on Colab only.\nx",
    "#@title Colab setup: run this cell first\nimport sys",
    "  # Setup for Google Colab\n",
    "import sys\nif 'google.colab' in sys.modules:\n    !pip install -q labutils",
])
def test_setup_cell_is_recognised_by_its_first_line(source):
    assert prepare.is_setup_cell(nbformat.v4.new_code_cell(source))


@pytest.mark.parametrize("cell", [
    nbformat.v4.new_code_cell("import torch  # the first lesson cell"),
    nbformat.v4.new_code_cell("# CHECK: dataset (do not edit)\ncheck_dataset()"),
    nbformat.v4.new_markdown_cell("# Colab setup\nRun the Colab setup cell first."),
])
def test_other_cells_are_no_setup_cell(cell):
    assert not prepare.is_setup_cell(cell)


def test_badges_go_by_their_link_whatever_the_repository():
    html_badge = ('<a href="https://colab.research.google.com/github/x/y/blob/b/n.ipynb">'
                  '<img src="https://colab.research.google.com/assets/colab-badge.svg"></a>')
    for badge in (BADGE, html_badge):
        cleaned = prepare.clean_markdown(f"{badge}\n# Lesson 01\nText.", set(), "../")
        assert cleaned == "# Lesson 01\nText."


def test_pictures_become_local_files_and_data_uris_stay():
    data = "data:image/png;base64,iVBORw0KGgo="
    source = (f"![a]({RAW}g.png) ![b](../images/g.png) ![c]({data}) "
              f'<img src="{RAW}g.png"> ![d]({RAW}missing.png)')
    cleaned = prepare.clean_markdown(source, {"g.png"}, "../")
    assert cleaned == (f"![a](../images/g.png) ![b](../images/g.png) ![c]({data}) "
                       f'<img src="../images/g.png"> ![d]({RAW}missing.png)')


def test_links_to_files_that_are_no_page_go_to_github(tmp_path):
    source = "[bench](../benchmarks/results.md), [next](02_b.ipynb#part-1), [s](#summary)"
    linked = prepare.page_links(source, ("https://github.com/o/r", "spring"),
                                {"notebooks/02_b.ipynb"}, tmp_path, base="notebooks")
    assert linked == ("[bench](https://github.com/o/r/blob/spring/benchmarks/results.md), "
                      "[next](02_b.ipynb#part-1), [s](#summary)")


def lesson() -> nbformat.NotebookNode:
    """A lesson as the release ships it: badge, setup cell, a check cell, a Colab form."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["widgets"] = {"state": {}}
    check = nbformat.v4.new_code_cell("# Automatic check (run by the course's tests)\nassert 1")
    check.metadata.update(tags=["ci-check"], jupyter={"source_hidden": True})
    form = nbformat.v4.new_code_cell("#@title Helper\nshow()")
    form.metadata["cellView"] = "form"
    nb.cells = [nbformat.v4.new_markdown_cell(f"{BADGE}\n# Lesson 01 — A\nIntro."),
                nbformat.v4.new_code_cell("#@title Colab setup\npass"),
                nbformat.v4.new_code_cell("x = 1"), check, form]
    return nb


def test_prepared_notebook_shows_what_a_reader_needs():
    nb = lesson()
    page = prepare.prepare_notebook(nb, "01_a.ipynb", set())
    assert [c.source.split("\n")[0] for c in page.cells] == ["# Lesson 01 — A", "x = 1",
                                                            "#@title Helper"]
    assert prepare.download_line("01_a.ipynb") in page.cells[0].source
    assert page.cells[-1].metadata["tags"] == ["remove-input"]
    assert "widgets" not in page.metadata
    assert len(nb.cells) == 5 and BADGE in nb.cells[0].source  # the release copy is untouched


def fake_release(root: Path) -> Path:
    (root / "notebooks").mkdir(parents=True)
    (root / "images").mkdir()
    (root / "images" / "g.png").write_bytes(b"png")
    (root / "pyproject.toml").write_text(
        '[tool.labutils]\nrepository = "https://github.com/o/r"\nbranch = "main"\n')
    (root / "README.md").write_text(
        f"# Course\n\n| 01 | [`01_a`](notebooks/01_a.ipynb) | {BADGE} |\n\n"
        f"See [`labutils`](labutils/) and ![g]({RAW}g.png).")
    (root / "labutils").mkdir()
    nbformat.write(lesson(), root / "notebooks" / "01_a.ipynb")
    return root


def test_prepare_source_writes_pages_home_and_downloads(tmp_path):
    release = fake_release(tmp_path / "release")
    source = tmp_path / "source"
    settings = prepare.prepare_source(release, source, REPO / "site" / "conf.py")
    assert settings == {"repository": "https://github.com/o/r", "branch": "main",
                        "notebooks": ["notebooks/01_a.ipynb"]}
    home = (source / "index.md").read_text()
    assert f"[Open in Colab]({BADGE.split('](')[-1]}" in home
    assert "[`labutils`](https://github.com/o/r/tree/main/labutils)" in home
    assert "![g](images/g.png)" in home and "notebooks/01_a\n```" in home
    shipped = (source / "_extra" / "notebooks" / "01_a.ipynb").read_bytes()
    assert shipped == (release / "notebooks" / "01_a.ipynb").read_bytes()
    page = nbformat.read(source / "notebooks" / "01_a.ipynb", as_version=4)
    assert not any(prepare.is_setup_cell(c) for c in page.cells)
    assert (source / "conf.py").is_file() and (source / "images" / "g.png").is_file()


def test_prepare_source_names_the_fix_for_a_wrong_folder(tmp_path):
    with pytest.raises(prepare.SiteSourceError, match="pass the student release folder"):
        prepare.prepare_source(tmp_path, tmp_path / "source", REPO / "site" / "conf.py")
    (tmp_path / "notebooks" / "instructor").mkdir(parents=True)
    with pytest.raises(prepare.SiteSourceError, match="from the student release only"):
        prepare.prepare_source(tmp_path, tmp_path / "source", REPO / "site" / "conf.py")


# -- the built site ---------------------------------------------------------------------------

ASSET_ATTRIBUTES = {"script": "src", "img": "src", "source": "src", "iframe": "src",
                    "video": "src", "audio": "src", "embed": "src", "object": "data"}
REMOTE = re.compile(r"^(https?:)?//", re.IGNORECASE)
CSS_REMOTE = re.compile(r"(url\(\s*['\"]?|@import\s+['\"])(https?:)?//", re.IGNORECASE)


class AssetFinder(HTMLParser):
    """Every address a page loads by itself (scripts, styles, fonts, pictures, frames)."""

    def __init__(self) -> None:
        super().__init__()
        self.assets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        values = dict(attrs)
        if tag == "link" and set((values.get("rel") or "").split()) & {
                "stylesheet", "icon", "preload", "modulepreload", "manifest", "prefetch"}:
            self.assets.append(values.get("href") or "")
        elif tag in ASSET_ATTRIBUTES:
            self.assets.append(values.get(ASSET_ATTRIBUTES[tag]) or "")
            self.assets += [s.split()[0] for s in (values.get("srcset") or "").split(",") if s]
        if CSS_REMOTE.search(values.get("style") or ""):
            self.assets.append(values["style"])

    def handle_data(self, data: str) -> None:
        if self.lasttag == "style" and CSS_REMOTE.search(data):
            self.assets.append(data)


def remote_assets(html: str) -> list[str]:
    """The remote addresses among what a page loads."""
    finder = AssetFinder()
    finder.feed(html)
    return [a for a in finder.assets if REMOTE.match(a) or CSS_REMOTE.search(a)]


def test_remote_asset_finder_sees_cdn_scripts_styles_and_pictures():
    page = ('<script src="https://cdn.jsdelivr.net/npm/mathjax@4/tex-mml-chtml.js"></script>'
            '<link rel="stylesheet" href="//fonts.googleapis.com/css"><img src="x.png">'
            '<style>@font-face { src: url("https://x/f.woff2") }</style>'
            '<a href="https://colab.research.google.com/">Colab</a>')
    assert len(remote_assets(page)) == 3


def test_no_built_page_or_stylesheet_references_a_remote_asset():
    site = built_site()
    found = [f"{p.relative_to(site)}: {a[:80]}" for p in sorted(site.rglob("*.html"))
             for a in remote_assets(p.read_text(encoding="utf-8"))]
    found += [f"{p.relative_to(site)}: {m.group(0)}" for p in sorted(site.rglob("*.css"))
              for m in CSS_REMOTE.finditer(p.read_text(encoding="utf-8", errors="replace"))]
    assert not found, "remote assets in the built site:\n" + "\n".join(found)


class TextOf(HTMLParser):
    """A page's text as a reader sees it (tags dropped, highlighted code joined up again)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def page_text(html: str) -> str:
    reader = TextOf()
    reader.feed(html)
    return "".join(reader.parts)


def site_notebooks() -> list[Path]:
    found = sorted((built_site() / "notebooks").glob("*.ipynb"))
    assert found, "the built site offers no notebook to download"
    return found


def test_every_notebook_has_a_page_a_download_and_its_colab_button():
    for shipped in site_notebooks():
        page = (shipped.with_suffix(".html")).read_text(encoding="utf-8")
        relpath = f"notebooks/{shipped.name}"
        assert f'href="{expected_colab(relpath)}"' in page, f"{relpath}: Colab button"
        assert f'href="{shipped.name}" download' in page, f"{relpath}: download link"
        nb = nbformat.read(shipped, as_version=4)  # the download is the notebook as shipped
        assert any(prepare.is_setup_cell(c) for c in nb.cells), f"{relpath}: not the release copy"
        assert "google.colab" not in page and "Automatic check" not in page, relpath
        assert "colab-badge.svg" not in page, relpath


def test_assignment_page_shows_no_solution():
    """Lines only the instructor's worked solution holds never reach the assignment page."""
    sources = sorted((REPO / "notebooks" / "instructor").glob("*_solution.ipynb"))
    if not sources:
        pytest.skip("no worked solution in this repository (the student release has none)")
    for source in sources:
        name = source.name.replace("_solution", "")
        page = built_site() / "notebooks" / name.replace(".ipynb", ".html")
        text = page_text(page.read_text(encoding="utf-8"))
        shipped = json.dumps(json.loads((page.with_suffix(".ipynb")).read_text()))
        lines = {line.strip() for cell in nbformat.read(source, as_version=4).cells
                 for line in cell.source.split("\n") if cell.cell_type == "code"}
        secret = [line for line in lines if len(line) >= 30 and json.dumps(line)[1:-1] not in
                  shipped and re.fullmatch(r"[\w .=()\[\],+*/-]+", line)]
        assert secret, f"{source.name}: no solution-only line found to look for"
        assert not [line for line in secret if line in text], f"{page}: solution lines"
