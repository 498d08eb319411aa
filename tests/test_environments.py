"""Per-project environments: real uv locks and venvs, real kernels, packages served locally.

The made-up packages come from wheels served on 127.0.0.1 (``UV_FIND_LINKS``,
``PIP_FIND_LINKS``); ipykernel, which every project environment needs, comes through uv from
the package registry the machine reaches (cached by uv after the first time).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hundred.cli import main
from hundred.environments import ENVS, read_lock
from tests.conftest import snapshot
from tests.envkit import ALPHA, closed_port, make_wheel, served
from tests.runkit import make_project, record

PROBE = """\
import importlib.util, json, sys
import hundred, hundred_probe_alpha
hundred.record("alpha", float(hundred_probe_alpha.__version__))
print(json.dumps({"prefix": sys.prefix, "alpha": hundred_probe_alpha.__file__,
                  "hundred": hundred.__file__,
                  "pydantic": importlib.util.find_spec("pydantic") is not None}))"""


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    wheels = tmp_path_factory.mktemp("wheels")
    for version in ("1.0", "2.0"):
        make_wheel(wheels, ALPHA, version)
    with served(wheels) as url:
        yield url


@pytest.fixture(autouse=True)
def _packages_from(index: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UV_FIND_LINKS", index)
    monkeypatch.setenv("PIP_FIND_LINKS", index)
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # a notebook's pip: only what is served here


def printed(root: Path, folder: str) -> dict[str, object]:
    """The JSON the probe cell printed, from the executed notebook."""
    notebook = json.loads((root / ".hundred" / "runs" / folder / "smoke.ipynb").read_text())
    for cell in reversed(notebook["cells"]):
        # Joined first: the kernel may send one print() as two stream messages.
        text = "".join("".join(output["text"]) for output in cell.get("outputs", [])
                       if output.get("name") == "stdout")
        if text.strip():
            found: dict[str, object] = json.loads(text.strip().splitlines()[-1])
            return found
    raise AssertionError(f"{folder} printed nothing")


def freeze(python: str | Path) -> str:
    return subprocess.run([str(python), "-m", "pip", "freeze", "--all"], capture_output=True,
                          text=True, check=True).stdout


def test_add_locks_and_the_project_runs_in_its_own_environment(
    monorepo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = make_project(monorepo, "001-alpha", [PROBE])
    assert main(["-C", str(monorepo), "add", "001", f"{ALPHA}==1.0"]) == 0
    assert f"added {ALPHA}==1.0 to projects/001-alpha" in capsys.readouterr().out
    assert (folder / "requirements.txt").read_text() == f"{ALPHA}==1.0\n"
    lock = read_lock(folder)
    assert lock is not None
    assert lock.pins[ALPHA] == "1.0" and "ipykernel" in lock.pins
    assert "--hash=sha256:" in lock.text and "hundred's kernel (ipykernel)" in lock.text

    assert main(["-C", str(monorepo), "run", "001"]) == 0
    result = record(monorepo, "001-alpha")
    assert result["status"] == "passed", result["error"]
    assert result["metrics"]["alpha"]["value"] == 1.0
    assert result["environment"] == lock.digest[:16]
    assert result["packages"][ALPHA] == "1.0"
    seen = printed(monorepo, "001-alpha")
    environment = monorepo / ENVS / lock.digest[:16]
    assert seen["prefix"] == str(environment)
    assert str(seen["alpha"]).startswith(str(environment))
    assert str(seen["hundred"]).startswith(str(environment))  # the helpers, not all of hundred
    assert seen["pydantic"] is False  # nothing of hundred's own environment leaks in


def test_identical_locks_share_one_environment_and_a_changed_one_runs_again(
    monorepo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for folder in ("001-alpha", "002-beta"):
        make_project(monorepo, folder, [PROBE], files={"requirements.txt": f"{ALPHA}\n"})
    assert main(["-C", str(monorepo), "lock"]) == 0
    assert capsys.readouterr().out.count("locked ") == 2
    assert main(["-C", str(monorepo), "run"]) == 0
    assert len(list((monorepo / ENVS).iterdir())) == 1
    assert {record(monorepo, f)["metrics"]["alpha"]["value"] for f in ("001-alpha", "002-beta")
            } == {2.0}

    assert main(["-C", str(monorepo), "run"]) == 0
    assert "0 passed, 0 failed, 2 cached" in capsys.readouterr().out

    (monorepo / "projects" / "001-alpha" / "requirements.txt").write_text(f"{ALPHA}==1.0\n")
    assert main(["-C", str(monorepo), "run"]) == 0
    out = capsys.readouterr()
    assert "locking 001-alpha" in out.out + out.err
    assert "1 passed, 0 failed, 1 cached" in out.out
    assert record(monorepo, "001-alpha")["packages"][ALPHA] == "1.0"
    assert len(list((monorepo / ENVS).iterdir())) == 2


def test_the_shared_stack_does_not_make_a_locked_projects_runs_stale(
    monorepo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hundred import cache, catalog
    from hundred.config import load_settings
    from hundred.freshness import key_for

    make_project(monorepo, "001-alpha", [PROBE], files={"requirements.txt": f"{ALPHA}\n"})
    make_project(monorepo, "002-shared", ["import numpy"])
    assert main(["-C", str(monorepo), "lock", "001"]) == 0
    settings = load_settings(monorepo)
    projects = {p.name.folder: p for p in catalog.scan(monorepo).projects}
    before = {name: key_for(p, "smoke", settings).digest for name, p in projects.items()}
    monkeypatch.setattr(cache, "package_versions", lambda *_: {"numpy": "9.9.9"})  # an upgrade
    after = {name: key_for(p, "smoke", settings).digest for name, p in projects.items()}
    assert after["001-alpha"] == before["001-alpha"]
    assert after["002-shared"] != before["002-shared"]


def test_a_package_that_does_not_exist_names_the_line_and_changes_nothing(
    monorepo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = make_project(monorepo, "001-alpha", [PROBE],
                          files={"requirements.txt": "# what 001 needs\nnumpy\n"})
    before = snapshot(monorepo)
    assert main(["-C", str(monorepo), "add", "001", "hundred-no-such-package-zz"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "projects/001-alpha/requirements.txt:3" in err
    assert "hundred-no-such-package-zz" in err and "pypi.org" in err
    assert snapshot(monorepo) == before  # requirements.txt back as it was, no lock
    assert not (folder / "requirements.lock").exists()


def test_a_broken_requirement_fails_its_project_alone(
    monorepo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_project(monorepo, "001-alpha", [PROBE],
                 files={"requirements.txt": "# ok\npandas[\n"})
    make_project(monorepo, "002-shared", ["print('fine')"])
    assert main(["-C", str(monorepo), "run"]) == 1
    out = capsys.readouterr().out
    assert "1 passed, 1 failed" in out
    failed = record(monorepo, "001-alpha")
    assert failed["failure"] == "environment-error"
    assert "projects/001-alpha/requirements.txt:2: 'pandas[' is not a requirement" in (
        failed["error"]["evalue"])
    assert record(monorepo, "002-shared")["status"] == "passed"


def test_no_network_to_the_index_is_one_line(
    monorepo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("UV_FIND_LINKS")
    monkeypatch.setenv("UV_DEFAULT_INDEX", f"http://127.0.0.1:{closed_port()}/simple")
    monkeypatch.setenv("UV_NO_CACHE", "1")
    monkeypatch.setenv("UV_HTTP_RETRIES", "0")
    make_project(monorepo, "001-alpha", [PROBE], files={"requirements.txt": f"{ALPHA}\n"})
    assert main(["-C", str(monorepo), "lock", "001"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "001-alpha: cannot reach the package index (http://127.0.0.1:" in err
    assert "check the network" in err
    assert not (monorepo / "projects" / "001-alpha" / "requirements.lock").exists()


def test_pip_install_in_a_notebook_lands_in_a_throwaway_layer(
    monorepo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The shared environment (hundred's own here) is byte-for-byte what it was."""
    make_project(monorepo, "001-installs", [
        "print('setting up')",
        f"!{sys.executable} -m pip install --quiet {ALPHA}==1.0",
        "import hundred_probe_alpha\nprint(hundred_probe_alpha.__file__)",
    ])
    before = freeze(sys.executable)
    assert main(["-C", str(monorepo), "run", "001"]) == 0
    assert freeze(sys.executable) == before
    said = " ".join(capsys.readouterr().out.split())  # rich wraps long lines
    assert f"001-installs: warning: cell 4: `!{sys.executable} -m pip install" in said
    result = record(monorepo, "001-installs")
    assert result["status"] == "passed", result["error"]
    [warning] = result["warnings"]
    assert warning.startswith("cell 4: ")
    assert f"installed {ALPHA}==1.0 for this run only" in warning
    assert "projects/001-installs/requirements.txt" in warning
    notebook = (monorepo / ".hundred" / "runs" / "001-installs" / "smoke.ipynb").read_text()
    assert "/.hundred/layers/001-installs-smoke/hundred_probe_alpha/__init__.py" in notebook
    assert not (monorepo / ".hundred" / "layers" / "001-installs-smoke").exists()


