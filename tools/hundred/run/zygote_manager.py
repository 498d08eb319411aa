"""jupyter_client's kernel manager, launching this Python's ipykernel through a zygote.

``ZygoteKernelManager`` is jupyter_client's AsyncKernelManager with its documented hook,
``_async_launch_kernel``, launching through the zygote (``hundred.run.zygote``) when the
kernel spec is the zygote's Python's own ipykernel, and the normal way otherwise.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager

from hundred.run.lifetime import alive
from hundred.run.zygote import LAUNCHER, Zygote

KILLED_WITHIN = 5.0  # seconds a SIGKILLed kernel has to be gone


class _ForkedProcess:
    """Enough of ``subprocess.Popen`` for jupyter_client to manage a kernel it did not fork."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and not alive(self.pid):
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
        argv = _launcher_arguments(kernel_cmd, self.zygote.python) if self.zygote else None
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
        try:
            process.wait(timeout=KILLED_WITHIN)
        except subprocess.TimeoutExpired:
            # Still there after SIGKILL (held by a tracer, or in an uninterruptible wait of
            # the kernel's own): it goes when the system lets it, nothing more can be sent,
            # and jupyter_client's wait would poll it forever.
            return
        await self.provisioner.wait()


def _launcher_arguments(kernel_cmd: list[str], python: str) -> list[str] | None:
    """The arguments after ``-m ipykernel_launcher`` when the command runs ``python``."""
    if len(kernel_cmd) < 3 or kernel_cmd[1:3] != ["-m", LAUNCHER]:
        return None
    try:
        # The same file in the same folder: a venv's python links to its base interpreter,
        # which runs another environment.
        command, ours = Path(kernel_cmd[0]).absolute(), Path(python).absolute()
        same = command == ours or (command.parent == ours.parent
                                   and command.resolve() == ours.resolve())
    except OSError:
        return None
    return kernel_cmd[3:] if same else None
