"""`hundred check-data`: every URL the projects' data scripts download, asked now."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from hundred.cli_common import root_of


def cmd_check_data(args: argparse.Namespace) -> int:
    from hundred.datalinks import check_links

    reports = check_links(root_of(args), args.projects, timeout=args.timeout,
                          checksums=args.checksums)
    if args.json:
        print(json.dumps([{"project": r.link.project, "url": r.link.url, "line": r.link.line,
                           "state": r.state, "detail": r.detail, "moved_to": r.moved_to}
                          for r in reports], indent=2))
    else:
        for report in reports:
            print(report.line(), file=sys.stderr if report.broken else sys.stdout)
        broken = sum(report.broken for report in reports)
        moved = sum(report.state == "moved" for report in reports)
        print(f"{len(reports)} links: {len(reports) - broken - moved} alive, {moved} moved, "
              f"{broken} dead or changed")
    return 1 if any(report.broken for report in reports) else 0


def add_command(sub: Any) -> None:
    checking = sub.add_parser("check-data", help="ask every URL the data scripts download")
    checking.add_argument("projects", nargs="*", metavar="PROJECT",
                          help="numbers or folders (default: every project)")
    checking.add_argument("--timeout", type=float, default=10.0,
                          help="seconds to wait for each answer (default 10)")
    checking.add_argument("--checksums", action="store_true",
                          help="also download each file and compare its sha256 with data.py's")
    checking.add_argument("--json", action="store_true", help="print JSON for machines")
    checking.set_defaults(handler=cmd_check_data)
