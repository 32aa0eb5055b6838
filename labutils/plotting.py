"""The lessons' recurring figures: loss curves, LR schedules, digits, confusion matrix, paths.

Each function draws on `ax` (a new figure when None), gives the figure a title and labelled
axes, and returns the Axes (or the Figure for grids of images) so a lesson can adjust it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from labutils.training import History

Curve = Sequence[float] | torch.Tensor | History


def axes_or_new(ax: Axes | None, figsize: tuple[float, float] | None = None) -> Axes:
    """`ax` itself, or the Axes of a new figure (of `figsize`) when ax is None."""
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _values(curve: Curve, name: str) -> np.ndarray:
    if isinstance(curve, History):
        curve = curve.epoch_losses
    values = np.asarray(torch.as_tensor(curve, dtype=torch.float64).detach().cpu()).reshape(-1)
    if values.size == 0:
        raise ValueError(f"The curve {name!r} has no values to plot.")
    return values


def _named(curves: Mapping[str, Curve] | Curve, default: str) -> dict[str, Curve]:
    if isinstance(curves, Mapping):
        if not curves:
            raise ValueError("Nothing to plot: the mapping of curves is empty.")
        return dict(curves)
    return {default: curves}


def plot_curves(
    curves: Mapping[str, Curve] | Curve,
    ax: Axes | None = None,
    *,
    title: str,
    xlabel: str = "epoch",
    ylabel: str = "value",
    logy: bool = False,
    reference: float | None = None,
    reference_label: str = "reference",
    start: int = 1,
) -> Axes:
    """One line per named curve (x = start, start+1, ...), optionally a horizontal reference."""
    ax = axes_or_new(ax)
    named = _named(curves, ylabel)
    for name, curve in named.items():
        values = _values(curve, name)
        marker = "o" if len(values) <= 30 else None  # few points: show each one
        ax.plot(np.arange(start, start + len(values)), values, marker=marker, label=name)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if reference is not None:
        ax.axhline(reference, color="black", linestyle="--", linewidth=1, label=reference_label)
    if logy:
        ax.set_yscale("log")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    if len(named) > 1 or reference is not None:
        ax.legend()
    ax.grid(True, which="major", alpha=0.3)
    return ax


def plot_losses(
    curves: Mapping[str, Curve] | Curve,
    ax: Axes | None = None,
    *,
    title: str = "Training loss",
    xlabel: str = "epoch",
    ylabel: str = "loss",
    logy: bool = True,
    reference: float | None = None,
    reference_label: str = "reference",
    start: int = 1,
) -> Axes:
    """Loss curves (lists, tensors or a fit History's epoch losses), log scale by default."""
    return plot_curves(
        curves, ax, title=title, xlabel=xlabel, ylabel=ylabel, logy=logy,
        reference=reference, reference_label=reference_label, start=start,
    )


def plot_lr_schedules(
    schedules: Mapping[str, Sequence[float]] | Sequence[float],
    ax: Axes | None = None,
    *,
    title: str = "Learning-rate schedules",
    xlabel: str = "step (scheduler.step() calls)",
    logy: bool = False,
) -> Axes:
    """Learning rate against step, drawn as steps: the rate is constant between two calls."""
    ax = axes_or_new(ax)
    named = _named(schedules, "learning rate")
    for name, schedule in named.items():
        values = _values(schedule, name)
        ax.plot(np.arange(len(values)), values, drawstyle="steps-post", label=name)
    if logy:
        ax.set_yscale("log")
    ax.set(title=title, xlabel=xlabel, ylabel="learning rate")
    if len(named) > 1:
        ax.legend()
    ax.grid(True, alpha=0.3)
    return ax


def show_digits(
    images: torch.Tensor,
    labels: Sequence[int] | torch.Tensor | None = None,
    predicted: Sequence[int] | torch.Tensor | None = None,
    *,
    ncols: int = 8,
    title: str = "MNIST digits",
) -> Figure:
    """A grid of gray images, each titled with its label (and the prediction, red if wrong)."""
    images = torch.as_tensor(images).detach().cpu()
    if images.ndim == 4 and images.shape[1] == 1:
        images = images[:, 0]
    if images.ndim != 3 or len(images) == 0:
        raise ValueError(
            f"show_digits wants images of shape (N, H, W) or (N, 1, H, W) with N >= 1, "
            f"got {tuple(images.shape)}."
        )
    for name, values in (("labels", labels), ("predicted", predicted)):
        if values is not None and len(values) != len(images):
            raise ValueError(f"{len(images)} images but {len(values)} {name}.")
    ncols = max(1, min(ncols, len(images)))
    nrows = math.ceil(len(images) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.2 * ncols, 1.45 * nrows + 0.5), squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k >= len(images):
            continue
        ax.imshow(images[k].numpy(), cmap="gray")
        if predicted is not None:
            wrong = labels is not None and int(predicted[k]) != int(labels[k])
            text = f"pred {int(predicted[k])}"
            text += f"\ntrue {int(labels[k])}" if labels is not None else ""
            ax.set_title(text, fontsize=9, color="red" if wrong else "black")
        elif labels is not None:
            ax.set_title(f"label {int(labels[k])}", fontsize=9)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_confusion_matrix(
    matrix: torch.Tensor,
    ax: Axes | None = None,
    *,
    class_names: Sequence[str] | None = None,
    title: str = "Confusion matrix",
    annotate: bool = True,
) -> Axes:
    """Counts of (true class, predicted class), rows true; the diagonal holds the right answers."""
    counts = np.asarray(torch.as_tensor(matrix).detach().cpu())
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1] or counts.shape[0] == 0:
        raise ValueError(f"A confusion matrix is square (C, C), got shape {counts.shape}.")
    size = counts.shape[0]
    names = list(class_names) if class_names is not None else [str(k) for k in range(size)]
    if len(names) != size:
        raise ValueError(f"{size} classes but {len(names)} class names.")
    ax = axes_or_new(ax)
    image = ax.imshow(counts, cmap="Blues", norm=LogNorm(vmin=1, vmax=max(counts.max(), 2)))
    ax.figure.colorbar(image, ax=ax, label="examples (log scale)")
    if annotate:
        for i in range(size):
            for j in range(size):
                if counts[i, j]:
                    dark = counts[i, j] > math.sqrt(max(counts.max(), 1))
                    ax.text(j, i, str(int(counts[i, j])), ha="center", va="center", fontsize=7,
                            color="white" if dark else "black")
    ax.set_xticks(range(size), names)
    ax.set_yticks(range(size), names)
    ax.set(title=title, xlabel="predicted class", ylabel="true class")
    return ax


