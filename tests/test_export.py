"""labutils.export (`make export`): the hand-in HTML page, and PDF only where LaTeX exists.

The page must work offline: it is checked in headless Chromium with the network off (skipped,
loudly, where chromium is not installed; .ci/run installs it).
"""

import base64
import html as html_text
import json
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

from labutils import cli, export

REPO = Path(__file__).resolve().parents[1]
IMAGE_LINK = re.compile(r"!\[[^\]]*\]\(")
"""A markdown picture (lesson 01 embeds its own, labutils.instructor.course.images)."""
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"


def _notebook(path):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# My report\n\nThe network learned."),
        nbformat.v4.new_code_cell("print(6 * 7)", execution_count=1, outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="42\n")]),
    ])
    nbformat.write(nb, path)
    return path


def test_html_export_holds_text_and_outputs(tmp_path, monkeypatch):
    monkeypatch.setattr(export, "missing_pdf_tools", lambda: ["xelatex"])
    path = _notebook(tmp_path / "05_assignment.ipynb")
    result = export.export_notebook(path)
    assert result.written == [tmp_path / "05_assignment.html"]
    html = result.written[0].read_text()
    assert "My report" in html and "42" in html and "print" in html
    assert "xelatex" in result.pdf_skipped and "HTML" in result.pdf_skipped
    assert not (tmp_path / "05_assignment.pdf").exists()


def test_no_pdf_asked_means_no_message(tmp_path):
    result = export.export_notebook(_notebook(tmp_path / "a.ipynb"), pdf=False)
    assert result.pdf_skipped == "" and len(result.written) == 1


