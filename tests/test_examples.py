"""The curriculum shipped in projects/: real studies, executed, frozen and current."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from hundred import catalog
from hundred.cache import cache_key_for
from hundred.challenge import load_roadmap
from hundred.cli import main
from hundred.config import load_settings, parameters_for
from hundred.results import read_result
from tests.conftest import REPO

EXAMPLES = catalog.load(REPO)
SECTIONS = ("Problem", "Data", "Approach", "Results", "What I learned", "Next")


def test_a_dozen_examples_follow_the_roadmap() -> None:
    assert len(EXAMPLES) >= 12
    stages = [stage.name for stage in load_roadmap(REPO)]
    order = [stages.index(p.writeup.stage or "") for p in EXAMPLES]  # every stage is known
    assert len(set(order)) >= 7  # the curriculum spans the roadmap
    assert len({p.writeup.kind for p in EXAMPLES}) == 3
    dates = [p.writeup.date for p in EXAMPLES]
    assert dates == sorted(dates)  # numbered in the order they were done


@pytest.mark.parametrize("project", EXAMPLES, ids=lambda p: p.name.folder)
def test_the_writeup_is_real_and_quotes_the_frozen_run(project: catalog.Project) -> None:
    writeup = project.writeup
    assert writeup.summary and 3 <= len(writeup.tags) <= 6 and writeup.stage
    body = catalog.split_front_matter(project.writeup_path.read_text(encoding="utf-8"))[1]
    words = len(re.findall(r"[A-Za-z0-9][\w'’.-]*", body))
    assert 300 <= words <= 800, words
    for section in SECTIONS:
        assert f"\n## {section}\n" in f"\n{body}", section
    frozen = read_result(project.path / "runs" / "full.json")
    assert frozen is not None and frozen.headline is not None
    _, metric = frozen.headline
    value = metric.value
    quoted = {f"{value:.2f}", f"{value:.3f}", f"{value:.4f}", f"{value:.3g}", f"{value:.4g}",
              f"{100 * value:.1f}%", f"{100 * value:.2f}%", f"{100 * value:.1f} %"}
    assert any(text in body for text in quoted), (value, sorted(quoted))
    assert "TODO" not in (project.path / "data.py").read_text(encoding="utf-8")


@pytest.mark.parametrize("project", EXAMPLES, ids=lambda p: p.name.folder)
def test_the_frozen_full_run_is_current_with_the_code(project: catalog.Project) -> None:
    frozen = read_result(project.path / "runs" / "full.json")
    assert frozen is not None and frozen.passed and frozen.profile == "full"
    parameters = parameters_for(load_settings(REPO), "full", project.writeup.profiles)
    assert frozen.cache_key == cache_key_for(project, parameters).digest, (
        f"{project.name.folder}: the code changed since the frozen full run; run "
        f"'hundred run {project.number:03d} --profile full' and commit runs/")
    executed = nbformat.read(project.path / "runs" / "full.ipynb", as_version=4)
    figures = [o for c in executed.cells for o in c.get("outputs", [])
               if "image/png" in o.get("data", {})]
    assert len(figures) >= 2
    assert frozen.notebook == f"projects/{project.name.folder}/runs/full.ipynb"


def test_the_source_notebooks_hold_no_outputs() -> None:
    for project in EXAMPLES:
        notebook = nbformat.read(project.notebook, as_version=4)
        nbformat.validate(notebook)
        assert all(not c.get("outputs") for c in notebook.cells if c.cell_type == "code")


def test_every_example_smoke_runs_offline_from_a_fresh_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "mono"
    shutil.copytree(REPO / "projects", root / "projects",
                    ignore=shutil.ignore_patterns("data", "runs", "__pycache__"))
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    assert main(["-C", str(root), "run", "--jobs", "2"]) == 0, capsys.readouterr().out
    records = [json.loads(path.read_text())
               for path in sorted((root / ".hundred" / "runs").glob("*/smoke.json"))]
    assert len(records) == len(EXAMPLES)
    assert all(r["status"] == "passed" and r["metrics"] for r in records)
