"""Project 012's predict.py, run as a user would: without a model, then with the model that a
smoke run of the project's own notebook saves, on a copy of the project."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hundred.cli import main

REPO = Path(__file__).resolve().parents[1]
PROJECT = REPO / "projects" / "012-capstone-digits-classifier"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project in a fresh monorepo, without its data/ (so without a model)."""
    root = tmp_path / "mono"
    copy = root / "projects" / PROJECT.name
    shutil.copytree(PROJECT, copy, ignore=shutil.ignore_patterns("data", "runs", "__pycache__"))
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return copy


def predict(project: Path, *arguments: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "predict.py", *arguments], cwd=project, input=stdin,
        capture_output=True, text=True, timeout=120, check=False,
    )


def raw_digits(count: int) -> tuple[str, list[int]]:
    """The first ``count`` digits of scikit-learn's set as predict.py's input, and their labels."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    lines = [",".join(str(int(value)) for value in row) for row in digits.data[:count]]
    return "\n".join(lines) + "\n", [int(label) for label in digits.target[:count]]


def test_without_a_model_it_says_to_run_the_notebook(project: Path) -> None:
    done = predict(project, "--index", "0")

    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1
    assert "hundred run 012 --profile full" in lines[0]


def test_the_smoke_runs_model_predicts_digits(project: Path) -> None:
    assert main(["-C", str(project.parents[1]), "run", "012"]) == 0
    assert (project / "data" / "model.joblib").is_file()

    by_index = predict(project, "--index", *map(str, range(20)))
    assert by_index.returncode == 0, by_index.stderr
    assert "smoke run" in by_index.stderr  # the user is told this is not the real model
    lines = by_index.stdout.splitlines()
    assert len(lines) == 20
    pairs = []
    for index, line in enumerate(lines):
        match = re.fullmatch(r"test digit (\d+): predicted (\d), true (\d)", line)
        assert match is not None, line
        assert int(match[1]) == index
        pairs.append((int(match[2]), int(match[3])))
    assert sum(predicted == true for predicted, true in pairs) >= 16  # smoke model: 256 digits

    text, labels = raw_digits(20)
    from_stdin = predict(project, stdin=text)
    assert from_stdin.returncode == 0, from_stdin.stderr
    predictions = [int(line) for line in from_stdin.stdout.split()]
    assert len(predictions) == 20
    assert sum(p == label for p, label in zip(predictions, labels, strict=True)) >= 16

    bad = predict(project, stdin="1,2,3\n")
    assert bad.returncode == 2
    assert bad.stderr.splitlines()[-1] == (
        "predict.py: line 1: expected 64 comma-separated values, got 3")
    assert predict(project, "--index", "100000").returncode == 2
