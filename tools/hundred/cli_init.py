"""`hundred init`: parse the answers, ask for the missing ones, call the library, print."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from hundred.monorepo import Question


def _answer(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"--set {text!r} must be KEY=VALUE, e.g. target=50")
    return key.strip(), value


def _ask(question: Question, default: str) -> str:
    try:
        return input(f"{question.prompt} [{default}]: ")
    except EOFError:  # answers piped in ran out: the rest take their defaults
        return ""


def cmd_init(args: argparse.Namespace) -> int:
    from hundred.monorepo import complete_answers, init_monorepo

    given = dict(args.answers)
    answers = given if args.no_input else complete_answers(given, ask=_ask)
    base = Path(args.directory) if args.directory else Path.cwd()
    target = Path(args.target) if Path(args.target).is_absolute() else base / args.target
    made = init_monorepo(target, answers, hundred_spec=args.hundred)
    print(f"created {made}: a challenge monorepo, ready to publish")
    print(f'next: cd {args.target} && pip install -e ".[ml]" && hundred build')
    return 0


def add_command(sub: Any) -> None:
    init = sub.add_parser("init", help="generate your own challenge monorepo")
    init.add_argument("target", metavar="TARGET", help="the folder to create")
    init.add_argument("--no-input", action="store_true",
                      help="ask nothing: defaults for every answer not given with --set")
    init.add_argument("--set", dest="answers", type=_answer, action="append", default=[],
                      metavar="KEY=VALUE",
                      help="an answer: title, author, github_owner, github_repo, email, target, "
                      "start, end, roadmap, license")
    init.add_argument("--hundred", metavar="SPEC",
                      help="the dependency on hundred (default: exactly the installed one)")
    init.set_defaults(handler=cmd_init)

