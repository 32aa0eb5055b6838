"""Export a notebook for hand-in: one self-contained HTML page, and a PDF where LaTeX is installed.

`make export` (`python -m labutils export`) turns the assignment, as saved with its outputs, into
`notebooks/05_assignment.html`: what you upload beside the `.ipynb`. Nothing is re-executed, so
the export shows exactly the outputs you saved. The page loads nothing from the network: MathJax 3
(from the `django-static-mathjax` package, no Django needed) is written into it, pictures are
embedded, and nbconvert's require.js, widget and mermaid scripts from CDNs are left out, like the
Colab badge (a picture from the web, and no use in a hand-in).
"""

from __future__ import annotations

import copy
import shutil
from dataclasses import dataclass, field
from importlib import resources as package_files
from pathlib import Path

import nbformat

DEFAULT_NOTEBOOK = Path("notebooks") / "05_assignment.ipynb"
"""What `make export` exports when no notebook is named (relative to the repository root)."""

PDF_TOOLS = ("pandoc", "xelatex")
"""Programs nbconvert's PDF export needs; without them only the HTML page is written."""

MATHJAX_FILE = "static/mathjax/es5/tex-svg-full.js"
"""MathJax 3 with every TeX extension and SVG output (no fonts to fetch), in package `mathjax`."""

MATHJAX_CONFIG = """window.MathJax = {
  tex: {inlineMath: [["$", "$"], ["\\\\(", "\\\\)"]],
        displayMath: [["$$", "$$"], ["\\\\[", "\\\\]"]],
        processEscapes: true, processEnvironments: true},
  options: {ignoreHtmlClass: "tex2jax_ignore", processHtmlClass: "tex2jax_process"},
  svg: {fontCache: "global"}
};"""

TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_js_mathjax -%}
<script>{{ resources.offline_mathjax_config }}</script>
<script>{{ resources.offline_mathjax }}</script>
{%- endblock html_head_js_mathjax -%}
"""
"""nbconvert's `lab` page with its CDN scripts replaced by an inlined MathJax 3."""

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

BADGE_PREFIX = "[![Open In Colab]("
"""How the "Open in Colab" badge line of a notebook starts (the export leaves it out)."""


@dataclass
class ExportResult:
    """The files written, and why a PDF was not (empty when it was, or was not asked for)."""

    written: list[Path] = field(default_factory=list)
    pdf_skipped: str = ""


def missing_pdf_tools() -> list[str]:
    """The PDF tools (pandoc, xelatex) not found on PATH."""
    return [tool for tool in PDF_TOOLS if shutil.which(tool) is None]


def pdf_skipped_message(missing: list[str]) -> str:
    """Why no PDF was written, naming the missing programs in a grammatical sentence."""
    verb = "is" if len(missing) == 1 else "are"
    return (
        f"No PDF: nbconvert's PDF export needs {' and '.join(PDF_TOOLS)}, and "
        f"{' and '.join(missing)} {verb} not installed here. Hand in the HTML page; it holds "
        "the same content."
    )


def mathjax_source() -> str:
    """The text of MathJax 3 (tex-svg-full.js) from the installed `django-static-mathjax`."""
    try:
        path = package_files.files("mathjax") / MATHJAX_FILE
        return path.read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as err:
        raise RuntimeError(
            "The offline HTML export needs MathJax 3 from the package django-static-mathjax: "
            "`pip install django-static-mathjax` (make setup installs it)."
        ) from err


def for_export(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of `nb` without what needs the network: widget state and views (scripts from a
    CDN; the text each widget output also stores is shown instead) and the Colab badge."""
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            output.get("data", {}).pop(WIDGET_VIEW, None)
        if cell.cell_type == "markdown" and cell.source.startswith(BADGE_PREFIX):
            cell.source = cell.source.partition("\n")[2]
    return nb


def offline_html(nb: nbformat.NotebookNode, folder: Path, name: str) -> str:
    """`nb` as one HTML page that needs no network (math, pictures and styles inside it)."""
    try:
        import jinja2
        from nbconvert import HTMLExporter
    except ImportError as err:
        raise RuntimeError(
            "Exporting needs nbconvert: `pip install nbconvert` (make setup installs it)."
        ) from err
    exporter = HTMLExporter(
        embed_images=True,
        extra_loaders=[jinja2.DictLoader({"labutils_offline.html.j2": TEMPLATE})],
        template_file="labutils_offline.html.j2",
    )
    resources = {
        "metadata": {"path": str(folder.resolve()), "name": name},
        "offline_mathjax_config": MATHJAX_CONFIG,
        "offline_mathjax": mathjax_source(),
    }
    body, _ = exporter.from_notebook_node(for_export(nb), resources=resources)
    return body


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """The notebook at `path`, or an error naming the file and what is wrong with it."""
    if not path.is_file():
        raise FileNotFoundError(f"No notebook at {path}: name the .ipynb file to export.")
    try:
        return nbformat.read(path, as_version=4)
    except Exception as err:
        problem = f"{type(err).__name__}: {err}"
        raise ValueError(f"{path} is not a readable notebook ({problem}).") from err


def export_notebook(path: Path, pdf: bool = True) -> ExportResult:
    """Write `path` as a self-contained HTML page beside it; also as PDF if asked and possible.

    Raises FileNotFoundError or ValueError, naming the file, when it is missing or not a
    notebook; an existing export of the same name is replaced (it is made from the notebook).
    """
    path = Path(path)
    nb = read_notebook(path)
    result = ExportResult()
    html = path.with_suffix(".html")
    html.write_text(offline_html(nb, path.parent, path.stem), encoding="utf-8")
    result.written.append(html)
    if pdf:
        missing = missing_pdf_tools()
        if missing:
            result.pdf_skipped = pdf_skipped_message(missing)
        else:
            from nbconvert import PDFExporter

            resources = {"metadata": {"path": str(path.parent.resolve()), "name": path.stem}}
            data, _ = PDFExporter().from_notebook_node(nb, resources=resources)
            target = path.with_suffix(".pdf")
            target.write_bytes(data)
            result.written.append(target)
    return result
