"""`hundred build` and `hundred serve`: the site from a real monorepo, end to end."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from hundred.cli import main
from tests.runkit import RECORD, make_project
from tests.sitekit import site_files


def test_build_runs_what_changed_then_builds_the_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = site_files(tmp_path / "mono")
    make_project(root, "001-good", [RECORD])
    make_project(root, "002-bad", ["1 / 0"])
    monkeypatch.chdir(root / "projects")
    assert main(["build", "--jobs", "2"]) == 1  # a failing project: built, but exit 1
    out = capsys.readouterr().out
    assert "1 passed, 1 failed" in out
    assert out.rstrip().endswith(f"site built: {root / 'site' / 'index.html'}")
    assert "accuracy 0.5" in (root / "site/projects/index.html").read_text()
    assert "ZeroDivisionError" in (root / "site/blog/002-bad/index.html").read_text()
    (root / "projects/002-bad/notebook.ipynb").unlink()
    shutil.rmtree(root / "projects/002-bad")
    assert main(["build"]) == 0
    assert "0 passed, 0 failed, 1 cached" in capsys.readouterr().out  # nothing re-ran
    assert not (root / "site/blog/002-bad").exists()


def test_build_without_mkdocs_yml_is_bad_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "mono"
    make_project(root, "001-good", ["x = 1"])
    monkeypatch.chdir(root)
    assert main(["build"]) == 2
    assert "no mkdocs.yml in" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        body: bytes = response.read()
        return body.decode("utf-8")


def test_serve_picks_up_writeup_edits(tmp_path: Path) -> None:
    root = site_files(tmp_path / "mono")
    project = make_project(root, "001-live", ["x = 1"])
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "hundred.cli", "serve", "--dev-addr", f"127.0.0.1:{port}"],
        cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # mkdocs serves under site_url's path (e.g. /hundred/), as the published site will be.
    base = urllib.parse.urlparse(yaml.safe_load((root / "mkdocs.yml").read_text())["site_url"])
    url = f"http://127.0.0.1:{port}{base.path.rstrip('/')}/blog/001-live/"
    try:
        page = _wait_for(lambda: _get(url), lambda text: "Not run yet" in text)
        assert "first version" not in page
        writeup = project / "writeup.md"
        writeup.write_text(writeup.read_text() + "\nThe first version of this study.\n")
        page = _wait_for(lambda: _get(url), lambda text: "first version" in text)
        assert "first version of this study" in page
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert not list((root / "docs").rglob("001-live*"))


def _wait_for(fetch: Callable[[], str], done: Callable[[str], bool], timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            last = fetch()
            if done(last):
                return last
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"timed out; last page: {last[:300]}")
