"""Executed notebooks as Markdown for the blog: every output kind, figures as files."""

from __future__ import annotations

import base64

import nbformat

from hundred.metrics import METRIC_MIME, metric_payload
from hundred.render import fence, render_notebook

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


def test_every_output_kind_is_rendered() -> None:
    rendered = render_notebook(executed())
    text = rendered.markdown
    assert "Title" not in text and "An Exception" not in text  # title and banner dropped
    assert "### Data" in text and "\n# not a heading\n" in text  # demoted, code untouched
    assert "*Parameters injected by `hundred run`:*" in text
    assert "```python\nprint('hi')\nplot()\n```" in text
    assert "```text\nhi\nred\n```" in text  # streams merged, ANSI stripped
    assert rendered.assets == {"figure-5-3.png": PNG}
    assert "![Figure from cell 5](figure-5-3.png)" in text
    assert '<div class="hundred-html" markdown="0">\n<table>' in text
    assert "**Recorded metric:** rmse = 2.5 (lower is better)" in text
    assert "ValueError: bad" in text and "\x1b" not in text


def test_asset_prefix_and_attachments() -> None:
    cell = nbformat.v4.new_markdown_cell("![diagram](attachment:my diagram.png)")
    cell["attachments"] = {"my diagram.png": {"image/png": base64.b64encode(PNG).decode()}}
    rendered = render_notebook(nbformat.v4.new_notebook(cells=[cell]), asset_prefix="img/")
    assert rendered.assets == {"cell1-my-diagram.png": PNG}
    assert "![diagram](img/cell1-my-diagram.png)" in rendered.markdown


def test_fence_outlasts_backticks_in_the_code() -> None:
    assert fence("a = '```'", "python") == "````python\na = '```'\n````"
    assert fence("x") == "```\nx\n```"
