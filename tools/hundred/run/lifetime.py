"""Processes that never outlive the process that started them, even when it is SIGKILLed."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
from functools import cache
from pathlib import Path

_PR_SET_PDEATHSIG = 1


@cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name, use_errno=True) if name else None
    except OSError:
        return None


def die_with_parent(signum: int = signal.SIGKILL, *, parent: int | None = None) -> None:
    """Ask Linux to send ``signum`` to this process when its parent exits (elsewhere: nothing).

    ``parent`` is the pid the caller expects as its parent: if that one is already gone, the
    signal is sent at once, closing the race between fork and this call.
    """
    libc = _libc()
    if libc is None or not hasattr(libc, "prctl"):
        return
    libc.prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0)
    if parent is not None and os.getppid() != parent:
        os.kill(os.getpid(), signum)


def alive(pid: int) -> bool:
    """Running, as opposed to gone or a zombie waiting to be reaped (a zygote's kernels are
    reaped at once, unless a tracer such as a profiler holds their exit status)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")
