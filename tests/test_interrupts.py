"""Stopping `hundred run`: SIGINT and SIGTERM at any moment, SIGKILL, a queue of 1,000.

Every process of a run (hundred, its workers, zygotes and kernels) carries the test's tag in
its environment, so a test sees its own run's processes whatever else runs on the machine.
``hundred`` is started with SIGINT restored: a background process of a script ignores it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from hundred import results as store
from hundred.cli import main
from tests.runkit import RECORD, TAG, kernel_pids, make_project

SLOW = ("import time\nfor step in range(600):\n    print('step', step, flush=True)\n"
        "    time.sleep(0.2)")
QUICK = "x = 1 + 1"
HANG_GUARD = 60  # seconds: a run that has not exited by then is hung (the target is 10)


def _hundred() -> str:
    return shutil.which("hundred", path=str(Path(sys.executable).parent)) or "hundred"


def _restore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(root: Path, tag: str, *argv: str, env: dict[str, str] | None = None
           ) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [_hundred(), "run", *argv], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, preexec_fn=_restore_sigint,
        env={**os.environ, TAG: tag, "PYTHONUNBUFFERED": "1", **(env or {})})


def _left_after(tag: str, seconds: float) -> set[int]:
    """The run's processes still alive after waiting up to ``seconds`` for them to go."""
    deadline = time.monotonic() + seconds
    while (alive := kernel_pids(tag)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive


def _wait_for(condition: object, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.05)
    raise AssertionError("the run never got there")


def _executing(root: Path, count: int = 1) -> bool:
    """Whether ``count`` slow notebooks are in their long cell (papermill saved its start)."""
    found = 0
    for path in (root / store.RUNS).glob("*/.smoke.partial.ipynb"):
        try:
            cells = json.loads(path.read_text())["cells"]
        except (OSError, ValueError, KeyError):
            continue  # being written
        found += any("for step" in "".join(c["source"]) and c["metadata"].get(
            "papermill", {}).get("start_time") for c in cells)
    return found >= count


@pytest.fixture
def busy(tmp_path: Path) -> Path:
    """001 already ran; 002-003 run for minutes, printing; 004-023 are quick."""
    root = tmp_path / "mono"
    (root / "projects").mkdir(parents=True)
    make_project(root, "001-done-before", [RECORD])
    assert main(["-C", str(root), "run", "001"]) == 0
    for number in (2, 3):
        make_project(root, f"{number:03d}-slow", [SLOW])
    for number in range(4, 24):
        make_project(root, f"{number:03d}-quick", [QUICK])
    return root


def _earlier(root: Path) -> dict[str, bytes]:
    folder = root / store.RUNS / "001-done-before"
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


@pytest.mark.parametrize(("signum", "delay"), [
    (signal.SIGINT, 0.3), (signal.SIGINT, 0.7), (signal.SIGINT, 1.1), (signal.SIGINT, 1.6),
    (signal.SIGINT, None), (signal.SIGTERM, 0.5), (signal.SIGTERM, 1.2), (signal.SIGTERM, None),
], ids=lambda value: str(value))
def test_a_signal_at_any_moment_stops_the_run_and_keeps_what_finished(
    busy: Path, signum: signal.Signals, delay: float | None
) -> None:
    """``delay``: seconds after the start (start-up, workers forking, kernels starting); None:
    once a notebook is executing."""
    before = _earlier(busy)
    tag = uuid.uuid4().hex
    process = _start(busy, tag, "--jobs", "2")
    if delay is None:
        _wait_for(lambda: _executing(busy, 2))
    else:
        time.sleep(delay)
    process.send_signal(signum)
    out, err = process.communicate(timeout=HANG_GUARD)

    # 130/143, or killed by the signal itself (which a shell reports as 130/143) when it came
    # before the interpreter had even imported hundred: then nothing at all was started.
    assert process.returncode in {signal.SIGINT: (130, -2), signal.SIGTERM: (143, -15)}[
        signum], err
    assert _left_after(tag, 10) == set()
    assert _earlier(busy) == before  # earlier records intact
    records = [store.read_checked(busy, path) for path in (busy / store.RUNS).glob("*/*.json")]
    assert all(isinstance(r, store.RunResult) for r in records), records  # none corrupt
    kinds = {r.failure for r in records if isinstance(r, store.RunResult)}
    assert kinds <= {None, "interrupted"}, kinds
    assert not list((busy / store.RUNS).glob("*/.*.partial.ipynb"))
    if process.returncode > 0:
        assert "interrupted" in out + err or "terminated" in err
    if delay is None:
        slow = [store.latest(busy, f"{n:03d}-slow", "smoke") for n in (2, 3)]
        assert [r.failure for r in slow if r is not None] == ["interrupted"] * 2
        first = slow[0]
        assert first is not None and first.error is not None and first.error.cell == 3
        assert f"interrupted ({signal.Signals(signum).name})" in out


@pytest.mark.parametrize("zygote", [True, False], ids=["zygote", "ordinary-launch"])
def test_a_killed_hundred_leaves_no_worker_zygote_or_kernel(busy: Path, zygote: bool) -> None:
    tag = uuid.uuid4().hex
    process = _start(busy, tag, "--jobs", "2", env={} if zygote else {"HUNDRED_NO_ZYGOTE": "1"})
    _wait_for(lambda: _executing(busy))
    assert len(kernel_pids(tag)) >= 5  # hundred, two workers, their kernels (and zygotes)
    process.kill()
    process.communicate(timeout=HANG_GUARD)
    assert _left_after(tag, 10) == set()


def test_ctrl_c_with_a_thousand_projects_queued(tmp_path: Path) -> None:
    root = tmp_path / "mono"
    (root / "projects").mkdir(parents=True)
    for number in range(1, 1001):
        make_project(root, f"{number:03d}-p{number}", [QUICK])
    tag = uuid.uuid4().hex
    process = _start(root, tag, "--jobs", "2")
    _wait_for(lambda: len(list((root / store.RUNS).glob("*/smoke.json"))) >= 3, 120)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=HANG_GUARD)
    assert process.returncode == 130, err
    assert _left_after(tag, 10) == set()
    finished = list((root / store.RUNS).glob("*/smoke.json"))
    assert 3 <= len(finished) < 1000
    assert "interrupted (SIGINT)" in out and "not run" in out


