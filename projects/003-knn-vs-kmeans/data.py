"""Data for project 003-knn-vs-kmeans: scikit-learn's iris set.

150 iris flowers of three species (setosa, versicolor, virginica), 50 of each, with four
measurements in centimetres: sepal length and width, petal length and width. scikit-learn ships
the set, so nothing is downloaded.

`python data.py` prepares a fixed, stratified 75/25 train/test split into data/ (gitignored);
the notebook calls `load()`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hundred.download import main_guard

DATA = Path(__file__).resolve().parent / "data"
PREPARED = DATA / "iris.npz"


@dataclass
class Split:
    """Train and test arrays."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    names: list[str]  # class names
    features: list[str]  # column names of x


def _fetch_and_read() -> dict[str, np.ndarray]:
    """scikit-learn ships this set: nothing to download."""
    from sklearn.datasets import load_iris
    from sklearn.model_selection import train_test_split

    bunch = load_iris()
    x = bunch.data.astype(np.float32)
    x_train, x_test, y_train, y_test = train_test_split(
        x, bunch.target, test_size=0.25, random_state=0, stratify=bunch.target
    )
    return {
        "x_train": x_train,
        "y_train": y_train,
        "x_test": x_test,
        "y_test": y_test,
        "names": np.array([str(n) for n in bunch.target_names]),
        "features": np.array([str(n).removesuffix(" (cm)") for n in bunch.feature_names]),
    }


def prepare() -> Path:
    """Fetch and prepare the data into data/ unless it is already there; return the file."""
    if PREPARED.exists():
        return PREPARED
    arrays = _fetch_and_read()
    DATA.mkdir(exist_ok=True)
    partial = PREPARED.with_suffix(".partial")
    with partial.open("wb") as handle:
        np.savez_compressed(handle, **arrays)
    os.replace(partial, PREPARED)  # atomic: never a half-written file under the real name
    return PREPARED


def load(limit: int | None = None, seed: int = 0) -> Split:
    """The prepared data; ``limit`` keeps a random subset of at most that many rows per split."""
    with np.load(prepare()) as stored:
        arrays = {key: stored[key] for key in stored.files}
    rng = np.random.default_rng(seed)

    def subset(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if limit is None or len(x) <= limit:
            return x, y
        keep = rng.choice(len(x), size=limit, replace=False)
        return x[keep], y[keep]

    x_train, y_train = subset(arrays["x_train"], arrays["y_train"])
    x_test, y_test = subset(arrays["x_test"], arrays["y_test"])
    return Split(
        x_train, y_train, x_test, y_test,
        names=[str(n) for n in arrays["names"]],
        features=[str(n) for n in arrays["features"]],
    )


def main() -> None:
    path = prepare()
    split = load()
    print(f"{path}: {len(split.x_train)} train and {len(split.x_test)} test rows")


if __name__ == "__main__":
    main_guard(main)
