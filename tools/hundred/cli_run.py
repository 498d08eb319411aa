"""`hundred run`, `hundred status` and `hundred collect`: execute notebooks and report on runs."""

from __future__ import annotations

import argparse
import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hundred import catalog
from hundred import results as store
from hundred.cli import _root
from hundred.config import load_settings, parameters_for
from hundred.errors import HundredError, WorkFailed
from hundred.results import RunResult

if TYPE_CHECKING:
    from hundred.dashboard import Dashboard


def _shard(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)/(\d+)", text)
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        raise argparse.ArgumentTypeError(f"shard {text!r} must be K/N with 1 <= K <= N, e.g. 2/4")
    return int(match[1]), int(match[2])


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number of seconds")
    return value


def _jobs(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"--jobs {text!r} must be a whole number >= 1")
    return int(text)


def cmd_run(args: argparse.Namespace) -> int:
    from hundred.execute import changed_projects, execute, known_duration, plan_runs, shard
    from hundred.progress import RunProgress

    root = _root(args)
    settings = load_settings(root)
    if args.profile not in settings.profiles:
        parameters_for(settings, args.profile, {})  # raises the unknown-profile error
    projects = catalog.select(catalog.load(root), args.projects)
    if args.changed_since:
        changed = changed_projects(root, args.changed_since)
        projects = [p for p in projects if p.name.folder in changed]
    if args.shard:
        index, count = args.shard
        projects = shard(projects, index, count, lambda p: known_duration(root, p))
    plan = plan_runs(root, projects, settings=settings, profile=args.profile, force=args.force,
                     timeout=args.timeout)
    freeze = args.profile in settings.freeze
    finished: list[RunResult] = [store.save(root, r, freeze=False) for r in plan.failed_early]
    interrupted = False

    with RunProgress(len(plan.tasks)) as progress:
        for result in plan.failed_early:
            progress("done", result)

        def on_event(kind: str, data: Any) -> None:
            if kind == "done":
                data = store.save(root, data, freeze=freeze)
                finished.append(data)
            progress(kind, data)

        try:
            execute(plan.tasks, jobs=args.jobs, on_event=on_event)
        except KeyboardInterrupt:
            interrupted = True
    _print_summary(finished, plan.cached)
    if args.junit_xml:
        store.atomic_write(Path(args.junit_xml), store.junit_xml(finished, cached=plan.cached))
    if interrupted:
        return 130
    return 1 if any(not r.passed for r in finished) else 0


