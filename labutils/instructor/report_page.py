"""The reference report as a self-contained HTML page for the release (`--with-report`)."""

from __future__ import annotations

from pathlib import Path

import nbformat

REPORT_GLOB = "*_report.ipynb"


class ReportPageError(ValueError):
    """No instructor report notebook to publish."""


def write_report_page(root: Path, target: Path) -> str:
    """The reference report as one self-contained HTML page in notebooks/ (not a notebook:
    it imports the instructor package, so it could not run in the student tree)."""
    from nbconvert import HTMLExporter

    reports = sorted((root / "notebooks" / "instructor").glob(REPORT_GLOB))
    if not reports:
        raise ReportPageError("--with-report: no notebooks/instructor/*_report.ipynb found")
    written = ""
    for source in reports:
        nb = nbformat.read(source, as_version=4)
        resources = {"metadata": {"path": str(source.parent), "name": source.stem}}
        body, _ = HTMLExporter(embed_images=True).from_notebook_node(nb, resources=resources)
        relpath = f"notebooks/{source.stem}.html"
        (target / relpath).write_text(body, encoding="utf-8")
        written = written or relpath
    return written

