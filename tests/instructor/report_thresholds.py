"""What the reference report (notebooks/instructor/06_rhw1986_report.ipynb) must show when it
runs: range checks on the text its cells printed (they were `ci-check` cells in the notebook).

test_executed_report.py applies them to nbval's own run of the report in the same pytest session
(tests/conftest.py); test_report_thresholds.py feeds them doctored text, so each can fail.
"""

from __future__ import annotations

import re

REPORT = "06_rhw1986_report.ipynb"
_CAP = re.compile(r"^cap\s+5,000: (\d+) of (\d+) solved", re.M)
_LATE = re.compile(r"^of the ([\d,]+) runs unsolved at 5,000 sweeps, ([\d,]+) learn", re.M)
_SHARE = re.compile(r"^(solves|mirror anti-symmetric|the paper's reason)\b.*?"
                    r"(\d+\.\d)%\s+(\d+\.\d)%$", re.M)
_GRID = re.compile(r"^\s*(0\.\d+)\s+(0\.\d+)\s+(\d+\.\d)%", re.M)
_VARIANT = re.compile(r"^(\S.*?)\s{2,}\d+\s+(\d+)%\s+\d+%-\d+%", re.M)
_CE = re.compile(r"^cross-entropy, alpha ([\d.]+)\s.*?: (\d+) of (\d+) solved", re.M)


def _found(pattern: re.Pattern, texts: list[str], what: str) -> list[tuple[str, ...]]:
    rows = [row for text in texts for row in pattern.findall(text)]
    assert rows, f"the report printed no {what}"
    return rows


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def check_study_rates(texts: list[str]) -> None:
    """About 65% of the 1,000 seeds solve within 5,000 sweeps; most others are slow, not stuck."""
    solved, seeds = map(int, _found(_CAP, texts, "'cap 5,000: N of M solved' line")[0])
    assert 0.55 <= solved / seeds <= 0.75, f"success rate at 5,000 sweeps {solved / seeds:.3f}"
    unsolved, late = map(_number, _found(_LATE, texts, "line on runs unsolved at 5,000")[0])
    assert late >= 0.6 * unsolved, f"only {late} of {unsolved} unsolved runs learn later"


def check_solutions_obey_the_paper(texts: list[str]) -> None:
    """All runs solve; mirror anti-symmetry everywhere at '0.1', >= 99% at 'half'; the paper's
    reason in >= 95% of the runs at '0.1'."""
    shares = {name: (float(half), float(strict))
              for name, half, strict in _found(_SHARE, texts, "share table")}
    assert shares.get("solves") == (100.0, 100.0), shares
    half, strict = shares["mirror anti-symmetric"]
    assert strict == 100.0 and half >= 99.0, shares
    assert shares["the paper's reason"][1] >= 95.0, shares


def check_momentum_grid(texts: list[str]) -> None:
    """At eps 0.1: alpha 0.8 solves >= 95%, alpha 0.9 <= 80%, alpha 0.95 <= 10%."""
    rate = {(float(eps), float(alpha)): float(share)
            for eps, alpha, share in _found(_GRID, texts, "eps/alpha grid")}
    assert rate[(0.1, 0.8)] >= 95 and rate[(0.1, 0.9)] <= 80 and rate[(0.1, 0.95)] <= 10, rate


def check_variants(texts: list[str]) -> None:
    """Warm-up helps torch's SGD form, not the paper's rule; cross-entropy needs alpha 0; Adam
    fails; tanh does worse than the paper's protocol."""
    rate = {name: int(share) for name, share in _found(_VARIANT, texts, "variants table")}
    assert rate["warmup, torch's SGD form"] >= 90 > rate["warmup, paper's rule"] + 20, rate
    assert rate["cross-entropy"] <= 10 and rate["cross-entropy, alpha 0"] >= 80, rate
    assert rate["Adam, lr 0.01"] <= 10 and rate["tanh hidden units"] < rate["paper's protocol"]


def check_cross_entropy_momentum(texts: list[str]) -> None:
    """Cross-entropy at the same eps/(1-alpha): alpha 0 and 0.5 solve >= 80%, 0.9 <= 30%."""
    rate = {float(a): int(n) / int(m) for a, n, m in _found(_CE, texts, "cross-entropy runs")}
    assert rate[0.0] >= 0.8 and rate[0.5] >= 0.8 and rate[0.9] <= 0.3, rate


CHECKS = (check_study_rates, check_solutions_obey_the_paper, check_momentum_grid,
          check_variants, check_cross_entropy_momentum)
