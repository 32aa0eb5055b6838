"""The static figures in images/ (computational graphs for lesson 01), drawn reproducibly.

`make images` (`python -m labutils images`) regenerates them and embeds each one into the
notebooks that show it, as a markdown cell attachment (`![text](attachment:NAME.png)`): the
notebook then carries its pictures, which render on GitHub, in JupyterLab rooted at notebooks/,
in VS Code and on Colab, where no images/ folder sits beside the notebook.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import matplotlib
import nbformat

from labutils.paths import repo_root

_VALUE = {"boxstyle": "circle,pad=0.35", "fc": "#dbe9f6", "ec": "#1f4e79", "lw": 1.5}
_HIDDEN = {"boxstyle": "circle,pad=0.35", "fc": "#fde2c8", "ec": "#b35806", "lw": 1.5}
_FUNCTION = {"boxstyle": "round,pad=0.45", "fc": "#eeeeee", "ec": "#444444", "lw": 1.5}


def draw_graph(nodes, backward, title: str, path: Path) -> Path:
    """Draw a left-to-right chain of value/function nodes, with dashed backward-pass arrows.

    nodes: list of (label, kind) with kind in {"value", "hidden", "function"};
    backward: list of (from_index, to_index, label) drawn below the chain.
    """
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    xs = list(range(len(nodes)))
    fig, ax = plt.subplots(figsize=(1.7 * len(nodes) + 0.6, 2.6))
    styles = {"value": _VALUE, "hidden": _HIDDEN, "function": _FUNCTION}
    for x, (label, kind) in zip(xs, nodes, strict=True):
        ax.text(x, 0, label, ha="center", va="center", fontsize=18, bbox=styles[kind], zorder=3)
    for x in xs[:-1]:
        ax.annotate("", xy=(x + 0.68, 0), xytext=(x + 0.32, 0),
                    arrowprops={"arrowstyle": "-|>", "lw": 1.8, "color": "black"})
    for start, end, label in backward:
        ax.annotate("", xy=(end + 0.05, -0.45), xytext=(start - 0.05, -0.45),
                    arrowprops={"arrowstyle": "-|>", "lw": 1.4, "color": "#c0392b", "ls": "--"})
        ax.text((start + end) / 2, -0.72, label, ha="center", va="center", fontsize=12,
                color="#c0392b")
    ax.text(xs[0] - 0.45, 0.55, "forward pass  →", fontsize=10, color="black", ha="left")
    if backward:
        ax.text(xs[-1] + 0.45, -1.05, "←  backward pass (chain rule)", fontsize=10,
                color="#c0392b", ha="right")
    ax.set_xlim(xs[0] - 0.6, xs[-1] + 0.6)
    ax.set_ylim(-1.2, 0.8)
    ax.set_title(title, fontsize=13)
    ax.axis("off")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, metadata={"Software": None})
    plt.close(fig)
    return path


ATTACHMENT_LINK = re.compile(r"!\[[^\]]*\]\(attachment:([^)\s]+)")
"""A markdown image that shows a cell attachment; group 1 is the attachment's name."""


def attach_images(notebooks: list[Path], folder: Path) -> list[Path]:
    """Embed images/NAME into every markdown cell that shows `attachment:NAME`; return the
    notebooks that changed (the others are not rewritten)."""
    changed = []
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        touched = False
        for cell in nb.cells:
            if cell.cell_type != "markdown":
                continue
            for name in ATTACHMENT_LINK.findall(cell.source):
                image = folder / name
                if not image.is_file():
                    continue  # an attachment not drawn here (pasted by hand): leave it alone
                bundle = {"image/png": base64.b64encode(image.read_bytes()).decode("ascii")}
                if cell.get("attachments", {}).get(name) != bundle:
                    cell.setdefault("attachments", {})[name] = bundle
                    touched = True
        if touched:
            nbformat.write(nb, str(path))
            changed.append(path)
    return changed


def make_images(folder: Path | None = None) -> list[Path]:
    """Write every figure of images/ and return their paths; with the default folder, also
    refresh the notebooks' attachments of them (and return the notebooks rewritten)."""
    notebooks: list[Path] = []
    if folder is None:
        root = repo_root()
        if root is None:
            raise FileNotFoundError("Run inside the course repository or pass a folder.")
        folder = root / "images"
        notebooks = sorted(p for p in (root / "notebooks").rglob("*.ipynb")
                           if not p.name.startswith("."))
    folder = Path(folder)
    written = [
        draw_graph(
            [("$x$", "value"), ("$f$", "function"), ("$g$", "function"), ("$y$", "value")],
            [(3, 0, r"$\frac{dy}{dx} = g'(f(x))\,f'(x)$")],
            "Computational graph of y = g(f(x))",
            folder / "graph_composition.png",
        ),
        draw_graph(
            [("$x$", "value"), ("$f$", "function"), ("$z$", "hidden"), ("$g$", "function"),
             ("$y$", "value")],
            [(4, 2, r"$\frac{dy}{dz} = g'(z)$"), (2, 0, r"$\frac{dz}{dx} = f'(x)$")],
            "The same graph with the intermediate node z = f(x)",
            folder / "graph_composition_hidden.png",
        ),
    ]
    return written + attach_images(notebooks, folder)
