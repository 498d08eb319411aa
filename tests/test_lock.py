"""The monorepo lock, with real processes: numbering under contention, waiting, dead holders."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from hundred import catalog
from hundred.lock import monorepo_lock

# A child that takes the lock, says so on stdout, then holds it until its stdin closes.
HOLDER = """
import sys
from pathlib import Path
from hundred.lock import monorepo_lock
with monorepo_lock(Path(sys.argv[1]), sys.argv[2]):
    print("locked", flush=True)
    sys.stdin.read()
"""
# A child that waits for the lock, printing the waiting line.
WAITER = """
import sys
from pathlib import Path
from hundred.lock import monorepo_lock
with monorepo_lock(Path(sys.argv[1]), sys.argv[2], on_wait=lambda line: print(line, flush=True)):
    print("locked", flush=True)
"""
# A child that takes the lock, forks a grandchild that sleeps, prints its pid and dies without
# releasing the lock (a crash: only the kernel releases it).
FORKER = """
import os, sys, time
from pathlib import Path
from hundred.lock import monorepo_lock
with monorepo_lock(Path(sys.argv[1]), sys.argv[2]):
    grandchild = os.fork()
    if grandchild == 0:
        quiet = os.open(os.devnull, os.O_WRONLY)  # let the test read the child's output to EOF
        os.dup2(quiet, 1)
        os.dup2(quiet, 2)
        time.sleep(600)
        os._exit(0)
    print(grandchild, flush=True)
    os._exit(0)
"""
WAIT_SECONDS = 60


def test_new_projects_started_at_once_get_distinct_numbers(monorepo: Path) -> None:
    children = [
        subprocess.Popen([sys.executable, "-m", "hundred.cli", "new", f"some-slug-{k}"],
                         cwd=monorepo, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for k in range(1, 6)
    ]
    try:
        outcomes = [child.communicate(timeout=300) for child in children]
    finally:
        _stop(*children)
    assert [child.returncode for child in children] == [0] * 5, outcomes
    folders = sorted(p.name.folder for p in catalog.load(monorepo))
    assert [folder[:3] for folder in folders] == ["001", "002", "003", "004", "005"]
    assert sorted(folder[4:] for folder in folders) == [f"some-slug-{k}" for k in range(1, 6)]
    waits = [line for _, err in outcomes for line in err.splitlines() if "waiting" in line]
    assert all(line.endswith("that holds .hundred/new.lock") for line in waits), waits
    assert not (monorepo / ".hundred" / "new.lock").exists()  # each holder deleted it


def test_a_waiter_is_told_who_holds_the_lock_then_gets_it(monorepo: Path) -> None:
    with _holding(monorepo, "run") as holder:
        waits: list[str] = []
        reported = threading.Event()

        def report(line: str) -> None:
            waits.append(line)
            reported.set()

        taker = _Taker(monorepo, "run", on_wait=report)
        assert reported.wait(WAIT_SECONDS)
        assert not taker.acquired.is_set()  # the holder still runs
        assert holder.stdin is not None
        holder.stdin.close()
        assert holder.wait(WAIT_SECONDS) == 0
        taker.join(WAIT_SECONDS)
    assert taker.acquired.is_set()
    assert len(waits) == 1
    assert waits[0].startswith(f"waiting for another hundred process (pid {holder.pid}, '-c ")
    assert waits[0].endswith("that holds .hundred/run.lock")
    assert "since " in waits[0]
    assert taker.holder["pid"] == os.getpid()  # while held, the file named the new holder


def test_a_killed_holder_releases_the_lock(monorepo: Path) -> None:
    with _holding(monorepo, "run") as holder:
        holder.send_signal(signal.SIGKILL)
        holder.wait(WAIT_SECONDS)
    left = json.loads((monorepo / ".hundred" / "run.lock").read_text())
    assert left["pid"] == holder.pid  # a killed holder cannot clean up after itself
    waits: list[str] = []
    taker = _Taker(monorepo, "run", on_wait=waits.append)
    taker.join(WAIT_SECONDS)
    assert taker.acquired.is_set()
    assert waits == []
    assert taker.holder["pid"] == os.getpid()


def test_a_child_forked_by_a_crashed_holder_does_not_keep_the_lock(monorepo: Path) -> None:
    forker = subprocess.run([sys.executable, "-c", FORKER, str(monorepo), "run"],
                            capture_output=True, text=True, check=True, timeout=WAIT_SECONDS)
    grandchild = int(forker.stdout)
    try:
        assert Path(f"/proc/{grandchild}").exists()  # it outlives the holder
        taker = _Taker(monorepo, "run", on_wait=lambda line: None)
        taker.join(WAIT_SECONDS)
        assert taker.acquired.is_set()
    finally:
        os.kill(grandchild, signal.SIGKILL)


def test_ctrl_c_interrupts_the_wait(monorepo: Path) -> None:
    with _holding(monorepo, "new") as holder:
        waiter = subprocess.Popen([sys.executable, "-c", WAITER, str(monorepo), "new"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert waiter.stdout is not None
            line = waiter.stdout.readline()
            waiter.send_signal(signal.SIGINT)
            out, err = waiter.communicate(timeout=WAIT_SECONDS)
        finally:
            _stop(waiter)
        assert holder.poll() is None  # still holding: the waiter never got the lock
    assert f"(pid {holder.pid}, " in line
    assert waiter.returncode != 0
    assert "KeyboardInterrupt" in err
    assert "locked" not in out


def test_the_lock_creates_and_removes_its_folder_but_keeps_others(tmp_path: Path) -> None:
    with monorepo_lock(tmp_path, "new"):
        assert json.loads((tmp_path / ".hundred" / "new.lock").read_text())["pid"] == os.getpid()
    assert list(tmp_path.iterdir()) == []
    (tmp_path / ".hundred").mkdir()
    with monorepo_lock(tmp_path, "run"):
        pass
    assert list(tmp_path.iterdir()) == [tmp_path / ".hundred"]
    assert list((tmp_path / ".hundred").iterdir()) == []


class _Taker(threading.Thread):
    """Takes the lock in a thread, so that the test can watch it wait."""

    def __init__(self, root: Path, name: str, *, on_wait: Callable[[str], None]) -> None:
        super().__init__(daemon=True)
        self.root, self.lock_name, self.on_wait = root, name, on_wait
        self.acquired = threading.Event()
        self.holder: dict[str, object] = {}
        self.start()

    def run(self) -> None:
        with monorepo_lock(self.root, self.lock_name, on_wait=self.on_wait):
            path = self.root / ".hundred" / f"{self.lock_name}.lock"
            self.holder = json.loads(path.read_text())
            self.acquired.set()


@contextlib.contextmanager
def _holding(root: Path, name: str) -> Iterator[subprocess.Popen[str]]:
    """A child process holding the lock ``name`` until its stdin is closed."""
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(root), name],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "locked\n"
        yield holder
    finally:
        _stop(holder)


def _stop(*children: subprocess.Popen[str]) -> None:
    """Kill what still runs, reap it and close its pipes."""
    for child in children:
        with child:
            if child.poll() is None:
                child.kill()
