"""run_mkdocs: a real `mkdocs serve` stops with its caller, however the caller is stopped."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from hundred.errors import HundredError
from hundred.mkdocs_runner import run_mkdocs
from tests.sitekit import site_files

# What `hundred serve` will do, in a process of its own that the test can signal.
DRIVER = (
    "import sys; from pathlib import Path; from hundred.mkdocs_runner import run_mkdocs; "
    "sys.exit(run_mkdocs(Path(sys.argv[1]), 'serve', '--dev-addr', sys.argv[2]))"
)
WAIT_SECONDS = 60


@pytest.mark.parametrize(("stop", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_to_the_caller_stops_mkdocs_and_sets_the_exit_code(
    tmp_path: Path, stop: signal.Signals, code: int
) -> None:
    root = site_files(tmp_path / "mono")
    with _serving(root) as driver:
        assert _servers(root)  # the scan below would see a server that outlived its caller
        driver.send_signal(stop)
        assert driver.wait(WAIT_SECONDS) == code
        assert _servers(root) == []


def test_a_killed_caller_leaves_no_server(tmp_path: Path) -> None:
    root = site_files(tmp_path / "mono")
    with _serving(root) as driver:
        servers = _servers(root)
        assert servers
        driver.send_signal(signal.SIGKILL)
        driver.wait(WAIT_SECONDS)
        deadline = time.monotonic() + 15
        while _servers(root) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _servers(root) == []


def test_the_exit_code_of_mkdocs_is_returned_and_handlers_restored(tmp_path: Path) -> None:
    root = site_files(tmp_path / "mono")
    before = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    assert run_mkdocs(root, "no-such-command") == 2  # click's usage error
    assert {number: signal.getsignal(number) for number in before} == before


def test_no_mkdocs_yml_says_where_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(HundredError, match=r"no mkdocs.yml in .*; restore it from the hundred"):
        run_mkdocs(tmp_path, "build")


@contextlib.contextmanager
def _serving(root: Path) -> Iterator[subprocess.Popen[bytes]]:
    """The driver serving ``root``'s site, once its home page answers; killed afterwards."""
    port = _free_port()
    driver = subprocess.Popen([sys.executable, "-c", DRIVER, str(root), f"127.0.0.1:{port}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # mkdocs serves under site_url's path (e.g. /hundred/), as the published site will be.
        config = yaml.safe_load((root / "mkdocs.yml").read_text())
        path = urllib.parse.urlparse(config["site_url"]).path
        _wait_for_page(f"http://127.0.0.1:{port}{path}", driver)
        yield driver
    finally:
        with driver:
            if driver.poll() is None:
                driver.kill()
        _kill_servers(root)


def _servers(root: Path) -> list[int]:
    """The pids of the `mkdocs serve` processes for ``root``'s mkdocs.yml."""
    config = str(root / "mkdocs.yml")
    found = []
    for entry in Path("/proc").iterdir():
        try:
            arguments = (entry / "cmdline").read_bytes().decode().split("\0")
        except OSError:  # not a process, or one that just ended
            continue
        if "mkdocs" in arguments and "serve" in arguments and config in arguments:
            found.append(int(entry.name))
    return found


def _kill_servers(root: Path) -> None:
    """Leave no server behind when a test fails."""
    for pid in _servers(root):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _wait_for_page(url: str, driver: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        assert driver.poll() is None, "the server stopped before serving the site"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{url} never answered")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
