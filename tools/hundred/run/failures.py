"""Why a run failed: exceptions classified by their type, and where in the notebook it broke.

Every exception papermill, nbclient, jupyter_client or nbformat raise while a notebook runs is
matched with ``isinstance`` against their own classes; an exception none of them explains is a
bug of hundred's (``internal-error``), never blamed on the user's kernel. The user's own
exceptions come from the kernel as names (``ename``), and only those are matched by name.

Positions are the user's: the 1-based place of the cell in their notebook (papermill's injected
parameters cell and error banners left out) and Jupyter's ``In [n]``.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hundred.results import CellFailure, FailureKind

TRACEBACK_TAIL = 12
# Exceptions raised in the user's kernel that mean the data is not there yet.
MISSING_DATA_ERRORS = frozenset({"FileNotFoundError", "WorkFailed"})
BUG = ("this is a bug in hundred, not in your notebook: please report it with the output of "
       "'hundred run --verbose'")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_CELL_LINE = re.compile(r"Cell In\s*\[\d*\],\s*line (\d+)")


@dataclass(frozen=True)
class Classified:
    kind: FailureKind
    error: CellFailure


def classify(raised: BaseException, notebook: Path) -> Classified:
    """The failure kind and details of ``raised``, read against the executed ``notebook``."""
    from jupyter_client.kernelspec import NoSuchKernel
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from nbformat import ValidationError
    from nbformat.reader import NotJSONError
    from papermill.exceptions import PapermillExecutionError

    if isinstance(raised, PapermillExecutionError):
        return _cell_error(raised, notebook)
    kinds: list[tuple[type[BaseException] | tuple[type[BaseException], ...], FailureKind]] = [
        (CellTimeoutError, "timeout"),
        (DeadKernelError, "dead-kernel"),
        (NoSuchKernel, "missing-kernel"),
        ((NotJSONError, ValidationError), "invalid-notebook"),
        (KeyboardInterrupt, "interrupted"),
    ]
    kind: FailureKind = next((k for types, k in kinds if isinstance(raised, types)),
                             "internal-error")
    evalue = str(raised).strip()[:2000]
    if kind == "internal-error":
        evalue = f"{evalue} ({BUG})"
    return Classified(kind, at_running_cell(notebook, type(raised).__name__, evalue,
                                            traceback.format_exception(raised)))


def kernel_start_failure(raised: BaseException) -> Classified:
    """A kernel that could not be started, after retries: the project fails, not the run."""
    from jupyter_client.kernelspec import NoSuchKernel

    if isinstance(raised, NoSuchKernel):
        return Classified("missing-kernel", CellFailure(ename="NoSuchKernel", evalue=str(raised)))
    return Classified("dead-kernel", CellFailure(
        ename=type(raised).__name__,
        evalue=f"the kernel did not start: {str(raised).strip()[:500]}",
        traceback_tail=tail(traceback.format_exception(raised))))


def _cell_error(raised: Any, notebook: Path) -> Classified:
    kind: FailureKind = "missing-data" if raised.ename in MISSING_DATA_ERRORS else "cell-error"
    return Classified(kind, CellFailure(
        cell=source_position(notebook, raised.cell_index), execution_count=raised.exec_count,
        line=failing_line(raised.source, raised.traceback), ename=raised.ename,
        evalue=raised.evalue, traceback_tail=tail(raised.traceback)))


def at_running_cell(notebook: Path, ename: str, evalue: str,
                    trace: Iterable[str] = ()) -> CellFailure:
    """A failure of the cell that was running when the run stopped (timeout, death, Ctrl-C)."""
    cell = running_cell(notebook)
    return CellFailure(cell=cell[0] if cell else None, execution_count=cell[1] if cell else None,
                       ename=ename, evalue=evalue, traceback_tail=tail(trace))


def tail(lines: Iterable[str]) -> list[str]:
    plain = [_ANSI.sub("", line).rstrip() for line in lines]
    return [line for line in "\n".join(plain).splitlines() if line.strip()][-TRACEBACK_TAIL:]


def failing_line(source: str, trace: Iterable[str]) -> str | None:
    """The line of the cell's code that raised, from IPython's ``Cell In[n], line L``."""
    match = _CELL_LINE.search(_ANSI.sub("", "\n".join(trace)))
    lines = source.splitlines()
    if match is None or not 1 <= int(match[1]) <= len(lines):
        return None
    return lines[int(match[1]) - 1].strip() or None


def executed_cells(notebook: Path) -> list[Any]:
    """The executed notebook's cells without papermill's error banners ([] if unreadable)."""
    import nbformat

    try:
        read = nbformat.read(notebook, as_version=4)
    except Exception:  # a notebook cut short by a kill: nothing to point at
        return []
    return [c for c in read.cells if "papermill-error-cell-tag" not in c.metadata.get("tags", [])]


def injected(cell: Any) -> bool:
    return "injected-parameters" in cell.metadata.get("tags", [])


def source_position(notebook: Path, executed_index: int) -> int | None:
    """The 1-based position, in the user's own notebook, of executed cell ``executed_index``."""
    cells = executed_cells(notebook)
    if not 0 <= executed_index < len(cells):
        return None
    return executed_index + 1 - sum(injected(c) for c in cells[:executed_index])


def running_cell(notebook: Path) -> tuple[int, int | None] | None:
    """(position, In [n]) of the cell that was running: the last one started."""
    cells = [c for c in executed_cells(notebook) if not injected(c)]
    started = [(number, cell.get("execution_count")) for number, cell in enumerate(cells, 1)
               if cell.metadata.get("papermill", {}).get("start_time")]
    return started[-1] if started else None


def mark_failure(notebook: Path, kind: FailureKind, error: CellFailure) -> None:
    """Leave in the executed notebook the mark papermill does not leave after a timeout, a dead
    kernel or an interrupt: the failure in its metadata and an error output on the cell."""
    import nbformat

    if kind in ("cell-error", "missing-data") or not notebook.is_file():
        return  # papermill already shows these with its red banner and the traceback
    try:
        read = nbformat.read(notebook, as_version=4)
    except Exception:
        notebook.unlink()  # cut short mid-write: keeping half a notebook helps nobody
        return
    read.metadata["hundred"] = {"failure": kind, "cell": error.cell, "ename": error.ename,
                                "evalue": error.evalue}
    started = [cell for cell in read.cells if cell.metadata.get("papermill", {}).get("start_time")]
    if started and started[-1].cell_type == "code":
        started[-1].outputs.append(nbformat.v4.new_output(
            "error", ename=error.ename, evalue=f"{kind}: {error.evalue}", traceback=[]))
    nbformat.write(read, notebook)
