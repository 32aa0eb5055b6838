"""The Part 5 study, judged from its data: are the runs the student declared runs the protocol
makes, and are the statistics computed from them?

The collection file holds each run's start ("study/<key>", runs first), the weight changes it
made ("study/sweeps") and whether it learned ("study/learned": every output on the correct
side of 0.5 after the last change; labutils.checks._study says how the notebook's names become
these). Honest (`StudyVerdict.honest`): at least MIN_STUDY_RUNS runs, every start one the
protocol could draw (labutils.checks.start_problem) and no two alike, and SAMPLE_RUNS runs that
the grader picks (random.SystemRandom: never the student) replayed with the paper's rule in
float64 (labutils.instructor.rhw1986.train_many, the batched engine; learned_at is the plain
loop of labutils.symmetry_task.sweep that it agrees with) end as declared: a learned run learns
at its declared sweep (within sweeps_tolerance, for float32 training), a run that did not learn
does not learn before its last sweep. Statistics: the success rate and the median sweeps the
notebook saved are those of the declared runs.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import torch

from labutils.checks import start_problem
from labutils.checks._protocol import protocol
from labutils.checks._study import STUDY_KEYS
from labutils.symmetry_task import cases, forward, sweep

MIN_STUDY_RUNS = 50
"""Part 5 asks for at least this many runs."""
SAMPLE_RUNS = 3
"""Runs replayed per submission, picked by the grader."""
MAX_STUDY_REPLAY = 10_000
"""A sampled run is replayed for at most this many sweeps (beyond, it is taken as declared)."""


def sweeps_tolerance(sweeps: int) -> int:
    """How far the replay's learning sweep may be from a declared one: float32 training drifts
    from the float64 replay by a sweep or two over thousands of sweeps."""
    return max(2, sweeps // 100)


@dataclass
class StudyVerdict:
    """What the grader concluded from the study's data."""

    honest: bool = False
    statistics: bool = False
    runs: list[int | None] = field(default_factory=list)
    """Per run: the sweeps it needed to learn, None when it did not (only for an honest study)."""
    rows: list[tuple[str, str]] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    """What makes the study not honest or its statistics wrong (the first one is the diagnosis)."""


def learned_at(start: dict[str, torch.Tensor], limit: int) -> int | None:
    """The first number of weight changes of the paper's rule from `start` (0 to `limit`) after
    which every output is on the correct side of 0.5; None when none is."""
    x, d = cases()
    w = {key: value.to(torch.float64) for key, value in start.items()}
    velocity, threads = None, torch.get_num_threads()
    torch.set_num_threads(1)  # tensors this small run several times faster on one thread
    try:
        for t in range(limit + 1):
            if bool(((forward(w, x)[1] - d).abs() < 0.5).all()):
                return t
            if t < limit:
                w, velocity = sweep(w, velocity, protocol("step"), protocol("carry"))
    finally:
        torch.set_num_threads(threads)
    return None


def replayed_sweeps(starts: list[dict[str, torch.Tensor]], limit: int) -> list[int | None]:
    """learned_at(start, limit) for each start, all replayed at once (the batched engine,
    float64, the same rule and sweep counting)."""
    from labutils.instructor.rhw1986 import train_many

    stacked = {key: torch.stack([s[key].to(torch.float64) for s in starts]) for key in STUDY_KEYS}
    result = train_many(len(starts), limit + 1, criterion="half", dtype=torch.float64,
                        lr=protocol("step"), momentum=protocol("carry"), initial_weights=stacked)
    return [None if n is None or n > limit else int(n) for n in result.sweeps]


def _limit(sweeps: int, learned: bool, longest: int) -> int:
    """How far a run is replayed: a run declared learned until it learns, up to the study's
    `longest` run; one declared not learned until just before its last sweep."""
    tol = sweeps_tolerance(sweeps)
    return min(max(sweeps + tol, longest) if learned else max(sweeps - tol - 1, 0),
               MAX_STUDY_REPLAY)


def _replay_problem(run: int, found: int | None, sweeps: int, learned: bool, limit: int) -> str:
    """Why run `run`, which the replay saw learn at `found` (None: not within `limit`), did
    not end as declared ('' when it did)."""
    tol = sweeps_tolerance(sweeps)
    if found is not None and found > limit:
        found = None
    if learned:
        if found is None and limit < sweeps - tol:
            return ""  # learns after MAX_STUDY_REPLAY, as declared (not replayed that far)
        if found is None:
            return (f"declared learned after {sweeps:,} sweeps, but the replay of run {run} "
                    f"does not learn within {limit:,}")
        if abs(found - sweeps) > tol:
            return f"declared sweeps {sweeps:,}, but the replay of run {run} learns at {found:,}"
        return ""
    if found is not None:
        return (f"declared not learned after {sweeps:,} sweeps, but the replay of run {run} "
                f"learns at {found:,}")
    return ""


