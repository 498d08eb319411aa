"""Kernels for the worker: started ahead of their notebook, through the zygote when it can.

Kernel start-up (~0.6 s of CPU) dominates small notebooks, so a worker launches the kernel for
its next notebook before executing the current one, and the two overlap. Kernels talk over IPC
sockets in a private folder, not TCP ports, so parallel starts never collide (papermill#511).
A kernel that fails to start is replaced a few times; a zygote that cannot fork one is given up
for the ordinary launch (once, with a note).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from hundred.run.events import KernelGone, KernelStarted, Notice, WorkerEvent
from hundred.run.zygote import Zygote, ZygoteFailed, ZygoteKernelManager

KERNEL_START_ATTEMPTS = 3
KERNEL_START_TIMEOUT = 60.0


class Kernel:
    """A kernel launched ahead of its notebook; its client connects on the worker's loop, so
    the wait for the kernel happens while the previous notebook executes."""

    def __init__(self, kernel_name: str, cwd: Path, socket_prefix: str,
                 zygote: Zygote | None) -> None:
        from jupyter_core.utils import ensure_event_loop, run_sync

        self.manager = ZygoteKernelManager(kernel_name=kernel_name, transport="ipc",
                                           ip=socket_prefix)
        self.manager.zygote = zygote
        self._run_sync = run_sync
        run_sync(self.manager.start_kernel)(cwd=str(cwd))
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


class Launcher:
    """Launches a worker's kernels, through its zygote unless HUNDRED_NO_ZYGOTE is set."""

    def __init__(self, socket_dir: str, send: Callable[[WorkerEvent], None]) -> None:
        self.socket_dir = socket_dir
        self.send = send
        self.count = 0
        self.zygote: Zygote | None = None
        if not os.environ.get("HUNDRED_NO_ZYGOTE"):
            try:
                self.zygote = Zygote()
            except OSError as error:
                self._give_up_zygote(str(error))
            else:
                send(KernelStarted(self.zygote.pid))

    def close(self) -> None:
        if self.zygote is not None:
            self.zygote.close()
            self.send(KernelGone(self.zygote.pid))
            self.zygote = None

    def launch(self, kernel_name: str, cwd: Path) -> Kernel | BaseException:
        """A kernel starting for a notebook in ``cwd``, or why it could not be launched."""
        self.count += 1
        prefix = str(Path(self.socket_dir) / f"{os.getpid()}-{self.count}")
        try:
            kernel = Kernel(kernel_name, cwd, prefix, self.zygote)
        except ZygoteFailed as error:
            self._give_up_zygote(str(error))
            return self.launch(kernel_name, cwd)
        except Exception as error:  # reported when the task runs
            return error
        if kernel.pid:
            self.send(KernelStarted(kernel.pid))
        return kernel

    def ready(self, kernel: Kernel | BaseException, kernel_name: str, cwd: Path
              ) -> tuple[Kernel | BaseException, int]:
        """Wait for ``kernel``; one that fails to start is replaced, up to a few times.

        Returns the ready kernel (or the last error) and the number of attempts.
        """
        attempts = 1
        while True:
            if isinstance(kernel, BaseException):
                return kernel, attempts
            try:
                kernel.wait_ready()
                return kernel, attempts
            except Exception as error:
                self.retire(kernel)
                if attempts >= KERNEL_START_ATTEMPTS:
                    return error, attempts
                attempts += 1
                kernel = self.launch(kernel_name, cwd)

    def retire(self, kernel: Kernel) -> None:
        """Stop ``kernel`` and tell the orchestrator it no longer needs killing."""
        pid = kernel.pid
        kernel.shutdown()
        if pid:
            self.send(KernelGone(pid))

    def _give_up_zygote(self, why: str) -> None:
        if self.zygote is not None:
            zygote, self.zygote = self.zygote, None
            zygote.close()
            self.send(KernelGone(zygote.pid))
        self.send(Notice(f"kernels start the ordinary way from now on: {why}"))
