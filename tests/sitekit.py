"""A monorepo with projects in every state, for the site tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from hundred.cli import main
from tests.conftest import REPO
from tests.runkit import make_project

FIGURE = (
    "import matplotlib.pyplot as plt\n"
    "fig, ax = plt.subplots(figsize=(2, 2))\nax.plot([1, 2, 3])\nax.set_title('curve')\n"
    "plt.show()"
)
RECORD = "import hundred\nhundred.record('accuracy', 0.25 if profile == 'smoke' else 0.875)"
WRITEUP_BODY = """
## Problem

The loss is $L = \\frac{1}{n}\\sum_i (y_i - \\hat y_i)^2$.

![our diagram](diagram.png)

See also [the other study](../002-smoke-only/writeup.md).
"""


def mkdocs(root: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run([sys.executable, "-m", "mkdocs", *arguments], cwd=root, env=env,
                          capture_output=True, text=True, check=False)


def site_files(root: Path) -> Path:
    """An empty monorepo with the repository's site: mkdocs.yml, docs/ and pyproject.toml."""
    (root / "projects").mkdir(parents=True)
    shutil.copy(REPO / "mkdocs.yml", root / "mkdocs.yml")
    shutil.copytree(REPO / "docs", root / "docs")
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


def site_monorepo(root: Path) -> Path:
    """projects: 001 full+smoke, 002 smoke only, 003 failing, 004 never run, 005 draft."""
    site_files(root)
    full = make_project(root, "001-full-run", [FIGURE, RECORD], extra="summary: Both runs.\n")
    (full / "diagram.png").write_bytes(_png())
    text = (full / "writeup.md").read_text()
    (full / "writeup.md").write_text(text + WRITEUP_BODY)
    make_project(root, "002-smoke-only", [FIGURE, RECORD])
    make_project(root, "003-failing", ["raise RuntimeError('data went missing')"])
    make_project(root, "004-never-run", ["x = 1"])
    make_project(root, "005-secret-draft", [RECORD], extra="draft: true\n")
    cwd = Path.cwd()
    os.chdir(root)
    try:
        main(["run", "001", "002", "003", "005", "--jobs", "2"])
        main(["run", "001", "--profile", "full"])
    finally:
        os.chdir(cwd)
    return root


def _png() -> bytes:
    import base64

    return base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5E"
        "rkJggg==")
