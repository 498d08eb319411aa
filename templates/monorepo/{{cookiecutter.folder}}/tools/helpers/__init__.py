"""Helpers shared by this challenge's notebooks: ``from helpers import plot_curves``.

Installed with the repository (``pip install -e .``), so every project's notebook can import
them. Add what you find yourself copying from one project to the next.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def plot_curves(
    curves: Mapping[str, Sequence[float]], *, title: str = "", xlabel: str = "epoch",
    ylabel: str = "", ax: Any = None,
) -> Any:
    """Plot named curves (e.g. ``{"train": losses, "test": test_losses}``) on one Axes.

    Returns the Axes, so a notebook can add to it; draws on ``ax`` when given.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    for name, values in curves.items():
        ax.plot(range(1, len(values) + 1), list(values), label=name)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    if len(curves) > 1:
        ax.legend()
    return ax
