"""Data for project 001-linear-regression-scratch: scikit-learn's diabetes set.

442 patients, 10 baseline measurements (age, sex, body-mass index, blood pressure and six blood
serum measurements) and a target: a quantitative measure of disease progression one year later.
The features are kept in their original units (``load_diabetes(scaled=False)``): standardising
them is part of the study. scikit-learn ships the set, so nothing is downloaded.

`python data.py` prepares a fixed 75/25 train/test split into data/ (gitignored); the notebook
calls `load()`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hundred.download import main_guard

DATA = Path(__file__).resolve().parent / "data"
PREPARED = DATA / "diabetes.npz"


@dataclass
class Split:
    """Train and test arrays."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    names: list[str]  # class names (empty: this is regression)
    features: list[str]  # column names of x


def _fetch_and_read() -> dict[str, np.ndarray]:
    """scikit-learn ships this set: nothing to download."""
    from sklearn.datasets import load_diabetes
    from sklearn.model_selection import train_test_split

    bunch = load_diabetes(scaled=False)  # original units: we standardise them ourselves
    x = bunch.data.astype(np.float64)
    y = bunch.target.astype(np.float64)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=0)
    return {
        "x_train": x_train,
        "y_train": y_train,
        "x_test": x_test,
        "y_test": y_test,
        "names": np.array([], dtype=str),
        "features": np.array([str(n) for n in bunch.feature_names]),
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
