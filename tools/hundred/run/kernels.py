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

import asyncio
import os
import sys
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from hundred.run.events import KernelGone, KernelStarted, Notice, WorkerEvent
from hundred.run.preload import NATIVE_KERNELS, WarmChain
from hundred.run.zygote import Zygote, ZygoteFailed
from hundred.run.zygote_manager import ZygoteKernelManager

T = TypeVar("T")
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
        from jupyter_core.utils import run_sync

        self.request = request
        self.manager = ZygoteKernelManager(kernel_name=request.kernel_name, transport="ipc",
                                           ip=socket_prefix)
        self.manager.kernel_spec_manager = (_own_python_specs(request.python)
                                            if request.python is not None else _installed_specs())
        self.manager.zygote = zygote
        self._run_sync = run_sync

    async def start(self) -> None:
        """Start the kernel process and connect to it; ``wait_ready`` waits for its answer."""
        from hundred.deprecations import kernel_arguments

        given = {"env": self.request.env} if self.request.env else {}  # else jupyter_client's
        await self.manager.start_kernel(cwd=str(self.request.cwd),
                                        extra_arguments=kernel_arguments(), **given)
        self.client = self.manager.client()
        self.client.start_channels()
        self._ready = asyncio.ensure_future(_handshake(self.client, KERNEL_START_TIMEOUT))

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
        if hasattr(self, "_ready"):
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

    def __init__(self, socket_dir: str, send: Callable[[WorkerEvent], None],
                 shared: Zygote | None = None) -> None:
        """``shared``: the run's zygote of the shared environment, which the other workers
        fork from too (``SharedZygote``); without it, the launcher starts its own."""
        self.socket_dir = socket_dir
        self.send = send
        self.count = 0
        self.use_zygotes = not os.environ.get("HUNDRED_NO_ZYGOTE")
        self.zygotes: dict[tuple[str, frozenset[str]], Zygote] = {}
        if shared is not None and self.use_zygotes:
            self.zygotes[(shared.python, frozenset())] = shared
        self._preparing: threading.Thread | None = None
        # The kernel that ``prepare`` launches once its zygotes are made, and for what request.
        self._ahead: tuple[KernelRequest, asyncio.Future[Kernel | BaseException | None]] | None
        self._ahead = None

    def close(self) -> None:
        self._finish_preparing()
        ahead = self._take_ahead(None)
        if isinstance(ahead, Kernel):
            self.retire(ahead)
        for zygote in sorted(self.zygotes.values(), key=lambda z: -len(z.modules)):
            zygote.close()
            if not zygote.shared:
                self.send(KernelGone(zygote.pid))
        self.zygotes.clear()

    def launch(self, request: KernelRequest) -> Kernel | BaseException:
        """A kernel starting for ``request``, or why it could not be launched."""
        self._finish_preparing()
        ahead = self._take_ahead(request)
        return ahead if ahead is not None else self._wait(self._launch(request))

    def _take_ahead(self, request: KernelRequest | None) -> Kernel | BaseException | None:
        """The kernel ``prepare`` launched, waited for, if it was for ``request`` (None: for
        any); None when there is none or its launch failed."""
        if self._ahead is None or request not in (None, self._ahead[0]):
            return None
        ahead = self._wait(self._ahead[1])
        self._ahead = None
        return ahead

    def _wait(self, awaitable: Awaitable[T]) -> T:
        """Run the worker's loop until ``awaitable`` is done (other notebooks' kernels that
        are starting on it go on meanwhile)."""
        from jupyter_core.utils import run_sync

        async def result() -> T:
            return await awaitable

        return run_sync(result)()

    async def _launch(self, request: KernelRequest) -> Kernel | BaseException:
        """Launch on the worker's loop, through zygotes already made or made now."""
        self.count += 1
        prefix = str(Path(self.socket_dir) / f"{os.getpid()}-{self.count}")
        kernel = Kernel(request, prefix, self._zygote_for(request))
        try:
            await kernel.start()
        except ZygoteFailed as error:
            self._give_up_zygotes(str(error))
            return await self._launch(request)
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

    def _base_zygote(self, request: KernelRequest) -> Zygote | None:
        """The zygote of the request's Python with no heavy imports, started if need be.

        Only on the worker's main thread: Linux's parent-death signal follows the *thread*
        that started a process, so a zygote started by the preparing thread would be killed
        as soon as that thread ends.
        """
        if not self._forks(request):
            return None
        python = request.python or sys.executable
        zygote = self.zygotes.get((python, frozenset()))
        if zygote is None:
            assert threading.current_thread() is threading.main_thread()
            try:
                zygote = Zygote.start(python, request.base_env or None)
            except OSError as error:
                self._give_up_zygotes(str(error))
                return None
            self._keep(python, zygote)
        return zygote

    def _zygote_for(self, request: KernelRequest) -> Zygote | None:
        zygote = self._base_zygote(request)
        if zygote is None:
            return None
        python = zygote.python
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
                                     or request.kernel_name in NATIVE_KERNELS)

    def warm_for(self, request: KernelRequest) -> bool:
        """Whether ``request``'s kernel can start now without waiting for imports."""
        self._finish_preparing()
        if not self._forks(request):
            return True
        python = request.python or sys.executable
        found = [self.zygotes.get((python, stop)) for stop in (frozenset(), *request.preload)]
        return all(zygote is not None and zygote.warm for zygote in found)

    def prepare(self, request: KernelRequest) -> None:
        """Make ``request``'s zygotes in the background, then launch its kernel: their imports
        (seconds) and the kernel's start overlap the notebook that runs meanwhile on the
        worker's loop; ``launch`` takes that kernel."""
        from jupyter_core.utils import ensure_event_loop

        self._finish_preparing()
        self._base_zygote(request)  # here: its children are the zygote's, not the thread's
        loop = ensure_event_loop()
        launched: asyncio.Future[Kernel | BaseException | None] = loop.create_future()
        self._ahead = (request, launched)
        self._preparing = threading.Thread(target=self._prepare, args=(request, loop, launched),
                                           name="hundred-warm-zygotes", daemon=True)
        self._preparing.start()

    def _prepare(self, request: KernelRequest, loop: asyncio.AbstractEventLoop,
                 launched: asyncio.Future[Kernel | BaseException | None]) -> None:
        try:
            zygote = self._zygote_for(request)
            if zygote is not None:
                zygote.warm  # noqa: B018 -- reads its "ready" if the imports are done already
        except Exception:  # launch tries again in the foreground and reports it
            loop.call_soon_threadsafe(launched.set_result, None)
            return

        def settle(task: asyncio.Task[Kernel | BaseException]) -> None:
            failed = task.cancelled() or task.exception() is not None
            launched.set_result(None if failed else task.result())

        def start() -> None:
            loop.create_task(self._launch(request)).add_done_callback(settle)

        loop.call_soon_threadsafe(start)

    def _finish_preparing(self) -> None:
        if self._preparing is not None and self._preparing is not threading.current_thread():
            self._preparing.join()
            self._preparing = None

    def _keep(self, python: str, zygote: Zygote) -> None:
        self.zygotes[(python, zygote.modules)] = zygote
        if not zygote.shared:  # a shared one is the run's: it ends with it, not with us
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


