"""What runs produced: the result record of each run, where it is kept, and how it is read.

Every run writes ``.hundred/runs/<project>/<profile>.{ipynb,json}`` (gitignored: the latest
attempt). A successful run of a frozen profile (``full``) is also frozen into
``projects/<project>/runs/<profile>.{ipynb,json}`` to be committed, like Quarto's freeze: the
blog publishes expensive results that CI cannot repeat, while CI keeps proving the project runs.
A failed full run never replaces the frozen one.

Records and notebooks are written atomically, and a record names the hash of its notebook: a
record that does not parse, or whose notebook is missing or changed, is *corrupt*: reported by
name, never published, and its project runs again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from hundred.errors import HundredError

# "imported": the outputs a notebook had when ``hundred adopt`` brought it in, as committed in
# the source; never a verification (``passed`` is false, and it is kept under its own name).
RunStatus = Literal["passed", "failed", "imported"]
# What a project's runs say of it: its latest verifying run passed, something failed, or nothing
# ran yet (the blog's badge and the Projects page show it).
Verification = Literal["verified", "failing", "not-run"]
FailureKind = Literal[
    "cell-error",
    "timeout",
    "dead-kernel",
    "invalid-notebook",
    "invalid-writeup",
    "missing-kernel",
    "missing-data",
    "environment-error",
    "update-conflict",
    "interrupted",
    "internal-error",
]
STATE = Path(".hundred")
RUNS = STATE / "runs"
# What `hundred readme` commits beside the badge: the verifying run behind each "done" in the
# README, so that a fresh clone (no .hundred/) reaches the same verdicts as the README.
LEDGER = Path("docs") / "assets" / "progress.json"
# The profile name of an adopted notebook's imported record: projects/<project>/runs/imported.*
IMPORTED = "imported"
NOT_VERIFIED = "outputs as originally committed, not verified"  # how posts name such a record


class Metric(BaseModel):
    model_config = ConfigDict(frozen=True)

    value: float
    higher_is_better: bool = True


class CellFailure(BaseModel):
    """Where and how a run failed: papermill's error fields, or ours where it records none."""

    model_config = ConfigDict(frozen=True)

    cell: int | None = None  # 1-based position of the cell in the notebook
    execution_count: int | None = None  # Jupyter's In [n]
    line: str | None = None  # the failing line of the cell's code, as the user wrote it
    ename: str
    evalue: str
    traceback_tail: list[str] = []

    def where(self) -> str:
        """``cell 4 (In [3])``, as the user finds the cell in Jupyter."""
        if self.cell is None:
            return ""
        shown = f" (In [{self.execution_count}])" if self.execution_count is not None else ""
        return f"cell {self.cell}{shown}"


Cause = Literal[
    "removed-api", "missing-package", "network", "missing-file", "hidden-state", "stale-pickle",
    "timeout", "dead-kernel", "out-of-memory", "interrupted", "internal-error",
    "invalid-notebook", "invalid-writeup", "missing-kernel", "environment-error",
    "update-conflict", "unknown",
]


class Diagnosis(BaseModel):
    """Why a run failed and what to do: ``hundred.diagnosis`` decides it."""

    model_config = ConfigDict(frozen=True)

    cause: Cause
    explanation: str
    fix: str
    library: str | None = None  # the distribution to blame or to add, when there is one
    release: str | None = None  # the library's release that removed or changed the API

    def line(self) -> str:
        return f"{self.cause}: {self.explanation}; fix: {self.fix}"


class Deprecation(BaseModel):
    """What will break on upgrade: a deprecation or future warning raised while the notebook
    ran (``hundred.deprecations``)."""

    model_config = ConfigDict(frozen=True)

    category: str  # DeprecationWarning, PendingDeprecationWarning or FutureWarning
    message: str
    library: str | None = None  # the package that warned (import name), when known
    call: str | None = None  # the line of the notebook's cell that led to it
    cell: int | None = None  # 1-based position of that cell in the notebook

    def line(self) -> str:
        """``cell 4: pandas: `df.swapaxes(0, 1)`: 'swapaxes' is deprecated…``"""
        where = f"cell {self.cell}: " if self.cell is not None else ""
        who = f"{self.library}: " if self.library else ""
        call = f"`{self.call}`: " if self.call else ""
        return f"{where}{who}{call}{self.message.splitlines()[0] if self.message else ''}"


