"""Renderings of a ``RunReport``: the terminal summary, the JSON and the JUnit file.

Each is a plain function of the same frozen report, as pipx renders its results.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from hundred.results import RunResult
from hundred.run.runner import RunReport


def print_summary(report: RunReport, console: Any = None) -> None:
    """The table of what ran, each failure with where to look, and one closing line."""
    if not report.results and console is None:  # nothing ran: no table (and no rich to load)
        print(closing_line(report))
        return
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    if report.results:
        table = Table(title="hundred run")
        for column in ("project", "profile", "status", "duration", "headline metric"):
            table.add_column(column, justify="right" if column == "duration" else "left")
        for result in report.results:
            status = "passed" if result.passed else f"[red]{result.failure}[/red]"
            table.add_row(result.project, result.profile, status, f"{result.duration:.1f}s",
                          result.headline_text())
        console.print(table)
    for result in report.failed:
        console.print(f"[red]{result.project}[/red]: {result.summary()}", markup=True,
                      highlight=False)
        for line in failure_details(result):
            console.print(f"  {line}", markup=False, highlight=False)
    for result in report.results:
        for note in result.notes:
            console.print(f"{result.project}: note: {note}", markup=False, highlight=False)
        for warning in result.warnings:
            console.print(f"{result.project}: warning: {warning}", markup=False,
                          highlight=False)
    console.print(closing_line(report), highlight=False, markup=False)


def failure_details(result: RunResult) -> list[str]:
    """Where to look: the failing line of code and the executed notebook."""
    lines = []
    if result.error is not None and result.error.line:
        lines.append(f"line: {result.error.line}")
    if result.notebook:
        lines.append(f"executed notebook: {result.notebook}")
    if result.diagnosis is not None:
        lines.append(f"cause: {result.diagnosis.cause}: {result.diagnosis.explanation}")
        lines.append(f"fix: {result.diagnosis.fix}")
    return lines


def closing_line(report: RunReport) -> str:
    line = (f"{len(report.passed)} passed, {len(report.failed)} failed, {len(report.cached)} "
            "cached (unchanged since their last successful run)")
    if report.stopped_by is not None:
        line = (f"interrupted ({report.stopped_by}): {line}, {len(report.not_run)} not run; "
                "the records of finished projects are kept")
    return line


def report_document(report: RunReport) -> dict[str, Any]:
    """The report as JSON-ready data."""
    return {
        "profile": report.profile,
        "passed": len(report.passed), "failed": len(report.failed),
        "cached": len(report.cached), "not_run": list(report.not_run),
        "interrupted": report.stopped_by,
        "results": [result.model_dump(mode="json") for result in report.results],
        "notices": list(report.notices),
    }


def junit_xml(report: RunReport, *, name: str = "hundred") -> bytes:
    """A JUnit report: one test case per project, failure text = the traceback tail.

    Projects skipped because nothing changed since their last successful run are ``skipped``.
    """
    results, cached = report.results, report.cached
    suite = ET.Element("testsuite", {
        "name": name,
        "tests": str(len(results) + len(cached)),
        "failures": str(len(report.failed)),
        "errors": "0",
        "skipped": str(len(cached)),
        "time": f"{sum(r.duration for r in results):.3f}",
    })
    for result in cached:
        case = ET.SubElement(suite, "testcase", {
            "classname": f"{name}.{result.profile}", "name": result.project, "time": "0",
        })
        ET.SubElement(case, "skipped", {"message": "unchanged since its last successful run"})
    for result in results:
        case = ET.SubElement(suite, "testcase", {
            "classname": f"{name}.{result.profile}",
            "name": result.project,
            "time": f"{result.duration:.3f}",
        })
        if not result.passed:
            failure = ET.SubElement(case, "failure", {
                "type": result.failure or "failed", "message": result.summary(),
            })
            failure.text = "\n".join(result.error.traceback_tail) if result.error else ""
    ET.indent(suite)
    document: bytes = ET.tostring(suite, encoding="utf-8", xml_declaration=True)
    return document