def plot_optimizer_paths(
    loss_fn: Callable[[torch.Tensor], torch.Tensor],
    paths: Mapping[str, torch.Tensor],
    ax: Axes | None = None,
    *,
    xlim: tuple[float, float] = (-2.0, 2.0),
    ylim: tuple[float, float] = (-1.0, 3.0),
    minimum: tuple[float, float] | None = None,
    title: str = "Optimizer paths on the loss surface",
    levels: int = 25,
) -> Axes:
    """Contours of a 2-D loss (log-spaced levels) with each optimizer's path of (x, y) points.

    `loss_fn` maps a tensor (..., 2) of points to their losses; each path is (steps + 1, 2).
    """
    if not paths:
        raise ValueError("Nothing to plot: no optimizer paths given.")
    for name, path in paths.items():
        if torch.as_tensor(path).ndim != 2 or torch.as_tensor(path).shape[1] != 2:
            raise ValueError(f"Path {name!r} must have shape (steps + 1, 2), got "
                             f"{tuple(torch.as_tensor(path).shape)}.")
    ax = axes_or_new(ax)
    xs = torch.linspace(*xlim, 300, dtype=torch.float64)
    ys = torch.linspace(*ylim, 300, dtype=torch.float64)
    grid_x, grid_y = torch.meshgrid(xs, ys, indexing="xy")
    with torch.no_grad():
        z = loss_fn(torch.stack([grid_x, grid_y], dim=-1)).numpy()
    positive = z[z > 0]
    low = max(positive.min(), positive.max() * 1e-6)
    steps = np.geomspace(low, z.max(), levels)
    ax.contourf(grid_x.numpy(), grid_y.numpy(), z, levels=steps, norm=LogNorm(), cmap="Greys",
                alpha=0.3)
    ax.contour(grid_x.numpy(), grid_y.numpy(), z, levels=steps, norm=LogNorm(), colors="grey",
               linewidths=0.4)
    for name, path in paths.items():
        points = torch.as_tensor(path).detach().cpu().numpy()
        line, = ax.plot(points[:, 0], points[:, 1], ".-", markersize=2.5, linewidth=1.2,
                        label=name)
        ax.plot(points[-1, 0], points[-1, 1], "s", color=line.get_color(), markersize=6,
                markeredgecolor="black")
    first = torch.as_tensor(next(iter(paths.values())))[0]
    ax.plot(float(first[0]), float(first[1]), "ko", markersize=7, label="start")
    if minimum is not None:
        ax.plot(*minimum, "*", color="gold", markeredgecolor="black", markersize=14,
                label="minimum")
    ax.set(xlim=xlim, ylim=ylim, title=title, xlabel="x (first parameter)",
           ylabel="y (second parameter)")
    ax.legend(loc="best", fontsize=8)
    return ax