def _print_summary(finished: list[RunResult], cached: list[RunResult]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if finished:
        table = Table(title="hundred run")
        for column in ("project", "profile", "status", "duration", "headline metric"):
            table.add_column(column, justify="right" if column == "duration" else "left")
        for result in sorted(finished, key=lambda r: r.number):
            status = "passed" if result.passed else f"[red]{result.failure}[/red]"
            table.add_row(result.project, result.profile, status, f"{result.duration:.1f}s",
                          result.headline_text())
        console.print(table)
        for result in finished:
            if not result.passed:
                console.print(f"[red]{result.project}[/red]: {result.summary()}", markup=True,
                              highlight=False)
    failed = sum(not r.passed for r in finished)
    console.print(f"{len(finished) - failed} passed, {failed} failed, {len(cached)} cached "
                  "(unchanged since their last successful run)", highlight=False)


def project_status(root: Path, board: Dashboard) -> list[dict[str, Any]]:
    """Each project's verified status, last smoke and full runs, and whether they are stale."""
    from hundred.challenge import current_key

    settings = load_settings(root)
    rows = []
    for progress in board.projects:
        project, runs = progress.project, progress.runs
        row: dict[str, Any] = {"project": project.name.folder, "number": project.number,
                               "title": project.writeup.title,
                               "verified": progress.status, "reason": progress.reason}
        for profile, last, key in (
            ("smoke", runs.smoke, current_key(project, settings, "smoke")),
            ("full", runs.full, progress.full_key),
        ):
            frozen = runs.frozen if profile == "full" else store.frozen(root, row["project"],
                                                                       profile)
            kept = frozen if profile in settings.freeze else None
            reference = kept or (last if last and last.passed else None)
            shown = last or kept
            row[profile] = None if shown is None else {
                "status": shown.status, "failure": shown.failure,
                "when": shown.started_at.isoformat(timespec="seconds"),
                "duration": shown.duration,
                "metric": shown.headline_text(),
                "stale": reference is None or reference.cache_key != key,
                "frozen": kept is not None,
            }
        row["failing"] = any(row[p] and row[p]["status"] == "failed" for p in ("smoke", "full"))
        row["stale"] = any(row[p] is None or row[p]["stale"] for p in ("smoke", "full"))
        rows.append(row)
    return rows


def cmd_status(args: argparse.Namespace) -> int:
    from hundred.dashboard import build_dashboard, headline_lines

    root = _root(args)
    board = build_dashboard(root)
    rows = project_status(root, board)
    if args.json:
        pace = board.pace
        print(json.dumps({
            "target": board.settings.target, "done": board.done,
            "in_progress": board.count("in-progress"), "failing": board.count("failing"),
            "pace_per_week": round(pace.per_week, 3),
            "projected_finish": pace.projected_finish.isoformat()
            if pace.projected_finish else None,
            "projects": rows,
        }, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title="hundred status")
    for column in ("project", "status", "smoke", "full", "headline metric"):
        table.add_column(column)

    def cell(run: dict[str, Any] | None) -> str:
        if run is None:
            return "[dim]never run[/dim]"
        text = "passed" if run["status"] == "passed" else f"[red]{run['failure']}[/red]"
        text += f" {run['when'][:16].replace('T', ' ')} ({run['duration']:.1f}s)"
        return text + (" [yellow]stale[/yellow]" if run["stale"] else "")

    for row in rows:
        metric = (row["full"] or row["smoke"] or {}).get("metric", "")
        status = {"done": "[green]done[/green]", "failing": "[red]failing[/red]"}.get(
            row["verified"], "in progress")
        table.add_row(row["project"], status, cell(row["smoke"]), cell(row["full"]), metric)
    console = Console()
    console.print(table)
    failing = [r["project"] for r in rows if r["failing"]]
    stale = [r["project"] for r in rows if r["stale"]]
    console.print(f"{len(rows)} projects, {len(failing)} failing, {len(stale)} stale",
                  highlight=False)
    for line in headline_lines(board):
        print(line)  # whole lines, never wrapped at the terminal's width
    return 0


def cmd_readme(args: argparse.Namespace) -> int:
    from hundred.dashboard import rewrite_readme

    root = _root(args)
    changed = rewrite_readme(root, check=args.check)
    if args.check:
        if changed:
            print("README.md's progress section is stale; run 'hundred readme' and commit")
            return 1
        print("README.md's progress section is current")
        return 0
    print("README.md's progress section " + ("rewritten" if changed else "was already current"))
    return 0


def cmd_collect(args: argparse.Namespace) -> int:
    root = _root(args)
    sources = [Path(source) for source in args.sources]
    for source in sources:
        if not source.is_dir():
            raise HundredError(f"{source} is not a folder; give the folders of the shards' "
                               "results (each holding .hundred/runs or runs/)")
    merged = store.collect(root, sources)
    print(f"collected {len(merged)} results into {store.RUNS}")
    return 0


def _mkdocs(root: Path, *arguments: str) -> int:
    import subprocess
    import sys

    config = root / "mkdocs.yml"
    if not config.is_file():
        raise HundredError(f"no mkdocs.yml in {root}; restore it from the hundred repository")
    environment = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run([sys.executable, "-m", "mkdocs", *arguments, "-f", str(config)],
                          cwd=root, env=environment, check=False).returncode


def cmd_build(args: argparse.Namespace) -> int:
    """Run what changed (smoke, cached), then build the site strictly; say where it is."""
    root = _root(args)
    ran = cmd_run(argparse.Namespace(**{**vars(args), "projects": [], "profile": "smoke",
                                        "shard": None, "force": False, "changed_since": None,
                                        "junit_xml": None}))
    if ran == 130:
        return ran
    if _mkdocs(root, "build", "--strict", "--site-dir", str(root / "site")) != 0:
        raise WorkFailed("the site did not build; mkdocs says why above")
    print(f"site built: {root / 'site' / 'index.html'}")
    return 1 if ran else 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Live preview of the site: edits to writeups and new results rebuild it."""
    root = _root(args)
    return _mkdocs(root, "serve", "--dev-addr", args.dev_addr)


def _add_execution_options(parser: argparse.ArgumentParser) -> None:
    """What `hundred run` and `hundred build` both take to execute notebooks."""
    parser.add_argument("--jobs", "-j", type=_jobs, default=os.cpu_count() or 1,
                        help="notebooks at once (default: CPU count)")
    parser.add_argument("--timeout", type=_positive, default=None,
                        help="seconds a cell may run before it fails (default: no limit)")


def add_commands(sub: Any) -> None:
    run = sub.add_parser("run", help="execute notebooks with papermill (smoke by default)")
    run.add_argument("projects", nargs="*", metavar="PROJECT",
                     help="numbers (042) or folder names; default: every project")
    run.add_argument("--profile", default="smoke", help="parameter set: smoke (default), full, …")
    _add_execution_options(run)
    run.add_argument("--shard", type=_shard, help="run shard K of N (K/N), for CI matrices")
    run.add_argument("--force", action="store_true", help="ignore the cache: run everything")
    run.add_argument("--changed-since", metavar="GITREF",
                     help="only projects with files changed since this git ref")
    run.add_argument("--junit-xml", metavar="PATH", help="write a JUnit report here")
    run.set_defaults(handler=cmd_run)

    status = sub.add_parser("status", help="last runs, stale projects, failures")
    status.add_argument("--json", action="store_true", help="print JSON for machines")
    status.set_defaults(handler=cmd_status)

    build = sub.add_parser("build", help="run what changed (smoke), then build the site")
    _add_execution_options(build)
    build.set_defaults(handler=cmd_build)

    serve = sub.add_parser("serve", help="live preview of the site while you write")
    serve.add_argument("--dev-addr", default="127.0.0.1:8000", help="IP:PORT to serve on")
    serve.set_defaults(handler=cmd_serve)

    readme = sub.add_parser("readme", help="rewrite README.md's progress section and badge")
    readme.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 when the section is stale (for CI)")
    readme.set_defaults(handler=cmd_readme)

    collect = sub.add_parser("collect", help="merge result folders of several shards")
    collect.add_argument("sources", nargs="+", metavar="DIR")
    collect.set_defaults(handler=cmd_collect)
