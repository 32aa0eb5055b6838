"""The grader: `python -m labutils.instructor grade [--assignment NAME] SUB.ipynb ... [--out CSV]`.

The core (this package) imports no assignment: each assignment is a plug-in, a package under
labutils/instructor/assignments/ declaring what it collects, its judge and its rubric
(plugin.Assignment, found by name with plugin.load_assignment).

For each submission, after every input was read and hashed:
1. reading: the notebook is parsed (unreadable files get a row saying why), its check cells are
   restored from the release, markers/tags count only where the release cell has them, and the
   grader's collection cell is appended;
2. executing: it runs in a fresh kernel inside a bubblewrap sandbox (sandbox.py), driven by a
   worker outside it, with per-cell and total timeouts;
3. loading: the collection cell's plain tensors are loaded and checked against the assignment's
   declared entries (dtype, shape), then judged by the assignment's judge in this process;
4. comparing/reporting: stored outputs vs the re-run, points per rubric line (the core scores
   "runs" and "reproduced", the judge the other automatic lines; manual lines are left to the
   instructor), the table and the CSV.
One broken submission never stops the batch.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "grade_all": "batch", "grade_submission": "batch",
    "add_grade_arguments": "command", "grade_main": "command",
    "first_difference": "comparing", "output_text": "comparing", "report_words": "comparing",
    "same_output": "comparing",
    "Execution": "executing", "execute": "executing",
    "InputFile": "reading", "Release": "reading", "SubmissionError": "reading",
    "load_reference_release": "reading", "prepare": "reading", "read_inputs": "reading",
    "read_submission": "reading",
    "Assignment": "plugin", "Entry": "plugin", "Judgement": "plugin", "Rubric": "plugin",
    "RubricLine": "plugin", "load_assignment": "plugin", "load_rubric": "plugin",
    "Grade": "reporting", "format_grade": "reporting",
    "summary_table": "reporting", "write_csv": "reporting",
    "Limits": "sandbox", "Sandbox": "sandbox", "SandboxUnavailable": "sandbox",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    """Import on first use, so the worker process does not load torch for nothing."""
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
