"""Export a notebook for hand-in: a self-contained HTML page, and a PDF where LaTeX is installed.

`make export` (`python -m labutils export`) turns the assignment, as saved with its outputs, into
`notebooks/05_assignment.html`: what you upload beside the `.ipynb`. Nothing is re-executed, so
the export shows exactly the outputs you saved.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

DEFAULT_NOTEBOOK = Path("notebooks") / "05_assignment.ipynb"
"""What `make export` exports when no notebook is named (relative to the repository root)."""

PDF_TOOLS = ("pandoc", "xelatex")
"""Programs nbconvert's PDF export needs; without them only the HTML page is written."""


@dataclass
class ExportResult:
    """The files written, and why a PDF was not (empty when it was, or was not asked for)."""

    written: list[Path] = field(default_factory=list)
    pdf_skipped: str = ""


def missing_pdf_tools() -> list[str]:
    """The PDF tools (pandoc, xelatex) not found on PATH."""
    return [tool for tool in PDF_TOOLS if shutil.which(tool) is None]


def export_notebook(path: Path, pdf: bool = True) -> ExportResult:
    """Write `path` as HTML (images embedded) beside it; also as PDF if asked and possible.

    Raises FileNotFoundError or ValueError, naming the file, when it is missing or not a
    notebook; an existing export of the same name is replaced (it is made from the notebook).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No notebook at {path}: name the .ipynb file to export.")
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as err:
        problem = f"{type(err).__name__}: {err}"
        raise ValueError(f"{path} is not a readable notebook ({problem}).") from err
    try:
        from nbconvert import HTMLExporter, PDFExporter
    except ImportError as err:
        raise RuntimeError(
            "Exporting needs nbconvert: `pip install nbconvert` (make setup installs it)."
        ) from err
    resources = {"metadata": {"path": str(path.parent.resolve()), "name": path.stem}}
    result = ExportResult()
    exporter = HTMLExporter(embed_images=True)
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    html = path.with_suffix(".html")
    html.write_text(body, encoding="utf-8")
    result.written.append(html)
    if pdf:
        missing = missing_pdf_tools()
        if missing:
            result.pdf_skipped = (
                f"No PDF: nbconvert's PDF export needs {' and '.join(PDF_TOOLS)}, and "
                f"{', '.join(missing)} is not installed here. Hand in the HTML page; it holds "
                "the same content."
            )
        else:
            data, _ = PDFExporter().from_notebook_node(nb, resources=resources)
            target = path.with_suffix(".pdf")
            target.write_bytes(data)
            result.written.append(target)
    return result
