"""Self-contained, offline HTML pages that show student-written text safely.

Shared by the reading pages and the class summary: one page skeleton whose first element is a
strict Content-Security-Policy (no script, no network: pictures only as data: URIs), markdown
rendered by mistune with raw HTML escaped and only http/https/mailto links kept, and PNG
pictures embedded as data URIs. Everything a student wrote goes through `text` or `markdown`.
"""

from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path

import mistune
from mistune.renderers.html import HTMLRenderer

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
"""The page's Content-Security-Policy: a second wall behind escaping (no script can run, nothing
is fetched from the network; only inline styles and data: pictures)."""

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_DATA_PICTURE = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]+$")

BASE_CSS = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 1.5em auto; max-width: 62em;
       padding: 0 1em; color: #1d1d1d; background: #fff; }
h1 { font-size: 1.5em; margin-bottom: .2em; overflow-wrap: anywhere; }
h2 { font-size: 1.2em; margin-top: 1.6em;
     border-bottom: 1px solid #ccc; } h3 { font-size: 1.05em; }
table { border-collapse: collapse; margin: .6em 0; } th, td { border: 1px solid #bbb;
     padding: .25em .5em; vertical-align: top; text-align: left; }
th { background: #f1f1f1; } code, pre { font: 13px/1.35 ui-monospace, monospace; }
pre { background: #f6f6f6; padding: .5em; overflow-x: auto; white-space: pre-wrap; }
.answer { border-left: 4px solid #5b8def; padding: .1em 1em; margin: .8em 0; background: #fafcff; }
.empty { color: #a33; font-weight: bold; } .dropped { color: #a33; font-size: .9em; }
.muted { color: #666; } img.plot { max-width: 100%; border: 1px solid #ddd; margin: .4em 0; }
td.fill { min-width: 6em; background: #fffbe6; } mark { background: #ffe27a; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: .8em; }
"""


def escaped(value: object) -> str:
    """Any value as HTML text: every character that HTML treats specially is escaped."""
    return html.escape(str(value), quote=True)


class _SafeRenderer(HTMLRenderer):
    """mistune's HTML renderer with raw HTML escaped, links limited to http/https/mailto and
    pictures to embedded PNG/JPEG/GIF/WebP data (dropped ones are named in red)."""

    SAFE_PROTOCOLS = ("http:", "https:", "mailto:")
    GOOD_DATA_PROTOCOLS = ()

    def __init__(self) -> None:
        super().__init__(escape=True)

    def link(self, text_html: str, url: str, title: str | None = None) -> str:
        if self.sanitize_url(url) == "#harmful-link":
            return f'{text_html} <span class="dropped">[link removed: {escaped(url[:80])}]</span>'
        attrs = {"href": url, "title": title, "rel": "noopener noreferrer nofollow"}
        return "<a" + self.render_attrs(attrs) + ">" + text_html + "</a>"

    def image(self, text_html: str, url: str, title: str | None = None) -> str:
        if not _DATA_PICTURE.match(url.strip()):
            return f'<span class="dropped">[picture not shown: {escaped(url[:80])}]</span>'
        attrs = {"src": url.strip(), "alt": mistune.util.striptags(text_html), "title": title}
        return '<img class="plot"' + self.render_attrs(attrs) + " />"


_MARKDOWN = mistune.create_markdown(renderer=_SafeRenderer(),
                                    plugins=["table", "strikethrough"])


def safe_markdown(source: str) -> str:
    """Student markdown as safe HTML (raw HTML shown as text, unsafe links and pictures
    dropped)."""
    return str(_MARKDOWN(str(source)))


_LOCAL_PAGE = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*\.(html|csv)$")


def local_link(label: str, href: str) -> str:
    """A link to another page of the batch (a relative .html or .csv path of plain names, as
    page_filename makes them); ValueError for anything else."""
    if not _LOCAL_PAGE.match(href):
        raise ValueError(f"{href!r} is not a relative page path (letters, digits, _ and - "
                         "folders and a .html/.csv name); name pages with page_filename")
    return f'<a href="{escaped(href)}">{escaped(label)}</a>'


def png_data_uri(png: bytes) -> str:
    """A data: URI for PNG bytes; ValueError for anything that is not a PNG."""
    if not isinstance(png, bytes | bytearray) or not bytes(png).startswith(PNG_SIGNATURE):
        raise ValueError("not a PNG picture (bytes must start with the PNG signature); "
                         "pass the decoded bytes of an image/png output")
    return "data:image/png;base64," + base64.b64encode(bytes(png)).decode("ascii")


def figure_png(figure, dpi: int = 80) -> bytes:
    """A matplotlib figure (best made with matplotlib.figure.Figure, no pyplot) as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


def html_document(title: str, body: str, css: str = BASE_CSS) -> str:
    """A whole HTML document: the CSP first in <head>, then the (escaped) title and `body`,
    which the caller built from escaped parts."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{escaped(title)}</title>\n<style>{css}</style>\n</head>\n<body>\n{body}\n"
        "</body>\n</html>\n"
    )


def write_page(path: str | Path, document: str) -> Path:
    """Write `document` as UTF-8 to `path` (folders created) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(document, encoding="utf-8")
    return path


__all__ = ["CSP", "escaped", "figure_png", "html_document", "local_link", "png_data_uri",
           "safe_markdown", "write_page"]
