"""`hundred lock` and `hundred add`: a project's own packages, resolved with uv."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from hundred.cli_common import root_of


def cmd_lock(args: argparse.Namespace) -> int:
    from hundred.environments import lock_projects

    outcomes = lock_projects(root_of(args), args.projects)
    for outcome in outcomes:
        if outcome.lock is None:
            print(f"error: {outcome.error}", file=sys.stderr)
        else:
            print(f"locked {outcome.project}: {len(outcome.lock.pins)} packages in "
                  f"projects/{outcome.project}/requirements.lock")
    if not outcomes:
        print("no project declares packages: they all run in the shared environment "
              "(add one with 'hundred add NNN PACKAGE')")
    return 1 if any(outcome.lock is None for outcome in outcomes) else 0


def cmd_add(args: argparse.Namespace) -> int:
    from hundred import catalog
    from hundred.environments import add

    root = root_of(args)
    [project] = catalog.select(catalog.scan(root).projects, [args.project])
    found = add(project.path, args.packages)
    pins = found.pins
    named = ", ".join(f"{name}=={pins[name]}" for name in sorted(pins)
                      if any(name == _name(package) for package in args.packages))
    print(f"added {named or ', '.join(args.packages)} to projects/{project.name.folder}: "
          f"requirements.txt and requirements.lock ({len(pins)} packages); commit both")
    return 0


def _name(requirement: str) -> str:
    from packaging.requirements import Requirement

    from hundred.environments import normalise

    return normalise(Requirement(requirement).name)


def add_commands(sub: Any) -> None:
    locking = sub.add_parser("lock", help="resolve projects' requirements.txt into their "
                             "requirements.lock with uv")
    locking.add_argument("projects", nargs="*", metavar="PROJECT",
                         help="numbers or folders (default: every project with requirements)")
    locking.set_defaults(handler=cmd_lock)
    adding = sub.add_parser("add", help="declare packages a project needs, and lock them")
    adding.add_argument("project", metavar="PROJECT", help="its number or folder")
    adding.add_argument("packages", nargs="+", metavar="PACKAGE",
                        help="requirements, e.g. seaborn or 'seaborn>=0.13'")
    adding.set_defaults(handler=cmd_add)
