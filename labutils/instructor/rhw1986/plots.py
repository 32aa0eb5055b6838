"""Pictures of experiment 1's studies: error curves, the distribution of sweeps to solution,
the share solved against sweeps, an eps x alpha grid and a comparison of workarounds. The
pictures of one network's weights (draw_network, hinton_plot) are labutils.network_plots'.

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
from matplotlib.patches import Rectangle

from labutils.instructor.rhw1986.single import TrainingRun
from labutils.instructor.rhw1986.study import StudyResult
from labutils.network_plots import draw_network, hinton_plot
from labutils.paper1986 import PAPER_SWEEPS
from labutils.plotting import axes_or_new

LABEL_COLOURS = {
    "solved": "tab:green",
    "plateau": "tab:red",
    "local_minimum": "tab:purple",
    "improving": "tab:orange",
    "diverged": "black",
}
"""Colour of each run label in the study pictures."""


def plot_error_curves(
    curves: Sequence[TrainingRun | Sequence[float]] | StudyResult,
    labels: Sequence[str] | None = None,
    ax: Axes | None = None,
    title: str = "Error during training",
    max_curves: int = 60,
    log: bool = False,
    logx: bool = False,
) -> Axes:
    """E against sweeps: for a list of runs (TrainingRun or lists of E), one labelled line each;
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
            errors = curve.errors if isinstance(curve, TrainingRun) else list(curve)
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


def plot_survival(
    studies: Mapping[str, StudyResult],
    ax: Axes | None = None,
    title: str = "Share of runs solved within a number of sweeps",
    paper: int | None = PAPER_SWEEPS,
) -> Axes:
    """For each study, the share of its runs that have met the criterion after t sweeps
    (a step curve up to the study's cap), with the paper's sweep count marked."""
    if not studies:
        raise ValueError("plot_survival needs at least one study")
    ax = axes_or_new(ax, (7, 4))
    for name, study in studies.items():
        solved = sorted(study.solved_sweeps.tolist())
        cap = study.config["max_sweeps"]
        x = [0.0, *solved, float(cap)]
        y = [0.0, *[(k + 1) / study.n_seeds for k in range(len(solved))]]
        y.append(y[-1])
        ax.step(x, [100 * v for v in y], where="post", label=f"{name}: {y[-1]:.1%} by {cap:,}")
    if paper is not None:
        ax.axvline(paper, color="tab:red", ls="--", lw=1.2, label=f"paper: {paper:,}")
    ax.set_xlabel("sweeps (weight changes)")
    ax.set_ylabel("runs solved so far (%)")
    ax.set_ylim(0, 100)
    ax.set_title(title)
    ax.legend(fontsize=8, loc="lower right")
    return ax


def plot_grid(
    values: torch.Tensor,
    eps: Sequence[float],
    alpha: Sequence[float],
    ax: Axes | None = None,
    title: str = "Share of runs solved",
    label: str = "runs solved (%)",
    paper: tuple[float, float] | None = (0.1, 0.9),
) -> Axes:
    """Heat map of `values` (len(alpha), len(eps)), in percent, one cell per (eps, alpha),
    each cell written in, and the paper's (eps, alpha) outlined."""
    values = torch.as_tensor(values, dtype=torch.float64)
    if values.shape != (len(alpha), len(eps)):
        raise ValueError(
            f"values must have shape (len(alpha), len(eps)) = ({len(alpha)}, {len(eps)}), "
            f"got {tuple(values.shape)}"
        )
    ax = axes_or_new(ax, (1.3 * len(eps) + 2.5, 1.0 * len(alpha) + 1.5))
    image = ax.imshow(values.numpy(), cmap="viridis", vmin=0, vmax=100, origin="lower")
    ax.figure.colorbar(image, ax=ax, label=label)
    for r in range(len(alpha)):
        for c in range(len(eps)):
            v = float(values[r, c])
            ax.text(
                c,
                r,
                f"{v:.0f}",
                ha="center",
                va="center",
                fontsize=9,
                color="white" if v < 50 else "black",
            )
    if paper is not None and paper[0] in eps and paper[1] in alpha:
        c, r = list(eps).index(paper[0]), list(alpha).index(paper[1])
        ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, ec="tab:red", lw=3))
        ax.plot([], [], color="tab:red", lw=3, label=f"paper: eps {paper[0]:g}, alpha {paper[1]:g}")
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(0, -0.15))
    ax.set_xticks(range(len(eps)), [f"{e:g}" for e in eps])
    ax.set_yticks(range(len(alpha)), [f"{a:g}" for a in alpha])
    ax.set_xlabel("step size eps")
    ax.set_ylabel("momentum alpha")
    ax.set_title(title)
    return ax


__all__ = [
    "LABEL_COLOURS",
    "draw_network",
    "hinton_plot",
    "plot_error_curves",
    "plot_grid",
    "plot_survival",
    "plot_sweeps_histogram",
    "plot_workarounds",
]
