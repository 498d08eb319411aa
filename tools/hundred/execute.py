"""Execute project notebooks with papermill: plan, run in parallel worker processes, record.

Three parts, as papermill itself is built: ``plan_runs`` decides what to run (profiles, cache,
shards); worker processes run notebooks (one kernel each, started ahead of time); ``execute``
orchestrates the workers and turns every outcome into a ``RunResult``.

Kernel start-up (~0.6 s of CPU) dominates small notebooks, so each worker launches the kernel
for its next notebook before executing the current one, and the two overlap. Kernels talk over
IPC sockets, not TCP ports, so parallel starts never collide (papermill#511); a kernel that
fails to start is retried, a notebook that fails on its own never is.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import multiprocessing as mp
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hundred import results as store
from hundred.cache import InvalidNotebook, cache_key_for
from hundred.catalog import Project
from hundred.config import Settings, parameters_for
from hundred.errors import HundredError
from hundred.metrics import metrics_in
from hundred.results import CellFailure, FailureKind, Metric, RunResult

if TYPE_CHECKING:
    from hundred.zygote import Zygote

KERNEL_START_ATTEMPTS = 3
KERNEL_START_TIMEOUT = 60.0
TRACEBACK_TAIL = 12
MISSING_DATA_ERRORS = frozenset({"FileNotFoundError", "WorkFailed"})
ENGINE = "hundred-prestarted"


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
    timeout: float | None
    cache_key: str
    packages: dict[str, str]
    git_commit: str | None
    expected_duration: float = 1.0

    @property
    def notebook(self) -> Path:
        return self.folder / "notebook.ipynb"

    @property
    def output(self) -> Path:
        return store.latest_path(self.root, self.project, self.profile).with_suffix(".ipynb")


@dataclass
class RunPlan:
    """What ``hundred run`` will do: tasks to execute, projects skipped, failures found early."""

    tasks: list[Task] = field(default_factory=list)
    cached: list[RunResult] = field(default_factory=list)
    failed_early: list[RunResult] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Planning


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


def kernel_name_of(notebook: Path) -> str:
    data = json.loads(notebook.read_text(encoding="utf-8"))
    spec = data.get("metadata", {}).get("kernelspec", {})
    return str(spec.get("name") or "python3")


@cache
def kernel_exists(name: str) -> bool:
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


def known_duration(root: Path, project: Project) -> float:
    """A run's expected cost from committed records (frozen runs), else 1 second."""
    for profile in ("smoke", "full"):
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
) -> RunPlan:
    """Decide what to run: projects whose cache key differs from their last successful run."""
    plan = RunPlan()
    commit = git_commit(root)
    frozen_profile = profile in settings.freeze
    for project in projects:
        folder = project.name.folder
        parameters = parameters_for(settings, profile, project.writeup.profiles)
        try:
            key = cache_key_for(project, parameters)
            kernel = kernel_name_of(project.notebook)
        except (InvalidNotebook, ValueError) as error:
            plan.failed_early.append(_early_failure(project, profile, "invalid-notebook",
                                                    "InvalidNotebook", str(error), commit))
            continue
        last = (store.frozen if frozen_profile else store.latest)(root, folder, profile)
        if not force and last is not None and last.passed and last.cache_key == key.digest:
            plan.cached.append(last)
            continue
        if not kernel_exists(kernel):  # only now: jupyter_client takes ~0.4 s to import
            plan.failed_early.append(_early_failure(
                project, profile, "missing-kernel", "NoSuchKernel",
                f"no Jupyter kernel named {kernel!r} is installed; set the notebook's kernel "
                "to python3", commit))
            continue
        plan.tasks.append(Task(
            root=root, project=folder, number=project.number, folder=project.path,
            profile=profile, parameters=parameters, kernel_name=kernel, timeout=timeout,
            cache_key=key.digest, packages=key.packages, git_commit=commit,
            expected_duration=last.duration if last else known_duration(root, project),
        ))
    return plan


