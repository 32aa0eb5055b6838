"""Pictures of a 6-h-1 network's weights: a diagram in the style of the paper's Figure 1 and a
Hinton diagram. Both take a weight mapping ("hidden.weight" (h, 6), "hidden.bias" (h,),
"output.weight" (1, h), "output.bias" (1,)), draw on `ax` when given, else on a new figure,
and return the axes they drew on.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
from matplotlib.axes import Axes
from matplotlib.patches import Circle, Rectangle

from labutils.network_facts import as_weights
from labutils.plotting import axes_or_new

POSITIVE = "tab:blue"
"""Colour of positive weights."""
NEGATIVE = "tab:red"
"""Colour of negative weights."""


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
    w = as_weights(weights)
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
    w = as_weights(weights)
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


__all__ = ["NEGATIVE", "POSITIVE", "draw_network", "hinton_plot"]
