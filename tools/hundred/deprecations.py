"""What will break on upgrade: the deprecation warnings a notebook raised while it ran.

The kernel records them itself (``hundred.run.deprecation_hook``, run by the kernel's
``exec_lines``), as one JSON line each, with the execution count of the cell that ran; here
they become ``Deprecation`` values whose cell is the user's position of that cell. A learner
reads them as "will break on upgrade" in `hundred status`, the post and the dashboard.
"""

from __future__ import annotations

import json
from pathlib import Path

from hundred.results import Deprecation

HOOK = Path(__file__).parent / "run" / "deprecation_hook.py"
VARIABLE = "HUNDRED_DEPRECATIONS"  # the file the kernel writes to (the hook reads the same)


def kernel_arguments() -> list[str]:
    """The kernel's command-line arguments that install the hook at its start."""
    path = str(HOOK)
    line = (f"exec(compile(open({path!r}, encoding='utf-8').read(), {path!r}, 'exec'), "
            "{'__name__': 'hundred_deprecations'})")
    return [f"--IPKernelApp.exec_lines={line}"]


def recorded(path: Path, executed: Path) -> list[Deprecation]:
    """The deprecations the kernel wrote to ``path``, each placed at its cell of the executed
    notebook ``executed``; [] when it wrote none. Unreadable lines are skipped."""
    from hundred.run.failures import executed_cells, injected

    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    positions: dict[int, int] = {}
    position = 0
    for cell in executed_cells(executed):
        if injected(cell):
            continue
        position += 1
        if cell.get("execution_count") is not None:
            positions[int(cell["execution_count"])] = position
    found: list[Deprecation] = []
    for line in lines:
        try:
            entry = json.loads(line)
            count = entry.get("execution_count")
            found.append(Deprecation(
                category=str(entry["category"]), message=str(entry["message"]),
                library=entry.get("library") or None, call=entry.get("call") or None,
                cell=positions.get(count) if isinstance(count, int) else None))
        except (ValueError, KeyError, TypeError):
            continue
    return list(dict.fromkeys(found))