def _early_failure(project: Project, profile: str, kind: FailureKind, ename: str, evalue: str,
                   commit: str | None) -> RunResult:
    return RunResult(
        project=project.name.folder, number=project.number, profile=profile, status="failed",
        failure=kind, error=CellFailure(ename=ename, evalue=evalue),
        started_at=dt.datetime.now(dt.UTC), duration=0.0, python=_python(), git_commit=commit,
    )


def _python() -> str:
    return ".".join(map(str, sys.version_info[:3]))


# ---------------------------------------------------------------------------------------------
# The worker side: kernels and one notebook at a time


class _Kernel:
    """A kernel launched ahead of its notebook, over IPC sockets in a private folder.

    Its client connects and waits for the kernel in a task on the worker's event loop, so the
    wait happens while the previous notebook executes (papermill runs on that same loop).
    """

    def __init__(self, task: Task, socket_prefix: str, zygote: Zygote | None) -> None:
        from jupyter_core.utils import ensure_event_loop, run_sync

        from hundred.zygote import ZygoteKernelManager

        self.manager = ZygoteKernelManager(kernel_name=task.kernel_name, transport="ipc",
                                           ip=socket_prefix)
        self.manager.zygote = zygote
        self._run_sync = run_sync
        run_sync(self.manager.start_kernel)(cwd=str(task.folder))
        self.client = self.manager.client()
        self.client.start_channels()
        self._ready = ensure_event_loop().create_task(
            self.client.wait_for_ready(timeout=KERNEL_START_TIMEOUT))

    @property
    def pid(self) -> int | None:
        provisioner = self.manager.provisioner
        return getattr(provisioner, "pid", None) if provisioner else None

    def wait_ready(self) -> None:
        async def ready() -> None:
            await self._ready

        self._run_sync(ready)()
        self.client.allow_stdin = False

    def shutdown(self) -> None:
        if not self._ready.done():
            self._ready.cancel()
        self.client.stop_channels()
        try:
            if self.manager.has_kernel:
                # Also removes the connection file and the IPC sockets.
                self._run_sync(self.manager.shutdown_kernel)(now=True)
            else:
                self._run_sync(self.manager.cleanup_resources)()
        except Exception:  # already dead: nothing left to stop
            pass


def _register_engine() -> None:
    """A papermill engine that executes with the kernel we started ahead of time."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines

    class PrestartedKernelEngine(NBClientEngine):  # type: ignore[misc]
        @classmethod
        def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, **kwargs: Any) -> Any:
            kernel: _Kernel = kwargs["kernel"]
            client = PapermillNotebookClient(
                nb_man,
                km=kernel.manager,
                timeout=kwargs.get("execution_timeout"),
                startup_timeout=kwargs.get("start_timeout", KERNEL_START_TIMEOUT),
                kernel_name=kernel_name,
                log_output=False,
                shutdown_kernel="immediate",
            )
            client.kc = kernel.client  # connected and ready: nbclient starts no other
            # The kernel is ours: run_task shuts it down.
            return client.execute(cleanup_kc=False)

    papermill_engines.register(ENGINE, PrestartedKernelEngine)


class _Launcher:
    """Launches a worker's kernels, through its zygote unless HUNDRED_NO_ZYGOTE is set."""

    def __init__(self, socket_dir: str, events: Any) -> None:
        self.socket_dir = socket_dir
        self.events = events
        self.count = 0
        self.zygote: Zygote | None = None
        if not os.environ.get("HUNDRED_NO_ZYGOTE"):
            from hundred.zygote import Zygote

            self.zygote = Zygote()
            events.put(("kernel", os.getpid(), self.zygote.pid))

    def close(self) -> None:
        if self.zygote is not None:
            self.zygote.close()
            self.events.put(("gone", os.getpid(), self.zygote.pid))

    def launch(self, task: Task) -> _Kernel | BaseException:
        self.count += 1
        prefix = str(Path(self.socket_dir) / f"{os.getpid()}-{self.count}")
        try:
            kernel = _Kernel(task, prefix, self.zygote)
        except Exception as error:  # reported when the task runs
            return error
        if kernel.pid:
            self.events.put(("kernel", os.getpid(), kernel.pid))
        return kernel

    def retire(self, kernel: _Kernel) -> None:
        """Stop ``kernel`` and tell the main process it no longer needs killing."""
        pid = kernel.pid
        kernel.shutdown()
        if pid:
            self.events.put(("gone", os.getpid(), pid))