def test_a_worker_that_dies_fails_its_notebook_alone(tmp_path: Path) -> None:
    root = tmp_path / "mono"
    (root / "projects").mkdir(parents=True)
    # The worker that talks to this kernel named its IPC sockets after its pid (the kernel's
    # zygote may be the run's, shared by the workers: not an ancestor to climb to).
    kill_worker = (
        "import json, os, signal\n"
        "from pathlib import Path\n"
        "from ipykernel import get_connection_file\n"
        "prefix = json.loads(Path(get_connection_file()).read_text())['ip']\n"
        "os.kill(int(Path(prefix).name.split('-')[0]), signal.SIGKILL)"
    )
    make_project(root, "001-kills-its-worker", [kill_worker])
    for number in range(2, 8):
        make_project(root, f"{number:03d}-fine", [RECORD])
    tag = uuid.uuid4().hex
    process = _start(root, tag, "--jobs", "2")
    out, err = process.communicate(timeout=300)
    assert process.returncode == 1, err
    assert _left_after(tag, 10) == set()
    killer = store.latest(root, "001-kills-its-worker", "smoke")
    assert killer is not None and killer.failure == "dead-kernel"
    assert killer.error is not None and killer.error.ename == "WorkerDied"
    fine = [store.latest(root, f"{n:03d}-fine", "smoke") for n in range(2, 8)]
    assert all(r is not None and r.passed for r in fine)
    assert "6 passed, 1 failed" in out
