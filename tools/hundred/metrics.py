"""Metrics recorded inside notebooks, stored as display outputs of their own MIME type.

A metric travels inside the executed notebook itself, so whoever reads the notebook later
(``hundred run``, the blog) finds exactly what the code produced, with nothing on the side.
"""

from __future__ import annotations

import math
from typing import Any

METRIC_MIME = "application/vnd.hundred.metric+json"


def metric_payload(name: str, value: float, *, higher_is_better: bool = True) -> dict[str, Any]:
    """The JSON stored for one metric; raises ``ValueError`` for a bad name or value."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError("metric name must be a non-empty string, e.g. record('accuracy', 0.93)")
    if isinstance(value, bool):
        raise ValueError(f"metric {name!r} must be a number, not a bool")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"metric {name!r} is {number}: record a finite number")
    return {"name": name.strip(), "value": number, "higher_is_better": bool(higher_is_better)}


def describe(payload: dict[str, Any]) -> str:
    """The readable line shown to the person running the notebook."""
    direction = "higher" if payload["higher_is_better"] else "lower"
    return f"📈 {payload['name']} = {payload['value']:.4g} ({direction} is better)"


def record(name: str, value: float, *, higher_is_better: bool = True) -> None:
    """Record a metric of this notebook's run.

    In a Jupyter kernel the metric becomes a display output carrying ``METRIC_MIME`` (kept in
    the executed notebook for ``hundred run`` to collect) plus a readable ``text/plain`` line.
    Outside a kernel the readable line is printed. Returns nothing, so that a call ending a
    cell adds no ``Out[]`` of its own.
    """
    payload = metric_payload(name, value, higher_is_better=higher_is_better)
    try:
        from IPython.core.getipython import get_ipython
        from IPython.display import display
    except ImportError:  # plain Python without IPython installed
        print(describe(payload))
        return
    if get_ipython() is None:
        print(describe(payload))
    else:
        display({METRIC_MIME: payload, "text/plain": describe(payload)}, raw=True)


def metrics_in(notebook: Any) -> dict[str, dict[str, Any]]:
    """Every metric recorded in an executed notebook (an nbformat node), by name; last wins."""
    found: dict[str, dict[str, Any]] = {}
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            payload = output.get("data", {}).get(METRIC_MIME)
            if isinstance(payload, dict) and "name" in payload and "value" in payload:
                found[str(payload["name"])] = dict(payload)
    return found
