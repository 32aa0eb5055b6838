"""Honest seeds: how many honest solutions lose automatic points for reasons outside their
control (target: 0).

Each solution is the typical style (labutils.instructor.assignments.rhw1986.samples: its own
nn.Sequential in float32, optim.SGD, the paper's rule, a cap of CAP sweeps) with a fixed seed
(0 to 199): its run from that seed and a Part 5 study of the 50 seeds from it on. Its data is
what the collection cell would hand over (labutils.checks.submission_data, loaded as the grader
loads it) and the plug-in's own judge scores it, sample of study runs and all. No sandbox: the
notebook around it is not what is measured. The study runs are trained once per seed and
shared by the solutions whose studies include them, and a solution's own run is its study's
run from its seed (the same code gives the same run).

`python -m benchmarks.honest_seeds [--seeds 200] [--cap 5000] [--jobs N]` prints each solution
that loses points and the count.
"""

from __future__ import annotations

import argparse
import io
from concurrent.futures import ProcessPoolExecutor

import torch

from labutils.checks import submission_data
from labutils.instructor.assignments.rhw1986 import ASSIGNMENT
from labutils.instructor.assignments.rhw1986.samples import (
    HONEST_DEFINITIONS,
    HONEST_MAIN,
    HONEST_STUDY,
)
from labutils.instructor.grading.loading import load_data

STUDY_RUNS = 50


def _definitions(cap: int) -> dict:
    torch.set_num_threads(1)
    namespace: dict = {}
    exec(HONEST_DEFINITIONS.format(cap=cap), namespace)  # our own sample code
    return namespace


def trained_runs(seeds: list[int], cap: int) -> dict[int, dict]:
    """seed -> the names of the honest solution's run from that seed (HONEST_MAIN), and
    whether it learned; a study's run from a seed is the same run."""
    runs = {}
    for seed in seeds:
        namespace = _definitions(cap)
        namespace["SEED"] = seed
        exec(HONEST_MAIN, namespace)
        runs[seed] = {name: namespace[name] for name in
                      ("net", "initial_weights", "errors", "sweeps", "inputs", "targets")}
        runs[seed]["learned"] = namespace["learned"](namespace["net"])
    return runs


def honest_collection(seed: int, cap: int, runs: dict[int, dict]) -> bytes:
    """The collection file of the honest solution with fixed seed `seed` (its study: the
    STUDY_RUNS seeds from it on)."""
    namespace = _definitions(cap)
    namespace.update(runs[seed])
    namespace["runs"] = [(runs[s]["initial_weights"], runs[s]["sweeps"], runs[s]["learned"])
                         for s in range(seed, seed + STUDY_RUNS)]
    exec(HONEST_STUDY.split("\n", 1)[1], namespace)  # the study's names from those runs
    buffer = io.BytesIO()
    torch.save(submission_data(namespace), buffer)
    return buffer.getvalue()


def judged(seed: int, cap: int, runs: dict[int, dict]) -> tuple[int, dict[str, float], str]:
    """(seed, the auto rubric lines that lost points and the fraction kept, the diagnosis)."""
    judgement = ASSIGNMENT.judge(*load_data(honest_collection(seed, cap, runs),
                                            spec=ASSIGNMENT.entries))
    lost = {name: score for name, score in judgement.scores.items() if score < 1}
    return seed, lost, judgement.diagnosis


def _trained(args: tuple[list[int], int]) -> dict[int, dict]:
    return trained_runs(*args)


def _judged(args: tuple[int, int, dict]) -> tuple[int, dict[str, float], str]:
    return judged(*args)


def run(seeds: int, cap: int, jobs: int, echo=lambda result: None,
        ) -> list[tuple[int, dict[str, float], str]]:
    """Every honest solution's seed, lost lines and diagnosis (those that lost none included);
    `echo` sees each as it is judged."""
    every = list(range(seeds + STUDY_RUNS - 1))
    with ProcessPoolExecutor(jobs) as workers:
        runs: dict[int, dict] = {}
        for part in workers.map(_trained, [(every[i::jobs], cap) for i in range(jobs)]):
            runs.update(part)
        results = []
        for result in workers.map(_judged, [(seed, cap, {s: runs[s] for s in range(
                seed, seed + STUDY_RUNS)}) for seed in range(seeds)]):
            echo(result)
            results.append(result)
        return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--cap", type=int, default=5000)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    results = run(args.seeds, args.cap, args.jobs, echo=lambda result: print(
        f"seed {result[0]}: " + (f"lost {result[1]} ({result[2]})" if result[1] else "all kept"),
        flush=True))
    losing = [seed for seed, lost, _ in results if lost]
    print(f"{len(losing)} of {len(results)} honest solutions (seeds 0-{args.seeds - 1}, cap "
          f"{args.cap:,}) lose automatic points")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
