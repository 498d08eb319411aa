"""`hundred run`, `status`, `build`, `publish`, `serve`, `readme` and `collect`: parse, call,
render."""

from __future__ import annotations

import argparse
import json
import os
import re
from pathlib import Path
from typing import Any

from hundred import results as store
from hundred.cli_common import root_of
from hundred.errors import HundredError

WILL_BREAK_SHOWN = 3  # warnings of what breaks on upgrade `hundred status` lists per project


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
    from hundred.progress import RunProgress
    from hundred.report import junit_xml, print_summary, report_document
    from hundred.run import run_projects

    with RunProgress() as progress:
        report = run_projects(
            root_of(args), args.projects, profile=args.profile, jobs=args.jobs, force=args.force,
            timeout=args.timeout, shard_of=args.shard, changed_since=args.changed_since,
            on_progress=progress)
    if args.json:
        print(json.dumps(report_document(report), indent=2))
    else:
        print_summary(report)
    if args.junit_xml:
        store.atomic_write(Path(args.junit_xml), junit_xml(report))
    return report.exit_code


def cmd_status(args: argparse.Namespace) -> int:
    from hundred.dashboard import build_dashboard, headline_lines
    from hundred.status import RunSummary, status_document, status_rows

    root = root_of(args)
    board = build_dashboard(root)
    if args.json:
        print(json.dumps(status_document(root, board), indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    rows = status_rows(root, board)
    profiles = (board.run_settings.verify, board.run_settings.publish)
    table = Table(title="hundred status")
    for column in ("project", "status", *profiles, "headline metric"):
        table.add_column(column)

    def cell(run: RunSummary | None) -> str:
        if run is None:
            return "[dim]never run[/dim]"
        text = "passed" if run.status == "passed" else f"[red]{run.failure}[/red]"
        text += f" {run.when[:16].replace('T', ' ')} ({run.duration:.1f}s)"
        return text + (" [yellow]stale[/yellow]" if run.stale else "")

    for row in rows:
        shown = [row.runs.get(profile) for profile in profiles]
        metric = next((run.metric for run in reversed(shown) if run is not None), "")
        status = {"done": "[green]done[/green]", "failing": "[red]failing[/red]"}.get(
            row.verified, "in progress")
        table.add_row(row.project, status, *(cell(run) for run in shown), metric)
    console = Console()
    console.print(table)
    failing = [r.project for r in rows if r.failing]
    stale = [r.project for r in rows if r.stale]
    console.print(f"{len(rows)} projects, {len(failing)} failing, {len(stale)} stale",
                  highlight=False)
    for row in rows:
        for problem in row.problems:
            print(f"{row.project}: {problem}")
        for run in row.runs.values():
            if run is not None and run.cause is not None and run.status == "failed":
                print(f"{row.project}: {run.cause}; fix: {run.fix}")
                break
        for line in row.will_break[:WILL_BREAK_SHOWN]:
            print(f"{row.project}: will break on upgrade: {line}")
        if len(row.will_break) > WILL_BREAK_SHOWN:
            print(f"{row.project}: will break on upgrade: and "
                  f"{len(row.will_break) - WILL_BREAK_SHOWN} more ('hundred status --json')")
    for line in headline_lines(board):
        print(line)  # whole lines, never wrapped at the terminal's width
    return 0


def cmd_readme(args: argparse.Namespace) -> int:
    from hundred.dashboard import rewrite_readme

    root = root_of(args)
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
    root = root_of(args)
    sources = [Path(source) for source in args.sources]
    for source in sources:
        if not source.is_dir():
            raise HundredError(f"{source} is not a folder; give the folders of the shards' "
                               "results (each holding .hundred/runs or runs/)")
    merged = store.collect(root, sources)
    print(f"collected {len(merged)} results into {store.RUNS}")
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    """Run what changed (the verifying profile, cached), then build the site strictly."""
    from hundred.progress import RunProgress
    from hundred.report import print_summary
    from hundred.sitebuild import verify_then_mkdocs

    root = root_of(args)
    code = verify_then_mkdocs(
        root, "build", "--strict", "--site-dir", str(root / "site"),
        failure="the site did not build; mkdocs says why above", jobs=args.jobs,
        timeout=args.timeout, progress=RunProgress, on_report=print_summary)
    if code in (0, 1):  # built; 1: a notebook failed, and its post says so
        print(f"site built: {root / 'site' / 'index.html'}")
    return code


def cmd_publish(args: argparse.Namespace) -> int:
    """Check git, run what changed, then deploy the site to the remote's gh-pages branch."""
    from hundred.progress import RunProgress
    from hundred.publish import BRANCH, publish, site_url
    from hundred.report import print_summary

    root = root_of(args)
    code = publish(root, remote=args.remote, allow_dirty=args.allow_dirty, jobs=args.jobs,
                   timeout=args.timeout, progress=RunProgress, on_report=print_summary)
    if code in (0, 1):  # deployed; 1: a notebook failed, and its post says so
        url = site_url(root)
        print(f"published to {args.remote}'s {BRANCH} branch"
              + (f": {url}" if url else " (set site_url in mkdocs.yml to print its address)"))
    return code


def cmd_serve(args: argparse.Namespace) -> int:
    """Live preview of the site: edits to writeups and new results rebuild it."""
    from hundred.mkdocs_runner import run_mkdocs

    return run_mkdocs(root_of(args), "serve", "--dev-addr", args.dev_addr)


def add_execution_options(parser: argparse.ArgumentParser) -> None:
    """What `hundred run`, `build` and `publish` take to execute notebooks."""
    parser.add_argument("--jobs", "-j", type=_jobs, default=os.cpu_count() or 1,
                        help="notebooks at once (default: CPU count)")
    parser.add_argument("--timeout", type=_positive, default=None,
                        help="seconds a cell may run before it fails (default: no limit)")


def add_commands(sub: Any) -> None:
    run = sub.add_parser("run", help="execute notebooks with papermill (smoke by default)")
    run.add_argument("projects", nargs="*", metavar="PROJECT",
                     help="numbers (042) or folder names; default: every project")
    run.add_argument("--profile", default=None,
                     help="parameter set: smoke (the default: [tool.hundred] verify), full, …")
    add_execution_options(run)
    run.add_argument("--shard", type=_shard, help="run shard K of N (K/N), for CI matrices")
    run.add_argument("--force", action="store_true", help="ignore the cache: run everything")
    run.add_argument("--changed-since", metavar="GITREF",
                     help="only projects with files changed since this git ref")
    run.add_argument("--junit-xml", metavar="PATH", help="write a JUnit report here")
    run.add_argument("--json", action="store_true", help="print the report as JSON")
    run.set_defaults(handler=cmd_run)

    status = sub.add_parser("status", help="last runs, stale projects, failures")
    status.add_argument("--json", action="store_true", help="print JSON for machines")
    status.set_defaults(handler=cmd_status)

    build = sub.add_parser("build", help="run what changed (smoke), then build the site")
    add_execution_options(build)
    build.set_defaults(handler=cmd_build)

    publish = sub.add_parser("publish", help="check git, build, deploy the site to gh-pages")
    add_execution_options(publish)
    publish.add_argument("--remote", default="origin",
                         help="git remote to push the gh-pages branch to (default: origin)")
    publish.add_argument("--allow-dirty", action="store_true",
                         help="publish even with uncommitted changes to tracked files")
    publish.set_defaults(handler=cmd_publish)

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


