"""Data for project 010-autoencoder-digits: digits.

`python data.py` fetches and prepares the data into data/ (gitignored); the notebook calls
`load()`. Running it twice downloads nothing the second time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hundred.download import main_guard

DATA = Path(__file__).resolve().parent / "data"
PREPARED = DATA / "digits.npz"


@dataclass
class Split:
    """Train and test arrays; images are float32 (N, channels, height, width) in [0, 1]."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    names: list[str]  # class names


def _fetch_and_read() -> dict[str, np.ndarray]:
    """scikit-learn ships this set: nothing to download."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    x = (bunch.images[:, None] * (255 / 16)).astype(np.uint8)  # (N, 1, 8, 8) like real images
    x_train, x_test, y_train, y_test = train_test_split(
        x, bunch.target, test_size=0.25, random_state=0, stratify=bunch.target
    )
    return {
        "x_train": x_train,
        "y_train": y_train,
        "x_test": x_test,
        "y_test": y_test,
        "names": np.array([str(n) for n in bunch.target_names]),
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

    def scale(x: np.ndarray) -> np.ndarray:
        return x.astype(np.float32) / 255.0

    x_train, x_test = scale(x_train), scale(x_test)
    return Split(x_train, y_train, x_test, y_test, [str(n) for n in arrays["names"]])


def main() -> None:
    path = prepare()
    split = load()
    print(f"{path}: {len(split.x_train)} train and {len(split.x_test)} test rows")


if __name__ == "__main__":
    main_guard(main)
