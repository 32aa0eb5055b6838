"""The static figures in images/ (computational graphs for lesson 01), drawn reproducibly.

`make images` (`python -m labutils.instructor images`) redraws them and embeds each into the
markdown that shows it, as `![alt](data:image/png;base64,... "images/NAME.png")`: the picture
travels inside the notebook, so it renders offline and whether or not the repository is public
or reachable (Colab, GitHub, JupyterLab, the HTML export). Write a new picture as
`![alt](../images/NAME.png)`; the title of an embedded one names its file, so `make images` and
`make badges` re-embed it when the file changes. (Raw GitHub URLs need the network and a public
repository; relative links break on Colab and under a Jupyter server rooted at notebooks/; Colab
does not render cell attachments.)
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


IMAGE_LINK = re.compile(r'(!\[[^\]]*\]\()\s*<?([^)\s>]+)>?(?:\s+"([^"]*)")?\s*\)')
"""A markdown image: group 2 is its target, group 3 its title (None when it has none)."""
_COURSE_IMAGE = re.compile(
    r"^(?:(?:\.\./|\./)?images/|https://raw\.githubusercontent\.com/[^/]+/[^/]+/.+/images/)"
    r"([\w.-]+\.png)$"
)
EMBEDDED = "data:image/png;base64,"
"""How an embedded course picture starts; its title names the file, e.g. "images/x.png"."""


def course_image_name(target: str, title: str | None = None) -> str | None:
    """'x.png' when an image shows images/x.png: linked (relative or raw GitHub URL) or embedded
    (a data: URI whose title is "images/x.png")."""
    match = _COURSE_IMAGE.match((title or "") if target.startswith("data:") else target)
    return match.group(1) if match else None


def embedded_link(name: str, images: Path) -> str:
    """The target and title that embed images/`name` in markdown: `data:... "images/name"`."""
    path = Path(images) / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: run `make images` to draw it.")
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'{EMBEDDED}{data} "images/{name}"'


def embed_images(source: str, images: Path) -> str:
    """Markdown `source` with every picture of images/ embedded as a data: URI (idempotent).

    The picture then travels inside the notebook: it renders offline and without access to the
    repository (JupyterLab, the HTML export, GitHub, Colab). Other images are left as they are.
    """

    def rewrite(match: re.Match) -> str:
        name = course_image_name(match.group(2), match.group(3))
        if name is None:
            return match.group(0)
        return f"{match.group(1)}{embedded_link(name, images)})"

    return IMAGE_LINK.sub(rewrite, source)


def embed_in_notebook(nb: nbformat.NotebookNode, images: Path) -> bool:
    """Embed the course pictures of every markdown cell of `nb`; True when something changed."""
    changed = False
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            source = embed_images(cell.source, images)
            changed |= source != cell.source
            cell.source = source
    return changed


def image_problems(nb: nbformat.NotebookNode, images: Path) -> list[str]:
    """Course pictures not embedded, or embedded with other bytes than images/ holds now."""
    problems = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for match in IMAGE_LINK.finditer(cell.source):
            name = course_image_name(match.group(2), match.group(3))
            if name is None:
                continue
            if not (Path(images) / name).is_file():
                problems.append(f"images/{name} is shown but does not exist (run `make images`)")
            elif match.group(0) != f"{match.group(1)}{embedded_link(name, images)})":
                problems.append(f"images/{name} is not embedded as images/ holds it now "
                                "(run `make images`)")
    return problems


def embed_course_images(notebooks: list[Path], images: Path, echo=print) -> None:
    """Embed the pictures of `images` into each of `notebooks` that shows one."""
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        if embed_in_notebook(nb, images):
            nbformat.write(nb, path)
            echo(f"embedded pictures in {path}")


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
