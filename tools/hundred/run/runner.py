"""``run_projects``: the one way to run a monorepo's notebooks, for the CLI, tests and benchmarks.

It selects projects, takes the monorepo's run lock, plans (``plan``), executes on the worker
pool (``pool``) and saves every record as it arrives (``hundred.results``), then returns a
``RunReport``: a frozen value that the terminal table, the JSON and the JUnit file render.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from hundred import catalog
from hundred import results as store
from hundred.config import Settings, load_settings, parameters_for
from hundred.diagnosis import diagnosed
from hundred.lock import monorepo_lock
from hundred.results import RunResult
from hundred.run.events import Finished, Notice, Planned, Progress
from hundred.run.plan import changed_projects, known_duration, plan_runs, shard
from hundred.run.signals import Stop
from hundred.run.zygote import SharedZygote, start_shared_zygote

EXIT_CODES = {"SIGINT": 130, "SIGTERM": 143}


@dataclass(frozen=True)
class RunReport:
    """What a run did: every result, in project order, and how it ended."""

    profile: str
    results: tuple[RunResult, ...]  # ran now, or failed before they could run
    cached: tuple[RunResult, ...]  # current: not run again
    not_run: tuple[str, ...] = ()  # left in the queue when the run was stopped
    notices: tuple[str, ...] = ()
    stopped_by: str | None = None  # "SIGINT" or "SIGTERM" when the run was interrupted

    @property
    def passed(self) -> list[RunResult]:
        return [r for r in self.results if r.passed]

    @property
    def failed(self) -> list[RunResult]:
        return [r for r in self.results if not r.passed]

    @property
    def exit_code(self) -> int:
        if self.stopped_by is not None:
            return EXIT_CODES.get(self.stopped_by, 130)
        return 1 if self.failed else 0


def run_projects(
    root: Path,
    selection: Sequence[str] = (),
    *,
    profile: str | None = None,
    jobs: int | None = None,
    force: bool = False,
    timeout: float | None = None,
    shard_of: tuple[int, int] | None = None,
    changed_since: str | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> RunReport:
    """Run the notebooks of the projects in ``selection`` (numbers or folders; all if empty).

    ``profile`` defaults to the verifying profile (``smoke``); ``jobs`` to the CPU count.
    SIGINT and SIGTERM stop the run cleanly: running projects are recorded as interrupted and
    the report says which signal stopped it. Bad input raises ``HundredError`` before anything
    is written.
    """
    tell = on_progress or (lambda event: None)
    settings = load_settings(root)
    profile = profile or settings.verify
    parameters_for(settings, profile, {})  # an unknown profile is bad input
    projects, invalid = _chosen(root, settings, selection, shard_of, changed_since)
    workers = jobs or os.cpu_count() or 1
    with (monorepo_lock(root, "run", on_wait=lambda line: tell(Notice(line))), Stop() as stop,
          _zygote_ahead(workers if projects else 0) as ahead):
        plan = plan_runs(root, projects, settings=settings, profile=profile, force=force,
                         timeout=timeout, invalid=invalid, stopping=lambda: stop.requested,
                         tell=lambda line: tell(Notice(line)))
        for text in plan.notices:
            tell(Notice(text))
        tell(Planned(tasks=len(plan.tasks), done=len(plan.cached) + len(plan.failed_early)))
        freeze = profile in settings.freeze

        def finish(result: RunResult) -> RunResult:
            return store.save(root, diagnosed(root, result), freeze=freeze)

        early = [finish(result) for result in plan.failed_early]
        for result in early:
            tell(Finished(result))
        ran: list[RunResult] = []
        stopped = stop.requested
        if plan.tasks and not stopped:
            from hundred.run.pool import Pool

            outcome = Pool(plan.tasks, jobs=workers, finish=finish, on_progress=tell,
                           stop=stop, ahead=ahead).run()
            ran, stopped = outcome.results, outcome.stopped
    finished = {r.project for r in ran}
    return RunReport(
        profile=profile,
        results=tuple(sorted([*early, *ran], key=lambda r: r.number)),
        cached=tuple(plan.cached),
        not_run=tuple(t.project for t in plan.tasks if t.project not in finished),
        notices=tuple(plan.notices),
        stopped_by=stop.name if stopped else None,
    )


@contextlib.contextmanager
def _zygote_ahead(jobs: int) -> Iterator[SharedZygote | None]:
    """The pool's shared zygote, started while the run is planned; killed if it was not used."""
    ahead = start_shared_zygote(jobs)
    try:
        yield ahead
    finally:
        if ahead is not None:
            ahead.discard()


def _chosen(root: Path, settings: Settings, selection: Sequence[str],
            shard_of: tuple[int, int] | None, changed_since: str | None
            ) -> tuple[list[catalog.Project], list[catalog.InvalidProject]]:
    """The valid and invalid projects selected, in catalog order."""
    found = catalog.scan(root)
    broken = {p.name: p for p in found.invalid}
    stand_ins = [catalog.Project(p.name, p.path) for p in found.invalid]
    everything = sorted([*found.projects, *stand_ins], key=lambda p: p.name)
    chosen = catalog.select(everything, list(selection))
    if changed_since:
        changed = changed_projects(root, changed_since)
        chosen = [p for p in chosen if p.name.folder in changed]
    if shard_of:
        chosen = shard(chosen, *shard_of, lambda p: known_duration(root, p, settings))
    return ([p for p in chosen if p.name not in broken],
            [broken[p.name] for p in chosen if p.name in broken])
