"""The worker pool: runs tasks on worker processes and stops them all, whatever happens.

The orchestrator hands out tasks one at a time as workers ask (no queue with a feeder thread
to block on), listens to their events, and replaces a worker that died. When a stop is
requested (Ctrl-C, SIGTERM), it kills the workers, then every kernel and zygote they reported,
and records the notebooks that were running as interrupted. A worker that dies with its
notebook fails that notebook alone.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing import get_context
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess

from hundred.environments import Environment
from hundred.results import RunResult
from hundred.run.events import (
    Finished,
    KernelGone,
    KernelStarted,
    Progress,
    Started,
    Tick,
    WantTask,
    WorkerEvent,
)
from hundred.run.lifetime import alive
from hundred.run.plan import Task
from hundred.run.preload import NATIVE_KERNELS, import_cost, thread_share
from hundred.run.signals import Stop
from hundred.run.worker import (
    import_ahead,
    interrupted_result,
    worker_died_result,
    worker_failed_result,
    worker_main,
)
from hundred.run.zygote import SharedZygote, start_shared_zygote

POLL = 0.2  # seconds between checks for a stop request while waiting for workers
GONE_WITHIN = 5.0  # seconds to wait for killed processes to disappear
MAX_IDLE_DEATHS = 3  # workers dying before running anything: then the run gives up


@dataclass
class _Worker:
    process: BaseProcess
    conn: Connection
    assigned: list[Task] = field(default_factory=list)  # handed out, not finished, in order
    running: Task | None = None
    pids: set[int] = field(default_factory=set)  # its kernels and zygote


@dataclass
class Outcome:
    results: list[RunResult]
    stopped: bool  # a stop was requested before every task finished


def start_order(tasks: Sequence[Task], jobs: int) -> list[Task]:
    """The order tasks are handed out: the longest expected first, except that each worker's
    first task is the one that waits least on the imports of the first tasks before it.

    A worker's first kernel waits for its zygotes' imports (seconds, on one CPU): workers whose
    first notebooks need different zygotes have them imported side by side, and a notebook
    that needs none of the others' runs while they import. Measured on the example projects:
    the two longest both import scikit-learn, then torch, and one CPU stood idle for seconds
    while a single zygote imported them for both.
    """
    queue = sorted(tasks, key=lambda t: (-t.expected_duration, t.number))
    first: list[Task] = []
    for _ in range(min(jobs, len(queue))):
        needed = {(t.environment, stop) for t in first for stop in t.preload}
        # min keeps the earliest of equals: the longest expected among them.
        pick = min(queue, key=lambda t: _waits_on(t, needed))
        first.append(pick)
        queue.remove(pick)
    return first + queue


def _waits_on(task: Task, needed: set[tuple[Environment | None, frozenset[str]]]) -> float:
    """The import cost of the zygotes on ``task``'s chain that ``needed`` has already."""
    cost, before = 0.0, frozenset[str]()
    for stop in task.preload:
        shared = (task.environment, stop) in needed
        for module in sorted(stop - before):
            cost += import_cost(module, before) if shared else 0.0
            before |= {module}
    return cost


