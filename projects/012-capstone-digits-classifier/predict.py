"""Predict handwritten digits with the capstone's saved model.

    python predict.py --index 0 1 2    # digits of the held-out test split, by position
    python predict.py < digits.csv     # one digit per line: 64 comma-separated pixels, 0-16

Pixels are read row by row on the 0-16 scale of scikit-learn's ``load_digits().data``. With
``--index`` each line names the test digit, the prediction and the true label; from standard
input each line is just the predicted digit. The model is data/model.joblib, which the
notebook saves (``hundred run 012 --profile full``). Exits 1 when there is no model, 2 on
bad input.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import joblib
import numpy as np

import data

MODEL = Path(__file__).resolve().parent / "data" / "model.joblib"
PIXELS = 64


class BadInput(ValueError):
    """Input that cannot be turned into digits: reported in one line, exit status 2."""


def parse_pixels(lines: Iterable[str]) -> np.ndarray:
    """Non-blank lines of 64 comma-separated values in [0, 16] -> an (N, 64) float array."""
    rows: list[list[float]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            values = [float(value) for value in line.split(",")]
        except ValueError:
            raise BadInput(f"line {number}: pixel values must be numbers") from None
        if len(values) != PIXELS:
            raise BadInput(f"line {number}: expected {PIXELS} comma-separated values, "
                           f"got {len(values)}")
        if not all(0 <= value <= 16 for value in values):
            raise BadInput(f"line {number}: pixel values must be from 0 to 16")
        rows.append(values)
    if not rows:
        raise BadInput("no digits on standard input: give 64 comma-separated values per line")
    return np.array(rows)


def load_model(path: Path) -> dict[str, Any] | None:
    """The bundle the notebook saved (model, profile, scores), or None when there is none."""
    if not path.is_file():
        return None
    bundle: dict[str, Any] = joblib.load(path)
    return bundle


def predict_indices(model: Any, indices: Sequence[int]) -> list[str]:
    """One line per test digit: its index, the prediction and the true label."""
    split = data.load()
    count = len(split.x_test)
    wrong = [index for index in indices if not 0 <= index < count]
    if wrong:
        raise BadInput(f"--index {wrong[0]} is out of range: the test split has digits "
                       f"0 to {count - 1}")
    features = split.x_test[list(indices)].reshape(len(indices), -1)
    return [f"test digit {index}: predicted {predicted}, true {split.y_test[index]}"
            for index, predicted in zip(indices, model.predict(features), strict=True)]


def predict_pixels(model: Any, lines: Iterable[str]) -> list[str]:
    """One predicted digit per line of pixels."""
    features = data.from_raw(parse_pixels(lines))
    return [str(predicted) for predicted in model.predict(features)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=int, nargs="+", metavar="N",
                        help="positions of digits in the held-out test split")
    args = parser.parse_args(argv)
    bundle = load_model(MODEL)
    if bundle is None:
        print(f"no model at {MODEL}: run the notebook first (hundred run 012 --profile full)",
              file=sys.stderr)
        return 1
    if bundle.get("profile") != "full":
        print(f"note: this model comes from a {bundle.get('profile')} run on "
              f"{bundle.get('train_size')} digits; hundred run 012 --profile full trains the "
              "real one", file=sys.stderr)
    try:
        if args.index:
            lines = predict_indices(bundle["model"], args.index)
        elif sys.stdin.isatty():
            raise BadInput("give --index N ... or pipe 64 comma-separated pixels per line into "
                           "standard input")
        else:
            lines = predict_pixels(bundle["model"], sys.stdin)
    except BadInput as error:
        print(f"predict.py: {error}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
