"""hundred.record: the metric payload, its MIME output, and collecting it back."""

from __future__ import annotations

import math

import nbformat
import pytest

import hundred
from hundred.metrics import METRIC_MIME, describe, metric_payload, metrics_in


def test_payload_and_readable_line() -> None:
    payload = metric_payload("rmse", 3, higher_is_better=False)
    assert payload == {"name": "rmse", "value": 3.0, "higher_is_better": False}
    assert describe(payload) == "📈 rmse = 3 (lower is better)"


@pytest.mark.parametrize("value", [math.nan, math.inf, True])
def test_bad_values_are_refused(value: float) -> None:
    with pytest.raises(ValueError, match="accuracy"):
        metric_payload("accuracy", value)


def test_record_outside_a_kernel_prints_the_line(capsys: pytest.CaptureFixture[str]) -> None:
    hundred.record("accuracy", 0.5)
    assert capsys.readouterr().out == "📈 accuracy = 0.5 (higher is better)\n"


def test_metrics_are_collected_from_outputs_last_one_wins() -> None:
    def display(name: str, value: float) -> nbformat.NotebookNode:
        data = {METRIC_MIME: metric_payload(name, value), "text/plain": name}
        output: nbformat.NotebookNode = nbformat.v4.new_output("display_data", data=data)
        return output

    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("", outputs=[display("accuracy", 0.1)]),
        nbformat.v4.new_markdown_cell("text"),
        nbformat.v4.new_code_cell("", outputs=[display("accuracy", 0.9), display("f1", 0.8)]),
    ])
    found = metrics_in(notebook)
    assert {name: m["value"] for name, m in found.items()} == {"accuracy": 0.9, "f1": 0.8}
