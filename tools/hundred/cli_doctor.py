"""`hundred doctor`: the upgrade preview, rendered (``hundred.upgrade`` does the work)."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import Any

from hundred.cli_common import root_of
from hundred.upgrade import ProjectPreview, UpgradePreview

VERDICTS = {
    "breaks": "BREAKS with the latest releases",
    "cannot-resolve": "CANNOT RESOLVE its latest releases",
    "still-passes": "still passes with the latest releases",
    "fixed": "passes with the latest releases (fails today)",
    "still-fails": "fails today and with the latest releases",
    "nothing-to-upgrade": "nothing to upgrade (no third-party packages)",
}


def cmd_doctor(args: argparse.Namespace) -> int:
    from hundred.progress import RunProgress
    from hundred.upgrade import preview_upgrades

    with RunProgress() as progress:
        preview = preview_upgrades(root_of(args), args.projects, jobs=args.jobs,
                                   timeout=args.timeout, on_progress=progress)
    if args.json:
        print(json.dumps(preview_document(preview), indent=2))
    else:
        for line in preview_lines(preview):
            print(line)
    return preview.exit_code


def preview_lines(preview: UpgradePreview) -> list[str]:
    lines: list[str] = []
    for project in preview.previews:
        lines.append(f"{project.project}: {VERDICTS[project.verdict]}" + _changes(project))
        if project.error is not None:
            lines.append(f"  {project.error}")
        elif project.verdict in ("breaks", "still-fails") and project.diagnosis is not None:
            lines.append(f"  {project.diagnosis.line()}")
        for deprecation in project.deprecations:
            lines.append(f"  will break on a later upgrade: {deprecation.line()}")
        if project.held:
            lines.append(f"  held at today's version: {', '.join(project.held)} (its latest "
                         "release pulls the CUDA stack; upgrade it by hand to preview it)")
    breaking = len(preview.breaking)
    lines.append(f"{len(preview.previews)} projects previewed with their packages' latest "
                 f"releases: {breaking} would break; executed notebooks in {preview.folder}")
    return lines


def _changes(project: ProjectPreview) -> str:
    moved = [f"{c.name} {c.now or 'new'} -> {c.latest or '?'}" for c in project.changes]
    return f" ({', '.join(moved)})" if moved else ""


def preview_document(preview: UpgradePreview) -> dict[str, Any]:
    return {
        "breaking": len(preview.breaking), "folder": str(preview.folder),
        "projects": [{
            "project": p.project, "verdict": p.verdict, "upgraded": list(p.upgraded),
            "held": list(p.held), "changes": [asdict(c) for c in p.changes], "error": p.error,
            "diagnosis": p.diagnosis.model_dump() if p.diagnosis else None,
            "deprecations": [d.model_dump() for d in p.deprecations],
        } for p in preview.previews],
    }


def add_command(sub: Any) -> None:
    from hundred.cli_run import add_execution_options

    doctor = sub.add_parser(
        "doctor", help="preview upgrades: run projects with their packages' latest releases")
    doctor.add_argument("projects", nargs="*", metavar="PROJECT",
                        help="numbers or folders (default: every project)")
    add_execution_options(doctor)
    doctor.add_argument("--json", action="store_true", help="print JSON for machines")
    doctor.set_defaults(handler=cmd_doctor)
