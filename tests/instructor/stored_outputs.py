"""The text a stored instructor notebook printed, one string per code cell (for the threshold
tests that judge stored outputs)."""

from pathlib import Path

import nbformat

INSTRUCTOR_NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks" / "instructor"


def stored_texts(name: str) -> list[str]:
    """Each code cell's stream text of notebooks/instructor/`name`, in order."""
    cells = nbformat.read(INSTRUCTOR_NOTEBOOKS / name, as_version=4).cells
    return ["".join(o.get("text", "") for o in c.outputs) for c in cells if c.cell_type == "code"]
