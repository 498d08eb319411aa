"""Progress of a run as a person sees it: rich on a terminal, plain lines in a CI log.

It listens to ``run_projects``' events: how many notebooks there are, which are running, the
cell each one is in and the last line it printed, and every result as it comes.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from hundred.results import RunResult
from hundred.run.events import CellStarted, Finished, Notice, Planned, Printed, Progress, Started

HEARTBEAT = 10.0  # seconds between plain lines about a notebook that is still running


def result_line(result: RunResult) -> str:
    metric = f"  {result.headline_text()}" if result.headline else ""
    status = "passed" if result.passed else f"FAILED {result.summary()}"
    return f"{result.project}  {result.profile}  {result.duration:.1f}s  {status}{metric}"


@dataclass
class _Running:
    started: float
    cell: str = ""
    printed: str = ""
    told: float = 0.0

    def describe(self, now: float) -> str:
        parts = [f"{now - self.started:.0f}s"]
        if self.cell:
            parts.append(self.cell)
        if self.printed:
            parts.append(f"» {self.printed[:80]}")
        return ", ".join(parts)


class RunProgress:
    """Shows done/total, each running notebook's cell and last output, and every result."""

    def __init__(self, *, console: Any = None) -> None:
        """``console``: a rich Console to draw on; by default stderr, drawn on when a terminal
        (rich is imported only then: a CI log or a cached run does not pay for it)."""
        self.total = 0
        self.done = 0
        self.running: dict[str, _Running] = {}
        self.console = console
        self.started = time.monotonic()
        self.live = console.is_terminal if console is not None else sys.stderr.isatty()
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> RunProgress:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._progress is not None:
            self._progress.stop()

    def __call__(self, event: Progress) -> None:
        now = time.monotonic()
        if isinstance(event, Planned):
            self.total = event.tasks + event.done
            self._start_display()
        elif isinstance(event, Started):
            self.running[event.project] = _Running(now, told=now)
        elif isinstance(event, CellStarted) and event.project in self.running:
            self.running[event.project].cell = f"cell {event.position}/{event.total}"
        elif isinstance(event, Printed) and event.project in self.running:
            self.running[event.project].printed = event.line
        elif isinstance(event, Finished):
            self.running.pop(event.result.project, None)
            self.done += 1
            width = len(str(max(self.total, self.done)))
            self._print(f"[{self.done:>{width}}/{max(self.total, self.done)}] "
                        f"{result_line(event.result)}", ok=event.result.passed)
        elif isinstance(event, Notice):
            self._print(f"note: {event.text}", ok=True)
        self._refresh(now)

    def _start_display(self) -> None:
        if not self.live or self._progress is not None or not self.total:
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._progress = Progress(TextColumn("[bold]running"), BarColumn(),
                                  MofNCompleteColumn(), TimeElapsedColumn(),
                                  TextColumn("{task.description}"), console=self.console)
        self._progress.start()
        self._task = self._progress.add_task("", total=self.total)

    def _refresh(self, now: float) -> None:
        if self._progress is not None:
            lines = [f"{name} {state.describe(now)}" for name, state in self.running.items()]
            self._progress.update(self._task, completed=self.done,
                                  description="\n".join(lines))
            return
        for name, state in self.running.items():  # a CI log: a line now and then
            if now - state.told >= HEARTBEAT:
                state.told = now
                self._print(f"  … {name}: {state.describe(now)}", ok=True)

    def _print(self, line: str, *, ok: bool) -> None:
        if self._progress is not None:
            self.console.print(line, style=None if ok else "red", markup=False, highlight=False)
        else:
            elapsed = time.monotonic() - self.started
            print(f"{line}  (elapsed {elapsed:.0f}s)", file=sys.stderr, flush=True)
