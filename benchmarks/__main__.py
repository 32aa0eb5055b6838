"""`make bench`: run every benchmark, print one table and write benchmarks/results.md."""

from __future__ import annotations

import argparse
import datetime
import os
import time
from pathlib import Path

from benchmarks import (
    bench_assignment,
    bench_class_summary,
    bench_course,
    bench_grading,
    bench_mnist,
    bench_rhw1986,
)
from benchmarks.harness import machine_description, table

RESULTS = Path(__file__).resolve().parent / "results.md"


def _compile_note(probe: dict) -> str:
    """One paragraph on torch.compile for the study's sweep (measured, not assumed)."""
    if "compile_error" in probe:
        return f"torch.compile could not be measured here: {probe['compile_error']}."
    return (
        "torch.compile, measured on the same math as one fused function (1,000 seeds, 2,000 "
        f"sweeps, no stopping, 1 thread): eager {probe['eager_us']:.3f} us per seed-sweep, "
        f"compiled {probe['compiled_us']:.3f} us, after a first call (compilation) of "
        f"{probe['compiled_first_call_s']:.1f} s (less when inductor's on-disk cache is warm; "
        "about 15 s cold on this machine). The whole default study takes about a second in "
        "eager mode, so compiling does not pay off inside the notebook; train_many stays eager, "
        "and the fused function also lacks per-seed stopping and dropping of finished seeds."
    )


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats per workload")
    parser.add_argument("--skip-course", action="store_true", help="skip make run / make test")
    parser.add_argument("--skip-setup", action="store_true", help="skip the fresh-clone install")
    args = parser.parse_args()
    os.environ.setdefault("LABUTILS_PROGRESS", "0")
    start = time.perf_counter()

    rows, study = bench_rhw1986.run(args.repeats)
    rows += bench_mnist.run(args.repeats)
    rows += bench_assignment.run(args.repeats)
    grading_rows, grading = bench_grading.run(min(args.repeats, 3))
    rows += grading_rows
    summary = bench_class_summary.run(min(args.repeats, 3))
    ratio_table = table(rows)
    print(ratio_table, flush=True)

    walls, notebooks = [], []
    if not args.skip_setup:
        walls += bench_course.fresh_clone_setup()
    if not args.skip_course:
        course, notebooks = bench_course.course_wall_times()
        walls += course
    wall_lines = ["| command | wall time | target | met |", "|---|---:|---:|---|"]
    wall_lines += [f"| {w.what} | {w.seconds:.1f} s | {w.target_s:g} s | "
                   f"{'yes' if w.ok else 'NO'} |" for w in walls]
    nb_lines = ["| notebook (make run) | seconds |", "|---|---:|"]
    nb_lines += [f"| {name} | {seconds:.1f} |" for name, seconds in notebooks]
    total = time.perf_counter() - start

    text = "\n".join([
        "# Benchmark results",
        "",
        f"Measured {datetime.date.today().isoformat()} by `make bench` on: "
        f"{machine_description()}.",
        "Each ratio is baseline median / ours median, both measured in the same run "
        f"({args.repeats} repeats unless noted). `make bench` took {total:.0f} s.",
        "",
        "## Ratios",
        "",
        ratio_table,
        "",
        f"Study results of the timed run: success rate {study['success_rate']:.3f}, median "
        f"sweeps to solution {study['median_sweeps']:.0f}, "
        f"{study['executed_seed_sweeps']:,} seed-sweeps executed out of 5,000,000 (finished "
        "seeds stop). Baseline A's per-seed-sweep cost comes from 4 seeds x 300 sweeps, "
        "baseline B's from 1,000 seeds x 200 sweeps.",
        "",
        _compile_note(study["compile"]),
        "",
        "\n\n".join(bench_grading.lines(grading)),
        "",
        "\n\n".join(bench_class_summary.lines(summary)),
        "",
        "## Wall times",
        "",
        "\n".join(wall_lines),
        "",
        "\n".join(nb_lines) if notebooks else "",
        "",
    ])
    print("\n".join(wall_lines))
    if notebooks:
        print("\n".join(nb_lines))
    RESULTS.write_text(text + kept_by_hand())
    print(f"wrote {RESULTS} ({total:.0f} s)")
    return 0


def kept_by_hand() -> str:
    """The sections of results.md measured by hand (heading ending in "(by hand)"), kept as
    they are when `make bench` rewrites the file."""
    if not RESULTS.is_file():
        return ""
    sections = RESULTS.read_text(encoding="utf-8").split("\n## ")[1:]
    return "".join(f"\n## {s.rstrip()}\n" for s in sections
                   if s.split("\n", 1)[0].rstrip().endswith("(by hand)"))


if __name__ == "__main__":
    raise SystemExit(main())
