"""An executed notebook as HTML for the blog, its figures as separate files.

The notebook is rendered once per build, straight to HTML, and placed into the post after
Markdown has run. Material's blog converts a post's whole Markdown again for every index,
archive and category page that shows its excerpt; a notebook in the Markdown made the site
build 3.3x slower than the writeups alone (docs/benchmarks.md). nbconvert's exporters would
cost more than the whole build, and the outputs an ML notebook makes are few: code, streams,
HTML tables, images, errors and hundred's own metrics.

Image sources are written as ``ASSET_PREFIX + file name``; the caller replaces the prefix with
the URL of the post's folder.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from hundred.metrics import METRIC_MIME

ASSET_PREFIX = "hundred-asset:"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_HEADING = re.compile(r"^(#{1,5})(\s)", re.MULTILINE)
_ADDED_BY_PAPERMILL = "papermill-error-cell-tag"
IMAGE_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/svg+xml": "svg"}
Markdown = Callable[[str], str]


@dataclass
class RenderedNotebook:
    """The HTML of a notebook and the files it refers to, by file name."""

    html: str
    assets: dict[str, bytes] = field(default_factory=dict)


def plain(text: str | list[str]) -> str:
    joined = "".join(text) if isinstance(text, list) else text
    return _ANSI.sub("", joined)


@cache
def _formatter() -> Any:
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(nowrap=True)


@cache
def _python_lexer() -> Any:
    from pygments.lexers import PythonLexer

    return PythonLexer()


def highlight(code: str) -> str:
    """Python highlighted as pymdownx.highlight does it, so Material styles it the same."""
    from pygments import highlight as pygmentize

    spans = pygmentize(code, _python_lexer(), _formatter())
    return (f'<div class="language-python highlight"><pre><span></span><code>{spans}</code>'
            "</pre></div>")


def preformatted(text: str, kind: str = "output") -> str:
    return (f'<div class="language-text highlight hundred-{kind}"><pre><span></span>'
            f"<code>{html.escape(text.rstrip())}</code></pre></div>")


def _demote_headings(markdown: str) -> str:
    """Headings one level down: the notebook sits under the post's own headings."""
    out: list[str] = []
    in_code = False
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            in_code = not in_code
        out.append(line if in_code else _HEADING.sub(r"#\1\2", line))
    return "\n".join(out)


class _Renderer:
    def __init__(self, markdown: Markdown) -> None:
        self.markdown = markdown
        self.assets: dict[str, bytes] = {}

    def asset(self, name: str, data: bytes) -> str:
        self.assets[name] = data
        return f"{ASSET_PREFIX}{name}"

    def cell(self, number: int, cell: dict[str, Any]) -> str:
        source = plain(cell.get("source", ""))
        tags = cell.get("metadata", {}).get("tags", [])
        if _ADDED_BY_PAPERMILL in tags:
            return ""  # papermill's red banners: the post shows the failure in its own box
        if cell.get("cell_type") == "markdown":
            return self.markdown_cell(number, cell, source)
        if cell.get("cell_type") != "code":
            return ""
        parts = []
        if "injected-parameters" in tags:
            parts.append("<p><em>Parameters injected by <code>hundred run</code>:</em></p>")
        if source.strip():
            parts.append(highlight(source))
        streams: list[str] = []
        for index, output in enumerate(cell.get("outputs", []), start=1):
            if output.get("output_type") == "stream":
                streams.append(plain(output.get("text", "")))
                continue
            if streams:
                parts.append(preformatted("".join(streams)))
                streams = []
            parts.append(self.output(number, index, output))
        if streams:
            parts.append(preformatted("".join(streams)))
        return "\n".join(part for part in parts if part)

    def markdown_cell(self, number: int, cell: dict[str, Any], source: str) -> str:
        for name, bundle in cell.get("attachments", {}).items():
            for mime, extension in IMAGE_TYPES.items():
                if mime in bundle:
                    stem = _safe(name.rsplit(".", 1)[0])
                    target = self.asset(f"cell{number}-{stem}.{extension}",
                                        _decode(bundle[mime], mime))
                    source = source.replace(f"attachment:{name}", target)
        return self.markdown(_demote_headings(source))

    def output(self, number: int, index: int, output: dict[str, Any]) -> str:
        kind = output.get("output_type")
        if kind == "error":
            trace = plain("\n".join(output.get("traceback", [])))
            text = trace or f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"
            return preformatted(text, "error")
        data = output.get("data", {})
        if METRIC_MIME in data:
            metric = data[METRIC_MIME]
            direction = "higher" if metric.get("higher_is_better", True) else "lower"
            return (f'<p class="hundred-metric"><strong>Recorded metric:</strong> '
                    f"{html.escape(str(metric['name']))} = {float(metric['value']):.4g} "
                    f"({direction} is better)</p>")
        for mime, extension in IMAGE_TYPES.items():
            if mime in data:
                src = self.asset(f"figure-{number}-{index}.{extension}", _decode(data[mime], mime))
                return (f'<p class="hundred-figure"><img src="{src}" '
                        f'alt="Figure from cell {number}" loading="lazy"></p>')
        if "text/html" in data:
            return f'<div class="hundred-html">{plain(data["text/html"])}</div>'
        if "text/markdown" in data:
            return self.markdown(plain(data["text/markdown"]))
        if "text/latex" in data:
            return f'<div class="arithmatex">{html.escape(plain(data["text/latex"]))}</div>'
        if "text/plain" in data:
            return preformatted(plain(data["text/plain"]))
        return ""


def _decode(payload: str | list[str], mime: str) -> bytes:
    text = "".join(payload) if isinstance(payload, list) else payload
    if mime == "image/svg+xml":
        return text.encode("utf-8")
    return base64.b64decode(text)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "image"


def _escape_markdown(text: str) -> str:
    return f"<pre>{html.escape(text)}</pre>"


def render_notebook(notebook: dict[str, Any], *,
                    markdown: Markdown = _escape_markdown) -> RenderedNotebook:
    """HTML for every cell of an executed notebook; figures become files in ``assets``.

    ``markdown`` converts the markdown cells (the site passes its own Markdown configuration).
    A leading title cell (``# ...``) is dropped: the post has its own title. Headings move one
    level down.
    """
    renderer = _Renderer(markdown)
    cells = list(notebook.get("cells", []))
    own = [c for c in cells if _ADDED_BY_PAPERMILL not in c.get("metadata", {}).get("tags", [])]
    title = own[0] if own and own[0].get("cell_type") == "markdown" and plain(
        own[0].get("source", "")).startswith("# ") else None
    blocks = []
    for number, cell in enumerate(cells, start=1):
        if cell is title:
            continue
        block = renderer.cell(number, cell)
        if block.strip():
            blocks.append(f'<div class="hundred-cell">\n{block}\n</div>')
    return RenderedNotebook("\n".join(blocks) + "\n", renderer.assets)
