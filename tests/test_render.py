"""Executed notebooks as Markdown for the blog: every output kind, figures as files."""

from __future__ import annotations

import base64

import markdown
import nbformat

from hundred.metrics import METRIC_MIME, metric_payload
from hundred.render import ASSET_PREFIX, highlight, render_notebook

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def executed() -> nbformat.NotebookNode:
    code = nbformat.v4.new_code_cell("print('hi')\nplot()", execution_count=1, outputs=[
        nbformat.v4.new_output("stream", name="stdout", text="hi\n"),
        nbformat.v4.new_output("stream", name="stdout", text="\x1b[31mred\x1b[0m\n"),
        nbformat.v4.new_output("display_data", data={
            "image/png": base64.b64encode(PNG).decode(), "text/plain": "<Figure>"}),
        nbformat.v4.new_output("execute_result", execution_count=1, data={
            "text/html": "<table><tr><td>1</td></tr></table>", "text/plain": "df"}),
        nbformat.v4.new_output("display_data", data={
            METRIC_MIME: metric_payload("rmse", 2.5, higher_is_better=False),
            "text/plain": "rmse"}),
        nbformat.v4.new_output("error", ename="ValueError", evalue="bad",
                               traceback=["\x1b[0;31mValueError\x1b[0m: bad"]),
    ])
    injected = nbformat.v4.new_code_cell('profile = "smoke"')
    injected.metadata["tags"] = ["injected-parameters"]
    banner = nbformat.v4.new_markdown_cell("<span>An Exception was encountered</span>")
    banner.metadata["tags"] = ["papermill-error-cell-tag"]
    notebook: nbformat.NotebookNode = nbformat.v4.new_notebook(cells=[
        banner,
        nbformat.v4.new_markdown_cell("# 001 · Title\n\nIntro"),
        nbformat.v4.new_markdown_cell("## Data\n\n```\n# not a heading\n```"),
        injected,
        code,
    ])
    return notebook


def convert(text: str) -> str:
    return str(markdown.markdown(text, extensions=["fenced_code"]))


def test_every_output_kind_is_rendered() -> None:
    rendered = render_notebook(executed(), markdown=convert)
    text = rendered.html
    assert "Title" not in text and "An Exception" not in text  # title and banner dropped
    assert "<h3>Data</h3>" in text and "# not a heading" in text  # demoted, code untouched
    assert "<em>Parameters injected by <code>hundred run</code>:</em>" in text
    assert text.count('<div class="hundred-cell">') == 3
    assert '<div class="language-python highlight"><pre><span></span><code>' in text
    assert '<span class="nb">print</span>' in text  # highlighted by pygments
    assert "<code>hi\nred</code>" in text  # streams merged, ANSI stripped
    assert rendered.assets == {"figure-5-3.png": PNG}
    assert f'<img src="{ASSET_PREFIX}figure-5-3.png" alt="Figure from cell 5"' in text
    assert '<div class="hundred-html"><table><tr><td>1</td></tr></table></div>' in text
    assert "<strong>Recorded metric:</strong> rmse = 2.5 (lower is better)" in text
    assert "ValueError: bad" in text and "\x1b" not in text


def test_attachments_become_assets() -> None:
    cell = nbformat.v4.new_markdown_cell("![diagram](attachment:my diagram.png)")
    cell["attachments"] = {"my diagram.png": {"image/png": base64.b64encode(PNG).decode()}}
    rendered = render_notebook(nbformat.v4.new_notebook(cells=[cell]), markdown=convert)
    assert rendered.assets == {"cell1-my-diagram.png": PNG}
    assert f'src="{ASSET_PREFIX}cell1-my-diagram.png"' in rendered.html


def test_code_is_escaped() -> None:
    assert "&lt;b&gt;" in highlight("x = '<b>'") and "<b>" not in highlight("x = '<b>'")
