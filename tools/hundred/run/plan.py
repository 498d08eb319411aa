"""Planning a run: which projects, in which shard, and which of them need to run at all.

A project runs unless its reference run is current (``hundred.freshness``); a project that
cannot run (an invalid writeup or notebook, a missing kernel) fails here, before any worker
starts, and the others still run.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

from hundred import results as store
from hundred.cache import FileHashes, InvalidNotebook, cell_sources
from hundred.catalog import InvalidProject, Project, unfinished_update
from hundred.config import Settings, parameters_for
from hundred.environments import (
    Environment,
    EnvironmentFailed,
    Lock,
    ensure_locked,
    environment_for,
    environment_is_built,
    needs_environment,
)
from hundred.errors import HundredError
from hundred.freshness import is_current, key_for, reference_run
from hundred.installs import installs_in, layer_path
from hundred.results import CellFailure, Corrupt, FailureKind, RunResult
from hundred.run.preload import NATIVE_KERNELS, WarmChain, warm_chains, warm_imports


@dataclass(frozen=True)
class Task:
    """One notebook to execute: everything a worker process needs, picklable."""

    root: Path
    project: str
    number: int
    folder: Path
    profile: str
    parameters: dict[str, Any]
    kernel_name: str
    language: str | None  # given to papermill when the notebook's metadata names none
    timeout: float | None
    cache_key: str
    packages: dict[str, str]
    git_commit: str | None
    max_output: int
    expected_duration: float = 1.0
    environment: Environment | None = None  # its own environment; None: the shared one
    imports: frozenset[str] = frozenset()  # the heavy modules its kernel starts with loaded
    preload: WarmChain = ()  # the warm zygotes its kernel is forked through, to those imports
    warnings: tuple[str, ...] = ()  # what its record will warn about, e.g. `!pip install`

    @property
    def layer(self) -> Path:
        """The throwaway folder the run's pip installs land in (``hundred.installs``)."""
        return layer_path(self.root, self.project, self.profile)

    @property
    def notebook(self) -> Path:
        return self.folder / "notebook.ipynb"

    @property
    def partial(self) -> Path:
        """Where the executed notebook is written while it runs."""
        return store.partial_path(self.root, self.project, self.profile)


@dataclass
class RunPlan:
    """What a run will do: tasks to execute, projects skipped, failures found early."""

    tasks: list[Task] = field(default_factory=list)
    cached: list[RunResult] = field(default_factory=list)
    failed_early: list[RunResult] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


def git_commit(root: Path) -> str | None:
    """The checked-out commit of the monorepo, if it is a git repository with one."""
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                              text=True, check=False)
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def changed_projects(root: Path, ref: str) -> set[str]:
    """Project folders with files changed since ``ref`` (committed, staged, unstaged, new)."""
    diff = subprocess.run(["git", "diff", "--name-only", ref, "--", "projects"], cwd=root,
                          capture_output=True, text=True, check=False)
    if diff.returncode != 0:
        raise HundredError(f"git cannot compare with {ref!r} ({diff.stderr.strip()}); "
                           "give a commit, branch or tag that exists")
    new = subprocess.run(["git", "ls-files", "--others", "--exclude-standard", "--", "projects"],
                         cwd=root, capture_output=True, text=True, check=False)
    paths = diff.stdout.splitlines() + new.stdout.splitlines()
    return {path.split("/")[1] for path in paths if path.count("/") >= 2}


def notebook_kernel(notebook: Path) -> tuple[str, str | None]:
    """The notebook's kernel name, and the language to tell papermill when the metadata has
    none: a python3 kernelspec, or none at all, means Python."""
    data = json.loads(notebook.read_text(encoding="utf-8"))
    metadata = data.get("metadata", {})
    spec = metadata.get("kernelspec") or {}
    name = str(spec.get("name") or "python3")
    known = spec.get("language") or (metadata.get("language_info") or {}).get("name")
    return name, None if known else ("python" if name.startswith("python") else None)


@cache
def kernel_exists(name: str) -> bool:
    if name in NATIVE_KERNELS and importlib.util.find_spec("ipykernel") is not None:
        return True  # this Python's own: no need for jupyter_client, which imports IPython
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        return False
    return True


def shard(projects: Sequence[Project], index: int, count: int,
          weight: Callable[[Project], float]) -> list[Project]:
    """Shard ``index`` (1-based) of ``count``: greedy longest-first balance by ``weight``.

    Stable: every shard job computes the same assignment from the same committed data, so the
    shards cover every project exactly once.
    """
    if not 1 <= index <= count:
        raise HundredError(f"shard {index}/{count} is out of range; use K/N with 1 <= K <= N")
    loads = [0.0] * count
    chosen: list[Project] = []
    for project in sorted(projects, key=lambda p: (-weight(p), p.name.folder)):
        target = min(range(count), key=lambda i: (loads[i], i))
        loads[target] += weight(project)
        if target == index - 1:
            chosen.append(project)
    return sorted(chosen, key=lambda p: p.number)


def known_duration(root: Path, project: Project, settings: Settings) -> float:
    """A run's expected cost from committed records (frozen runs), else 1 second."""
    for profile in settings.freeze:
        result = store.frozen(root, project.name.folder, profile)
        if result is not None:
            return max(result.duration, 0.1)
    return 1.0


