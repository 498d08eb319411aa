"""The upgrade preview: `hundred doctor` runs projects with their packages' latest releases in a
throwaway monorepo, says which would break and why, and changes nothing real.

The made-up package comes from real wheels served on 127.0.0.1: version 2.0 removed the
function that version 1.0 had, as libraries do.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from hundred import catalog
from hundred.cli import main
from hundred.environments import ENVS
from hundred.upgrade import PREVIEW, upgrade_requirements
from tests.conftest import snapshot
from tests.envkit import ALPHA, make_wheel, served
from tests.runkit import make_project, record

OLD_CALL = "import hundred_probe_alpha as alpha\nprint(alpha.old_api())"
VERSION_ONLY = "import hundred_probe_alpha as alpha\nprint(alpha.__version__)"


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    wheels = tmp_path_factory.mktemp("wheels")
    make_wheel(wheels, ALPHA, "1.0", "def old_api():\n    return 1\n")
    make_wheel(wheels, ALPHA, "2.0", "def new_api():\n    return 2\n")
    with served(wheels) as url:
        yield url


@pytest.fixture(autouse=True)
def _packages_from(index: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UV_FIND_LINKS", index)


def _state(root: Path) -> dict[str, object]:
    """What a preview must leave alone: the projects, the records, the environments."""
    envs = sorted((root / ENVS).iterdir())
    return {
        "projects": snapshot(root / "projects"),
        "runs": snapshot(root / ".hundred" / "runs"),
        "envs": {env.name: subprocess.run([str(env / "bin" / "python"), "-m", "pip", "freeze",
                                           "--all"], capture_output=True, text=True,
                                          check=True).stdout for env in envs},
    }


def test_doctor_names_what_the_latest_releases_break_and_touches_nothing_real(
        monorepo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_project(monorepo, "001-old-api", [OLD_CALL], files={"requirements.txt": f"{ALPHA}==1.0\n"})
    make_project(monorepo, "002-version", [VERSION_ONLY],
                 files={"requirements.txt": f"{ALPHA}==1.0\n"})
    make_project(monorepo, "003-stdlib", ["import json\nprint(json.dumps([1]))"])
    assert main(["-C", str(monorepo), "run", "--jobs", "2"]) == 0
    before = _state(monorepo)
    capsys.readouterr()

    assert main(["-C", str(monorepo), "doctor", "--json", "--jobs", "2"]) == 1
    document = json.loads(capsys.readouterr().out)
    previews = {p["project"]: p for p in document["projects"]}
    broken = previews["001-old-api"]
    assert broken["verdict"] == "breaks"
    assert broken["changes"] == [{"name": ALPHA, "now": "1.0", "latest": "2.0"}]
    assert broken["diagnosis"]["cause"] == "removed-api"
    assert broken["diagnosis"]["library"] == ALPHA and broken["diagnosis"]["release"] == "2.0"
    assert previews["002-version"]["verdict"] == "still-passes"
    assert previews["002-version"]["changes"] == [{"name": ALPHA, "now": "1.0", "latest": "2.0"}]
    assert previews["003-stdlib"]["verdict"] == "nothing-to-upgrade"
    assert document["breaking"] == 1
    # The preview's runs are in the throwaway monorepo, with the new version.
    executed = monorepo / PREVIEW / ".hundred" / "runs" / "002-version" / "smoke.ipynb"
    outputs = [o for c in json.loads(executed.read_text())["cells"] for o in c.get("outputs", [])]
    assert any("2.0" in "".join(o.get("text", "")) for o in outputs)

    assert _state(monorepo) == before  # nothing real was touched
    assert record(monorepo, "001-old-api")["status"] == "passed"
    assert main(["-C", str(monorepo), "run"]) == 0
    assert "0 passed, 0 failed, 3 cached" in capsys.readouterr().out  # still current


def test_doctor_prints_one_line_per_project_with_the_cause(
        monorepo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_project(monorepo, "001-old-api", [OLD_CALL], files={"requirements.txt": f"{ALPHA}==1.0\n"})
    assert main(["-C", str(monorepo), "run"]) == 0
    capsys.readouterr()

    assert main(["-C", str(monorepo), "doctor", "001"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"001-old-api: BREAKS with the latest releases ({ALPHA} 1.0 -> 2.0)"
    assert lines[1] == (f"  removed-api: hundred_probe_alpha.old_api is gone in {ALPHA} 2.0 "
                        f"(1.0 had it); fix: find what replaced old_api in {ALPHA} 2.0's "
                        f"release notes, or keep {ALPHA}==1.0 in requirements.txt")
    assert lines[-1].startswith("1 projects previewed with their packages' latest releases: "
                                "1 would break")


def test_a_shared_environment_project_previews_the_distributions_it_imports(
        monorepo: Path) -> None:
    make_project(monorepo, "001-stack", [
        "import numpy as np\nfrom sklearn.linear_model import LinearRegression\nimport torch",
        "import json, hundred"])
    project = catalog.load(monorepo)[0]

    lines, held = upgrade_requirements(project)

    from importlib.metadata import version

    assert lines == ["numpy", "scikit-learn", f"torch=={version('torch')}"]
    assert held == ["torch"]  # its latest release would pull the CUDA stack


def test_bad_input_is_one_line_and_a_broken_requirements_file_is_that_project_only(
        monorepo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_project(monorepo, "001-version", [VERSION_ONLY],
                 files={"requirements.txt": f"{ALPHA}==1.0\n"})
    make_project(monorepo, "002-garbled", [VERSION_ONLY], files={"requirements.txt": "=== oops\n"})
    capsys.readouterr()

    assert main(["-C", str(monorepo), "doctor", "042"]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "042" in error
    assert not (monorepo / PREVIEW).exists()

    assert main(["-C", str(monorepo), "doctor", "--json"]) == 1
    previews = {p["project"]: p for p in json.loads(capsys.readouterr().out)["projects"]}
    assert previews["001-version"]["verdict"] == "still-passes"
    assert previews["002-garbled"]["verdict"] == "cannot-resolve"
    assert "requirements.txt:1" in previews["002-garbled"]["error"]
