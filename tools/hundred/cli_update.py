"""`hundred update`: bring projects up to the current project template."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from hundred.cli_common import root_of

if TYPE_CHECKING:
    from hundred.update import ProjectUpdate, UpdateReport


def cmd_update(args: argparse.Namespace) -> int:
    from hundred.update import update_projects

    def show(update: ProjectUpdate) -> None:
        for line in project_lines(update, dry_run=args.dry_run):
            print(line, file=sys.stderr if update.error else sys.stdout)

    report = update_projects(root_of(args), args.projects, dry_run=args.dry_run,
                             on_wait=lambda line: print(line, file=sys.stderr), on_project=show)
    print(closing_line(report))
    return report.exit_code


def project_lines(update: ProjectUpdate, *, dry_run: bool) -> list[str]:
    """One project's outcome: a heading, then a line per file (``+`` added, ``~`` changed or
    merged, ``-`` deleted, ``>`` renamed, ``!`` conflict, ``=`` kept as it was)."""
    if update.error is not None:
        return [f"error: {update.error}"]
    if update.skipped is not None:
        return [f"skip: {update.project}: {update.skipped}"]
    if not update.touched and not update.kept:
        return []
    verb = "would update" if dry_run else "updated"
    since = f" (made from the template of {update.base[:7]})" if update.base else ""
    lines = [f"{verb if update.touched else 'nothing to take for'} {update.project}{since}"]
    lines += [f"  + {path}" for path in update.added]
    lines += [f"  ~ {path}" for path in update.changed]
    lines += [f"  ~ {path} (merged)" for path in update.merged]
    lines += [f"  - {path}" for path in update.deleted]
    lines += [f"  > {before} → {after}" for before, after in update.renamed]
    lines += [f"  = {line}" for line in update.kept]
    lines += [f"  ! {conflict.line()}" for conflict in update.conflicts]
    return lines


def closing_line(report: UpdateReport) -> str:
    """The counts, and what to do next."""
    projects = report.projects
    touched = [p for p in projects if p.touched and p.error is None]
    conflicted = sum(bool(p.conflicts) for p in touched)
    current = sum(not p.touched and p.skipped is None and p.error is None for p in projects)
    skipped = sum(p.skipped is not None for p in projects)
    failed = sum(p.error is not None for p in projects)
    commit = (report.template_commit or "")[:7] or "the working tree"
    parts = [f"{len(touched)} {'would be ' if report.dry_run else ''}updated to the template of "
             f"{commit}"]
    if conflicted:
        parts.append(f"{conflicted} with conflicts" + (
            "" if report.dry_run else " (resolve what each UPDATE-CONFLICTS.md lists, then "
            "delete it)"))
    parts.append(f"{current} already current")
    if skipped:
        parts.append(f"{skipped} skipped")
    if failed:
        parts.append(f"{failed} failed")
    closing = ", ".join(parts)
    return f"dry run: nothing was written; {closing}" if report.dry_run else closing


def add_command(sub: Any) -> None:
    updating = sub.add_parser("update", help="bring projects up to the current templates/project/,"
                              " keeping their own edits")
    updating.add_argument("projects", nargs="*", metavar="PROJECT",
                          help="by number (042) or folder (default: every project)")
    updating.add_argument("--dry-run", action="store_true",
                          help="print what would change in each project and write nothing")
    updating.set_defaults(handler=cmd_update)
