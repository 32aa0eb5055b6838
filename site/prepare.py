"""Turn a student release into the Sphinx source of the course site (run by site/build.py).

The pages show what a student reads, minus what only makes sense inside a notebook:
- the Colab setup cell (a code cell whose first line is a comment naming Colab and setup, or
  any cell that installs packages only under `google.colab`) and the "Open in Colab" badge
  (any link to colab.research.google.com) are removed: the theme's launch button replaces them;
- automatic-check cells (tag `ci-check`, or first line `# Automatic check`) are removed;
  other cells Colab shows as forms (`cellView: "form"`) keep their output, not their code;
- pictures linked to the course's `images/` (raw GitHub URL or relative) become local files;
  embedded `data:` pictures stay as they are;
- relative links to files that are no page of the site point at the file on GitHub;
- each page gets a download link to the notebook as the release ships it (copied unchanged).
The home page is the release's README.md with its links made to work on the site.
Needs only the standard library and nbformat (both environments have it).
"""

from __future__ import annotations

import json
import posixpath
import re
import shutil
import tomllib
from functools import partial
from pathlib import Path

import nbformat

COLAB = "https://colab.research.google.com"
_LESSON = re.compile(r"^\d+_.*\.ipynb$")
_COLAB_LINK = re.compile(r"\[(!\[[^\]]*\]\([^)]*\)|[^\]]*)\]\((" + re.escape(COLAB) + r"[^)]*)\)")
_COLAB_HTML = re.compile(r"<a\s[^>]*href=\"" + re.escape(COLAB) + r"[^\"]*\"[^>]*>.*?</a>",
                         re.DOTALL)
_MD_IMAGE = re.compile(r"(!\[[^\]]*\]\()([^)\s]+)")
_HTML_IMAGE = re.compile(r"(<img\s[^>]*src=\")([^\"]+)", re.IGNORECASE)
_REMOTE_IMAGES = re.compile(r"^https://raw\.githubusercontent\.com/[^/]+/[^/]+/[^/]+/images/")
_MD_LINK = re.compile(r"(?<!!)\[([^\]]*)\]\(([^)\s]+)\)")
REMOVED_TAGS = ("ci-check",)


class SiteSourceError(ValueError):
    """The release cannot be turned into a site (missing files or settings)."""


def read_repository(release: Path) -> tuple[str, str]:
    """The release's own repository URL and branch, from [tool.labutils] of its pyproject."""
    pyproject = release / "pyproject.toml"
    if not pyproject.is_file():
        raise SiteSourceError(f"{release} has no pyproject.toml: pass the student release folder.")
    table = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {}).get(
        "labutils", {})
    url = str(table.get("repository", "")).rstrip("/")
    if not url.startswith("https://github.com/"):
        raise SiteSourceError(f"{pyproject}: [tool.labutils] repository = {url!r} is not a "
                              "GitHub URL (the Colab button opens notebooks from GitHub).")
    return url, str(table.get("branch", "main") or "main")


def is_setup_cell(cell: dict) -> bool:
    """The Colab setup cell: first line a comment naming Colab and setup, or a Colab-only pip."""
    if cell.get("cell_type") != "code":
        return False
    source = cell.get("source", "")
    first = source.lstrip().split("\n", 1)[0].lower()
    if first.startswith("#") and "colab" in first and "setup" in first:
        return True
    return "google.colab" in source and "pip" in source and "install" in source


def is_check_cell(cell: dict) -> bool:
    """A cell run by the course's tests only (never shown to students)."""
    tags = cell.get("metadata", {}).get("tags", [])
    first = cell.get("source", "").lstrip().split("\n", 1)[0].lower()
    return any(t in tags for t in REMOVED_TAGS) or first.startswith("# automatic check")


def local_image(target: str, images: set[str], prefix: str) -> str:
    """`target` rewritten to `prefix + images/NAME` when it names a picture of images/."""
    if target.startswith("data:"):
        return target
    name = _REMOTE_IMAGES.sub("", target) if _REMOTE_IMAGES.match(target) else None
    if name is None and re.match(r"^(\.\./)*images/", target):
        name = re.sub(r"^(\.\./)*images/", "", target)
    return f"{prefix}images/{name}" if name in images else target


def clean_markdown(source: str, images: set[str], prefix: str, colab: str = "") -> str:
    """Markdown with Colab badges/links replaced by `colab` (a regex replacement, default:
    removed) and its pictures pointing at local files."""
    source = _COLAB_HTML.sub("", _COLAB_LINK.sub(colab, source))
    source = _MD_IMAGE.sub(lambda m: m.group(1) + local_image(m.group(2), images, prefix), source)
    source = _HTML_IMAGE.sub(lambda m: m.group(1) + local_image(m.group(2), images, prefix),
                             source)
    return source.lstrip("\n")


def download_line(name: str) -> str:
    """The raw-HTML link under a page's title that downloads the notebook as shipped."""
    return (f'<p class="course-download"><a href="{name}" download>Download the notebook '
            f"({name})</a></p>")


