"""A generated monorepo's README Quickstart, run verbatim in a fresh virtual environment.

It installs from the package registry (minutes), so it runs in CI only (.ci/run sets CI).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hundred.monorepo import init_monorepo
from tests.conftest import REPO

pytestmark = pytest.mark.skipif(
    not os.environ.get("CI"),
    reason="installs a fresh virtual environment from the registry (minutes); CI=1 runs it")

ANSWERS = {"title": "My ML year", "author": "Ada Lovelace", "github_owner": "ada",
           "github_repo": "ml-year", "target": "30", "start": "2026-09-01",
           "end": "2027-08-31", "roadmap": "classic-ml", "license": "MIT"}
TIMEOUT_S = 1200


def quickstart_commands(readme: Path) -> list[str]:
    """The ```bash blocks of README's Quickstart section, as tests/test_readme.py reads ours."""
    section = readme.read_text(encoding="utf-8").split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section, flags=re.S)


def _fresh_venv(where: Path) -> dict[str, str]:
    """A new virtual environment, without this one's packages; the environment to run it in."""
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True, timeout=TIMEOUT_S)
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PATH"] = f"{where / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(where)
    return env


def _run(command: str, cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=TIMEOUT_S, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{command!r} exited {done.returncode}:\n{output}"
    return output


def test_the_readme_quickstart_works_in_a_fresh_venv(tmp_path: Path) -> None:
    # A local folder: hundred_requirement makes it `hundred @ file:///...` (it mis-reads a
    # spec given in that form as a bare URL and refuses it).
    root = init_monorepo(tmp_path / "ml-year", ANSWERS, hundred_spec=str(REPO))
    assert f"hundred @ {REPO.as_uri()}" in (root / "pyproject.toml").read_text()
    env = _fresh_venv(tmp_path / "venv")
    build, test = quickstart_commands(root / "README.md")

    _run(build, root, env)
    assert (root / "site" / "index.html").is_file()
    output = _run(test, root, env)
    assert re.search(r"\b\d+ passed\b", output), output
