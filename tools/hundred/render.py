"""An executed notebook as Markdown for the blog, its figures as separate files.

nbconvert's MarkdownExporter does this too, but importing it and running its templates costs
more than building the whole site (see docs/benchmarks.md), and the outputs an ML notebook
makes are few: code, streams, HTML tables, images, errors and hundred's own metrics.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass, field
from typing import Any

from hundred.metrics import METRIC_MIME

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_HEADING = re.compile(r"^(#{1,5})(\s)", re.MULTILINE)
_ADDED_BY_PAPERMILL = "papermill-error-cell-tag"
IMAGE_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/svg+xml": "svg"}


@dataclass
class RenderedNotebook:
    """The Markdown of a notebook and the files it refers to, by file name."""

    markdown: str
    assets: dict[str, bytes] = field(default_factory=dict)


def fence(text: str, language: str = "") -> str:
    """A fenced code block that no backtick run inside ``text`` can close early."""
    longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=2)
    ticks = "`" * (longest + 1)
    return f"{ticks}{language}\n{text.rstrip()}\n{ticks}"


def plain(text: str | list[str]) -> str:
    joined = "".join(text) if isinstance(text, list) else text
    return _ANSI.sub("", joined)


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
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.assets: dict[str, bytes] = {}

    def asset(self, name: str, data: bytes) -> str:
        self.assets[name] = data
        return f"{self.prefix}{name}"

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
            parts.append("*Parameters injected by `hundred run`:*")
        if source.strip():
            parts.append(fence(source, "python"))
        streams: list[str] = []
        for index, output in enumerate(cell.get("outputs", []), start=1):
            if output.get("output_type") == "stream":
                streams.append(plain(output.get("text", "")))
                continue
            if streams:
                parts.append(fence("".join(streams), "text"))
                streams = []
            parts.append(self.output(number, index, output))
        if streams:
            parts.append(fence("".join(streams), "text"))
        return "\n\n".join(part for part in parts if part)

    def markdown_cell(self, number: int, cell: dict[str, Any], source: str) -> str:
        for name, bundle in cell.get("attachments", {}).items():
            for mime, extension in IMAGE_TYPES.items():
                if mime in bundle:
                    data = _decode(bundle[mime], mime)
                    stem = _safe(name.rsplit(".", 1)[0])
                    target = self.asset(f"cell{number}-{stem}.{extension}", data)
                    source = source.replace(f"attachment:{name}", target)
        return _demote_headings(source)

    def output(self, number: int, index: int, output: dict[str, Any]) -> str:
        kind = output.get("output_type")
        if kind == "error":
            trace = plain("\n".join(output.get("traceback", [])))
            text = trace or f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"
            return fence(text, "text")
        data = output.get("data", {})
        if METRIC_MIME in data:
            metric = data[METRIC_MIME]
            direction = "higher" if metric.get("higher_is_better", True) else "lower"
            return (f"**Recorded metric:** {html.escape(str(metric['name']))} = "
                    f"{float(metric['value']):.4g} ({direction} is better)")
        for mime, extension in IMAGE_TYPES.items():
            if mime in data:
                name = self.asset(f"figure-{number}-{index}.{extension}", _decode(data[mime], mime))
                alt = f"Figure from cell {number}"
                return f"![{alt}]({name})"
        if "text/html" in data:
            return f'<div class="hundred-html" markdown="0">\n{plain(data["text/html"])}\n</div>'
        if "text/markdown" in data:
            return plain(data["text/markdown"])
        if "text/latex" in data:
            return plain(data["text/latex"])
        if "text/plain" in data:
            return fence(plain(data["text/plain"]), "text")
        return ""


def _decode(payload: str | list[str], mime: str) -> bytes:
    text = "".join(payload) if isinstance(payload, list) else payload
    if mime == "image/svg+xml":
        return text.encode("utf-8")
    return base64.b64decode(text)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "image"


def render_notebook(notebook: dict[str, Any], *, asset_prefix: str = "") -> RenderedNotebook:
    """Markdown for every cell of an executed notebook; figures become files in ``assets``.

    A leading title cell (``# ...``) is dropped: the post has its own title. Headings move one
    level down. Image links are ``asset_prefix + file name``.
    """
    renderer = _Renderer(asset_prefix)
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
            blocks.append(block)
    return RenderedNotebook("\n\n".join(blocks) + "\n", renderer.assets)