def _worker_main(tasks: Any, events: Any, socket_dir: str) -> None:
    """A worker process: take tasks until a None, always one kernel launched ahead."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process handles Ctrl-C
    _register_engine()
    launcher = _Launcher(socket_dir, events)
    current: Task | None = tasks.get()
    kernel = launcher.launch(current) if current is not None else None
    try:
        while current is not None and kernel is not None:
            following: Task | None = tasks.get()
            next_kernel = launcher.launch(following) if following is not None else None
            events.put(("start", os.getpid(), current.project))
            result = run_task(current, kernel, launcher)
            events.put(("done", os.getpid(), result.model_dump_json()))
            current, kernel = following, next_kernel
    finally:
        launcher.close()


def run_task(task: Task, kernel: _Kernel | BaseException, launcher: _Launcher) -> RunResult:
    """Execute one notebook with its pre-launched kernel and record what happened."""
    import papermill

    started = dt.datetime.now(dt.UTC)
    clock = time.perf_counter()
    kernel, attempts, start_error = _ready_kernel(task, kernel, launcher)
    failure: FailureKind | None = None
    error: CellFailure | None = None
    if start_error is not None:
        failure, error = _classify(start_error, task.output)
    else:
        assert isinstance(kernel, _Kernel)
        task.output.parent.mkdir(parents=True, exist_ok=True)
        try:
            papermill.execute_notebook(
                str(task.notebook), str(task.output), parameters=task.parameters,
                engine_name=ENGINE, kernel=kernel, kernel_name=task.kernel_name,
                cwd=str(task.folder), progress_bar=False, execution_timeout=task.timeout,
                start_timeout=KERNEL_START_TIMEOUT,
            )
        except Exception as raised:
            failure, error = _classify(raised, task.output)
            _mark_failure(task.output, failure, error)
        finally:
            launcher.retire(kernel)
    return _result(task, started, time.perf_counter() - clock, failure, error, attempts)


def _ready_kernel(
    task: Task, kernel: _Kernel | BaseException, launcher: _Launcher
) -> tuple[_Kernel | BaseException, int, BaseException | None]:
    """Wait for the kernel; one that fails to start is replaced, up to a few times."""
    attempts = 1
    while True:
        if isinstance(kernel, BaseException):
            return kernel, attempts, kernel
        try:
            kernel.wait_ready()
            return kernel, attempts, None
        except Exception as error:
            launcher.retire(kernel)
            if attempts >= KERNEL_START_ATTEMPTS:
                return error, attempts, error
            attempts += 1
            kernel = launcher.launch(task)


def _classify(raised: BaseException, output: Path) -> tuple[FailureKind, CellFailure]:
    """The failure kind and details of an exception from papermill, nbclient or the kernel."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(raised, PapermillExecutionError):
        kind: FailureKind = "missing-data" if raised.ename in MISSING_DATA_ERRORS else "cell-error"
        return kind, CellFailure(
            cell=_source_number(output, raised.cell_index), execution_count=raised.exec_count,
            ename=raised.ename, evalue=raised.evalue, traceback_tail=_tail(raised.traceback),
        )
    name = type(raised).__name__
    kinds: dict[str, FailureKind] = {
        "CellTimeoutError": "timeout",
        "TimeoutError": "timeout",
        "DeadKernelError": "dead-kernel",
        "NoSuchKernel": "missing-kernel",
        "NotJSONError": "invalid-notebook",
        "ValidationError": "invalid-notebook",
    }
    kind = kinds.get(name, "dead-kernel")
    import traceback

    lines = traceback.format_exception(raised)
    return kind, CellFailure(cell=_last_started_cell(output), ename=name,
                             evalue=str(raised).strip()[:2000], traceback_tail=_tail(lines))


