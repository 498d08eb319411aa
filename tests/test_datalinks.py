"""`hundred check-data`: the URLs data scripts download, asked of servers on 127.0.0.1 that are
alive, gone, moved, too slow, or serving other bytes than data.py declares."""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hundred.cli import main
from hundred.datalinks import check_links, declared_links
from tests.runkit import make_project

ORIGINAL = b"sepal_length,species\n5.1,setosa\n"
SHA = hashlib.sha256(ORIGINAL).hexdigest()
SLOW_SECONDS = 3.0


class _Server(http.server.BaseHTTPRequestHandler):
    def _answer(self, body: bool) -> None:
        path = self.path
        if path == "/old.csv":
            self.send_response(301)
            self.send_header("Location", "/alive.csv")
            self.end_headers()
            return
        if path == "/slow.csv":
            time.sleep(SLOW_SECONDS)  # bounded: longer than the client's time limit
        if path not in ("/alive.csv", "/slow.csv", "/changed.csv"):
            self.send_error(404)
            return
        data = ORIGINAL if path != "/changed.csv" else ORIGINAL + b"5.9,virginica\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data)

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def do_GET(self) -> None:
        self._answer(body=True)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Server)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


def data_script(base: str) -> str:
    return f'''"""Fetch the data."""
from hundred.download import Remote

ALIVE = Remote("{base}/alive.csv", "{SHA}")
GONE = Remote(url="{base}/gone.csv", sha256="{SHA}")
MOVED = Remote("{base}/old.csv", "{SHA}")
SLOW = Remote("{base}/slow.csv", "{SHA}")
CHANGED = Remote("{base}/changed.csv", "{SHA}")
MIRRORED = Remote("https://example.invalid/iris.csv", "{SHA}").overridden("HUNDRED_TEST_IRIS")
'''


@pytest.fixture
def root(tmp_path: Path, server: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HUNDRED_TEST_IRIS_URL", f"{server}/alive.csv")  # never example.invalid
    root = tmp_path / "mono"
    make_project(root, "001-links", ["print(1)"], files={"data.py": data_script(server)})
    make_project(root, "002-no-downloads", ["print(2)"],
                 files={"data.py": "from sklearn.datasets import load_iris\n"})
    return root


def test_every_state_of_a_link_is_told(root: Path, server: str) -> None:
    reports = check_links(root, timeout=0.5, checksums=True)
    states = {report.link.url.rsplit("/", 1)[-1]: report for report in reports}
    assert [report.link.line for report in reports] == [4, 5, 6, 7, 8, 9]
    assert states["alive.csv"].state == "alive"
    assert states["gone.csv"].state == "dead" and states["gone.csv"].detail == "HTTP 404"
    assert states["old.csv"].state == "moved"
    assert states["old.csv"].moved_to == f"{server}/alive.csv"
    assert states["slow.csv"].state == "dead"
    assert states["slow.csv"].detail == "no answer within 0.5 s"
    assert states["changed.csv"].state == "changed"
    assert "the file changed at its source" in states["changed.csv"].detail
    mirrored = reports[-1]
    assert mirrored.link.url == f"{server}/alive.csv" and mirrored.state == "alive"


def test_without_checksums_a_changed_file_still_answers(root: Path) -> None:
    reports = check_links(root, ["001"], timeout=0.5)
    assert {r.link.url.rsplit("/", 1)[-1]: r.state for r in reports}["changed.csv"] == "alive"


def test_the_command_exits_1_naming_each_broken_link(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["-C", str(root), "check-data", "--timeout", "0.5", "--checksums"]) == 1
    captured = capsys.readouterr()
    broken = captured.err.splitlines()
    assert len(broken) == 3  # gone, slow, changed
    assert broken[0].startswith("001-links/data.py:5: dead: ")
    assert broken[0].endswith("/gone.csv (HTTP 404)")
    assert "6 links: 2 alive, 1 moved, 3 dead or changed" in captured.out
    assert main(["-C", str(root), "check-data", "--timeout", "0.5", "--json"]) == 1
    rows = json.loads(capsys.readouterr().out)
    assert [row["state"] for row in rows] == ["alive", "dead", "moved", "dead", "alive",
                                              "alive"]


def test_projects_with_only_live_links_pass(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["-C", str(root), "check-data", "002"]) == 0
    assert "0 links" in capsys.readouterr().out


def test_the_template_data_scripts_declare_their_downloads(monorepo: Path) -> None:
    from hundred.scaffold import new_project

    project = new_project("042-cnn-cifar10", monorepo)
    [archive] = declared_links(project.name.folder, project.path / "data.py")
    assert archive.url.startswith("https://www.cs.toronto.edu/")
    assert len(archive.sha256) == 64