async def _handshake(client: Any, timeout: float) -> None:
    """Wait until the kernel answers on its shell and IOPub channels.

    jupyter_client's ``wait_for_ready`` ends by waiting for 0.2 s of silence on IOPub, every
    time: a fifth of a second per notebook. The kernel is ready, and IOPub connected, as soon
    as IOPub carries the "idle" status of our own kernel_info request (a SUB socket that
    joined late misses it: then ask again).
    """
    import time

    deadline = time.monotonic() + timeout
    while True:
        request = client.kernel_info()
        if await _answered(client, request):
            return
        if not await client._async_is_alive():
            raise RuntimeError("Kernel died before replying to kernel_info")
        if time.monotonic() > deadline:
            raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")


async def _answered(client: Any, request: str) -> bool:
    """Whether the kernel replied to ``request`` on shell and then went idle on IOPub."""
    from queue import Empty

    try:
        while True:
            reply = await client.shell_channel.get_msg(timeout=1)
            if reply["parent_header"].get("msg_id") == request:
                break
        while True:  # the idle status follows the reply within milliseconds once connected
            message = await client.iopub_channel.get_msg(timeout=0.2)
            if (message["parent_header"].get("msg_id") == request
                    and message["msg_type"] == "status"
                    and message["content"].get("execution_state") == "idle"):
                client._handle_kernel_info_reply(reply)
                return True
    except Empty:
        return False


def _installed_specs() -> Any:
    """jupyter_client's kernelspec manager, looking where its default looks.

    Its default list of folders asks IPython for IPython's own folder (``~/.ipython`` unless
    ``$IPYTHONDIR`` says otherwise), and importing IPython for that took 0.4 s of CPU in every
    worker, beside the zygotes' imports; the folder is found here the same way without it.
    """
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_core.paths import jupyter_path

    ipython = Path(os.environ.get("IPYTHONDIR") or "~/.ipython").expanduser()
    folders = [*jupyter_path("kernels"), str(ipython / "kernels")]
    return KernelSpecManager(kernel_dirs=folders)


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
