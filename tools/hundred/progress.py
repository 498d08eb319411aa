"""Progress of a run: a rich live display on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any

from rich.console import Console

from hundred.results import RunResult


def result_line(result: RunResult) -> str:
    metric = f"  {result.headline_text()}" if result.headline else ""
    status = "passed" if result.passed else f"FAILED {result.summary()}"
    return f"{result.project}  {result.profile}  {result.duration:.1f}s  {status}{metric}"


class RunProgress:
    """Shows done/total, what is running now and the elapsed time while a run goes on."""

    def __init__(self, total: int, *, console: Console | None = None) -> None:
        self.total = total
        self.done = 0
        self.running: list[str] = []
        self.console = console or Console(stderr=True)
        self.started = time.perf_counter()
        self.live = self.console.is_terminal
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> RunProgress:
        if self.live and self.total:
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
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._progress is not None:
            self._progress.stop()

    def __call__(self, kind: str, data: Any) -> None:
        if kind == "start":
            self.running.append(str(data))
        elif kind == "done":
            result: RunResult = data
            if result.project in self.running:
                self.running.remove(result.project)
            self.done += 1
            self._print(f"[{self.done:>{len(str(self.total))}}/{self.total}] "
                        f"{result_line(result)}", ok=result.passed)
        if self._progress is not None:
            self._progress.update(self._task, completed=self.done,
                                  description=", ".join(self.running))

    def _print(self, line: str, *, ok: bool) -> None:
        if self._progress is not None:
            self.console.print(line, style=None if ok else "red", markup=False, highlight=False)
        else:
            elapsed = time.perf_counter() - self.started
            print(f"{line}  (elapsed {elapsed:.0f}s)", file=sys.stderr, flush=True)
