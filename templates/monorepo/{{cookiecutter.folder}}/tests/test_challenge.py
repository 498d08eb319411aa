"""The challenge's own checks: run them with `pytest` before you push."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hundred import catalog
from hundred.cli import main

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(ROOT.glob("projects/*/notebook.ipynb"))


def test_every_writeup_is_valid() -> None:
    invalid = catalog.scan(ROOT).invalid
    assert invalid == [], "\n".join(broken.message for broken in invalid)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[path.parent.name for path in NOTEBOOKS])
def test_source_notebooks_carry_no_outputs(notebook: Path) -> None:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    executed = [number for number, cell in enumerate(cells, 1) if cell["cell_type"] == "code"
                and (cell.get("outputs") or cell.get("execution_count") is not None)]
    assert executed == [], (f"{notebook.relative_to(ROOT)}: cells {executed} carry outputs; "
                            "clear them (pre-commit install strips them on commit)")


def test_readme_progress_section_is_current() -> None:
    assert main(["-C", str(ROOT), "readme", "--check"]) == 0, "run 'hundred readme' and commit"
