"""Collecting: the grader's collection cell, appended to every notebook it runs.

It hands the kernel's globals an assignment names (plugin.Assignment.collected) to the student-
package function the assignment names (`collect`), which makes them plain tensors, and saves
those where the grader reads them (executing.py); they are loaded and judged outside the kernel.
"""

from __future__ import annotations

DATA_PATH_TOKEN = "__LABUTILS_DATA_PATH__"
"""Replaced by the data file's path (as the kernel sees it) just before the run."""

NO_COLLECTION = "# Added by the grader (not part of the submission): nothing to collect."
"""The collection cell where the grader collects no data (the last cell is always the grader's)."""


def collection_source(collected: tuple[str, ...], collect: str) -> str:
    """The grader's collection cell: hands the kernel's globals `collected` (those present) to
    the student-package function `collect` ('module:function'), which makes them plain
    tensors, and saves those for the grader; the grade is computed outside the kernel."""
    module, _, function = collect.partition(":")
    if not module.isascii() or not all(part.isidentifier() for part in
                                       [*module.split("."), function, *collected]):
        raise ValueError(f"not a 'module:function' and global names: {collect!r} {collected!r}")
    return f"""# Added by the grader (not part of the submission): hands the names
# the checks read to the grader as plain tensors; the grade is computed outside this kernel.
def _labutils_collect(path):
    names = {tuple(collected)!r}
    if not any(name in globals() for name in names):
        return
    import torch
    from {module} import {function}
    torch.save({function}(globals()), path)


_labutils_collect({DATA_PATH_TOKEN})"""
