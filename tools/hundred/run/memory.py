"""Whether the out-of-memory killer struck: the kernel's cgroup counts its kills.

A kernel the OOM killer (or a container's memory limit) kills dies by SIGKILL with no word of
why. Linux counts those kills per cgroup: ``oom_kill`` in ``memory.events`` (cgroup v2) or in
``memory.oom_control`` (v1). The worker reads the count before and after a notebook: a dead
kernel while it rose was killed for memory. Without a readable count, None: not known.
"""

from __future__ import annotations

import re
from pathlib import Path

CGROUPS = Path("/sys/fs/cgroup")
_KILLS = re.compile(r"^oom_kill (\d+)$", re.MULTILINE)


def oom_kills(proc: Path = Path("/proc/self/cgroup")) -> int | None:
    """The OOM kills counted so far in this process's memory cgroup; None when unknown."""
    try:
        lines = proc.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        relative = path.lstrip("/")
        if controllers == "":  # v2: the unified hierarchy
            found = _count(CGROUPS / relative / "memory.events")
        elif "memory" in controllers.split(","):
            found = _count(CGROUPS / "memory" / relative / "memory.oom_control")
        else:
            continue
        if found is not None:
            return found
    return None


def _count(path: Path) -> int | None:
    try:
        found = _KILLS.search(path.read_text())
    except OSError:
        return None
    return int(found.group(1)) if found else None