class RunResult(BaseModel):
    """The record of one run of one project's notebook with one profile."""

    model_config = ConfigDict(frozen=True)

    project: str
    number: int
    profile: str
    status: RunStatus
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
    notebook_sha256: str | None = None  # checked on read: a changed notebook is corrupt
    kernel_attempts: int = 0
    notes: list[str] = []  # what the user should know, e.g. a cell's output was cut
    warnings: list[str] = []  # what to fix although it ran, e.g. a `!pip install` cell
    # The project environment it ran in (its lock's digest); None: the monorepo's shared one.
    environment: str | None = None
    diagnosis: Diagnosis | None = None  # a failed run's cause and fix
    deprecations: list[Deprecation] = []  # what will break on upgrade
    out_of_memory: bool = False  # its kernel died while the OOM killer struck its cgroup

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
        if self.status == "imported":
            return f"imported: {NOT_VERIFIED}"
        where = f" in {self.error.where()}" if self.error and self.error.cell else ""
        what = f": {self.error.ename}: {_one_line(self.error.evalue)}" if self.error else ""
        return f"{self.failure}{where}{what}"


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]


@dataclass(frozen=True)
class Corrupt:
    """A record that cannot be trusted: it is ignored and its project runs again."""

    path: Path
    reason: str

    def message(self, root: Path) -> str:
        where = self.path.relative_to(root) if self.path.is_relative_to(root) else self.path
        return f"{where} is corrupt ({self.reason}); it was ignored and its project runs again"


def latest_path(root: Path, project: str, profile: str) -> Path:
    return root / RUNS / project / f"{profile}.json"


def frozen_path(root: Path, project: str, profile: str) -> Path:
    return root / "projects" / project / "runs" / f"{profile}.json"


def read_checked(root: Path, path: Path) -> RunResult | Corrupt | None:
    """The record at ``path`` with its notebook checked; None when there is none."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        result = RunResult.model_validate_json(data)
    except (ValidationError, ValueError):
        return Corrupt(path, "not a complete run record")
    if result.notebook and result.notebook_sha256:
        try:
            digest = file_sha256(root / result.notebook)
        except FileNotFoundError:
            return Corrupt(path, f"its notebook {result.notebook} is missing")
        if digest != result.notebook_sha256:
            return Corrupt(path, f"its notebook {result.notebook} does not match it")
    return result


def read_result(path: Path) -> RunResult | None:
    """The record at ``path`` as written (its notebook unchecked); None if absent or corrupt."""
    try:
        return RunResult.model_validate_json(path.read_bytes())
    except (FileNotFoundError, ValidationError, ValueError):
        return None


def latest(root: Path, project: str, profile: str) -> RunResult | None:
    found = read_checked(root, latest_path(root, project, profile))
    return found if isinstance(found, RunResult) else None


def frozen(root: Path, project: str, profile: str) -> RunResult | None:
    found = read_checked(root, frozen_path(root, project, profile))
    return found if isinstance(found, RunResult) else None


def file_sha256(path: Path) -> str:
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


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


def partial_path(root: Path, project: str, profile: str) -> Path:
    """Where a run's executed notebook is written while it runs, until ``save`` puts it in place."""
    return root / RUNS / project / f".{profile}.partial.ipynb"


def save(root: Path, result: RunResult, *, freeze: bool) -> RunResult:
    """Keep ``result`` as the latest attempt; freeze it into the project when asked and passed.

    The executed notebook, written at ``partial_path`` while the run went on, is moved into
    place first, then the record naming its hash.
    """
    partial = partial_path(root, result.project, result.profile)
    notebook = latest_path(root, result.project, result.profile).with_suffix(".ipynb")
    if partial.is_file():
        partial.replace(notebook)
        result = result.model_copy(update={
            "notebook": notebook.relative_to(root).as_posix(),
            "notebook_sha256": file_sha256(notebook)})
    elif result.notebook is None:
        notebook.unlink(missing_ok=True)  # an old run's notebook would not match this record
    atomic_write(latest_path(root, result.project, result.profile),
                 result.model_dump_json(indent=2).encode())
    if not (freeze and result.passed and result.notebook):
        return result
    runs = root / "projects" / result.project / "runs"
    kept_notebook = runs / f"{result.profile}.ipynb"
    atomic_write(kept_notebook, (root / result.notebook).read_bytes())
    kept = result.model_copy(update={"notebook": kept_notebook.relative_to(root).as_posix()})
    atomic_write(frozen_path(root, result.project, result.profile),
                 kept.model_dump_json(indent=2).encode())
    return kept


