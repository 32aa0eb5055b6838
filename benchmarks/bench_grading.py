"""Grader benchmarks: the sandbox's cost on a correct submission, 3,000 trivial cells, --jobs.

Baseline: the same grading with --unsafe-no-sandbox (same worker, same kernel, no bwrap), run
alternately with the sandboxed one in the same process, so load affects both alike. The
student wheel is built once per run (timed separately: it is paid once per batch).

Run alone: `python -m benchmarks.bench_grading [--repeats N] [--quick]` (--quick: the sandbox
overhead and the 3,000 cells only, without the --jobs comparison).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from benchmarks.harness import Row
from labutils.instructor.assignments.rhw1986.samples import training_submission

CORRECT = training_submission(1425) + 'print(f"E = {errors[-1]:.3f} after {sweeps} sweeps")'

RELEASE = new_notebook(cells=[new_markdown_cell("# Benchmark release"),
                              new_code_cell("# YOUR CODE HERE\nraise NotImplementedError()")])


def _notebook(cells: list[str]) -> nbformat.NotebookNode:
    nb = nbformat.from_dict(nbformat.reads(nbformat.writes(RELEASE), as_version=4))
    nb.cells[1].source = cells[0]
    nb.cells += [new_code_cell(source) for source in cells[1:]]
    return nb


def _replay(grade) -> str:
    """The 1986 judge's replay verdict of one grade."""
    return grade.judgement.columns.get("replay", "")


def _grade(paths: list[Path], unsafe: bool, jobs: int = 1, total: int = 600) -> tuple[float, list]:
    from labutils.instructor.grading import grade_all, load_assignment

    start = time.perf_counter()
    grades = grade_all(paths, RELEASE, cell_timeout=300, total_timeout=total,
                       echo=lambda text: None, jobs=jobs, unsafe_no_sandbox=unsafe,
                       assignment=load_assignment("rhw1986"))
    return time.perf_counter() - start, grades


def run(repeats: int = 3, quick: bool = False) -> tuple[list[Row], dict]:
    """Rows for the ratio table and the facts for the text (seconds, overhead, checks)."""
    from labutils.instructor.grading.sandbox import student_package

    start = time.perf_counter()
    student_package()
    wheel_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory(prefix="bench-grading-", dir="/var/tmp") as tmp:
        folder = Path(tmp)
        correct = folder / "correct.ipynb"
        nbformat.write(_notebook([CORRECT]), correct)
        many = folder / "many.ipynb"
        nbformat.write(_notebook([f"x{i} = {i}" for i in range(3000)]), many)
        plain, boxed = [], []
        for _ in range(repeats):  # alternate, so both see the same load
            seconds, grades = _grade([correct], unsafe=True)
            plain.append(seconds)
            assert _replay(grades[0]) == "matches", _replay(grades[0])
            seconds, grades = _grade([correct], unsafe=False)
            boxed.append(seconds)
            assert _replay(grades[0]) == "matches", (_replay(grades[0]), grades[0].problem,
                                                     grades[0].errors,
                                                     grades[0].judgement.problems)
        many_s, grades = _grade([many], unsafe=False)
        assert grades[0].runs_clean and grades[0].cells == 3001, grades[0].problem
        jobs1_s = jobs2_s = float("nan")
        copies = []
        for index in range(0 if quick else 4):
            copy = folder / f"copy{index}.ipynb"
            copy.write_bytes(correct.read_bytes())
            copies.append(copy)
        if copies:
            jobs1_s, _ = _grade(copies, unsafe=False, jobs=1)
            jobs2_s, grades = _grade(copies, unsafe=False, jobs=2)
            assert all(_replay(g) == "matches" for g in grades)
    plain_s, boxed_s = statistics.median(plain), statistics.median(boxed)
    facts = {
        "wheel_s": wheel_s, "plain_s": plain_s, "boxed_s": boxed_s, "plain": plain,
        "boxed": boxed, "overhead": boxed_s / plain_s - 1, "many_s": many_s,
        "jobs1_s": jobs1_s, "jobs2_s": jobs2_s,
    }
    rows = [
        Row("grade a correct submission (1,425 sweeps)", "--unsafe-no-sandbox (no bwrap)",
            plain_s, boxed_s, repeats, target="sandbox overhead <= 20%"),
    ]
    if not quick:
        rows.append(Row("grade 4 correct submissions", "--jobs 1", jobs1_s, jobs2_s, 1,
                        target="--jobs 2 works"))
    return rows, facts


def lines(facts: dict) -> list[str]:
    jobs = [] if facts["jobs1_s"] != facts["jobs1_s"] else [  # nan: not measured (--quick)
        f"Grading 4 correct submissions: {facts['jobs1_s']:.1f} s with --jobs 1, "
        f"{facts['jobs2_s']:.1f} s with --jobs 2."]
    return [
        f"Grading, sandbox overhead: median {facts['boxed_s']:.1f} s sandboxed vs "
        f"{facts['plain_s']:.1f} s without sandbox = {facts['overhead'] * 100:+.1f}% "
        f"(target <= +20%; samples plain {[round(s, 1) for s in facts['plain']]}, sandboxed "
        f"{[round(s, 1) for s in facts['boxed']]}). The student wheel, built once per grading "
        f"run: {facts['wheel_s']:.1f} s.",
        f"Grading a 3,000-cell trivial notebook in the sandbox: {facts['many_s']:.1f} s "
        "(target <= 60 s).",
        *jobs,
    ]


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_grading")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="skip the --jobs comparison")
    args = parser.parse_args()
    from benchmarks.harness import table

    rows, facts = run(args.repeats, args.quick)
    print(table(rows))
    print("\n".join(lines(facts)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
