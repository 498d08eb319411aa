"""Run mkdocs as a child process that never outlives hundred.

``hundred serve`` runs ``mkdocs serve`` for as long as the user previews the site. When hundred
is stopped (Ctrl-C, SIGTERM from an editor's stop button or a process manager, even SIGKILL),
the server must stop too, or it keeps the port and the next ``hundred serve`` fails.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType

from hundred.errors import HundredError

FORWARDED = (signal.SIGINT, signal.SIGTERM)
# How long mkdocs may take to stop after a forwarded signal before it is killed.
GRACE_SECONDS = 10.0
PR_SET_PDEATHSIG = 1


def run_mkdocs(root: Path, *arguments: str) -> int:
    """Run ``mkdocs ARGUMENTS -f root/mkdocs.yml`` in ``root`` and return its exit code.

    Called from the main thread, SIGINT and SIGTERM are forwarded to mkdocs while it runs and
    the return value is then 130 or 143 (128 + the signal), whatever mkdocs returned, so the
    caller exits as a process stopped by that signal would. mkdocs is killed if it has not
    stopped 10 s after the signal, or at once if anything else interrupts the wait. On Linux it
    also gets SIGTERM when hundred dies, SIGKILL included.
    """
    config = root / "mkdocs.yml"
    if not config.is_file():
        raise HundredError(f"no mkdocs.yml in {root}; restore it from the hundred repository")
    command = [sys.executable, "-m", "mkdocs", *arguments, "-f", str(config)]
    environment = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    forwarding = threading.current_thread() is threading.main_thread()
    # When hundred forwards signals, mkdocs gets its own process group: Ctrl-C in a terminal then
    # reaches it once, through hundred, rather than twice (a second SIGINT during its shutdown
    # aborts it half-way). Otherwise it stays in ours, so that Ctrl-C still reaches it.
    child = subprocess.Popen(
        command, cwd=root, env=environment, preexec_fn=_parent_death_signal(),
        process_group=0 if forwarding else None,
    )
    try:
        if not forwarding:  # signal handlers can only be set from the main thread
            return child.wait()
        with _forwarded_signals(child) as received:
            code = child.wait()
        return 128 + received[0] if received else code
    finally:
        _kill(child)


@contextlib.contextmanager
def _forwarded_signals(child: subprocess.Popen[bytes]) -> Iterator[list[int]]:
    """Forward SIGINT and SIGTERM to ``child``; yield the signals received, first first.

    The first signal also starts a timer that kills the child after the grace period.
    """
    received: list[int] = []
    killer = threading.Timer(GRACE_SECONDS, child.kill)
    killer.daemon = True

    def forward(number: int, frame: FrameType | None) -> None:
        if not received:
            killer.start()
        received.append(number)
        child.send_signal(number)  # does nothing once the child has been waited for

    previous = {number: signal.signal(number, forward) for number in FORWARDED}
    try:
        yield received
    finally:
        for number, handler in previous.items():
            # None: the handler was set outside Python; the default is the closest we can do.
            signal.signal(number, signal.SIG_DFL if handler is None else handler)
        killer.cancel()


def _kill(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is None:
        child.kill()
    child.wait()


def _parent_death_signal() -> Callable[[], None] | None:
    """A ``preexec_fn`` asking Linux to send the child SIGTERM when its parent dies.

    None where prctl is unavailable: there, only the signal forwarding and the ``finally`` of
    ``run_mkdocs`` stop the child.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before fork, not after
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def die_with_parent() -> None:
        prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM))
        if os.getppid() != parent:  # the parent died before prctl: no signal will come
            os.kill(os.getpid(), signal.SIGTERM)

    return die_with_parent
