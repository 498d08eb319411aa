"""What the benchmark scripts share: finding the tools, and monorepos of trivial notebooks."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CELL = "x = 1 + 1\nprint(x)"


def find_tool(name: str) -> str:
    """The console script ``name``, preferring the one installed beside this Python.

    A version manager's shim (pyenv's is a bash script) found first on PATH would add its own
    start-up time to every run; the script beside ``sys.executable`` is what the shim runs.
    """
    beside = shutil.which(name, path=str(Path(sys.executable).parent))
    found = beside or shutil.which(name)
    if found is None:
        raise SystemExit(f"error: {name!r} is not on PATH; install the repository with "
                         "'pip install -e \".[dev]\"' first")
    return found


def folder_for(number: int) -> str:
    return f"{number:03d}-notebook-{number}"


def build_monorepo(root: Path, notebooks: int) -> Path:
    """A monorepo at ``root`` with ``notebooks`` trivial projects, made as the tests make them."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from tests.runkit import make_project

    (root / "projects").mkdir(parents=True)
    for number in range(1, notebooks + 1):
        # The number makes every notebook different: jupyter-cache keys its cache by the code
        # cells alone, and identical notebooks would share one entry (and race to write it).
        make_project(root, folder_for(number), [f"number = {number}", CELL])
    return root
