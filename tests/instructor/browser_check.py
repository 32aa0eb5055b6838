"""Loading the grader's HTML pages in headless Chromium (the instructor's browser): did any
student script run, did the pictures load. Skips LOUDLY where Chromium is missing (.ci/run
installs the Debian package `chromium`)."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from labutils.instructor.grading.html_page import CSP

MARK = "pwned"
"""What a hostile student script does when it runs: document.title = MARK, or an attribute
data-MARK on some element, or an element with id MARK."""
SCRIPT = (f"document.title='{MARK}';document.documentElement.setAttribute('data-{MARK}','1');"
          f"var d=document.createElement('div');d.id='{MARK}';document.body.appendChild(d)")
HOSTILE_REPORT = f"""Plain words **bold**.

<script>{SCRIPT}</script>

<img src=x onerror="{SCRIPT}">

<svg onload="{SCRIPT}"></svg>

</style><script>{SCRIPT}</script>

<iframe src="javascript:{SCRIPT}"></iframe>

[click me](javascript:void(document.title='{MARK}')) [data](data:text/html;base64,PHNjcmlwdD4=)

[spaced]( JaVaScRiPt:void(0) ) <javascript:void(0)>

[ok link](https://example.org/paper) ![remote](https://example.org/x.png)

<a href="javascript:{SCRIPT}">raw link</a> `<script>code span</script>`
"""
HOSTILE_ID = f'"><script>{SCRIPT}</script><b x="=1+2'
"""A student id with <, ", = and a formula lead."""
PROBE_NONCE = "probe-only"


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    pytest.skip("!!! chromium is not installed (Debian: apt-get install chromium; .ci/run "
                "installs it): THE BROWSER CHECK OF THE GRADER'S PAGES DID NOT RUN !!!")


def _run(page: Path, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu",
         "--proxy-server=127.0.0.1:9", f"--user-data-dir={page.parent / 'profile'}",
         "--virtual-time-budget=5000", *flags, page.as_uri()],
        capture_output=True, text=True, timeout=180)


def dom_after_load(page: Path) -> str:
    """The DOM Chromium holds once the page (and any script on it) has run."""
    result = _run(page, "--dump-dom")
    assert "<body" in result.stdout, f"Chromium printed no DOM: {result.stderr[-2000:]}"
    return result.stdout


def screenshot(page: Path, png: Path, size: str = "1200,2400") -> Path:
    _run(page, f"--screenshot={png}", f"--window-size={size}", "--hide-scrollbars")
    assert png.is_file() and png.stat().st_size > 1000, f"no screenshot of {page}"
    return png


class _Marks(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.in_title = False

    def handle_starttag(self, tag, attrs):
        self.in_title = tag == "title"
        for name, value in attrs:
            if name == f"data-{MARK}" or (name == "id" and value == MARK):
                self.found.append(f"<{tag} {name}={value!r}>")

    def handle_data(self, data):
        if self.in_title and data.strip() == MARK:
            self.found.append("document.title was changed")

    def handle_endtag(self, tag):
        self.in_title = False


def script_marks(dom: str) -> list[str]:
    """What a student script left in the DOM (empty: none ran)."""
    parser = _Marks()
    parser.feed(dom)
    return parser.found


def without_csp(document: str) -> str:
    """The page with its Content-Security-Policy taken out: escaping must hold on its own."""
    assert CSP in document
    return re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", document, count=1)


def probed(document: str) -> str:
    """The page with a probe (allowed by a nonce, nothing else is) that writes into the DOM how
    many pictures loaded, how many failed, and which elements a student could script."""
    policy = f"{CSP}; script-src 'nonce-{PROBE_NONCE}'"
    document = document.replace(f'content="{CSP}"', f'content="{policy}"', 1)
    probe = (f'<script nonce="{PROBE_NONCE}">window.addEventListener("load", () => {{'
             "const imgs = [...document.images]; const out = document.createElement('pre');"
             "out.id = 'probe'; out.textContent = JSON.stringify({images: imgs.length,"
             " loaded: imgs.filter(i => i.naturalWidth > 0).length,"
             " scripts: document.scripts.length - 1,"
             " handlers: document.querySelectorAll('[onerror],[onload],[onclick]').length,"
             " links: [...document.links].map(a => a.href)});"
             "document.body.appendChild(out); });</script>")
    return document.replace("</body>", probe + "</body>", 1)


def probe(page: Path) -> dict:
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom_after_load(page), re.DOTALL)
    assert found, f"the probe on {page} wrote nothing"
    return json.loads(html.unescape(found.group(1)))
