"""What runs produced: the result record of each run, where it is kept, and its renderings.

Every run writes ``.hundred/runs/<project>/<profile>.{ipynb,json}`` (gitignored: the latest
attempt). A successful run of a frozen profile (``full``) is also frozen into
``projects/<project>/runs/<profile>.{ipynb,json}`` to be committed, like Quarto's freeze: the
blog publishes expensive results that CI cannot repeat, while CI keeps proving the project runs.
A failed full run never replaces the frozen one.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from hundred.errors import HundredError

Status = Literal["passed", "failed"]
FailureKind = Literal[
    "cell-error",
    "timeout",
    "dead-kernel",
    "invalid-notebook",
    "missing-kernel",
    "missing-data",
    "interrupted",
]
STATE = Path(".hundred")
RUNS = STATE / "runs"


class Metric(BaseModel):
    model_config = ConfigDict(frozen=True)

    value: float
    higher_is_better: bool = True


class CellFailure(BaseModel):
    """Where and how a run failed: papermill's error fields, or ours where it records none."""

    model_config = ConfigDict(frozen=True)

    cell: int | None = None  # 1-based position of the cell in the notebook
    execution_count: int | None = None
    ename: str
    evalue: str
    traceback_tail: list[str] = []


class RunResult(BaseModel):
    """The record of one run of one project's notebook with one profile."""

    model_config = ConfigDict(frozen=True)

    project: str
    number: int
    profile: str
    status: Status
    failure: FailureKind | None = None
    error: CellFailure | None = None
    started_at: dt.datetime
    duration: float
    metrics: dict[str, Metric] = {}
    parameters: dict[str, Any] = {}
    cache_key: str = ""
    python: str = ""
    packages: dict[str, str] = {}
    git_commit: str | None = None
    notebook: str | None = None  # the executed notebook, relative to the monorepo root
    kernel_attempts: int = 0

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def headline(self) -> tuple[str, Metric] | None:
        """The first metric the notebook recorded."""
        return next(iter(self.metrics.items()), None)

    def headline_text(self) -> str:
        if self.headline is None:
            return ""
        name, metric = self.headline
        return f"{name} {metric.value:.4g}"

    def summary(self) -> str:
        """One line: what failed, where, and the exception."""
        if self.passed:
            return f"passed in {self.duration:.1f}s"
        where = f" in cell {self.error.cell}" if self.error and self.error.cell else ""
        what = f": {self.error.ename}: {self.error.evalue}" if self.error else ""
        return f"{self.failure}{where}{what}"


def latest_path(root: Path, project: str, profile: str) -> Path:
    return root / RUNS / project / f"{profile}.json"


def frozen_path(root: Path, project: str, profile: str) -> Path:
    return root / "projects" / project / "runs" / f"{profile}.json"


def read_result(path: Path) -> RunResult | None:
    """The record at ``path``, or None when there is none or it is unreadable."""
    try:
        return RunResult.model_validate_json(path.read_bytes())
    except (FileNotFoundError, ValidationError, ValueError):
        return None


def latest(root: Path, project: str, profile: str) -> RunResult | None:
    return read_result(latest_path(root, project, profile))


def frozen(root: Path, project: str, profile: str) -> RunResult | None:
    return read_result(frozen_path(root, project, profile))


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def save(root: Path, result: RunResult, *, freeze: bool) -> RunResult:
    """Keep ``result`` as the latest attempt; freeze it into the project when asked and passed."""
    atomic_write(latest_path(root, result.project, result.profile),
                 result.model_dump_json(indent=2).encode())
    if not (freeze and result.passed and result.notebook):
        return result
    runs = root / "projects" / result.project / "runs"
    notebook = runs / f"{result.profile}.ipynb"
    atomic_write(notebook, (root / result.notebook).read_bytes())
    kept = result.model_copy(update={"notebook": notebook.relative_to(root).as_posix()})
    atomic_write(frozen_path(root, result.project, result.profile),
                 kept.model_dump_json(indent=2).encode())
    return kept


def all_latest(root: Path) -> list[RunResult]:
    """Every latest attempt under .hundred/runs."""
    found = (read_result(path) for path in sorted((root / RUNS).glob("*/*.json")))
    return [result for result in found if result is not None]


def collect(root: Path, sources: Iterable[Path]) -> list[RunResult]:
    """Merge the result folders of several shards into ``root/.hundred/runs``; newest wins.

    Each source may be a monorepo root, its ``.hundred`` folder, or ``.hundred/runs`` itself.
    """
    merged: list[RunResult] = []
    for source in sources:
        runs = _runs_folder(source)
        for path in sorted(runs.glob("*/*.json")):
            incoming = read_result(path)
            if incoming is None:
                raise HundredError(f"{path} is not a hundred result record; remove it or "
                                   "point collect at a .hundred folder")
            current = latest(root, incoming.project, incoming.profile)
            if current is not None and current.started_at >= incoming.started_at:
                continue
            notebook = path.with_suffix(".ipynb")
            target = latest_path(root, incoming.project, incoming.profile)
            if notebook.is_file() and notebook.resolve() != target.with_suffix(".ipynb").resolve():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(notebook, target.with_suffix(".ipynb"))
            atomic_write(target, incoming.model_dump_json(indent=2).encode())
            merged.append(incoming)
    return merged


def _runs_folder(source: Path) -> Path:
    for candidate in (source / RUNS, source / "runs", source):
        if candidate.is_dir() and any(candidate.glob("*/*.json")):
            return candidate
    raise HundredError(f"{source} holds no run results (.hundred/runs/<project>/<profile>.json); "
                       "give the folder a shard's 'hundred run' wrote")


def junit_xml(results: Iterable[RunResult], *, cached: Iterable[RunResult] = (),
              name: str = "hundred") -> bytes:
    """A JUnit report: one test case per project, failure text = the traceback tail.

    Projects skipped because nothing changed since their last successful run are ``skipped``.
    """
    results, cached = list(results), list(cached)
    suite = ET.Element("testsuite", {
        "name": name,
        "tests": str(len(results) + len(cached)),
        "failures": str(sum(not r.passed for r in results)),
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
    report: bytes = ET.tostring(suite, encoding="utf-8", xml_declaration=True)
    return report
