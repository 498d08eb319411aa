"""Kernels forked from a warm process: the imports each kernel start costs, paid once.

A fresh IPython kernel spends most of its start-up importing ipykernel, IPython, zmq and
tornado (~0.6 s of CPU), and a real notebook then imports numpy, pandas, scikit-learn, torch
and matplotlib (~5 s together on 2 cores). A zygote is a process of the kernel environment's
own Python (``zygote_server.py``) that imports ``ipykernel.kernelapp`` once and, for each
kernel asked of it, forks a child that becomes the kernel, exactly as ``python -m
ipykernel_launcher -f CONNECTION_FILE`` would (its own session, the project folder as working
directory, the environment jupyter_client prepared). A zygote can fork a warmer zygote that
has also imported the heavy modules a notebook imports, so its kernel starts with exactly
those loaded; nothing of the caller leaks into a kernel.

``hundred.run.zygote_manager`` is jupyter_client's side: a kernel manager that launches
through a zygote. This module imports nothing of jupyter_client, so a run can start its zygote
before it has planned anything.

Lifetimes: a zygote dies with the process that started it (Linux's parent-death signal, and
the end of its socket), and every kernel it forked watches it and exits within a second of it.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from hundred.environments import zygote_variables
from hundred.run.lifetime import alive, die_with_parent
from hundred.run.preload import thread_share, with_threads

LAUNCHER = "ipykernel_launcher"
SERVER = Path(__file__).with_name("zygote_server.py")
MESSAGE = 1 << 20
PROCESS_NAME = "hundred.zygote"  # its last argument: what `ps` shows of zygotes and kernels
GONE_WITHIN = 5.0  # seconds a closed zygote has to exit before it is killed


class ZygoteFailed(RuntimeError):
    """The zygote could not fork a kernel: the caller launches kernels the ordinary way."""


class Zygote:
    """The caller's side of a warm process that forks kernels (and warmer zygotes) on request.

    ``Zygote.start(python)`` starts one for an environment's Python with ipykernel loaded;
    ``zygote.fork(modules)`` makes a child of it that has also imported ``modules``.
    """

    def __init__(self, channel: socket.socket, pid: int, python: str,
                 modules: frozenset[str] = frozenset(),
                 process: subprocess.Popen[bytes] | None = None, *,
                 shared: bool = False) -> None:
        self._channel = channel
        self.pid = pid
        self.python = python
        self.modules = modules
        self.process = process
        self.shared = shared  # other workers use it too: closing it only lets go of it
        self._ready = False

    @property
    def warm(self) -> bool:
        """Whether its imports are done (it answers at once), without waiting."""
        if not self._ready and select.select([self._channel], [], [], 0)[0]:
            self._await_ready()
        return self._ready

    def _await_ready(self) -> None:
        if self._ready:
            return
        try:
            said = self._channel.recv(MESSAGE)
        except OSError:
            said = b""
        if not said:
            what = f"importing {', '.join(sorted(self.modules))}" if self.modules else "starting"
            raise ZygoteFailed(f"the kernel zygote (pid {self.pid}) died while {what}")
        self._ready = True

    @classmethod
    def start(cls, python: str = sys.executable, env: dict[str, str] | None = None) -> Zygote:
        """A zygote running ``python`` (its own environment: ``env``, default ours)."""
        process, (channel,) = start_server(python, env, callers=1)
        return cls(channel, process.pid, python, process=process)

    def _ask(self, request: dict[str, Any]) -> tuple[dict[str, Any], list[int]]:
        self._await_ready()
        try:
            self._channel.send(json.dumps(request).encode())
            data, fds, _, _ = socket.recv_fds(self._channel, MESSAGE, 1)
        except OSError as error:  # the zygote is gone (ConnectionResetError, BrokenPipeError)
            raise ZygoteFailed(f"the kernel zygote (pid {self.pid}) is gone ({error})") from None
        if not data:
            raise ZygoteFailed(f"the kernel zygote (pid {self.pid}) exited")
        answer: dict[str, Any] = json.loads(data)
        if "error" in answer:
            for fd in fds:
                os.close(fd)
            raise ZygoteFailed(f"the kernel zygote could not fork: {answer['error']}")
        return answer, fds

    def spawn(self, argv: list[str], cwd: str, env: dict[str, str]) -> int:
        """Fork a kernel running ``ipykernel_launcher argv`` in ``cwd``; return its pid."""
        answer, _ = self._ask({"op": "kernel", "argv": argv, "cwd": cwd, "env": env})
        return int(answer["pid"])

    def fork(self, modules: frozenset[str]) -> Zygote:
        """A child zygote that imports ``modules`` besides what this one has; it returns once
        the child exists (``warm`` tells when its imports are done)."""
        answer, fds = self._ask({"op": "zygote", "modules": sorted(modules - self.modules)})
        if not fds:
            raise ZygoteFailed("the kernel zygote sent no socket for its child")
        return Zygote(socket.socket(fileno=fds[0]), int(answer["pid"]), self.python,
                      self.modules | modules, shared=self.shared)

    def close(self) -> None:
        """Stop the zygote; kernels it forked watch it and exit when it is gone. A shared one
        is only let go of: it ends when its last caller has (or with the run)."""
        with contextlib.suppress(OSError):
            self._channel.close()
        if self.shared:
            return
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=GONE_WITHIN)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            return
        # A child zygote is not our child process: its socket's end stops it; make sure.
        deadline = time.monotonic() + GONE_WITHIN
        while alive(self.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)


def start_server(python: str, env: dict[str, str] | None, callers: int
                 ) -> tuple[subprocess.Popen[bytes], list[socket.socket]]:
    """Start a zygote server for ``callers`` callers: the process, and a socket per caller."""
    pairs = [socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET) for _ in range(callers)]
    theirs = [pair[1].fileno() for pair in pairs]
    parent = os.getpid()
    try:
        process = subprocess.Popen(
            [python, str(SERVER), ",".join(map(str, theirs)), str(parent), PROCESS_NAME],
            pass_fds=theirs, stdin=subprocess.DEVNULL, env=env,
            preexec_fn=lambda: die_with_parent(signal.SIGKILL, parent=parent),
        )
    except OSError:
        for ours, _ in pairs:
            ours.close()
        raise
    finally:
        for _, end in pairs:
            end.close()
    return process, [ours for ours, _ in pairs]


class SharedZygote:
    """A run's zygote of the shared environment, started before its workers are forked: each
    worker takes its own socket to it (``for_worker``), and the zygotes it forks are shared
    the same way, so the workers import the notebooks' heavy modules once between them."""

    def __init__(self, python: str, env: dict[str, str], callers: int) -> None:
        self.python = python
        self.callers = callers
        self.process, self._channels = start_server(python, env, callers)

    def for_worker(self, index: int) -> Zygote | None:
        """In worker ``index`` (forked after this was made): its zygote; the other workers'
        sockets are closed here, so that each zygote sees its callers leave. None past the
        first generation of workers: a restarted worker starts its own."""
        if not 0 <= index < len(self._channels):
            return None
        for other, channel in enumerate(self._channels):
            if other != index:
                channel.close()
        return Zygote(self._channels[index], self.process.pid, self.python, shared=True)

    def forked(self, index: int) -> None:
        """In the orchestrator, once worker ``index`` is forked: its socket is the worker's."""
        if 0 <= index < len(self._channels):
            self._channels[index].close()  # a socket closed already: nothing to do

    def discard(self) -> None:
        """Kill it now, whatever it is doing: started ahead for a run that did not need it (or
        closed already, when this does nothing more)."""
        for index in range(len(self._channels)):
            self.forked(index)
        self.process.kill()
        self.process.wait()

    def close(self) -> None:
        """At the end of the run: it ends as its last socket closes; make sure."""
        for index in range(len(self._channels)):
            self.forked(index)
        try:
            self.process.wait(timeout=GONE_WITHIN)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_shared_zygote(jobs: int) -> SharedZygote | None:
    """The shared environment's zygote for ``jobs`` workers, or None where a run has none (one
    worker, ``HUNDRED_NO_ZYGOTE``) or it cannot start (each worker then starts its own, and
    says why if that fails too). The runner starts one before planning, so that its start (a
    Python importing ipykernel, 0.5 s) overlaps the plan; ``Pool`` takes it when it fits."""
    if jobs < 2 or os.environ.get("HUNDRED_NO_ZYGOTE"):
        return None
    environment = with_threads(zygote_variables(None), thread_share(jobs))
    try:
        return SharedZygote(sys.executable, environment, jobs)
    except OSError:
        return None
