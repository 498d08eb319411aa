"""Kernels forked from a warm process: the ~0.6 s of imports each kernel start costs, paid once.

A fresh IPython kernel spends most of its start-up importing ipykernel, IPython, zmq and
tornado: CPU that dominates small notebooks (on 2 cores, 100 kernel starts are ~30 s of it).
A zygote is a plain ``python -c`` process that imports ``ipykernel.kernelapp`` once and, for
each kernel asked of it, forks a child that becomes the kernel, exactly as
``python -m ipykernel_launcher -f CONNECTION_FILE`` would (its own session, the project folder
as working directory, the environment jupyter_client prepared). Nothing of the caller leaks
into the kernel: the zygote never imports anything but ipykernel and this module.

``ZygoteKernelManager`` is jupyter_client's AsyncKernelManager with its documented hook,
``_async_launch_kernel``, launching through the zygote when the kernel spec is this Python's
own ipykernel, and the normal way otherwise.

Lifetimes: the zygote dies with the worker that started it (Linux's parent-death signal, and
the end of its socket), and every kernel it forked watches it and exits within a second of it.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager

from hundred.run.lifetime import die_with_parent

LAUNCHER = "ipykernel_launcher"


class ZygoteFailed(RuntimeError):
    """The zygote could not fork a kernel: the caller launches kernels the ordinary way."""


class Zygote:
    """The caller's side: a warm process that forks kernels on request."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        self._socket = ours
        self._stream = ours.makefile("rw", encoding="utf-8")
        parent = os.getpid()
        self.process = subprocess.Popen(
            [sys.executable, "-c",
             f"from hundred.run.zygote import serve; serve({theirs.fileno()})"],
            pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
            preexec_fn=lambda: die_with_parent(signal.SIGKILL, parent=parent),
        )
        theirs.close()

    @property
    def pid(self) -> int:
        return self.process.pid

    def spawn(self, argv: list[str], cwd: str, env: dict[str, str]) -> int:
        """Fork a kernel running ``ipykernel_launcher argv`` in ``cwd``; return its pid."""
        try:
            self._stream.write(json.dumps({"argv": argv, "cwd": cwd, "env": env}) + "\n")
            self._stream.flush()
            reply = self._stream.readline()
        except OSError as error:  # the zygote is gone (ConnectionResetError, BrokenPipeError)
            raise ZygoteFailed(f"the kernel zygote (pid {self.pid}) is gone ({error})") from None
        if not reply:
            raise ZygoteFailed(f"the kernel zygote (pid {self.pid}) exited")
        answer = json.loads(reply)
        if "error" in answer:
            raise ZygoteFailed(f"the kernel zygote could not fork a kernel: {answer['error']}")
        return int(answer["pid"])

    def close(self) -> None:
        """Stop the zygote; kernels it forked watch it and exit when it is gone."""
        with contextlib.suppress(OSError):
            self._stream.close()
            self._socket.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def serve(fd: int) -> None:
    """The zygote's side: import ipykernel once, then fork a kernel per request line."""
    # As ipykernel_launcher does: the cwd leaves sys.path while loading (IPython re-adds it).
    if sys.path and sys.path[0] in ("", str(Path.cwd())):
        del sys.path[0]
    # debugpy warns about frozen modules when imported; kernels get their own environment.
    os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    from ipykernel import kernelapp

    # What every kernel imports while it initialises (the debugger pulls in debugpy): once here.
    for module in ("ipykernel.ipkernel", "ipykernel.zmqshell", "ipykernel.debugger",
                   "ipykernel.comm", "IPython.core.completer"):
        with contextlib.suppress(ImportError):
            importlib.import_module(module)
    channel = socket.socket(fileno=fd)
    stream = channel.makefile("rw", encoding="utf-8")
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # kernels are reaped automatically
    for signum in (signal.SIGINT, signal.SIGTERM):  # our caller decides when we stop
        signal.signal(signum, signal.SIG_IGN)
    for line in stream:
        request = json.loads(line)
        try:
            pid = os.fork()
        except OSError as error:
            stream.write(json.dumps({"error": str(error)}) + "\n")
            stream.flush()
            continue
        if pid == 0:
            stream.close()
            channel.close()
            _become_kernel(kernelapp, request)
        stream.write(json.dumps({"pid": pid}) + "\n")
        stream.flush()
    os._exit(0)


def _become_kernel(kernelapp: Any, request: dict[str, Any]) -> None:
    """In the forked child: set up what a freshly launched kernel has, then run it."""
    code = 1
    try:
        os.setsid()  # its own session and process group, as jupyter_client launches kernels
        for signum in (signal.SIGCHLD, signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_DFL)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        # Exit when the zygote is gone. The trait's default was read from the environment when
        # the zygote imported ipykernel, so it is given on the command line.
        parent = str(os.getppid())
        os.environ["JPY_PARENT_PID"] = parent
        argv = [*request["argv"], f"--IPKernelApp.parent_handle={parent}"]
        sys.argv = [str(Path(kernelapp.__file__).parent.parent / f"{LAUNCHER}.py"), *argv]
        kernelapp.launch_new_instance(argv=argv)
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 0
    finally:
        os._exit(code)


class _ForkedProcess:
    """Enough of ``subprocess.Popen`` for jupyter_client to manage a kernel it did not fork."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                self.returncode = 0  # reaped by the zygote: the exit status is not ours to see
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
            time.sleep(0.02)
        return self.returncode or 0

    def send_signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class ZygoteKernelManager(AsyncKernelManager):
    """An AsyncKernelManager that launches this Python's ipykernel through a zygote."""

    zygote: Zygote | None = None

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        argv = _launcher_arguments(kernel_cmd)
        if self.zygote is None or argv is None or self.provisioner is None:
            await super()._async_launch_kernel(kernel_cmd, **kw)
            return
        cwd = str(kw.get("cwd") or Path.cwd())
        env = dict(kw.get("env") or os.environ)
        pid = self.zygote.spawn(argv, cwd, env)
        provisioner: Any = self.provisioner
        provisioner.process = _ForkedProcess(pid)
        provisioner.pid = provisioner.pgid = pid
        provisioner.cwd = cwd
        self._reconcile_connection_info(provisioner.connection_info)


    async def _async_kill_kernel(self, restart: bool = False) -> None:
        process = getattr(self.provisioner, "process", None)
        if not isinstance(process, _ForkedProcess):
            await super()._async_kill_kernel(restart=restart)
            return
        # SIGKILL to the kernel's process group; the zygote reaps it within milliseconds, so
        # wait in short steps rather than jupyter_client's 100 ms polls.
        assert self.provisioner is not None
        await self.provisioner.kill(restart=restart)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
        await self.provisioner.wait()


def _launcher_arguments(kernel_cmd: list[str]) -> list[str] | None:
    """The arguments after ``-m ipykernel_launcher`` when the command runs this Python."""
    if len(kernel_cmd) < 3 or kernel_cmd[1:3] != ["-m", LAUNCHER]:
        return None
    try:
        same = Path(kernel_cmd[0]).resolve() == Path(sys.executable).resolve()
    except OSError:
        return None
    return kernel_cmd[3:] if same else None