def test_command_exports_the_named_notebook(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(export, "missing_pdf_tools", lambda: ["pandoc", "xelatex"])
    path = _notebook(tmp_path / "mine.ipynb")
    assert cli.main(["export", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"wrote {tmp_path / 'mine.html'}" in out and "No PDF" in out


def test_missing_or_broken_notebook_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(FileNotFoundError, match="No notebook at"):
        export.export_notebook(tmp_path / "nothing.ipynb")
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{ not json")
    with pytest.raises(ValueError, match="not a readable notebook"):
        export.export_notebook(broken)
    assert cli.main(["export", str(broken)]) == 2
    assert "not a readable notebook" in capsys.readouterr().err
    assert not (tmp_path / "broken.html").exists()


def test_pdf_message_is_grammatical():
    assert "xelatex is not installed" in export.pdf_skipped_message(["xelatex"])
    assert "pandoc and xelatex are not installed" in export.pdf_skipped_message(
        ["pandoc", "xelatex"])


def _rich_notebook(path):
    """Math in every delimiter, an embedded course picture, a PNG output, a widget and the badge."""
    png = base64.b64encode((REPO / "images" / "graph_composition.png").read_bytes()).decode()
    picture = f'![graph](data:image/png;base64,{png} "images/graph_composition.png")'
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell(
            f"{export.BADGE_PREFIX}{BADGE_IMAGE})](https://x.org)\n# Report"),
        nbformat.v4.new_markdown_cell(
            "Inline $E = \\frac{1}{2}\\sum_c (y_c - d_c)^2$ and $w_{ij}$;\n\n"
            "$$\\Delta w(t) = -\\varepsilon \\frac{\\partial E}{\\partial w} + \\alpha\\,"
            "\\Delta w(t-1)$$\n\n\\begin{align} a &= b \\\\ c &= \\boldsymbol{d} \\end{align}\n\n"
            + picture),
        nbformat.v4.new_code_cell("plot()", execution_count=1, outputs=[
            nbformat.v4.new_output("display_data", data={"image/png": png, "text/plain": "<Fig>"}),
            nbformat.v4.new_output("display_data", data={
                export.WIDGET_VIEW: {"model_id": "abc", "version_major": 2},
                "text/plain": "100%|##########| 10/10"})]),
    ])
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    nbformat.write(nb, path)
    return path


def test_html_page_loads_nothing_from_the_network(tmp_path):
    path = _rich_notebook(tmp_path / "report.ipynb")
    html = export.export_notebook(path, pdf=False).written[0].read_text()
    tags = re.findall(r"<(?:script|link|img)\b[^>]*>", html)
    remote = [tag for tag in tags if re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", tag)]
    assert remote == [], "the page would fetch these from the network"
    assert "window.MathJax" in html and "MathJax" in export.mathjax_source()[:20000]
    assert "require.js" not in html and "colab-badge" not in html and export.WIDGET_VIEW not in html
    assert "100%|##########| 10/10" in html  # a widget's text stays


def test_missing_mathjax_is_a_clear_error(monkeypatch):
    def gone(_package):
        raise ModuleNotFoundError("No module named 'mathjax'")

    monkeypatch.setattr(export.package_files, "files", gone)
    with pytest.raises(RuntimeError, match="pip install django-static-mathjax"):
        export.mathjax_source()


PROBE = """<script>
window.addEventListener("load", () => {
  const report = () => {
    const images = [...document.images];
    document.body.setAttribute("data-probe", JSON.stringify({
      math: document.querySelectorAll("mjx-container").length,
      errors: document.querySelectorAll("mjx-merror").length,
      images: images.length,
      broken: images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src.slice(0, 60)),
      text: [...document.querySelectorAll(".jp-MarkdownOutput")].map(e => e.innerText).join("\\n"),
    }));
  };
  (window.MathJax && MathJax.startup ? MathJax.startup.promise : Promise.resolve())
    .then(report, report);
});
</script>"""
"""Added to a copy of the page: once MathJax is done, writes what the browser shows into the DOM."""
RAW_TEX = re.compile(r"\$[^$\n]+\$|\\\(|\\\[|\\begin\{|[_^]\{")
"""TeX a reader would see: $...$, \\( or \\[, an environment, a sub- or superscript in braces.
(nbconvert's markdown reads \\( as an escaped parenthesis: lessons write math as $...$.)"""


def offline_browser_view(page, tmp_path) -> dict:
    """What headless Chromium shows of `page` with the network off (a proxy that refuses all)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("!!! chromium is not installed (Debian: apt-get install chromium; .ci/run "
                    "installs it): THE OFFLINE BROWSER CHECK OF THE HTML EXPORT DID NOT RUN !!!")
    probed = tmp_path / "probed.html"
    probed.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    result = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--proxy-server=127.0.0.1:9",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=30000", "--dump-dom",
         probed.as_uri()], capture_output=True, text=True, timeout=180)
    found = re.search(r'data-probe="([^"]*)"', result.stdout)
    assert found, f"the page never finished loading in Chromium: {result.stderr[-2000:]}"
    return json.loads(html_text.unescape(found.group(1)))


def assert_renders_offline(view: dict, images: int) -> None:
    assert view["math"] > 0 and view["errors"] == 0, "MathJax did not typeset the math"
    assert RAW_TEX.findall(view["text"]) == [], "raw TeX is left on the page"
    assert view["images"] == images and view["broken"] == [], "pictures did not load"


def test_export_renders_math_and_pictures_in_a_browser_offline(tmp_path):
    page = export.export_notebook(_rich_notebook(tmp_path / "report.ipynb"), pdf=False).written[0]
    view = offline_browser_view(page, tmp_path)
    assert_renders_offline(view, images=2)
    assert view["math"] == 4  # two inline, one display, one align environment


def test_lesson_01_exported_renders_offline(tmp_path):
    """Lesson 01 as the course ships it: pictures embedded (make images), math everywhere."""
    nb = nbformat.read(REPO / "notebooks" / "01_autograd.ipynb", as_version=4)
    nbformat.write(nb, tmp_path / "01_autograd.ipynb")
    page = export.export_notebook(tmp_path / "01_autograd.ipynb", pdf=False).written[0]
    shown = sum(len(IMAGE_LINK.findall(c.source)) for c in nb.cells if c.cell_type == "markdown")
    outputs = sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
    assert_renders_offline(offline_browser_view(page, tmp_path), images=shown - 1 + outputs)