def plan_runs(
    root: Path,
    projects: Iterable[Project],
    *,
    settings: Settings,
    profile: str,
    force: bool = False,
    timeout: float | None = None,
    invalid: Iterable[InvalidProject] = (),
    stopping: Callable[[], bool] = lambda: False,
    tell: Callable[[str], None] = lambda line: None,
) -> RunPlan:
    """Decide what to run: projects whose reference run is not current.

    Projects with requirements are locked first if their lock is missing or stale, and the
    environments of those that will run are built (``tell`` hears about both as they start).
    """
    plan = RunPlan()
    commit = cache(lambda: git_commit(root))  # asked only if something runs or fails
    for broken in invalid:
        plan.failed_early.append(early_failure(
            broken.name.folder, broken.name.number, profile, "invalid-writeup",
            CellFailure(ename="InvalidWriteup", evalue=broken.message), commit()))
    hashes = FileHashes(root)
    for project in projects:
        if stopping():
            break
        _plan_one(plan, root, project, settings=settings, profile=profile, force=force,
                  timeout=timeout, commit=commit, hashes=hashes, tell=tell)
    hashes.save()
    plan.tasks = with_warm_chains(plan.tasks)
    return plan


def with_warm_chains(tasks: list[Task]) -> list[Task]:
    """The tasks with the zygotes their kernels fork through, shared within each environment
    as far as their imports allow (``warm_chains``)."""
    chains: dict[str, WarmChain] = {}
    for environment in {task.environment for task in tasks}:
        chains.update(warm_chains({task.project: task.imports for task in tasks
                                   if task.environment == environment}))
    return [replace(task, preload=chains[task.project]) for task in tasks]


def _plan_one(plan: RunPlan, root: Path, project: Project, *, settings: Settings, profile: str,
              force: bool, timeout: float | None, commit: Callable[[], str | None],
              hashes: FileHashes, tell: Callable[[str], None]) -> None:
    folder = project.name.folder
    unfinished = unfinished_update(root, project.path)
    if unfinished is not None:  # before locking: its requirements.txt may hold conflict markers
        plan.failed_early.append(early_failure(
            folder, project.number, profile, "update-conflict",
            CellFailure(ename="UpdateConflict", evalue=unfinished), commit()))
        return

    def environment_failed(error: EnvironmentFailed) -> None:
        plan.failed_early.append(early_failure(
            folder, project.number, profile, "environment-error",
            CellFailure(ename="EnvironmentFailed", evalue=str(error)), commit()))

    try:
        lock = _locked(project, tell)
    except EnvironmentFailed as error:
        environment_failed(error)
        return
    try:
        key = key_for(project, profile, settings, hashes=hashes)
        kernel, language = notebook_kernel(project.notebook)
    except (InvalidNotebook, ValueError) as error:
        plan.failed_early.append(early_failure(
            folder, project.number, profile, "invalid-notebook",
            CellFailure(ename="InvalidNotebook", evalue=str(error)), commit()))
        return
    last = reference_run(root, folder, profile, settings)
    if isinstance(last, Corrupt):
        plan.notices.append(last.message(root))
        last = None
    if not force and last is not None and is_current(last, key.digest):
        plan.cached.append(last)
        return
    environment = None
    if lock is not None:
        try:
            environment = _built(root, folder, lock, tell)
        except EnvironmentFailed as error:
            environment_failed(error)
            return
    elif not kernel_exists(kernel):  # only now: jupyter_client takes ~0.2 s to import
        plan.failed_early.append(early_failure(
            folder, project.number, profile, "missing-kernel", CellFailure(
                ename="NoSuchKernel",
                evalue=f"no Jupyter kernel named {kernel!r} is installed; set the notebook's "
                       "kernel to python3"), commit()))
        return
    plan.tasks.append(Task(
        root=root, project=folder, number=project.number, folder=project.path,
        profile=profile, parameters=parameters_for(settings, profile, project.writeup.profiles),
        kernel_name=kernel, language=language, timeout=timeout, cache_key=key.digest,
        packages=key.packages, git_commit=commit(), max_output=settings.max_cell_output,
        expected_duration=last.duration if last else known_duration(root, project, settings),
        environment=environment,
        imports=warm_imports(key.imports) if project.writeup.preload else frozenset(),
        warnings=tuple(install.warning(folder)
                       for install in installs_in(cell_sources(project.notebook))),
    ))


def _locked(project: Project, tell: Callable[[str], None]) -> Lock | None:
    """The project's lock if it declares packages, resolved again if requirements changed."""
    if not needs_environment(project.path):
        return None
    return ensure_locked(project.path, lambda: tell(
        f"locking {project.name.folder}: resolving its requirements.txt with uv"))


def _built(root: Path, folder: str, lock: Lock, tell: Callable[[str], None]) -> Environment:
    if not environment_is_built(root, lock):
        tell(f"building the environment of {folder} from its requirements.lock")
    return environment_for(root, lock)


def early_failure(project: str, number: int, profile: str, kind: FailureKind,
                  error: CellFailure, commit: str | None) -> RunResult:
    """The record of a project that failed before it could run."""
    return RunResult(
        project=project, number=number, profile=profile, status="failed", failure=kind,
        error=error, started_at=dt.datetime.now(dt.UTC), duration=0.0, python=python_version(),
        git_commit=commit,
    )


def python_version() -> str:
    return ".".join(map(str, sys.version_info[:3]))
