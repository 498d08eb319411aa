"""Data for project 002-logistic-regression-boundaries: two synthetic 2-D data sets.

*moons* (two interleaving half circles) and *circles* (a small circle inside a large one), made
with scikit-learn's ``make_moons`` and ``make_circles`` and a fixed seed, so every run sees
exactly the same points. Neither class boundary is a straight line: that is the point.

`python data.py` generates both sets and a fixed, stratified 75/25 train/test split into data/
(gitignored); the notebook calls `load("moons")` or `load("circles")`. Nothing is downloaded.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hundred.download import main_guard

DATA = Path(__file__).resolve().parent / "data"
PREPARED = DATA / "moons-circles.npz"
DATASETS = ("moons", "circles")
SAMPLES = 1000  # points per data set
SEED = 42  # the data's own seed: fixed, whatever seed the notebook trains with


@dataclass
class Split:
    """Train and test arrays: x is (N, 2) float, y is 0 or 1."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    names: list[str]  # class names


def _generate() -> dict[str, np.ndarray]:
    """Both data sets, split into train and test, as flat arrays named ``<set>_<part>``."""
    from sklearn.datasets import make_circles, make_moons
    from sklearn.model_selection import train_test_split

    made = {
        "moons": make_moons(n_samples=SAMPLES, noise=0.25, random_state=SEED),
        "circles": make_circles(n_samples=SAMPLES, noise=0.1, factor=0.5, random_state=SEED),
    }
    arrays: dict[str, np.ndarray] = {}
    for name, (x, y) in made.items():
        x_train, x_test, y_train, y_test = train_test_split(
            x, y, test_size=0.25, random_state=SEED, stratify=y
        )
        arrays[f"{name}_x_train"] = x_train
        arrays[f"{name}_y_train"] = y_train
        arrays[f"{name}_x_test"] = x_test
        arrays[f"{name}_y_test"] = y_test
    return arrays


def prepare() -> Path:
    """Generate the data into data/ unless it is already there; return the file."""
    if PREPARED.exists():
        return PREPARED
    arrays = _generate()
    DATA.mkdir(exist_ok=True)
    partial = PREPARED.with_suffix(".partial")
    with partial.open("wb") as handle:
        np.savez_compressed(handle, **arrays)
    os.replace(partial, PREPARED)  # atomic: never a half-written file under the real name
    return PREPARED


def load(name: str = "moons", limit: int | None = None, seed: int = 0) -> Split:
    """One data set (``"moons"`` or ``"circles"``); ``limit`` keeps a random subset of at most
    that many rows per split."""
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}")
    with np.load(prepare()) as stored:
        arrays = {key: stored[key] for key in stored.files}
    rng = np.random.default_rng(seed)

    def subset(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if limit is None or len(x) <= limit:
            return x, y
        keep = rng.choice(len(x), size=limit, replace=False)
        return x[keep], y[keep]

    x_train, y_train = subset(arrays[f"{name}_x_train"], arrays[f"{name}_y_train"])
    x_test, y_test = subset(arrays[f"{name}_x_test"], arrays[f"{name}_y_test"])
    names = ["upper moon", "lower moon"] if name == "moons" else ["outer circle", "inner circle"]
    return Split(x_train, y_train, x_test, y_test, names)


def main() -> None:
    path = prepare()
    for name in DATASETS:
        split = load(name)
        print(f"{path} [{name}]: {len(split.x_train)} train and {len(split.x_test)} test rows")


if __name__ == "__main__":
    main_guard(main)