def _tail(lines: Iterable[str]) -> list[str]:
    import re

    plain = [re.sub(r"\x1b\[[0-9;]*m", "", line).rstrip() for line in lines]
    return [line for line in "\n".join(plain).splitlines() if line.strip()][-TRACEBACK_TAIL:]


def _executed_cells(output: Path) -> list[Any]:
    """The executed notebook's cells without papermill's error banners ([] if unreadable)."""
    import nbformat

    try:
        notebook = nbformat.read(output, as_version=4)
    except Exception:
        return []
    return [c for c in notebook.cells
            if "papermill-error-cell-tag" not in c.metadata.get("tags", [])]


def _injected(cell: Any) -> bool:
    return "injected-parameters" in cell.metadata.get("tags", [])


def _source_number(output: Path, executed_index: int) -> int | None:
    """The 1-based position, in the user's own notebook, of executed cell ``executed_index``.

    papermill adds an injected-parameters cell and, after an error, banner cells: they are not
    counted, so the number is the one the user finds in their notebook.
    """
    cells = _executed_cells(output)
    if not 0 <= executed_index < len(cells):
        return None
    return executed_index + 1 - sum(_injected(c) for c in cells[:executed_index])


def _last_started_cell(output: Path) -> int | None:
    """The 1-based source position of the cell that was running: the last one started."""
    cells = [c for c in _executed_cells(output) if not _injected(c)]
    started = [number for number, cell in enumerate(cells, start=1)
               if cell.metadata.get("papermill", {}).get("start_time")]
    return started[-1] if started else None


def _mark_failure(output: Path, failure: FailureKind, error: CellFailure) -> None:
    """Leave the mark papermill does not leave after a timeout, a dead kernel or Ctrl-C."""
    import nbformat

    if failure in ("cell-error", "missing-data") or not output.is_file():
        return  # papermill already shows these with its red banner and the traceback
    notebook = nbformat.read(output, as_version=4)
    notebook.metadata["hundred"] = {"failure": failure, "cell": error.cell,
                                    "ename": error.ename, "evalue": error.evalue}
    started = [cell for cell in notebook.cells
               if cell.metadata.get("papermill", {}).get("start_time")]
    if started and started[-1].cell_type == "code":
        started[-1].outputs.append(nbformat.v4.new_output(
            "error", ename=error.ename, evalue=f"{failure}: {error.evalue}", traceback=[]))
    nbformat.write(notebook, output)


def _result(task: Task, started: dt.datetime, duration: float, failure: FailureKind | None,
            error: CellFailure | None, attempts: int) -> RunResult:
    metrics: dict[str, Metric] = {}
    if task.output.is_file():
        import nbformat

        try:
            notebook = nbformat.read(task.output, as_version=4)
        except Exception:
            notebook = {}
        metrics = {name: Metric(value=m["value"], higher_is_better=m.get("higher_is_better", True))
                   for name, m in metrics_in(notebook).items()}
    return RunResult(
        project=task.project, number=task.number, profile=task.profile,
        status="failed" if failure else "passed", failure=failure, error=error,
        started_at=started, duration=round(duration, 3), metrics=metrics,
        parameters=task.parameters, cache_key=task.cache_key, python=_python(),
        packages={**task.packages, **_engine_versions()}, git_commit=task.git_commit,
        notebook=task.output.relative_to(task.root).as_posix() if task.output.is_file() else None,
        kernel_attempts=attempts,
    )