def test_percent_pip_in_a_locked_project_leaves_its_environment_as_locked(
    monorepo: Path
) -> None:
    make_project(monorepo, "001-alpha", [
        f"%pip install --quiet {ALPHA}==2.0",
        "import hundred_probe_alpha\nprint(hundred_probe_alpha.__version__)",
    ], files={"requirements.txt": f"{ALPHA}==1.0\n"})
    assert main(["-C", str(monorepo), "run", "001"]) == 0  # builds the environment
    [environment] = (monorepo / ENVS).iterdir()
    python = environment / "bin" / "python"
    before = freeze(python)
    assert main(["-C", str(monorepo), "run", "001", "--force"]) == 0
    assert freeze(python) == before
    assert f"{ALPHA}==1.0" in before
    result = record(monorepo, "001-alpha")
    assert result["warnings"] and "for this run only" in result["warnings"][0]
    notebook = (monorepo / ".hundred" / "runs" / "001-alpha" / "smoke.ipynb").read_text()
    assert '"2.0\\n"' in notebook  # the layer's version was the one imported, for this run


def test_a_version_that_does_not_exist_names_the_line_and_the_fix(
    monorepo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_project(monorepo, "001-alpha", [PROBE],
                 files={"requirements.txt": f"# pinned\n{ALPHA}==9.9\n"})
    assert main(["-C", str(monorepo), "lock", "001"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert f"projects/001-alpha/requirements.txt:2: '{ALPHA}==9.9' does not resolve" in err
    assert "pick a version that exists" in err
