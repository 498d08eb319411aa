"""The `hundred` and `new-project` commands: parse arguments, call the library, print."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from types import FrameType
from typing import NoReturn

from hundred.cli_common import root_of as _root
from hundred.errors import HundredError

log = logging.getLogger("hundred")

Handler = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message}; see '{self.prog} --help'\n")


def cmd_new(args: argparse.Namespace) -> int:
    from hundred.scaffold import new_project, starter_notice

    root = _root(args)
    project = new_project(
        args.name, root, kind=args.kind, title=args.title, difficulty=args.difficulty,
        stage=args.stage, template=args.template,
        on_wait=lambda line: print(line, file=sys.stderr),
    )
    where = project.path.relative_to(root)
    from hundred.sources import TemplatedProject

    if isinstance(project, TemplatedProject):
        rendered = project.rendered
        print(f"created {where} from {rendered.source} ({rendered.tool})")
        for added in rendered.notices:
            print(f"note: {added}")
        print(f"next: edit {where}/writeup.md, then 'hundred run {project.number:03d}'")
        return 0
    answers = project.path / ".copier-answers.yml"
    import yaml

    recorded = yaml.safe_load(answers.read_text(encoding="utf-8"))
    note = " (a stand-in: replace it in data.py)" if recorded["dataset_is_placeholder"] else ""
    starter = recorded.get("starter", recorded["kind"])
    print(f"created {where}: {starter} starter on {recorded['dataset']}{note}")
    notice = starter_notice(recorded["kind"], starter)
    if notice:
        print(f"note: {notice}")
    print(f"next: edit {where}/writeup.md, then 'hundred run {project.number:03d}'")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from hundred import catalog

    found = catalog.scan(_root(args))
    projects = found.projects
    rows = [
        {
            "number": p.number,
            "folder": p.name.folder,
            "title": p.writeup.title,
            "kind": p.writeup.kind,
            "difficulty": p.writeup.difficulty,
            "date": p.writeup.date.isoformat(),
            "stage": p.writeup.stage,
            "tags": p.writeup.tags,
            "draft": p.writeup.draft,
        }
        for p in projects
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"{len(rows)} projects")
        for column in ("#", "title", "kind", "difficulty", "date"):
            table.add_column(column, justify="right" if column == "#" else "left")
        for p in projects:
            table.add_row(p.name.folder[:3], p.writeup.title, p.writeup.kind,
                          "★" * p.writeup.difficulty, p.writeup.date.isoformat())
        Console().print(table)
    # A broken writeup is bad input of its own project only: the others are listed above.
    for broken in found.invalid:
        print(f"error: {broken.message}", file=sys.stderr)
    return 2 if found.invalid else 0


def _add_new_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="NNN-slug (e.g. 042-cnn-cifar) or a slug to take the next "
                        "free number")
    parser.add_argument("--kind", help="a starter (tabular, vision, from-scratch, nlp, "
                        "time-series, generative) or any lowercase kind word such as rl, which "
                        "begins from the starter the slug suggests (default: from the slug)")
    parser.add_argument("--title", help="title of the writeup (default: from the slug)")
    parser.add_argument("--difficulty", type=int, default=2, help="1 (easy) to 5 (hard)")
    parser.add_argument("--stage", default="", help="roadmap stage, e.g. 'CNNs'")
    parser.add_argument("--template", metavar="SRC", help="a copier or cookiecutter template of "
                        "your own: a folder or a git URL (default: [tool.hundred] template, "
                        "else hundred's)")


def _add_common(parser: argparse.ArgumentParser, *, default: object = None) -> None:
    # Sub-commands pass argparse.SUPPRESS so that `hundred -v new x` keeps the -v.
    parser.add_argument("-C", "--directory", default=default,
                        help="run as if started in this folder")
    parser.add_argument("-v", "--verbose", action="store_true",
                        default=False if default is None else default, help="show tracebacks")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="hundred", description="Scaffold, execute and publish ML projects.")
    _add_common(parser)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    new = sub.add_parser("new", help="scaffold projects/NNN-slug from the template")
    _add_new_arguments(new)
    new.set_defaults(handler=cmd_new)

    listing = sub.add_parser("list", help="a table of every project")
    listing.add_argument("--json", action="store_true", help="print JSON for machines")
    listing.set_defaults(handler=cmd_list)

    from hundred import cli_adopt, cli_data, cli_doctor, cli_env, cli_init, cli_run, cli_update

    cli_run.add_commands(sub)
    cli_env.add_commands(sub)
    cli_data.add_command(sub)
    cli_doctor.add_command(sub)
    cli_init.add_command(sub)
    cli_adopt.add_command(sub)
    cli_update.add_command(sub)
    for child in sub.choices.values():
        _add_common(child, default=argparse.SUPPRESS)
    return parser


def run_handler(handler: Handler, args: argparse.Namespace) -> int:
    """Call ``handler``, turning errors into one line on stderr and an exit code."""
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(message)s")
    try:
        return handler(args)
    except HundredError as error:
        log.debug("%s", traceback.format_exc())
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted: nothing half-done was kept", file=sys.stderr)
        return 130
    except Terminated:
        print("terminated: nothing half-done was kept", file=sys.stderr)
        return 143
    except Exception as error:  # a bug of ours: keep it short unless asked
        if args.verbose:
            traceback.print_exc()
        print(f"error: unexpected {type(error).__name__}: {error} (rerun with --verbose for "
              "the traceback)", file=sys.stderr)
        return 1


class Terminated(BaseException):
    """SIGTERM arrived outside a run (which handles it itself): end the command like Ctrl-C."""


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise Terminated


@contextlib.contextmanager
def _sigterm_ends_the_command() -> Iterator[None]:
    """Make SIGTERM (a cancelled CI job) unwind the command, so that `finally` blocks run."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    """The `hundred` command."""
    with _sigterm_ends_the_command():
        try:
            args = build_parser().parse_args(argv)
            return run_handler(args.handler, args)
        except KeyboardInterrupt:  # while starting up, before a handler was set
            print("interrupted: nothing was done", file=sys.stderr)
            return 130
        except Terminated:
            print("terminated: nothing was done", file=sys.stderr)
            return 143


def new_project_main(argv: Sequence[str] | None = None) -> int:
    """The `new-project` command: the same as `hundred new`."""
    parser = _Parser(prog="new-project", description="Scaffold projects/NNN-slug.")
    _add_new_arguments(parser)
    _add_common(parser)
    with _sigterm_ends_the_command():
        args = parser.parse_args(argv)
        return run_handler(cmd_new, args)


if __name__ == "__main__":
    sys.exit(main())
