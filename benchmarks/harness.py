"""Timing helpers shared by the benchmarks: medians of repeats, the results table, the machine."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


def time_once(fn: Callable[[], object]) -> float:
    """Wall-clock seconds of one call."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median_time(fn: Callable[[], object], repeats: int, warmup: int = 0) -> tuple[float, list]:
    """Median seconds over `repeats` calls (after `warmup` untimed calls) and all the samples."""
    for _ in range(warmup):
        fn()
    samples = [time_once(fn) for _ in range(repeats)]
    return statistics.median(samples), samples


@dataclass
class Row:
    """One line of the results table: a workload timed against its baseline."""

    workload: str
    baseline: str
    baseline_s: float
    ours_s: float
    repeats: int
    unit: str = "s"
    target: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.baseline_s / self.ours_s if self.ours_s > 0 else float("inf")


def _fmt(seconds: float, unit: str) -> str:
    if unit == "us":
        return f"{seconds * 1e6:.3g} us"
    return f"{seconds:.3g} s"


def machine_description() -> str:
    """Cores, CPU model, Python and torch versions: what the numbers were measured on."""
    import torch

    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (f"{os.cpu_count()} cores ({model}), torch {torch.__version__} on CPU "
            f"({torch.get_num_threads()} threads), Python {platform.python_version()}, "
            f"{platform.system()} {platform.machine()}")


def table(rows: list[Row]) -> str:
    """Markdown table: workload, baseline median, ours median, ratio, repeats, target."""
    lines = ["| workload | baseline | baseline median | ours median | ratio | repeats | target |",
             "|---|---|---:|---:|---:|---:|---|"]
    for r in rows:
        lines.append(f"| {r.workload} | {r.baseline} | {_fmt(r.baseline_s, r.unit)} | "
                     f"{_fmt(r.ours_s, r.unit)} | {r.ratio:.1f}x | {r.repeats} | {r.target} |")
    return "\n".join(lines)
