"""What `hundred build` and `hundred publish` share: verify the notebooks, then run mkdocs.

The verifying profile runs first (cached: only what changed), so the site shows every
project's real state; mkdocs then builds or deploys it.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

from hundred.errors import HundredError, WorkFailed

if TYPE_CHECKING:  # the run package is imported when a run starts, not before
    from hundred.run import RunReport
    from hundred.run.events import Progress

    ProgressHook = Callable[[Progress], None]


def check_site(root: Path) -> None:
    """Stop, before anything runs, when the monorepo has no site to build."""
    if not (root / "mkdocs.yml").is_file():
        raise HundredError(f"no mkdocs.yml in {root}; restore it from the hundred repository")


def verify_then_mkdocs(
    root: Path,
    *arguments: str,
    failure: str,
    jobs: int | None = None,
    timeout: float | None = None,
    progress: Callable[[], AbstractContextManager[ProgressHook | None]] = nullcontext,
    on_report: Callable[[RunReport], None] | None = None,
) -> int:
    """Run what changed (the verifying profile, cached), then ``mkdocs ARGUMENTS``.

    ``progress`` makes the context that receives the run's events while it runs (e.g.
    ``RunProgress``; by default none); ``on_report`` gets the run's report once it ended.
    Returns the run's exit code (0, or 1 when a notebook failed) once mkdocs succeeded; 130 or
    143 when the run or mkdocs was stopped by SIGINT or SIGTERM (mkdocs does not start after a
    stopped run).
    Raises ``WorkFailed(failure)`` when mkdocs fails.
    """
    from hundred.mkdocs_runner import run_mkdocs
    from hundred.run import run_projects

    check_site(root)
    with progress() as tell:
        report = run_projects(root, jobs=jobs, timeout=timeout, on_progress=tell)
    if on_report is not None:
        on_report(report)
    if report.stopped_by is not None:
        return report.exit_code
    code = run_mkdocs(root, *arguments)
    if code in (130, 143):
        return code
    if code != 0:
        raise WorkFailed(failure)
    return report.exit_code
