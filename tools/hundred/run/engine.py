"""The papermill engine: executes one notebook with a kernel started ahead of time.

Besides executing, it watches the cells: it reports which cell runs and the last line printed
(for the progress display), and bounds each cell's output so that a notebook printing 200 MB
cannot make a 200 MB post: past ``max_output`` bytes the rest of the cell's output is dropped
and a visible note says so, in the executed notebook and therefore in the post.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hundred.run.events import CellStarted, Printed, WorkerEvent

ENGINE = "hundred-prestarted"
PRINT_EVERY = 0.5  # seconds between two "last line printed" reports of one notebook


@dataclass
class CellWatch:
    """What the engine tells about a running notebook, and what it cut."""

    project: str
    send: Callable[[WorkerEvent], None]
    max_output: int
    cut: list[int] = field(default_factory=list)  # positions of cells whose output was cut
    _used: dict[int, int] = field(default_factory=dict)
    _positions: dict[int, int] = field(default_factory=dict)
    _last_print: float = 0.0
    _pending: str | None = None
    _scheduled: bool = False

    def notebook_started(self, cells: list[Any]) -> None:
        position = 0
        for index, cell in enumerate(cells):
            if "injected-parameters" not in cell.metadata.get("tags", []):
                position += 1
                self._positions[index] = position
        self._total = position

    def cell_started(self, cell: Any, cell_index: int, **_: Any) -> None:
        position = self._positions.get(cell_index)
        if position is not None and cell.cell_type == "code":
            self.send(CellStarted(self.project, position, self._total))

    def bound(self, outs: list[Any], out: Any, cell_index: int) -> None:
        """Keep at most ``max_output`` bytes of a cell's outputs; note the cut once."""
        if out.output_type == "error":
            return  # the traceback is what the user needs most
        size = _size(out)
        used = self._used.get(cell_index, 0)
        self._used[cell_index] = used + size
        if used + size <= self.max_output:
            self._report(out)
            return
        position = self._positions.get(cell_index, cell_index + 1)
        if position in self.cut:
            if outs and outs[-1] is out:
                outs.pop()
            return
        self.cut.append(position)
        import nbformat

        room = max(self.max_output - used, 0)
        kept = "".join(out.text)[:room] if out.output_type == "stream" else ""
        note = (f"\n[hundred: the output of this cell was cut here: it went past "
                f"{self.max_output:,} bytes ([tool.hundred] max_cell_output). Write large "
                "results to a file instead of printing them.]\n")
        where = next(i for i in range(len(outs) - 1, -1, -1) if outs[i] is out)
        outs[where] = nbformat.v4.new_output("stream", name="stderr" if (
            out.output_type == "stream" and out.name == "stderr") else "stdout",
            text=kept + note)

    def _report(self, out: Any) -> None:
        """Tell the last line printed, at most every PRINT_EVERY seconds; a line held back is
        told when the interval is over, even if the cell prints nothing more."""
        if out.output_type != "stream":
            return
        lines = [line for line in "".join(out.text).splitlines() if line.strip()]
        if not lines:
            return
        self._pending = lines[-1][:200]
        wait = self._last_print + PRINT_EVERY - time.monotonic()
        if wait <= 0:
            self._tell()
        elif not self._scheduled:
            import asyncio

            self._scheduled = True
            asyncio.get_event_loop().call_later(wait, self._tell)

    def _tell(self) -> None:
        self._scheduled = False
        if self._pending is not None:
            self._last_print = time.monotonic()
            self.send(Printed(self.project, self._pending))
            self._pending = None


def _size(out: Any) -> int:
    if out.output_type == "stream":
        return len("".join(out.text))
    data = out.get("data", {})
    return sum(len(value) if isinstance(value, str) else len(str(value))
               for value in data.values())


def register_engine() -> None:
    """Register the engine with papermill (in a worker process, once)."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines

    class FewerSaves(NotebookExecutionManager):  # type: ignore[misc]
        """papermill's manager, writing the notebook when a code cell starts and at the end.

        papermill writes the whole notebook (copied, validated, serialised with its figures)
        before and after every cell, markdown cells included: 47 writes of a 22-cell notebook,
        profiled at a third of a worker's CPU, which the kernels on the same CPUs lose. A
        write when each code cell starts keeps what a killed run needs (the cell that was
        running, the outputs before it); ``notebook_complete`` still writes the final notebook
        after a failure, a timeout or a dead kernel. The cells' metadata is papermill's.
        """

        _quiet = False

        def save(self, **kwargs: Any) -> None:
            if not self._quiet:
                super().save(**kwargs)

        def cell_start(self, cell: Any, cell_index: int | None = None, **kwargs: Any) -> None:
            self._quiet = cell.cell_type != "code"
            try:
                super().cell_start(cell, cell_index, **kwargs)
            finally:
                self._quiet = False

        def cell_complete(self, cell: Any, cell_index: int | None = None, **kwargs: Any
                          ) -> None:
            self._quiet = True
            try:
                super().cell_complete(cell, cell_index, **kwargs)
            finally:
                self._quiet = False

    class WatchedClient(PapermillNotebookClient):  # type: ignore[misc]
        def __init__(self, nb_man: Any, *, watch: CellWatch, **kwargs: Any) -> None:
            super().__init__(nb_man, on_cell_start=watch.cell_started, **kwargs)
            self.watch = watch
            watch.notebook_started(nb_man.nb.cells)

        def output(self, outs: list[Any], msg: dict[str, Any], display_id: str | None,
                   cell_index: int) -> Any:
            out = super().output(outs, msg, display_id, cell_index)
            if out is not None:
                self.watch.bound(outs, out, cell_index)
            return out

    class PrestartedKernelEngine(NBClientEngine):  # type: ignore[misc]
        @classmethod
        def execute_notebook(cls, nb: Any, kernel_name: str, output_path: str | None = None,
                             progress_bar: bool = True, log_output: bool = False,
                             autosave_cell_every: int = 30, **kwargs: Any) -> Any:
            # papermill's Engine.execute_notebook, with the manager that writes less.
            nb_man = FewerSaves(nb, output_path=output_path, progress_bar=progress_bar,
                                log_output=log_output, autosave_cell_every=autosave_cell_every)
            nb_man.notebook_start()
            try:
                cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output,
                                             **kwargs)
            finally:
                nb_man.cleanup_pbar()
                nb_man.notebook_complete()
            return nb_man.nb

        @classmethod
        def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, **kwargs: Any) -> Any:
            kernel = kwargs["kernel"]
            client = WatchedClient(
                nb_man,
                watch=kwargs["watch"],
                km=kernel.manager,
                timeout=kwargs.get("execution_timeout"),
                startup_timeout=kwargs.get("start_timeout", 60),
                kernel_name=kernel_name,
                log_output=False,
                shutdown_kernel="immediate",
            )
            client.kc = kernel.client  # connected and ready: nbclient starts no other
            # The kernel is ours: the worker shuts it down.
            return client.execute(cleanup_kc=False)

    papermill_engines.register(ENGINE, PrestartedKernelEngine)
