"""Sphinx configuration of the course site (copied into the prepared source by site/prepare.py).

Sphinx + myst-nb + sphinx-book-theme (Jupyter Book 1's engine). Pages show the notebooks' stored
outputs (nothing is executed) and work offline: MathJax 3 comes from the pinned PyPI package
sphinx-mathjax-offline (only the script and fonts this site loads are copied).
"""

import importlib.util
import json
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
SETTINGS = json.loads((HERE / "site_settings.json").read_text(encoding="utf-8"))
MATHJAX_FILES = ("tex-chtml.js", "output/chtml/fonts/woff-v2")

project = "Deep learning lab course"
author = "the course's instructors"
copyright = "the course's instructors"
extensions = ["myst_nb"]
exclude_patterns = ["_build", "_extra", "images", "**/.ipynb_checkpoints"]
html_extra_path = ["_extra"]
html_title = project
html_copy_source = False
html_show_sourcelink = False
html_last_updated_fmt = None
html_context = {"default_mode": "auto"}  # unset, the theme logs a console error on a first visit

nb_execution_mode = "off"
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath"]
suppress_warnings = ["myst.header", "misc.highlighting_failure"]  # "!pip" lines, heading levels

# MathJax 3 from this site's own _static folder, typesetting $...$ inside raw HTML too
# (the <details> hints of the lessons), never from a CDN.
mathjax_path = "mathjax/tex-chtml.js"
myst_update_mathjax = False
mathjax3_config = {
    "tex": {"inlineMath": [["$", "$"], ["\\(", "\\)"]],
            "displayMath": [["$$", "$$"], ["\\[", "\\]"]], "processEscapes": True},
    "options": {"ignoreHtmlClass": "tex2jax_ignore", "processHtmlClass": "tex2jax_process"},
}

html_theme = "sphinx_book_theme"
html_theme_options = {
    "repository_url": SETTINGS["repository"],
    "repository_branch": SETTINGS["branch"],
    "path_to_docs": "",
    "use_repository_button": True,
    "use_download_button": False,  # it would offer the page's prepared copy: see the page link
    "launch_buttons": {"colab_url": "https://colab.research.google.com",
                       "notebook_interface": "classic"},
    "show_toc_level": 2,
}


def copy_mathjax(app, exception) -> None:
    """Copy MathJax's CHTML script and its fonts into the built site's _static/mathjax."""
    if exception is not None:
        return
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or spec.origin is None:
        raise RuntimeError("sphinx-mathjax-offline is missing: install site/requirements.txt "
                           "with site/constraints.txt (make site does).")
    source = Path(spec.origin).parent / "static" / "mathjax"
    target = Path(app.outdir) / "_static" / "mathjax"
    for name in MATHJAX_FILES:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        if (source / name).is_dir():
            shutil.copytree(source / name, target / name, dirs_exist_ok=True)
        else:
            shutil.copy2(source / name, target / name)


def setup(app) -> None:
    app.connect("build-finished", copy_mathjax)
