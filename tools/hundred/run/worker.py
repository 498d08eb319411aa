"""A worker process: asks the orchestrator for tasks and executes one notebook at a time.

Each worker keeps one kernel started ahead (for the task after the current one), reports its
kernels' pids so the orchestrator can kill them, and dies with the orchestrator: Linux's
parent-death signal, and the end of its pipe, stop it even when the orchestrator is SIGKILLed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import signal
import threading
import time
from collections.abc import Callable
from importlib import metadata
from multiprocessing.connection import Connection
from pathlib import Path

from hundred.deprecations import VARIABLE as DEPRECATIONS
from hundred.deprecations import recorded
from hundred.environments import kernel_variables, zygote_variables
from hundred.installs import fresh_layer, remove_layer
from hundred.metrics import metrics_in
from hundred.results import CellFailure, FailureKind, Metric, RunResult
from hundred.run.engine import ENGINE, CellWatch, register_engine
from hundred.run.events import Finished, Started, WantTask, WorkerEvent
from hundred.run.failures import (
    BUG,
    Classified,
    at_running_cell,
    classify,
    kernel_start_failure,
    mark_failure,
)
from hundred.run.kernels import KERNEL_START_TIMEOUT, Kernel, KernelRequest, Launcher
from hundred.run.lifetime import die_with_parent
from hundred.run.memory import oom_kills
from hundred.run.plan import Task, python_version
from hundred.run.preload import with_threads
from hundred.run.zygote import SharedZygote


def worker_main(conn: Connection, socket_dir: str, parent: int,
                threads: int | None = None, shared: SharedZygote | None = None,
                index: int = -1) -> None:
    """Take tasks until the orchestrator answers None (or is gone); each kernel's thread
    pools get ``threads`` (``thread_share``); worker ``index`` forks the shared environment's
    kernels through ``shared`` (``SharedZygote``), with the other workers."""
    die_with_parent(signal.SIGKILL, parent=parent)
    for signum in (signal.SIGINT, signal.SIGTERM):  # the orchestrator decides when we stop
        signal.signal(signum, signal.SIG_IGN)
    register_engine()

    sending = threading.Lock()  # the launcher makes warm zygotes in a thread of its own

    def send(event: WorkerEvent) -> None:
        with sending:
            conn.send(event)

    def ask() -> Task | None:
        send(WantTask())
        task: Task | None = conn.recv()
        return task

    launcher = Launcher(socket_dir, send, shared.for_worker(index) if shared else None)
    try:
        current = ask()
        launched = launch(launcher, kernel_request(current, threads)) if current else None
        while current is not None and launched is not None:
            following = ask()
            upcoming = kernel_request(following, threads) if following is not None else None
            # The next kernel starts while this notebook runs; when its warm zygote still has
            # imports to do, those run meanwhile instead, and the kernel starts right after.
            ahead = None
            if upcoming is not None:
                if launcher.warm_for(upcoming):
                    ahead = launch(launcher, upcoming)
                else:
                    launcher.prepare(upcoming)
            send(Started(current.project))
            send(Finished(run_task(current, launched, launcher, send)))
            if upcoming is not None and ahead is None:
                ahead = launch(launcher, upcoming)
            current, launched = following, ahead
    except (EOFError, OSError):
        pass  # the orchestrator is gone: stop taking work
    finally:
        launcher.close()


def import_ahead() -> None:
    """Import what every worker needs for its first notebook, once, in the orchestrator before
    it forks them: papermill (0.8 s of CPU), with the engine registered, and ipykernel's
    kernelspec, which jupyter_client imports to start a 'python3' kernel (and IPython is not
    needed for it: ``kernels._installed_specs``). Forked workers inherit them instead of each
    importing them on the way to its first kernel."""
    import ipykernel.kernelspec  # noqa: F401

    register_engine()


def kernel_request(task: Task, threads: int | None = None) -> KernelRequest:
    """The kernel ``task`` needs: its environment's Python, its own fresh pip layer, its share
    of the CPUs' threads."""
    layer = fresh_layer(task.layer)
    recording = {DEPRECATIONS: str(deprecations_file(task))}
    return KernelRequest(
        kernel_name=task.kernel_name, cwd=task.folder,
        python=str(task.environment.python) if task.environment else None,
        env=with_threads({**kernel_variables(task.environment, layer), **recording}, threads),
        base_env=with_threads(zygote_variables(task.environment), threads),
        preload=task.preload)


def launch(launcher: Launcher, request: KernelRequest
           ) -> tuple[KernelRequest, Kernel | BaseException]:
    return request, launcher.launch(request)


