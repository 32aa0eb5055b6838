"""The built course site in a real browser: headless Chromium with the network off.

Loads the home page, the first lesson and the assignment page from a copy of build/site/ into
which a small script is injected; the script waits for MathJax and every picture, then writes
what it saw into the page, and Chromium's --dump-dom returns it. Skipped, with the reason, where
Chromium is missing (Debian package `chromium`); .ci/run installs it.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from test_site import built_site, expected_colab

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--proxy-server=127.0.0.1:9",
         "--virtual-time-budget=20000", "--dump-dom"]
RESULT = re.compile(r'<pre id="site-check-result"[^>]*>(.*?)</pre>', re.DOTALL)
PROBE = """<script>
window.siteErrors = [];
(() => { const log = console.error;
  console.error = (...a) => { window.siteErrors.push('console.error: ' + a.join(' ')); log(...a); };
})();
window.addEventListener('error', e => window.siteErrors.push(e.target && e.target !== window
  ? 'failed to load ' + (e.target.src || e.target.href) : 'error: ' + e.message), true);
window.addEventListener('unhandledrejection', e => window.siteErrors.push('rejected: ' + e.reason));
document.addEventListener('DOMContentLoaded', () => {
  for (const img of document.images) img.loading = 'eager'; });
window.addEventListener('load', async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  await Promise.all([...document.images].map(i => i.complete ? 0 : new Promise(done => {
    i.addEventListener('load', done); i.addEventListener('error', done); })));
  await document.fonts.ready;
  const prose = (document.querySelector('main') || document.body).cloneNode(true);
  prose.querySelectorAll('pre, code, script, style, mjx-container').forEach(n => n.remove());
  const result = {
    mathSource: document.querySelectorAll('.math').length,
    mathTypeset: document.querySelectorAll('mjx-container').length,
    prose: prose.textContent, visible: document.body.innerText,
    pictures: [...document.images].map(i => [i.getAttribute('src').slice(0, 60), i.naturalWidth]),
    fontsFailed: [...document.fonts].filter(f => f.status === 'error').map(f => f.family),
    remote: performance.getEntriesByType('resource').map(r => r.name)
      .filter(n => !n.startsWith('file:') && !n.startsWith('data:')),
    colab: [...document.querySelectorAll('a[href^="https://colab.research.google.com/"]')]
      .map(a => a.href),
    errors: window.siteErrors};
  const out = document.createElement('pre');
  out.id = 'site-check-result';
  out.textContent = JSON.stringify(result);
  document.body.appendChild(out);
});
</script>"""


def browser() -> str:
    for name in BROWSERS:
        if path := shutil.which(name):
            return path
    pytest.skip("no headless Chromium (apt-get install chromium): the site was NOT checked "
                "in a browser")


def pages(site: Path) -> dict[str, str]:
    """{page: its notebook or ''}: the home page, the first lesson, the assignment."""
    notebooks = sorted(p.name for p in (site / "notebooks").glob("*.ipynb"))
    assignment = next((n for n in notebooks if "assignment" in n), notebooks[-1])
    return {"index.html": "", f"notebooks/{notebooks[0][:-6]}.html": notebooks[0],
            f"notebooks/{assignment[:-6]}.html": assignment}


def load(chromium: str, copy: Path, page: str) -> dict:
    """What the probe saw on `page` of the copied site, opened offline."""
    target = copy / page
    probed = target.with_name(target.stem + ".probe.html")
    probed.write_text(target.read_text(encoding="utf-8").replace("<head>", "<head>" + PROBE, 1),
                      encoding="utf-8")
    run = subprocess.run([chromium, *FLAGS, f"--user-data-dir={copy.parent / 'profile'}",
                          probed.as_uri()], capture_output=True, text=True, timeout=120)
    found = RESULT.search(run.stdout)
    assert found, f"{page}: the probe wrote no result (Chromium said: {run.stderr[-2000:]})"
    return json.loads(html.unescape(found.group(1)))


@pytest.fixture(scope="module")
def seen(tmp_path_factory) -> dict[str, dict]:
    chromium = browser()
    site = built_site()
    copy = tmp_path_factory.mktemp("site") / "site"
    shutil.copytree(site, copy)
    return {page: load(chromium, copy, page) for page in pages(site)}


def test_pages_load_offline_without_errors(seen):
    for page, result in seen.items():
        assert not result["errors"], f"{page}: {result['errors']}"
        assert not result["remote"], f"{page} asked the network for {result['remote']}"
        assert not result["fontsFailed"], f"{page}: fonts not loaded {result['fontsFailed']}"


def test_every_picture_loads(seen):
    for page, result in seen.items():
        broken = [src for src, width in result["pictures"] if width == 0]
        assert not broken, f"{page}: pictures not shown: {broken}"
    lesson = [r for p, r in seen.items() if p != "index.html"][0]
    assert [src for src, _ in lesson["pictures"] if not src.startswith("../_static/")], (
        "the first lesson shows no picture of its own (figures or outputs)")


def test_math_is_typeset(seen):
    for page, result in seen.items():
        raw = [m.group(0) for m in re.finditer(r".{0,30}(\\\(|\\\[|\$\$|\\frac).{0,30}",
                                               result["prose"])]
        assert not raw, f"{page}: raw TeX left in the text: {raw[:5]}"
        if result["mathSource"]:
            assert result["mathTypeset"] >= result["mathSource"], page
    assert all(r["mathTypeset"] for p, r in seen.items() if p != "index.html")


def test_no_setup_or_check_cell_visible(seen):
    """On the notebook pages (the home page's hand-in steps may show Colab code on purpose)."""
    for page, result in seen.items():
        if page == "index.html":
            continue
        for words in ("google.colab", "Colab setup (written", "Automatic check", "pip install"):
            assert words not in result["visible"], f"{page} shows {words!r}"


def test_colab_buttons_open_the_student_repository(seen):
    for page, result in seen.items():
        notebook = pages(built_site())[page]
        if notebook:
            assert result["colab"] == [expected_colab(f"notebooks/{notebook}")], page
        else:
            shipped = sorted(p.name for p in (built_site() / "notebooks").glob("*.ipynb"))
            assert result["colab"] == [expected_colab(f"notebooks/{n}") for n in shipped]
