"""A per-monorepo lock that names its holder: ``.hundred/<name>.lock``, held with ``flock``.

Two ``hundred run`` in one monorepo would write the same results, and two ``new-project``
started at once would pick the same number; each takes its lock first. A process that has to
wait is told who holds the lock, then blocks until it is free (Ctrl-C still interrupts it).

The kernel releases a ``flock`` when its holder exits for any reason, SIGKILL included, so a
crashed holder never leaves a stale lock. The lock file holds one JSON line naming the holder
(pid, command, start time) while it is held. On release the holder deletes the file, and the
``.hundred/`` folder too when this lock created it and it is still empty, so that taking a lock
leaves nothing behind. Only a holder that was killed leaves its file, which the next taker reuses.

A process forked while a lock is held (a worker pool's worker) does not hold it: its copy of the
descriptor is closed in the child, so a worker that outlives its parent cannot keep the lock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

COMMAND_WIDTH = 80
# The descriptors of the locks this process holds, closed in forked children.
_HELD: set[int] = set()
_closing_in_children = False


@contextlib.contextmanager
def monorepo_lock(
    root: Path, name: str, *, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the exclusive lock ``root/.hundred/<name>.lock`` for the ``with`` block.

    If another process holds it, call ``on_wait`` once with one line naming the holder, then
    block until the lock is free. SIGINT interrupts the wait with ``KeyboardInterrupt``.
    """
    folder = root / ".hundred"
    path = folder / f"{name}.lock"
    created_folder = False
    reported = False
    while True:
        created_folder = _make_folder(folder) or created_folder
        descriptor = _open(path)
        if descriptor is None:  # .hundred/ was removed by a releasing holder: start again
            continue
        try:
            if not _try_lock(descriptor):
                if on_wait is not None and not reported:
                    on_wait(_waiting_line(_read_holder(descriptor), path.relative_to(root)))
                    reported = True
                fcntl.flock(descriptor, fcntl.LOCK_EX)
            if _still_linked(descriptor, path):
                break
        except BaseException:
            os.close(descriptor)
            raise
        # The previous holder deleted the file after we opened it: lock the new one instead.
        os.close(descriptor)
    _held(descriptor)
    try:
        _write_holder(descriptor)
        yield
    finally:
        _HELD.discard(descriptor)
        _release(descriptor, path, folder if created_folder else None)


def _held(descriptor: int) -> None:
    global _closing_in_children
    _HELD.add(descriptor)
    if not _closing_in_children:  # registered on first use, not at import
        os.register_at_fork(after_in_child=_close_held_in_child)
        _closing_in_children = True


def _close_held_in_child() -> None:
    # Closing (never unlocking: that would release the parent's lock too) drops the child's
    # reference; the lock stays with the parent.
    for descriptor in _HELD:
        with contextlib.suppress(OSError):
            os.close(descriptor)
    _HELD.clear()


def _make_folder(folder: Path) -> bool:
    """Create ``folder`` if missing; say whether this call created it."""
    try:
        folder.mkdir()
    except FileExistsError:
        return False
    return True


def _open(path: Path) -> int | None:
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except FileNotFoundError:
        return None


def _try_lock(descriptor: int) -> bool:
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _still_linked(descriptor: int, path: Path) -> bool:
    """Whether the locked file is still the one at ``path`` (a holder deletes it on release)."""
    try:
        named = path.stat()
    except FileNotFoundError:
        return False
    held = os.fstat(descriptor)
    return (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino)


def _write_holder(descriptor: int) -> None:
    """Name this process in the lock file, in place: the lock is on the file, not its name."""
    command = " ".join([Path(sys.argv[0]).name if sys.argv else "", *sys.argv[1:]]).strip()
    if len(command) > COMMAND_WIDTH:
        command = command[: COMMAND_WIDTH - 1] + "…"
    holder = {
        "pid": os.getpid(),
        "command": command,
        "since": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
    }
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, (json.dumps(holder, ensure_ascii=False) + "\n").encode(), 0)


def _read_holder(descriptor: int) -> dict[str, object]:
    """The holder the lock file names; empty when it is still being written or unreadable."""
    try:
        holder = json.loads(os.pread(descriptor, 4096, 0).decode())
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


def _waiting_line(holder: dict[str, object], relative: Path) -> str:
    details = []
    pid, command, since = holder.get("pid"), holder.get("command"), holder.get("since")
    if isinstance(pid, int):
        details.append(f"pid {pid}")
    if isinstance(command, str) and command:
        details.append(repr(command))
    if isinstance(since, str):
        details.append(f"since {_clock(since)}")
    who = f" ({', '.join(details)})" if details else ""
    return f"waiting for another hundred process{who} that holds {relative}"


def _clock(since: str) -> str:
    """``18:02:11`` for a time today, ``2026-09-01 18:02:11`` for an older one."""
    try:
        moment = dt.datetime.fromisoformat(since)
    except ValueError:
        return since
    if moment.date() == dt.datetime.now(moment.tzinfo).date():
        return moment.strftime("%H:%M:%S")
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _release(descriptor: int, path: Path, created_folder: Path | None) -> None:
    # Delete while still holding the lock: a waiter that then gets the lock on the deleted file
    # sees it is no longer at ``path`` and takes the new one (see _still_linked).
    try:
        path.unlink(missing_ok=True)
    finally:
        os.close(descriptor)
    if created_folder is not None:
        with contextlib.suppress(OSError):  # not empty: runs, caches or another lock live there
            created_folder.rmdir()