def _engine_versions() -> dict[str, str]:
    from importlib import metadata

    found = {}
    for name in ("papermill", "nbclient", "ipykernel", "hundred"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            found[name] = metadata.version(name)
    return found


# ---------------------------------------------------------------------------------------------
# The orchestrator


def execute(tasks: Sequence[Task], *, jobs: int,
            on_event: Callable[[str, Any], None] = lambda kind, data: None) -> list[RunResult]:
    """Run ``tasks`` on ``jobs`` worker processes; return a result for every task.

    ``on_event`` hears ``("start", project)`` and ``("done", RunResult)``. Ctrl-C stops
    everything: running projects are recorded as interrupted, no kernel outlives the run, and
    KeyboardInterrupt is raised again with the results so far in ``.results``.
    """
    if not tasks:
        return []
    import papermill  # noqa: F401  (imported before forking: workers inherit it)
    from jupyter_client.manager import AsyncKernelManager  # noqa: F401

    context = mp.get_context("fork")
    task_queue = context.Queue()
    events = context.Queue()
    ordered = sorted(tasks, key=lambda t: (-t.expected_duration, t.number))
    workers = max(1, min(jobs, len(ordered)))
    for task in ordered:
        task_queue.put(task)
    for _ in range(workers):
        task_queue.put(None)
    socket_dir = tempfile.mkdtemp(prefix="hundred-")
    processes = [context.Process(target=_worker_main, args=(task_queue, events, socket_dir),
                                 daemon=True) for _ in range(workers)]
    for process in processes:
        process.start()
    by_project = {task.project: task for task in ordered}
    running: dict[int, str] = {}
    kernels: set[int] = set()
    done: dict[str, RunResult] = {}
    try:
        while len(done) < len(ordered):
            try:
                kind, worker, payload = events.get(timeout=0.5)
            except queue.Empty:
                _reap_dead_workers(processes, running, by_project, done, on_event)
                if not any(p.is_alive() for p in processes) and events.empty():
                    break
                continue
            if kind == "kernel":
                kernels.add(payload)
            elif kind == "gone":
                kernels.discard(payload)
            elif kind == "start":
                running[worker] = payload
                on_event("start", payload)
            elif kind == "done":
                result = RunResult.model_validate_json(payload)
                running.pop(worker, None)
                done[result.project] = result
                on_event("done", result)
    except KeyboardInterrupt as interrupt:
        _stop(processes, kernels)
        for project in running.values():
            result = _interrupted(by_project[project])
            done[project] = result
            on_event("done", result)
        interrupt.results = list(done.values())  # type: ignore[attr-defined]
        raise
    finally:
        _stop(processes, kernels)
        shutil.rmtree(socket_dir, ignore_errors=True)
    return [done[task.project] for task in tasks if task.project in done]


def _reap_dead_workers(processes: list[Any], running: dict[int, str], by_project: dict[str, Task],
                       done: dict[str, RunResult],
                       on_event: Callable[[str, Any], None]) -> None:
    """A worker that died mid-notebook (killed, out of memory) fails that notebook only."""
    for process in processes:
        if process.is_alive() or process.pid not in running:
            continue
        project = running.pop(process.pid)
        task = by_project[project]
        result = _result(task, dt.datetime.now(dt.UTC), 0.0, "dead-kernel",
                         CellFailure(cell=_last_started_cell(task.output), ename="WorkerDied",
                                     evalue=f"the worker process exited with {process.exitcode}"),
                         1)
        done[project] = result
        on_event("done", result)


def _interrupted(task: Task) -> RunResult:
    error = CellFailure(cell=_last_started_cell(task.output), ename="KeyboardInterrupt",
                        evalue="the run was interrupted (Ctrl-C)")
    _mark_failure(task.output, "interrupted", error)
    return _result(task, dt.datetime.now(dt.UTC), 0.0, "interrupted", error, 1)


def _stop(processes: list[Any], kernels: set[int]) -> None:
    """End the workers and every kernel they launched (kernels run in their own sessions)."""
    for process in processes:
        if process.is_alive():
            process.kill()
    for process in processes:
        process.join(timeout=5)
    for pid in kernels:
        for kill in (os.killpg, os.kill):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                kill(pid, signal.SIGKILL)