def _starts(data: dict[str, torch.Tensor]) -> list[dict[str, torch.Tensor]]:
    return [{key: data[f"study/{key}"][i] for key in STUDY_KEYS}
            for i in range(len(data[f"study/{STUDY_KEYS[0]}"]))]


def _start_findings(starts: list[dict[str, torch.Tensor]]) -> list[str]:
    for run, start in enumerate(starts):
        problem = start_problem(start)
        if problem is not None:
            return [f"run {run}'s start is not one the protocol draws: {problem.message}"]
    seen: dict[tuple, int] = {}
    for run, start in enumerate(starts):
        key = tuple(torch.cat([start[k].flatten() for k in STUDY_KEYS]).tolist())
        if key in seen:
            return [f"runs {seen[key]} and {run} start from the same weights"]
        seen[key] = run
    return []


def judge_study(data: dict[str, torch.Tensor], rng: random.Random | None = None) -> StudyVerdict:
    """The study's verdict; `rng` picks the replayed runs (default: the system's randomness)."""
    verdict = StudyVerdict()
    needed = {"study_starts": [f"study/{key}" for key in STUDY_KEYS],
              "study_sweeps": ["study/sweeps"], "study_learned": ["study/learned"]}
    missing = [name for name, keys in needed.items() if not all(k in data for k in keys)]
    if missing:
        verdict.findings.append(f"no study data: {', '.join(missing)} missing or unreadable")
        verdict.rows.append(("study", verdict.findings[0]))
        return verdict
    starts, sweeps = _starts(data), data["study/sweeps"].tolist()
    learned = [bool(flag) for flag in data["study/learned"].tolist()]
    if not len(starts) == len(sweeps) == len(learned):
        verdict.findings.append(f"study_starts has {len(starts)} runs, study_sweeps "
                                f"{len(sweeps)}, study_learned {len(learned)}")
    elif len(starts) < MIN_STUDY_RUNS:
        verdict.findings.append(f"only {len(starts)} runs (Part 5 asks for at least "
                                f"{MIN_STUDY_RUNS})")
    if verdict.findings:
        verdict.rows.append(("study", verdict.findings[0]))
        return verdict
    verdict.findings += _start_findings(starts)
    picked = sorted((rng or random.SystemRandom()).sample(range(len(starts)),
                                                          min(SAMPLE_RUNS, len(starts))))
    if not verdict.findings:
        limits = [_limit(sweeps[run], learned[run], max(sweeps)) for run in picked]
        found = replayed_sweeps([starts[run] for run in picked], max(limits))
        verdict.findings += [problem for run, seen, limit in zip(picked, found, limits, strict=True)
                             if (problem := _replay_problem(run, seen, sweeps[run], learned[run],
                                                            limit))][:1]
    verdict.honest = not verdict.findings
    if verdict.honest:
        verdict.runs = [n if ok else None for n, ok in zip(sweeps, learned, strict=True)]
    success = sum(learned)
    verdict.rows.append(("study", f"{len(starts)} runs, {success} learned; replayed runs "
                         f"{', '.join(map(str, picked))}: "
                         + ("as declared" if verdict.honest else verdict.findings[0])))
    statistics = _statistics_findings(data, sweeps, learned)
    verdict.statistics = not statistics
    verdict.findings += statistics
    verdict.rows.append(("study statistics", "; ".join(statistics) or "computed from the runs"))
    return verdict


def _statistics_findings(data: dict[str, torch.Tensor], sweeps: list[int],
                         learned: list[bool]) -> list[str]:
    """What is wrong with the saved success rate and median sweeps ([] when both are right)."""
    findings = []
    rate = sum(learned) / len(learned)
    saved = data.get("study/success_rate")
    if saved is None:
        findings.append("study_success_rate missing")
    elif not math.isclose(float(saved), rate, abs_tol=1e-6):
        findings.append(f"study_success_rate {float(saved):.4g}, but {sum(learned)} of "
                        f"{len(learned)} runs learned ({rate:.4g})")
    ran = sorted(n for n, ok in zip(sweeps, learned, strict=True) if ok)
    median = data.get("study/median_sweeps")
    if not ran:
        return findings  # no run learned: no median to check
    low, high = ran[(len(ran) - 1) // 2], ran[len(ran) // 2]
    if median is None:
        findings.append("study_median_sweeps missing")
    elif not low - 0.5 <= float(median) <= high + 0.5:
        wanted = f"{low:,}" if low == high else f"{low:,} to {high:,}"
        findings.append(f"study_median_sweeps {float(median):,.6g}, but the median of the "
                        f"{len(ran)} runs that learned is {wanted}")
    return findings
