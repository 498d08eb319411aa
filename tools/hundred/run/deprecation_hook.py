"""Run inside a notebook's kernel, at its start: record what will break on upgrade.

Standard library only, executed by the kernel's ``exec_lines`` in a namespace of its own (the
notebook sees no name of it, and ``sys.modules`` gains nothing): it wraps
``warnings.showwarning`` so that every ``DeprecationWarning``, ``PendingDeprecationWarning`` and
``FutureWarning`` the kernel shows is also written, as one JSON line, to the file named by
``HUNDRED_DEPRECATIONS``: the category, the message, the library that warned, the line of the
notebook's cell that called it, and the cell's execution count. The kernel's own filters decide
what is shown, as in Jupyter (IPython shows the deprecations that the notebook's code
triggers), plus one filter: pending deprecations triggered by the notebook's code are shown
too, as IPython shows deprecations.
"""

from __future__ import annotations

import os
import sys
import warnings
from types import FrameType

VARIABLE = "HUNDRED_DEPRECATIONS"
MOST = 100  # lines one run writes at most
CATEGORIES = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)


def install(path: str) -> None:
    import json
    import linecache

    shown = warnings.showwarning
    seen: set[tuple[str, str, int | None]] = set()

    def record(message, category, filename, lineno, file=None, line=None):  # type: ignore[no-untyped-def]
        try:
            if isinstance(category, type) and issubclass(category, CATEGORIES):
                note(str(message), category, filename, lineno)
        except Exception:  # recording must never break the notebook
            pass
        return shown(message, category, filename, lineno, file, line)

    def note(message: str, category: type, filename: str, lineno: int) -> None:
        shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
        count = getattr(shell, "execution_count", None)
        key = (category.__name__, message, count)
        if key in seen or len(seen) >= MOST:
            return
        seen.add(key)
        cell_frame, callee, inner = None, None, None
        frame: FrameType | None = sys._getframe(2)
        while frame is not None:
            if frame.f_globals.get("__name__") == "__main__":
                cell_frame, callee = frame, inner
                break
            inner = frame
            frame = frame.f_back
        call = None
        if cell_frame is not None:
            code = cell_frame.f_code
            call = linecache.getline(code.co_filename, cell_frame.f_lineno).strip() or None
        library = None
        attributed = _module_of(filename)
        if attributed not in (None, "__main__"):
            library = attributed
        elif callee is not None:
            library = callee.f_globals.get("__name__")
        if library == "warnings":  # the notebook's own warnings.warn
            library = None
        if not library or library == "__main__":
            library = category.__module__ if category.__module__ != "builtins" else None
        entry = {"category": category.__name__, "message": message.strip()[:500],
                 "library": library.split(".")[0] if library else None,
                 "call": call[:300] if call else None, "execution_count": count}
        with open(path, "a", encoding="utf-8") as out:  # noqa: PTH123 -- as few imports as can be
            out.write(json.dumps(entry) + "\n")

    warnings.showwarning = record
    warnings.filterwarnings("default", category=PendingDeprecationWarning, module="__main__")


def _module_of(filename: str) -> str | None:
    """The module a file is, among those imported (None: not a module, e.g. a cell)."""
    for name, module in list(sys.modules.items()):
        if getattr(module, "__file__", None) == filename:
            return name
    return None


if os.environ.get(VARIABLE):
    install(os.environ[VARIABLE])
