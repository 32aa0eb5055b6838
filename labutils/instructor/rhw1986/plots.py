"""Pictures of experiment 1: the network as in the paper's Figure 1, Hinton diagrams, error
curves, the distribution of sweeps to solution and a comparison of workarounds.

Every function draws on `ax` (or `axes`) when given, else on a new figure, and returns what it
drew on, so a notebook cell can end with plt.show().
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, Rectangle

from labutils.plotting import axes_or_new
from labutils.instructor.rhw1986.model import WEIGHT_KEYS, check_weights
from labutils.instructor.rhw1986.training import PAPER_SWEEPS, RunResult, StudyResult

POSITIVE = "tab:blue"
NEGATIVE = "tab:red"
LABEL_COLOURS = {
    "solved": "tab:green",
    "plateau": "tab:red",
    "local_minimum": "tab:purple",
    "improving": "tab:orange",
    "diverged": "black",
}
"""Colour of each run label in the study pictures."""


def _weights(weights: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    check_weights(weights)
    return {k: torch.as_tensor(weights[k]).detach().double() for k in WEIGHT_KEYS}


def draw_network(
    weights: Mapping[str, torch.Tensor],
    ax: Axes | None = None,
    title: str = "Network weights (Figure 1 style)",
    decimals: int = 1,
) -> Axes:
    """Draw a 6-h-1 network as the paper's Figure 1 does: inputs along the bottom, hidden units
    above, the output on top, each weight written on its arc and each bias inside its unit.

    Arc width grows with |weight|; blue arcs are positive, red negative.
    """
    w = _weights(weights)
    w1, b1 = w["hidden.weight"], w["hidden.bias"]
    w2, b2 = w["output.weight"][0], w["output.bias"][0]
    h = w1.shape[0]
    ax = axes_or_new(ax, (7.5, 5.2))
    radius = 0.32
    inputs = [(float(i) * 1.2, 0.0) for i in range(6)]
    span = inputs[-1][0]
    hidden_x = [span / 2] if h == 1 else [span * (0.2 + 0.6 * j / (h - 1)) for j in range(h)]
    hiddens = [(x, 2.4) for x in hidden_x]
    output = (span / 2, 4.6)
    biggest = float(max(w1.abs().max(), w2.abs().max(), 1e-12))

    def arc(start, end, value, where):
        (x0, y0), (x1, y1) = start, end
        length = math.hypot(x1 - x0, y1 - y0)
        ux, uy = (x1 - x0) / length, (y1 - y0) / length
        a = (x0 + ux * radius, y0 + uy * radius)
        b = (x1 - ux * radius, y1 - uy * radius)
        colour = POSITIVE if value >= 0 else NEGATIVE
        ax.plot(
            [a[0], b[0]],
            [a[1], b[1]],
            color=colour,
            lw=0.6 + 3.4 * abs(value) / biggest,
            alpha=0.75,
            zorder=1,
            solid_capstyle="round",
        )
        tx, ty = a[0] + (b[0] - a[0]) * where, a[1] + (b[1] - a[1]) * where
        ax.text(
            tx,
            ty,
            f"{value:.{decimals}f}",
            ha="center",
            va="center",
            fontsize=8,
            color=colour,
            zorder=3,
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.9},
        )

    for j, hidden in enumerate(hiddens):
        for i, inp in enumerate(inputs):
            arc(inp, hidden, float(w1[j, i]), 0.3 if j % 2 == 0 else 0.18)
        arc(hidden, output, float(w2[j]), 0.5)

    def node(centre, text, face):
        ax.add_patch(Circle(centre, radius, fc=face, ec="black", lw=1.2, zorder=2))
        ax.text(centre[0], centre[1], text, ha="center", va="center", fontsize=8, zorder=4)

    for i, centre in enumerate(inputs):
        node(centre, f"x{i + 1}", "whitesmoke")
    for j, centre in enumerate(hiddens):
        node(centre, f"{float(b1[j]):.{decimals}f}", "lightyellow")
    node(output, f"{float(b2):.{decimals}f}", "lightyellow")
    ax.text(output[0] + radius + 0.15, output[1], "output", va="center", fontsize=9)
    ax.text(hiddens[-1][0] + radius + 0.15, hiddens[-1][1], "hidden", va="center", fontsize=9)
    ax.text(
        span / 2, -0.75, "input units (a case is a row of six 0/1 bits)", ha="center", fontsize=9
    )
    ax.set_xlim(-0.6, span + 1.1)
    ax.set_ylim(-1.0, output[1] + 0.6)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title(
        title + "\n(numbers on arcs: weights; in units: biases; blue +, red -)", fontsize=10
    )
    return ax


def hinton_plot(
    weights: Mapping[str, torch.Tensor],
    ax: Axes | None = None,
    title: str = "Hinton diagram of the weights",
    annotate: bool = False,
) -> Axes:
    """Hinton diagram: one row per hidden unit (weights from x1..x6, its bias, its weight to the
    output) and a row for the output bias. Square area ~ |weight|: white positive, black
    negative, on grey."""
    w = _weights(weights)
    w1, b1 = w["hidden.weight"], w["hidden.bias"]
    w2, b2 = w["output.weight"][0], w["output.bias"][0]
    h = w1.shape[0]
    grid = torch.full((h + 1, 8), math.nan, dtype=torch.float64)
    grid[:h, :6] = w1
    grid[:h, 6] = b1
    grid[:h, 7] = w2
    grid[h, 6] = b2
    ax = axes_or_new(ax, (7, 1.2 + 0.8 * (h + 1)))
    biggest = float(grid.nan_to_num(0).abs().max().clamp_min(1e-12))
    ax.add_patch(Rectangle((-0.5, -0.5), 8, h + 1, fc="grey", ec="none"))
    for r in range(h + 1):
        for c in range(8):
            value = float(grid[r, c])
            if math.isnan(value):
                ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, fc="white", ec="white"))
                continue
            side = 0.92 * math.sqrt(abs(value) / biggest)
            ax.add_patch(
                Rectangle(
                    (c - side / 2, r - side / 2),
                    side,
                    side,
                    fc="white" if value > 0 else "black",
                    ec="none",
                )
            )
            if annotate:
                ax.text(
                    c,
                    r,
                    f"{value:.1f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="tab:blue" if value > 0 else "tab:red",
                    bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8},
                )
    ax.set_xlim(-0.5, 7.5)
    ax.set_ylim(h + 0.5, -0.6)
    ax.set_xticks(range(8), [f"x{i + 1}" for i in range(6)] + ["bias", "to output"])
    ax.set_yticks(range(h + 1), [f"hidden {j + 1}" for j in range(h)] + ["output"])
    ax.set_xlabel("connection (from input x1..x6, bias, to the output unit)")
    ax.set_ylabel("unit")
    ax.set_title(title + " (white +, black -, area ~ |w|)", fontsize=10)
    ax.set_aspect("equal")
    return ax


def plot_error_curves(
    curves: Sequence[RunResult | Sequence[float]] | StudyResult,
    labels: Sequence[str] | None = None,
    ax: Axes | None = None,
    title: str = "Error during training",
    max_curves: int = 60,
    log: bool = False,
    logx: bool = False,
) -> Axes:
    """E against sweeps: for a list of runs (RunResult or lists of E), one labelled line each;
    for a StudyResult, up to `max_curves` runs coloured by outcome (solved, plateau, ...).
    `logx` stretches the first sweeps (a linear scale up to 10, logarithmic beyond)."""
    ax = axes_or_new(ax, (7, 4))
    if isinstance(curves, StudyResult):
        study = curves
        x = study.history_sweeps
        seen = set()
        for i in range(min(max_curves, study.n_seeds)):
            label = study.labels[i]
            ax.plot(
                x,
                study.history[:, i].tolist(),
                color=LABEL_COLOURS.get(label, "grey"),
                lw=0.8,
                alpha=0.6,
                label=None if label in seen else label,
            )
            seen.add(label)
    else:
        if labels is not None and len(labels) != len(curves):
            raise ValueError(f"got {len(curves)} curves but {len(labels)} labels")
        for k, curve in enumerate(curves):
            errors = curve.errors if isinstance(curve, RunResult) else list(curve)
            name = labels[k] if labels is not None else f"run {k + 1}"
            ax.plot(range(len(errors)), errors, lw=1.2, label=name)
    ax.axhline(4.0, color="grey", ls=":", lw=1, label='E = 4: "not symmetric" for all')
    if log:
        ax.set_yscale("log")
    if logx:
        ax.set_xscale("symlog", linthresh=10)
        ax.set_xlim(left=0)
    ax.set_xlabel("sweep (weight changes)")
    ax.set_ylabel("E = 1/2 sum (y - d)^2")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return ax


def plot_sweeps_histogram(
    sweeps: Sequence[int | None] | StudyResult,
    paper: int | None = PAPER_SWEEPS,
    ax: Axes | None = None,
    title: str = "Sweeps to solution",
    bins: int = 40,
) -> Axes:
    """Histogram of sweeps to solution over the solved runs (None = unsolved, counted in the
    legend), with the paper's 1,425 sweeps and the median marked."""
    if isinstance(sweeps, StudyResult):
        sweeps = sweeps.sweeps
    solved = [s for s in sweeps if s is not None]
    ax = axes_or_new(ax, (7, 4))
    if solved:
        ax.hist(
            solved,
            bins=bins,
            color="tab:green",
            alpha=0.7,
            label=f"solved: {len(solved)} of {len(sweeps)} runs",
        )
        median = float(torch.quantile(torch.tensor(solved, dtype=torch.float64), 0.5))
        ax.axvline(median, color="black", lw=1.5, label=f"median: {median:.0f}")
    else:
        ax.text(0.5, 0.5, "no run solved", transform=ax.transAxes, ha="center")
    if paper is not None:
        ax.axvline(paper, color="tab:red", ls="--", lw=1.5, label=f"paper: {paper:,}")
    ax.set_xlabel("sweeps to solution")
    ax.set_ylabel("number of runs")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return ax


