"""Each project's status as typed rows: `hundred status` and its JSON render them.

The rows are read off the dashboard (``hundred.dashboard.build_dashboard``), so the terminal,
the JSON, README's progress section and the site's home page all say the same thing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hundred.challenge import ProjectProgress, Verdict
from hundred.dashboard import Dashboard
from hundred.results import FailureKind, RunResult, RunStatus


@dataclass(frozen=True)
class RunSummary:
    """The last run of one profile, as status shows it."""

    status: RunStatus
    failure: FailureKind | None
    when: str
    duration: float
    metric: str
    stale: bool  # it must run again for the current code (``hundred.freshness``)
    frozen: bool  # the committed frozen run
    cause: str | None = None  # a failed run's diagnosis (``hundred.diagnosis``)
    fix: str | None = None
    will_break: int = 0  # deprecation warnings it raised (``hundred.deprecations``)


@dataclass(frozen=True)
class StatusRow:
    project: str
    number: int
    title: str
    verified: Verdict
    reason: str
    runs: dict[str, RunSummary | None]  # by profile: the verifying one, then the published one
    problems: list[str] = field(default_factory=list)  # corrupt records, invalid writeups
    will_break: list[str] = field(default_factory=list)  # what breaks on upgrade, one per line

    @property
    def failing(self) -> bool:
        if not self.runs:  # an invalid writeup: nothing could run
            return self.verified == "failing"
        return any(run is not None and run.status == "failed" for run in self.runs.values())

    @property
    def stale(self) -> bool:
        return any(run is None or run.stale for run in self.runs.values())


def status_rows(root: Path, board: Dashboard) -> list[StatusRow]:
    """A row per project, invalid ones included, by number."""
    rows = [_row(root, progress, board) for progress in board.projects]
    rows += [StatusRow(project=p.name.folder, number=p.name.number, title=p.name.folder,
                       verified="failing", reason="its writeup is invalid", runs={},
                       problems=[p.message]) for p in board.invalid]
    return sorted(rows, key=lambda row: row.number)


def _row(root: Path, progress: ProjectProgress, board: Dashboard) -> StatusRow:
    settings, runs = board.run_settings, progress.runs
    latest = {settings.verify: runs.verify, settings.publish: runs.publish}
    summaries: dict[str, RunSummary | None] = {}
    for profile in (settings.verify, settings.publish):
        kept = runs.frozen if profile == settings.publish else None
        shown = latest[profile] or kept
        summaries[profile] = None if shown is None else _summary(
            shown, stale=progress.stale(profile), frozen=kept is not None)
    return StatusRow(
        project=progress.project.name.folder, number=progress.project.number,
        title=progress.project.writeup.title, verified=progress.status, reason=progress.reason,
        runs=summaries, problems=[c.message(root) for c in runs.corrupt],
        will_break=[d.line() for d in runs.deprecations])


def _summary(run: RunResult, *, stale: bool, frozen: bool) -> RunSummary:
    return RunSummary(status=run.status, failure=run.failure,
                      when=run.started_at.isoformat(timespec="seconds"),
                      duration=run.duration, metric=run.headline_text(), stale=stale,
                      frozen=frozen,
                      cause=run.diagnosis.cause if run.diagnosis else None,
                      fix=run.diagnosis.fix if run.diagnosis else None,
                      will_break=len(run.deprecations))


def status_document(root: Path, board: Dashboard) -> dict[str, Any]:
    """`hundred status --json`: the headline figures and a row per project."""
    pace = board.pace
    rows = status_rows(root, board)
    return {
        "target": board.settings.target, "done": board.done,
        "in_progress": board.count("in-progress"),
        "failing": board.count("failing") + len(board.invalid),
        "will_break_on_upgrade": board.will_break,
        "pace_per_week": round(pace.per_week, 3),
        "projected_finish": pace.projected_finish.isoformat() if pace.projected_finish else None,
        "projects": [_row_document(row) for row in rows],
    }


def _row_document(row: StatusRow) -> dict[str, Any]:
    document: dict[str, Any] = {
        "project": row.project, "number": row.number, "title": row.title,
        "verified": row.verified, "reason": row.reason}
    for profile, run in row.runs.items():
        document[profile] = None if run is None else asdict(run)
    document.update(failing=row.failing, stale=row.stale, problems=row.problems,
                    will_break_on_upgrade=row.will_break)
    return document
