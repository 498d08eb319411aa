"""Kernels for the worker: started ahead of their notebook, forked from a warm zygote when it can.

Kernel start-up dominates small notebooks, and a real notebook's imports (numpy, pandas,
scikit-learn, torch, matplotlib: ~5 s on 2 cores) dominate the rest, so a worker launches the
kernel for its next notebook before executing the current one, forked from a zygote of the
notebook's environment that has already imported exactly the heavy modules that notebook
imports (``HEAVY``): a zygote per environment and set of modules, each forked from the warmest
one it extends. Kernels talk over IPC sockets in a private folder, not TCP ports, so parallel
starts never collide (papermill#511). A kernel that fails to start is replaced a few times; a
zygote that cannot fork one is given up for the ordinary launch (once, with a note).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hundred.run.events import KernelGone, KernelStarted, Notice, WorkerEvent
from hundred.run.preload import WarmChain
from hundred.run.zygote import Zygote, ZygoteFailed, ZygoteKernelManager

KERNEL_START_ATTEMPTS = 3
KERNEL_START_TIMEOUT = 60.0
MAX_ZYGOTES = 24  # warm zygotes a worker keeps: each holds what it imported in memory
@dataclass(frozen=True)
class KernelRequest:
    """What a kernel is started for: a notebook's kernel, folder and environment."""

    kernel_name: str
    cwd: Path
    python: str | None = None  # a project environment's Python; None: this one's kernelspec
    env: dict[str, str] = field(default_factory=dict)  # the kernel's environment variables
    base_env: dict[str, str] = field(default_factory=dict)  # its zygote's (no per-run layer)
    preload: WarmChain = ()  # the zygotes it is forked through (``warm_chains``)


class Kernel:
    """A kernel launched ahead of its notebook; its client connects on the worker's loop, so
    the wait for the kernel happens while the previous notebook executes."""

    def __init__(self, request: KernelRequest, socket_prefix: str,
                 zygote: Zygote | None) -> None:
        from jupyter_core.utils import ensure_event_loop, run_sync

        self.manager = ZygoteKernelManager(kernel_name=request.kernel_name, transport="ipc",
                                           ip=socket_prefix)
        if request.python is not None:
            self.manager.kernel_spec_manager = _own_python_specs(request.python)
        self.manager.zygote = zygote
        self._run_sync = run_sync
        given = {"env": request.env} if request.env else {}  # else jupyter_client's: ours
        run_sync(self.manager.start_kernel)(cwd=str(request.cwd), **given)
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
    """Launches a worker's kernels, through zygotes unless HUNDRED_NO_ZYGOTE is set."""

    def __init__(self, socket_dir: str, send: Callable[[WorkerEvent], None]) -> None:
        self.socket_dir = socket_dir
        self.send = send
        self.count = 0
        self.use_zygotes = not os.environ.get("HUNDRED_NO_ZYGOTE")
        self.zygotes: dict[tuple[str, frozenset[str]], Zygote] = {}
        self._preparing: threading.Thread | None = None

    def close(self) -> None:
        self._finish_preparing()
        for zygote in sorted(self.zygotes.values(), key=lambda z: -len(z.modules)):
            zygote.close()
            self.send(KernelGone(zygote.pid))
        self.zygotes.clear()

    def launch(self, request: KernelRequest) -> Kernel | BaseException:
        """A kernel starting for ``request``, or why it could not be launched."""
        self.count += 1
        prefix = str(Path(self.socket_dir) / f"{os.getpid()}-{self.count}")
        zygote = self.zygote_for(request)
        try:
            kernel = Kernel(request, prefix, zygote)
        except ZygoteFailed as error:
            self._give_up_zygotes(str(error))
            return self.launch(request)
        except Exception as error:  # reported when the task runs
            return error
        if kernel.pid:
            self.send(KernelStarted(kernel.pid))
        return kernel

    def zygote_for(self, request: KernelRequest) -> Zygote | None:
        """The zygote of the request's Python that has imported its heavy modules, made now
        through its chain of warmer zygotes; None when kernels start the ordinary way."""
        self._finish_preparing()
        return self._zygote_for(request)

    def _zygote_for(self, request: KernelRequest) -> Zygote | None:
        if not self._forks(request):
            return None
        python = request.python or sys.executable
        zygote = self.zygotes.get((python, frozenset()))
        if zygote is None:
            try:
                zygote = Zygote.start(python, request.base_env or None)
            except OSError as error:
                self._give_up_zygotes(str(error))
                return None
            self._keep(python, zygote)
        for stop in request.preload:
            warmer = self.zygotes.get((python, stop))
            if warmer is None:
                if len(self.zygotes) >= MAX_ZYGOTES:
                    break
                try:
                    warmer = zygote.fork(stop)
                except ZygoteFailed as error:
                    self.send(Notice(f"a warm kernel process could not be made ({error}); "
                                     "kernels start with fewer imports loaded"))
                    break
                self._keep(python, warmer)
            zygote = warmer
        return zygote

    def _forks(self, request: KernelRequest) -> bool:
        # Another kernelspec than this Python's own launches the ordinary way anyway.
        return self.use_zygotes and (request.python is not None
                                     or request.kernel_name in ("python3", "python"))

    def warm_for(self, request: KernelRequest) -> bool:
        """Whether ``request``'s kernel can start now without waiting for imports."""
        self._finish_preparing()
        if not self._forks(request):
            return True
        python = request.python or sys.executable
        found = [self.zygotes.get((python, stop)) for stop in (frozenset(), *request.preload)]
        return all(zygote is not None and zygote.warm for zygote in found)

    def prepare(self, request: KernelRequest) -> None:
        """Make ``request``'s zygotes in the background: their imports (seconds) overlap the
        notebook that runs meanwhile; ``launch`` waits for them."""
        self._finish_preparing()
        self._preparing = threading.Thread(target=self._prepare, args=(request,),
                                           name="hundred-warm-zygotes", daemon=True)
        self._preparing.start()

    def _prepare(self, request: KernelRequest) -> None:
        try:
            zygote = self._zygote_for(request)
            if zygote is not None:
                zygote.warm  # noqa: B018 -- reads its "ready" if the imports are done already
        except Exception:  # launch tries again in the foreground and reports it
            pass

    def _finish_preparing(self) -> None:
        if self._preparing is not None and self._preparing is not threading.current_thread():
            self._preparing.join()
            self._preparing = None

    def _keep(self, python: str, zygote: Zygote) -> None:
        self.zygotes[(python, zygote.modules)] = zygote
        self.send(KernelStarted(zygote.pid))

    def ready(self, kernel: Kernel | BaseException, request: KernelRequest
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
                kernel = self.launch(request)

    def retire(self, kernel: Kernel) -> None:
        """Stop ``kernel`` and tell the orchestrator it no longer needs killing."""
        pid = kernel.pid
        kernel.shutdown()
        if pid:
            self.send(KernelGone(pid))

    def _give_up_zygotes(self, why: str) -> None:
        self.close()
        self.use_zygotes = False
        self.send(Notice(f"kernels start the ordinary way from now on: {why}"))


def _own_python_specs(python: str) -> Any:
    """A kernelspec manager whose every kernel is ``python``'s own ipykernel."""
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager

    class OwnPython(KernelSpecManager):
        def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
            return KernelSpec(argv=[python, "-m", "ipykernel_launcher", "-f",
                                    "{connection_file}"],
                              display_name=f"Python ({Path(python).parent.parent.name})",
                              language="python", resource_dir="")

    return OwnPython()