def read_ledger(root: Path) -> dict[str, dict[str, str]]:
    """The committed ledger: project → {profile, cache_key} of the run that verified it."""
    try:
        data = json.loads((root / LEDGER).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    projects = data.get("verified") if isinstance(data, dict) else None
    return {str(k): v for k, v in projects.items() if isinstance(v, dict)} if isinstance(
        projects, dict) else {}


def ledger_text(verified: dict[str, dict[str, str]]) -> str:
    """The ledger's file text: stable (sorted, no dates), so an unchanged state is unchanged."""
    return json.dumps({"verified": dict(sorted(verified.items()))}, indent=2) + "\n"


@dataclass(frozen=True)
class ProjectRuns:
    """What the runs of a project say, as planning, status, the blog and the dashboard read them.

    ``verify`` is the latest attempt of the verifying profile (``smoke``), ``publish`` the latest
    attempt of the published one (``full``), ``frozen`` its last successful run, committed.
    """

    verify: RunResult | None
    publish: RunResult | None
    frozen: RunResult | None
    ledger: dict[str, str] | None = None  # the committed verification, when no run is here
    corrupt: tuple[Corrupt, ...] = ()
    # An adopted notebook's outputs as originally committed (``hundred adopt``): shown until
    # hundred runs it, never counted as a run.
    imported: RunResult | None = None

    @property
    def status(self) -> Verification:
        if self.failure is not None:
            return "failing"
        return "verified" if self.verify is not None and self.verify.passed else "not-run"

    @property
    def failure(self) -> RunResult | None:
        """The latest attempt that failed, if any."""
        return next((r for r in (self.verify, self.publish) if r is not None and not r.passed),
                    None)

    @property
    def results(self) -> RunResult | None:
        """The run whose metrics and notebook are published: the frozen one, else the latest
        verifying run."""
        return self.frozen if self.frozen is not None else self.verify

    @property
    def deprecations(self) -> list[Deprecation]:
        """What will break on upgrade: the warnings of the latest verifying run, else of the
        latest published one (or the frozen run)."""
        run = next((r for r in (self.verify, self.publish, self.frozen) if r is not None), None)
        return list(run.deprecations) if run is not None else []


def project_runs(root: Path, project: str, *, verify: str, publish: str) -> ProjectRuns:
    """Read every record of ``project``, checking each; corrupt ones are kept aside."""
    corrupt: list[Corrupt] = []

    def read(path: Path) -> RunResult | None:
        found = read_checked(root, path)
        if isinstance(found, Corrupt):
            corrupt.append(found)
            return None
        return found

    verifying = read(latest_path(root, project, verify))
    return ProjectRuns(
        verify=verifying,
        publish=read(latest_path(root, project, publish)),
        frozen=read(frozen_path(root, project, publish)),
        ledger=None if verifying is not None else read_ledger(root).get(project),
        imported=read(frozen_path(root, project, IMPORTED)),
        corrupt=tuple(corrupt),
    )


def collect(root: Path, sources: Iterable[Path]) -> list[RunResult]:
    """Merge the result folders of several shards into ``root/.hundred/runs``; newest wins.

    Each source may be a monorepo root, its ``.hundred`` folder, or ``.hundred/runs`` itself.
    """
    merged: list[RunResult] = []
    for source in sources:
        runs = _runs_folder(source)
        for path in sorted(runs.glob("*/*.json")):
            incoming = _shard_record(path)
            current = latest(root, incoming.project, incoming.profile)
            if current is not None and current.started_at >= incoming.started_at:
                continue
            notebook = path.with_suffix(".ipynb")
            target = latest_path(root, incoming.project, incoming.profile)
            if notebook.is_file() and notebook.resolve() != target.with_suffix(".ipynb").resolve():
                atomic_write(target.with_suffix(".ipynb"), notebook.read_bytes())
            atomic_write(target, incoming.model_dump_json(indent=2).encode())
            merged.append(incoming)
    return merged


def _shard_record(path: Path) -> RunResult:
    """A shard's record, checked against the notebook beside it."""
    try:
        result = RunResult.model_validate_json(path.read_bytes())
    except (ValidationError, ValueError):
        raise HundredError(f"{path} is not a hundred result record; remove it or point collect "
                           "at a .hundred folder") from None
    notebook = path.with_suffix(".ipynb")
    if result.notebook_sha256 and (
        not notebook.is_file() or file_sha256(notebook) != result.notebook_sha256
    ):
        raise HundredError(f"{path} is corrupt: the notebook beside it is missing or does not "
                           "match it; run that shard again")
    return result


def _runs_folder(source: Path) -> Path:
    for candidate in (source / RUNS, source / "runs", source):
        if candidate.is_dir() and any(candidate.glob("*/*.json")):
            return candidate
    raise HundredError(f"{source} holds no run results (.hundred/runs/<project>/<profile>.json); "
                       "give the folder a shard's 'hundred run' wrote")
