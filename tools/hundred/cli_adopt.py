"""`hundred adopt`: an existing challenge repository's notebooks, as numbered projects."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hundred.cli_common import root_of

if TYPE_CHECKING:
    from hundred.adopt import Adoption, Plan


def cmd_adopt(args: argparse.Namespace) -> int:
    from hundred.adopt import adopt, plan_adoption

    root = root_of(args)
    plan = plan_adoption(root, Path(args.source))
    _print_plan(plan)
    if args.dry_run:
        print("dry run: nothing was written; run it again without --dry-run to adopt")
        return 0
    if not plan.projects:
        print("nothing to adopt")
        return 0
    done = adopt(root, plan, on_wait=lambda line: print(line, file=sys.stderr))
    for outcome in done:
        if outcome.error is not None:
            print(f"error: {outcome.error}", file=sys.stderr)
        else:
            print(f"adopted {outcome.adoption.notebook} as projects/{outcome.adoption.folder}")
    made = sum(outcome.error is None for outcome in done)
    print(f"{made} of {len(done)} projects adopted; next: 'hundred run' verifies them and says "
          "why those that fail do, 'hundred build' publishes a post for each")
    return 1 if made < len(done) else 0


def _print_plan(plan: Plan) -> None:
    from rich.console import Console

    console = Console()
    if console.is_terminal and plan.projects:
        _print_table(console, plan)
    else:
        for line in plan_lines(plan):
            print(line)
    print(closing_line(plan))


def plan_lines(plan: Plan) -> list[str]:
    """The plan as plain lines: each project and what moves, then what is skipped."""
    lines: list[str] = []
    for adoption in plan.projects:
        lines.append(f"{adoption.notebook} → projects/{adoption.folder}")
        lines += [f"  {line}" for line in _details(adoption)]
    lines += [f"skip: {skipped.notebook}: {skipped.reason}" for skipped in plan.skipped]
    return lines


def _details(adoption: Adoption) -> list[str]:
    lines = [f"number: {adoption.numbering}",
             f"writeup: {adoption.title!r}, {adoption.date.isoformat()} (from "
             f"{'git history' if adoption.date_from == 'git' else 'the file date'}), "
             f"{adoption.kind}; body from "
             f"{', '.join(adoption.body_from) or 'nothing (a stub to fill in)'}"]
    lines += [f"copy: {move.source} → {move.target} ({_size(move.size)})"
              for move in adoption.files if not move.fetched]
    lines += [f"fetch: {move.source} ({_size(move.size)}) → {move.target}, by data.py "
              "(fill in its URL)" for move in adoption.files if move.fetched]
    lines += [f"keep: {move.source} → {move.target} (outputs stripped)"
              for move in adoption.kept]
    lines += [f"path: cell {rewrite.cell}: {rewrite.old!r} → {rewrite.new!r}"
              for rewrite in adoption.rewrites]
    if adoption.requirements:
        named = ", ".join(r.distribution + ("" if r.known else " (unknown: guessed)")
                          for r in adoption.requirements)
        lines.append(f"requirements: {named}")
    if adoption.has_outputs:
        lines.append("imported record: the committed outputs, as runs/imported.ipynb")
    lines += [f"note: {note}" for note in adoption.notes]
    return lines


def closing_line(plan: Plan) -> str:
    files = [move for adoption in plan.projects for move in adoption.files]
    fetched = sum(move.fetched for move in files)
    return (f"plan: {len(plan.projects)} projects from {plan.source} ({len(files) - fetched} "
            f"files copied, {fetched} to fetch), {len(plan.skipped)} skipped")


def _print_table(console: Any, plan: Plan) -> None:
    from rich.table import Table

    table = Table(title=f"hundred adopt {plan.source}")
    for column in ("source", "project", "number", "moves"):
        table.add_column(column)
    for adoption in plan.projects:
        table.add_row(adoption.notebook, adoption.folder, adoption.numbering,
                      "\n".join(_details(adoption)[1:]))
    console.print(table)
    for skipped in plan.skipped:
        console.print(f"skip: {skipped.notebook}: {skipped.reason}", markup=False,
                      highlight=False)


def _size(size: int) -> str:
    if size < 1000:
        return f"{size} B"
    return f"{size / 1000:.1f} kB" if size < 1_000_000 else f"{size / 1_000_000:.1f} MB"


def add_command(sub: Any) -> None:
    adopting = sub.add_parser("adopt", help="bring an existing challenge repository's notebooks "
                              "in as numbered projects")
    adopting.add_argument("source", metavar="SRC",
                          help="the folder of the repository to adopt (it is only read)")
    adopting.add_argument("--dry-run", action="store_true",
                          help="print the plan and write nothing")
    adopting.set_defaults(handler=cmd_adopt)
