"""The static figures in images/ (computational graphs for lesson 01), drawn reproducibly.

`make images` (`python -m labutils images`) redraws them. A lesson shows one with a markdown link
to its raw GitHub URL in the course repository, `https://raw.githubusercontent.com/OWNER/REPO/
BRANCH/images/NAME.png`, which renders on GitHub, on Colab (where no images/ folder sits beside the
notebook), in VS Code and in JupyterLab rooted at notebooks/. `make badges` writes these URLs from
[tool.labutils] in pyproject.toml, like the Colab badge, so a fork shows its own copies. (Cell
attachments would need no network, but Colab does not render them.)
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

from labutils.paths import repo_root

if TYPE_CHECKING:
    import nbformat

    from labutils.colab import CourseRepository

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


IMAGE_LINK = re.compile(r"(!\[[^\]]*\]\(\s*)([^)\s]+)")
"""A markdown image; group 2 is its target."""
_COURSE_IMAGE = re.compile(
    r"^(?:(?:\.\./|\./)?images/|https://raw\.githubusercontent\.com/[^/]+/[^/]+/.+/images/)"
    r"([\w.-]+\.png)$"
)


def image_url(repo: CourseRepository, name: str) -> str:
    """The raw GitHub URL of images/`name` in the course repository `repo`."""
    return f"https://raw.githubusercontent.com/{repo.slug}/{repo.branch}/images/{name}"


def course_image_name(target: str) -> str | None:
    """'x.png' when a link target shows images/x.png (a relative path or any raw GitHub URL)."""
    match = _COURSE_IMAGE.match(target)
    return match.group(1) if match else None


def point_images_at(source: str, repo: CourseRepository) -> str:
    """Markdown `source` with every link to images/NAME.png rewritten to `repo`'s raw URL."""

    def rewrite(match: re.Match) -> str:
        name = course_image_name(match.group(2))
        return match.group(1) + (image_url(repo, name) if name else match.group(2))

    return IMAGE_LINK.sub(rewrite, source)


def image_link_problems(nb: nbformat.NotebookNode, repo: CourseRepository) -> list[str]:
    """Links to images/ that do not use `repo`'s raw URL (what `make badges` fixes)."""
    return [
        f"image link {target} should be {image_url(repo, name)}"
        for cell in nb.cells if cell.cell_type == "markdown"
        for target in (m.group(2) for m in IMAGE_LINK.finditer(cell.source))
        if (name := course_image_name(target)) and target != image_url(repo, name)
    ]


def make_images(folder: Path | None = None) -> list[Path]:
    """Write every figure of images/ and return their paths."""
    if folder is None:
        root = repo_root()
        if root is None:
            raise FileNotFoundError("Run inside the course repository or pass a folder.")
        folder = root / "images"
    folder = Path(folder)
    return [
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
