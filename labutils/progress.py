"""Progress bars that show for a student and stay silent in batch runs (papermill, nbval, CI).

A bar's text changes every run, so stored notebook outputs must never contain one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

PROGRESS_ENV = "LABUTILS_PROGRESS"


def progress_enabled() -> bool:
    """LABUTILS_PROGRESS=1/0 decides; when unset, bars show unless CI is set."""
    value = os.environ.get(PROGRESS_ENV)
    if value is not None:
        return value.strip().lower() not in ("", "0", "false", "no", "off")
    return not os.environ.get("CI")


def progress(iterable: Iterable | None = None, **kwargs: Any):
    """tqdm.auto's bar (a widget in Jupyter, text in a terminal), disabled in batch runs."""
    from tqdm.auto import tqdm

    kwargs.setdefault("disable", not progress_enabled())
    return tqdm(iterable, **kwargs)