def run_task(task: Task, launched: tuple[KernelRequest, Kernel | BaseException],
             launcher: Launcher, send: Callable[[WorkerEvent], None]) -> RunResult:
    """Execute one notebook with its pre-launched kernel and record what happened."""
    started = dt.datetime.now(dt.UTC)
    clock = time.perf_counter()
    task.partial.parent.mkdir(parents=True, exist_ok=True)
    task.partial.unlink(missing_ok=True)  # an earlier run's notebook says nothing of this one
    deprecations_file(task).unlink(missing_ok=True)
    watch = CellWatch(task.project, send, task.max_output)
    request, kernel = launched
    ready, attempts = launcher.ready(kernel, request)
    kills = oom_kills()
    failed: Classified | None = None
    try:
        if isinstance(ready, BaseException):
            failed = kernel_start_failure(ready)
        else:
            failed = _execute(task, ready, watch)
            launcher.retire(ready)
    finally:
        remove_layer(task.layer)  # what the notebook installed was for this run only
    notes = [f"cell {cell}: its output was cut at {task.max_output:,} bytes" for cell in watch.cut]
    after = oom_kills() if failed is not None and failed.kind == "dead-kernel" else None
    struck = after - kills if after is not None and kills is not None else 0
    out_of_memory = struck > 0
    if out_of_memory:
        notes.append("the kernel was killed by the out-of-memory killer (its memory cgroup "
                     f"counted {struck} kill(s) while it ran)")
    result = _result(task, started, time.perf_counter() - clock, failed, attempts, notes)
    found = recorded(deprecations_file(task), task.partial)
    deprecations_file(task).unlink(missing_ok=True)
    return result.model_copy(update={"deprecations": found, "out_of_memory": out_of_memory})


def deprecations_file(task: Task) -> Path:
    """Where the task's kernel writes the deprecations it raises (``hundred.deprecations``)."""
    return task.partial.with_suffix(".deprecations.jsonl")


def _execute(task: Task, kernel: Kernel, watch: CellWatch) -> Classified | None:
    import papermill

    try:
        papermill.execute_notebook(
            str(task.notebook), str(task.partial), parameters=task.parameters,
            engine_name=ENGINE, kernel=kernel, watch=watch, kernel_name=task.kernel_name,
            language=task.language, cwd=str(task.folder), progress_bar=False,
            execution_timeout=task.timeout, start_timeout=KERNEL_START_TIMEOUT,
        )
    except Exception as raised:
        failed = classify(raised, task.partial)
    except BaseException as raised:  # a bug of ours must not take the worker with it
        failed = Classified("internal-error", at_running_cell(
            task.partial, type(raised).__name__, f"{raised} ({BUG})"))
    else:
        return None
    mark_failure(task.partial, failed.kind, failed.error)
    return failed


def _result(task: Task, started: dt.datetime, duration: float, failed: Classified | None,
            attempts: int, notes: list[str]) -> RunResult:
    import nbformat

    metrics: dict[str, Metric] = {}
    if task.partial.is_file():
        try:
            notebook = nbformat.read(task.partial, as_version=4)
        except Exception:
            notebook = {}
        metrics = {name: Metric(value=m["value"], higher_is_better=m.get("higher_is_better", True))
                   for name, m in metrics_in(notebook).items()}
    failure: FailureKind | None = failed.kind if failed else None
    error: CellFailure | None = failed.error if failed else None
    return RunResult(
        project=task.project, number=task.number, profile=task.profile,
        status="failed" if failed else "passed", failure=failure, error=error,
        started_at=started, duration=round(duration, 3), metrics=metrics,
        parameters=task.parameters, cache_key=task.cache_key, python=python_version(),
        packages={**task.packages, **engine_versions(task)}, git_commit=task.git_commit,
        kernel_attempts=attempts, notes=notes, warnings=list(task.warnings),
        environment=task.environment.name if task.environment else None,
    )


def interrupted_result(task: Task, signal_name: str) -> RunResult:
    """The record of a task stopped by the orchestrator (its worker was killed)."""
    error = at_running_cell(task.partial, "KeyboardInterrupt" if signal_name == "SIGINT"
                            else signal_name, f"the run was interrupted ({signal_name})")
    mark_failure(task.partial, "interrupted", error)
    return _result(task, dt.datetime.now(dt.UTC), 0.0, Classified("interrupted", error), 1, [])


def worker_died_result(task: Task, exitcode: int | None) -> RunResult:
    """The record of a task whose worker process died under it (killed, out of memory)."""
    error = at_running_cell(task.partial, "WorkerDied",
                            f"the process running the notebook exited with {exitcode}")
    mark_failure(task.partial, "dead-kernel", error)
    return _result(task, dt.datetime.now(dt.UTC), 0.0, Classified("dead-kernel", error), 1, [])


def worker_failed_result(task: Task, exitcode: int | None) -> RunResult:
    """The record of a task no worker could run: workers kept dying before running anything."""
    error = CellFailure(ename="WorkerDied", evalue=(
        f"the worker processes kept exiting (last with {exitcode}) before running anything; "
        f"{BUG}"))
    return _result(task, dt.datetime.now(dt.UTC), 0.0, Classified("internal-error", error), 0, [])


def engine_versions(task: Task | None = None) -> dict[str, str]:
    """The versions of what executed the notebook (a project environment's own ipykernel is
    in its lock, among the task's packages)."""
    found = {}
    for name in ("papermill", "nbclient", "ipykernel", "hundred"):
        if task is not None and task.environment is not None and name == "ipykernel":
            continue
        with contextlib.suppress(metadata.PackageNotFoundError):
            found[name] = metadata.version(name)
    return found



