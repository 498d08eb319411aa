"""Golden files for what a reader eyeballs, and a fresh clone that agrees with README.

A fresh clone has no ``.hundred/`` (no run of this machine): a copy of the repository's
projects, docs and README stands for one. The golden files are rendered from it with a fixed
date. After a deliberate change, regenerate them with ``HUNDRED_UPDATE_GOLDEN=1 pytest
tests/test_golden.py`` and read the diff before committing it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from pathlib import Path

import pytest

from hundred import catalog
from hundred.cli import main
from hundred.dashboard import README_END, README_START, build_dashboard, readme_section
from hundred.site import Links, build_post
from hundred.status import status_document
from tests.conftest import REPO

GOLDEN = Path(__file__).parent / "golden"
TODAY = dt.date(2026, 11, 23)


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository as a fresh clone has it: committed files only, nothing run here."""
    root = tmp_path_factory.mktemp("clone") / "repo"
    shutil.copytree(REPO / "projects", root / "projects",
                    ignore=shutil.ignore_patterns("data", "__pycache__", ".ipynb_checkpoints"))
    shutil.copytree(REPO / "docs", root / "docs")
    for name in ("README.md", "pyproject.toml", "mkdocs.yml"):
        shutil.copy(REPO / name, root / name)
    return root


def _matches_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("HUNDRED_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text, (
        f"{name} changed; if on purpose, regenerate with HUNDRED_UPDATE_GOLDEN=1")


def test_a_post_renders_as_its_golden_markdown(clone: Path) -> None:
    project = catalog.load(clone)[0]
    post = build_post(clone, project, links=Links("https://github.com/example/hundred"))
    _matches_golden("post-001.md", post.markdown)


def test_the_readme_progress_section_renders_as_golden(clone: Path) -> None:
    _matches_golden("readme-progress.md", readme_section(build_dashboard(clone, today=TODAY)))


def test_status_json_renders_as_golden(clone: Path) -> None:
    document = status_document(clone, build_dashboard(clone, today=TODAY))
    _matches_golden("status.json", json.dumps(document, indent=2) + "\n")


def test_a_fresh_clone_agrees_with_the_readme(
    clone: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    section = (clone / "README.md").read_text(encoding="utf-8")
    section = section.split(README_START, 1)[1].split(README_END, 1)[0]
    headline = re.search(r"\*\*(\d+) of (\d+)\*\*", section)
    assert headline is not None
    done, target = int(headline[1]), int(headline[2])
    table = {match[1]: match[2] for match in re.finditer(
        r"^\| (\d{3}) \| .*? \| .*? \| ([a-z ]+) \| .*\|$", section, flags=re.MULTILINE)}
    assert main(["-C", str(clone), "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert (status["done"], status["target"]) == (done, target)
    verdicts = {f"{row['number']:03d}": row["verified"].replace("-", " ")
                for row in status["projects"]}
    assert verdicts == table
    assert main(["-C", str(clone), "readme", "--check"]) == 0
