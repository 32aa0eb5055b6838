"""Where things live: the repository, its data folder, and Colab's.

Notebooks run with different working directories (papermill from the repository root, nbval
and Jupyter from `notebooks/`, Colab from `/content`), so no path is ever relative to the cwd.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DATA_ENV = "LABUTILS_DATA"
"""Environment variable naming the data folder; it wins over every other choice."""

MIRROR_ENV = "LABUTILS_DATA_MIRROR"
"""Environment variable naming an offline mirror laid out like `data/` (see labutils.data)."""

COLAB_DATA = Path("/content/data")


def in_colab() -> bool:
    """True inside a Google Colab kernel."""
    return "google.colab" in sys.modules


def _is_repo_root(folder: Path) -> bool:
    return (folder / "pyproject.toml").is_file() and (folder / "labutils").is_dir()


def repo_root(start: Path | None = None) -> Path | None:
    """The course repository containing `start` (default: the cwd, then this package), or None."""
    candidates = [Path(start) if start else Path.cwd(), Path(__file__).resolve().parent]
    for candidate in candidates:
        for folder in [candidate.resolve(), *candidate.resolve().parents]:
            if _is_repo_root(folder):
                return folder
    return None


def data_dir(create: bool = False) -> Path:
    """The data folder: $LABUTILS_DATA, else the repository's `data/`, else Colab's /content/data.

    Raises FileNotFoundError naming the places it looked, unless `create` is set, in which
    case the chosen folder is created.
    """
    looked: list[str] = []
    env = os.environ.get(DATA_ENV)
    if env:
        chosen = Path(env).expanduser()
        looked.append(f"${DATA_ENV}={env}")
    else:
        root = repo_root()
        if root is not None:
            chosen = root / "data"
            looked.append(str(chosen))
        elif in_colab():
            chosen = COLAB_DATA
            looked.append(str(chosen))
        else:
            chosen = Path.cwd() / "data"
            looked.append(f"{chosen} (no course repository found above {Path.cwd()})")
    if chosen.is_dir():
        return chosen
    if create:
        chosen.mkdir(parents=True, exist_ok=True)
        return chosen
    raise FileNotFoundError(
        f"Data folder not found: looked at {', '.join(looked)}. Run from inside the course "
        f"repository, or set {DATA_ENV} to an existing folder (e.g. export {DATA_ENV}=$PWD/data)."
    )
