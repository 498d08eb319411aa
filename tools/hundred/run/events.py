"""What workers and the orchestrator say to each other, and what a run tells its caller.

Workers send these over their pipe; ``run_projects`` passes the ones a person should see to its
``on_progress`` callback. Every event is a small frozen value, picklable.
"""

from __future__ import annotations

from dataclasses import dataclass

from hundred.results import RunResult


@dataclass(frozen=True)
class WantTask:
    """A worker is ready for another task (it starts that task's kernel ahead of time)."""


@dataclass(frozen=True)
class KernelStarted:
    """A process the orchestrator must kill if the run is stopped: a kernel or a zygote."""

    pid: int


@dataclass(frozen=True)
class KernelGone:
    pid: int


@dataclass(frozen=True)
class Started:
    """A notebook began executing."""

    project: str


@dataclass(frozen=True)
class CellStarted:
    """A notebook reached its cell ``position`` of ``total`` (positions as the user counts)."""

    project: str
    position: int
    total: int


@dataclass(frozen=True)
class Printed:
    """The last line a running notebook printed."""

    project: str
    line: str


@dataclass(frozen=True)
class Finished:
    """A notebook's run ended (passed or failed); its record is saved."""

    result: RunResult


@dataclass(frozen=True)
class Planned:
    """What the run will do: ``tasks`` notebooks to execute, ``done`` already settled (cached,
    or failed before they could run)."""

    tasks: int
    done: int


@dataclass(frozen=True)
class Tick:
    """Nothing new; sent about once a second so that a display can show time passing."""


@dataclass(frozen=True)
class Notice:
    """Something a person should know that is no project's failure, in one line."""

    text: str


WorkerEvent = (WantTask | KernelStarted | KernelGone | Started | CellStarted | Printed | Finished
               | Notice)
Progress = Planned | Started | CellStarted | Printed | Finished | Notice | Tick