def _add_download_link(cells: list, name: str) -> None:
    link = download_line(name)
    for cell in cells:
        if cell.cell_type == "markdown":
            lines = cell.source.split("\n")
            at = next((i + 1 for i, line in enumerate(lines) if line.startswith("# ")), 0)
            cell.source = "\n".join(lines[:at] + ["", link, ""] + lines[at:])
            return
    cells.insert(0, nbformat.v4.new_markdown_cell(link))


def prepare_notebook(nb: nbformat.NotebookNode, name: str, images: set[str],
                     links=lambda source: source) -> nbformat.NotebookNode:
    """The notebook as its page shows it (see the module docstring); `nb` is not changed.

    `links` rewrites a markdown cell's links (prepare_source: files that are no page -> GitHub).
    """
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    nb.metadata.pop("widgets", None)  # widget state would pull the widget scripts from a CDN
    kept = []
    for cell in nb.cells:
        if is_setup_cell(cell) or is_check_cell(cell):
            continue
        if cell.cell_type == "markdown":
            cell.source = links(clean_markdown(cell.source, images, "../"))
            if not cell.source.strip():
                continue
        if cell.cell_type == "code" and cell.metadata.get("cellView") == "form":
            tags = cell.metadata.setdefault("tags", [])
            if "remove-input" not in tags:
                tags.append("remove-input")
        kept.append(cell)
    _add_download_link(kept, name)
    nb.cells = kept
    return nb


def page_links(source: str, repository: tuple[str, str], pages: set[str], release: Path,
               base: str = "") -> str:
    """Relative links (from folder `base`) to files that are no page of the site point at
    the file on GitHub instead (`repository`: URL and branch)."""
    url, branch = repository

    def rewrite(match: re.Match) -> str:
        text, target = match.group(1), match.group(2)
        path = posixpath.normpath(posixpath.join(base, target.split("#")[0]))
        if re.match(r"^[a-z]+:|^#", target) or path in pages or path.startswith(".."):
            return match.group(0)
        kind = "tree" if (release / path).is_dir() else "blob"
        return f"[{text}]({url}/{kind}/{branch}/{path})"

    return _MD_LINK.sub(rewrite, source)


def home_page(release: Path, url: str, branch: str, notebooks: list[str],
              images: set[str]) -> str:
    """The home page: the release README, badges as text links, plus the pages' toctree."""
    readme = (release / "README.md").read_text(encoding="utf-8")
    readme = clean_markdown(readme, images, "", colab=r"[Open in Colab](\2)")
    readme = re.sub(r"!\[([^\]]*)\]\(https?://[^)]*\)", r"\1", readme)  # no remote pictures
    readme = page_links(readme, (url, branch), set(notebooks), release)
    pages = "\n".join(name.removesuffix(".ipynb") for name in notebooks)
    return f"{readme.rstrip()}\n\n```{{toctree}}\n:hidden:\n:maxdepth: 1\n\n{pages}\n```\n"


def release_notebooks(release: Path) -> list[str]:
    """The notebooks the release ships (`notebooks/NN_*.ipynb`), relative POSIX paths."""
    found = sorted(f"notebooks/{p.name}" for p in (release / "notebooks").glob("*.ipynb")
                   if _LESSON.match(p.name))
    if not found:
        raise SiteSourceError(f"{release / 'notebooks'} holds no NN_*.ipynb notebook.")
    return found


def prepare_source(release: Path, source: Path, conf: Path) -> dict:
    """Write the Sphinx source of the site for `release` into `source` (emptied first)."""
    release, source = Path(release).resolve(), Path(source)
    if (release / "labutils" / "instructor").exists() or (release / "notebooks" / "instructor"
                                                          ).exists():
        raise SiteSourceError(f"{release} is the instructor repository: the site is built from "
                              "the student release only (`make site` builds one first).")
    url, branch = read_repository(release)
    notebooks = release_notebooks(release)
    if source.exists():
        shutil.rmtree(source)
    (source / "notebooks").mkdir(parents=True)
    extra = source / "_extra"
    (extra / "notebooks").mkdir(parents=True)
    images = set()
    if (release / "images").is_dir():
        shutil.copytree(release / "images", extra / "images")
        images = {p.name for p in (release / "images").iterdir() if p.is_file()}
        shutil.copytree(release / "images", source / "images")
    for relpath in notebooks:
        name = Path(relpath).name
        shutil.copy2(release / relpath, extra / "notebooks" / name)
        nb = nbformat.read(release / relpath, as_version=4)
        links = partial(page_links, repository=(url, branch), pages=set(notebooks),
                        release=release, base="notebooks")
        nbformat.write(prepare_notebook(nb, name, images, links), source / relpath)
    (source / "index.md").write_text(home_page(release, url, branch, notebooks, images),
                                     encoding="utf-8")
    settings = {"repository": url, "branch": branch, "notebooks": notebooks}
    (source / "site_settings.json").write_text(json.dumps(settings, indent=1), encoding="utf-8")
    shutil.copy2(conf, source / "conf.py")
    return settings