def plot_workarounds(
    studies: Mapping[str, StudyResult],
    axes: Sequence[Axes] | None = None,
    title: str = "Workarounds compared with the paper's protocol",
    paper: int | None = PAPER_SWEEPS,
) -> Figure:
    """Two panels: success rate with its 95% interval, and median sweeps with the quartiles,
    one bar per study (named by its key)."""
    if not studies:
        raise ValueError("plot_workarounds needs at least one study")
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(10, 0.45 * len(studies) + 1.6), sharey=True)
    else:
        fig = axes[0].figure
    names = list(studies)
    y = list(range(len(names)))
    rates, low_err, high_err, medians, q_low, q_high = [], [], [], [], [], []
    for name in names:
        study = studies[name]
        lo, hi = study.success_interval()
        rates.append(100 * study.success_rate)
        low_err.append(max(0.0, 100 * (study.success_rate - lo)))
        high_err.append(max(0.0, 100 * (hi - study.success_rate)))
        q1, q2, q3 = study.sweep_quantiles()
        medians.append(0.0 if math.isnan(q2) else q2)
        q_low.append(0.0 if math.isnan(q2) else q2 - q1)
        q_high.append(0.0 if math.isnan(q2) else q3 - q2)
    axes[0].barh(y, rates, xerr=[low_err, high_err], color="tab:green", alpha=0.7, capsize=3)
    axes[0].set_xlim(0, 112)
    axes[0].set_xlabel("runs solved within the cap (%), with 95% CI")
    axes[0].set_yticks(y, names)
    axes[0].invert_yaxis()
    axes[0].set_ylabel("variant")
    axes[1].barh(y, medians, xerr=[q_low, q_high], color="tab:blue", alpha=0.7, capsize=3)
    if paper is not None:
        axes[1].axvline(paper, color="tab:red", ls="--", lw=1.2)
        axes[1].legend(
            handles=[Line2D([], [], color="tab:red", ls="--", label=f"paper: {paper:,}")],
            fontsize=8,
            loc="lower right",
        )
    widest = max(max(m + q for m, q in zip(medians, q_high, strict=True)), paper or 0, 1)
    for k in y:
        axes[0].text(
            min(rates[k] + high_err[k], 100) + 1, k, f"{rates[k]:.0f}%", va="center", fontsize=8
        )
        text = "none solved" if medians[k] == 0 else f"{medians[k]:.0f}"
        axes[1].text(medians[k] + q_high[k] + 0.015 * widest, k, text, va="center", fontsize=8)
    axes[1].set_xlabel("median sweeps of the solved runs (bars: quartiles)")
    fig.suptitle(title)
    fig.tight_layout()
    return fig