class Pool:
    """Runs ``tasks`` on up to ``jobs`` workers; ``finish`` saves each result as it comes.

    ``ahead`` is a shared zygote started before planning (``start_shared_zygote``): used when
    it fits the run, never closed here unless used.
    """

    def __init__(self, tasks: Sequence[Task], *, jobs: int,
                 finish: Callable[[RunResult], RunResult],
                 on_progress: Callable[[Progress], None], stop: Stop,
                 ahead: SharedZygote | None = None) -> None:
        self.tasks = sorted(tasks, key=lambda t: t.number)
        self.total = len(tasks)
        self.jobs = max(1, min(jobs, len(tasks)))
        self.queue = deque(start_order(tasks, self.jobs))
        self.finish = finish
        self.on_progress = on_progress
        self.stop = stop
        self.workers: list[_Worker] = []
        self.results: dict[str, RunResult] = {}
        self.socket_dir = tempfile.mkdtemp(prefix="hundred-")
        self.context = get_context("fork")
        self._ticked = time.monotonic()
        self._idle_deaths = 0
        self._started = 0  # workers started: the first ``jobs`` share ``self.shared``
        self.shared: SharedZygote | None = None
        self.ahead = ahead

    def run(self) -> Outcome:
        stopped = False
        try:
            self.shared = self._shared_zygote()
            import_ahead()  # on one CPU, while the zygote imports ipykernel on the other
            for _ in range(self.jobs):
                if self.stop.requested:
                    break
                self._start_worker()
            while len(self.results) < self.total and self.workers:
                if self.stop.requested:
                    stopped = True
                    break
                self._step()
        except KeyboardInterrupt:  # where no signal handler of ours is installed
            stopped = True
        finally:
            running = self._stop_all()
            if self.shared is not None:
                self.shared.close()
            for task in running if stopped else []:
                self._finished(interrupted_result(task, self.stop.name))
            shutil.rmtree(self.socket_dir, ignore_errors=True)  # sockets of killed kernels
        return Outcome([self.results[t.project] for t in self.tasks if t.project in self.results],
                       stopped or len(self.results) < self.total)

    def _shared_zygote(self) -> SharedZygote | None:
        """One zygote of the shared environment for every worker, when several workers run
        projects of it: what their notebooks import is then imported once, not per worker."""
        forked = any(t.environment is None and t.kernel_name in NATIVE_KERNELS
                     for t in self.tasks)
        if not forked:
            return None
        if self.ahead is not None and self.ahead.callers == self.jobs:
            return self.ahead
        return start_shared_zygote(self.jobs)

    def _start_worker(self) -> None:
        ours, theirs = self.context.Pipe(duplex=True)
        index = self._started
        self._started += 1
        process = self.context.Process(
            target=worker_main, args=(theirs, self.socket_dir, os.getpid(),
                                      thread_share(self.jobs), self.shared, index),
            daemon=True)
        process.start()
        theirs.close()
        if self.shared is not None:
            self.shared.forked(index)
        self.workers.append(_Worker(process, ours))

    def _step(self) -> None:
        sentinels = {w.process.sentinel: w for w in self.workers}
        ready = wait([*(w.conn for w in self.workers), *sentinels], timeout=POLL)
        if time.monotonic() - self._ticked >= 1.0:
            self._ticked = time.monotonic()
            self.on_progress(Tick())
        for worker in list(self.workers):
            if worker.conn in ready:
                self._drain(worker)
            if worker.process.sentinel in ready:
                self._drain(worker)
                self._reap(worker)

    def _drain(self, worker: _Worker) -> None:
        with contextlib.suppress(EOFError, OSError):
            while worker.conn.poll():
                self._handle(worker, worker.conn.recv())

    def _handle(self, worker: _Worker, event: WorkerEvent) -> None:
        if isinstance(event, WantTask):
            task = self.queue.popleft() if self.queue and not self.stop.requested else None
            if task is not None:
                worker.assigned.append(task)
            with contextlib.suppress(OSError):
                worker.conn.send(task)
        elif isinstance(event, KernelStarted):
            worker.pids.add(event.pid)
        elif isinstance(event, KernelGone):
            worker.pids.discard(event.pid)
        elif isinstance(event, Started):
            worker.running = next(t for t in worker.assigned if t.project == event.project)
            self.on_progress(event)
        elif isinstance(event, Finished):
            worker.assigned = [t for t in worker.assigned if t.project != event.result.project]
            worker.running = None
            self._finished(event.result)
        else:
            self.on_progress(event)

    def _finished(self, result: RunResult) -> None:
        saved = self.finish(result)
        self.results[saved.project] = saved
        self.on_progress(Finished(saved))

    def _reap(self, worker: _Worker) -> None:
        """A worker died: its notebook fails, its other tasks go back to the queue.

        Workers that keep dying before they run anything are a bug of ours: after a few, the
        tasks left fail as internal errors instead of starting workers for ever.
        """
        worker.process.join(timeout=1)
        self.workers.remove(worker)
        _kill(worker.pids)
        # Nothing running, but tasks handed to it or a crash before it asked for any: no
        # notebook of the user's killed it.
        if worker.running is None and (worker.assigned or worker.process.exitcode != 0):
            self._idle_deaths += 1
        for task in reversed(worker.assigned):
            if task is worker.running:
                self._finished(worker_died_result(task, worker.process.exitcode))
            else:
                self.queue.appendleft(task)
        if self._idle_deaths > MAX_IDLE_DEATHS:
            while self.queue:
                self._finished(worker_failed_result(self.queue.popleft(),
                                                    worker.process.exitcode))
        elif self.queue and not self.stop.requested:
            self._start_worker()

    def _stop_all(self) -> list[Task]:
        """Kill every worker, kernel and zygote; return the tasks that were running."""
        for worker in self.workers:
            self._drain(worker)  # results that arrived before the stop are kept
        for worker in self.workers:
            if worker.process.is_alive():
                worker.process.kill()
        for worker in self.workers:
            worker.process.join(timeout=GONE_WITHIN)
            self._drain(worker)  # kernels reported just before the kill
            worker.conn.close()
        running = [w.running for w in self.workers if w.running is not None
                   and w.running.project not in self.results]
        _kill(set().union(*(w.pids for w in self.workers)))
        self.workers = []
        return running


def _kill(pids: set[int]) -> None:
    """SIGKILL kernels (each leads its own process group) and zygotes; wait until gone."""
    for pid in pids:
        for kill in (os.killpg, os.kill):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + GONE_WITHIN
    while time.monotonic() < deadline and any(alive(pid) for pid in pids):
        time.sleep(0.02)

