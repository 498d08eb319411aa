"""Shared fixtures: a temporary monorepo with the real template, and tree snapshots."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def build_file_tree(root: Path, files: Mapping[str, str | bytes]) -> Path:
    """Write ``{relative path: content}`` under ``root`` and return ``root``."""
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file and folder under ``root`` with its bytes (None for folders)."""
    return {
        str(path.relative_to(root)): None if path.is_dir() else path.read_bytes()
        for path in sorted(root.rglob("*"))
    }


@pytest.fixture(autouse=True)
def _tag_the_test(monkeypatch: pytest.MonkeyPatch) -> None:
    """Processes this test starts carry its tag, so it counts its own (tests.runkit)."""
    monkeypatch.setenv("HUNDRED_TEST_TAG", uuid.uuid4().hex)


@pytest.fixture
def monorepo(tmp_path: Path) -> Path:
    """A fresh monorepo: projects/ plus a copy of the real templates/ and pyproject.toml."""
    root = tmp_path / "mono"
    (root / "projects").mkdir(parents=True)
    shutil.copytree(REPO / "templates", root / "templates")
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root
