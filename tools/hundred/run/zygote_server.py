"""The warm process kernels are forked from, run by the Python of the kernel's environment.

This file is a script, not a module of hundred: it runs under a project environment's own
Python, where nothing of hundred is installed, so it uses the standard library and ipykernel
alone (``hundred.run.zygote`` is the caller's side, and says why kernels are forked).

It imports ``ipykernel.kernelapp`` once, then answers requests on a SOCK_SEQPACKET socket, one
JSON message each:

- ``{"op": "kernel", "argv", "cwd", "env"}``: fork a child that becomes the kernel, exactly as
  ``python -m ipykernel_launcher ARGV`` would start; the reply is ``{"pid": N}``.
- ``{"op": "zygote", "modules": [...]}``: fork a child zygote that also imports ``modules``
  (numpy, torch... the heavy imports of the notebooks about to run); the reply ``{"pid": N}``
  carries the new zygote's socket.

Every zygote first says ``{"ready": N, "failed": [...]}`` on its socket, once its imports are
done, then answers requests.

A zygote may serve several callers (the workers of one run), each on a socket of its own, so
that what one worker's notebooks import, the others' kernels are forked from too, imported
once. A child zygote then has a socket per caller: the one that asked for it gets its socket at
once; another caller asking the same zygote for the same modules gets its own socket to that
same child, kept for it until then, instead of a second child importing them again.

A zygote never collects garbage, and freezes what it holds (``gc.freeze``) before each fork, as
Python's documentation advises a process that forks workers: the imports run without the
collector's passes (about 15% of their time), and a kernel's collections skip the hundreds of
thousands of objects its modules are made of, instead of walking them, and copying the pages
they lie on, in every full collection. The kernel collects its own objects as any kernel does.

Errors are replied as ``{"error": "..."}``. A zygote ends when its socket closes (its caller is
gone) or, through Linux's parent-death signal, when the process that forked it dies.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import importlib
import json
import os
import signal
import socket
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).absolute().parent
LAUNCHER = "ipykernel_launcher"
MESSAGE = 1 << 20  # the largest request: an environment of many variables
INLINE = "module://matplotlib_inline.backend_inline"
# What every kernel imports while it initialises (the debugger pulls in debugpy): once here.
KERNEL_MODULES = ("ipykernel.ipkernel", "ipykernel.zmqshell", "ipykernel.debugger",
                  "ipykernel.comm", "IPython.core.completer")


def die_with_parent(parent: int) -> None:
    """SIGKILL this process when its parent exits (the twin of ``hundred.run.lifetime``'s,
    which this script cannot import; the C library is reached through the program's own
    symbols, since ``ctypes.util`` would stay in every kernel's ``sys.modules``)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    # As ipykernel_launcher does, the script's folder leaves sys.path: kernels must not see it.
    if sys.path and Path(sys.path[0] or ".").absolute() == HERE:
        del sys.path[0]
    gc.disable()  # see the module's docstring; each kernel enables it again
    fds, parent = [int(fd) for fd in sys.argv[1].split(",")], int(sys.argv[2])
    die_with_parent(parent)
    # debugpy warns about frozen modules when imported; kernels get their own environment.
    os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    # Matplotlib reads its backend once, at import: the one ipykernel would give each kernel.
    os.environ.setdefault("MPLBACKEND", INLINE)
    from ipykernel import kernelapp

    preload(KERNEL_MODULES)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # kernels are reaped automatically
    for signum in (signal.SIGINT, signal.SIGTERM):  # our caller decides when we stop
        signal.signal(signum, signal.SIG_IGN)
    channels = [socket.socket(fileno=fd) for fd in fds]
    for channel in channels:
        _reply(channel, {"ready": os.getpid(), "failed": []})
    serve(channels, kernelapp)


def preload(modules: list[str] | tuple[str, ...]) -> list[str]:
    """Import ``modules``; return those that failed (the notebook will say why itself)."""
    failed = []
    for module in modules:
        try:
            importlib.import_module(module)
        except Exception:
            failed.append(module)
    return failed


class Children:
    """The child zygotes a zygote forked, by the modules they import, with the sockets to them
    kept for the callers that have not asked for them yet."""

    def __init__(self) -> None:
        self.kept: dict[tuple[str, ...], tuple[int, list[socket.socket | None]]] = {}

    def take(self, modules: tuple[str, ...], caller: int) -> tuple[int, socket.socket] | None:
        found = self.kept.get(modules)
        if found is None or found[1][caller] is None:
            return None
        pid, sockets = found
        taken, sockets[caller] = sockets[caller], None
        assert taken is not None
        return pid, taken

    def close(self) -> None:
        """In a forked child: none of these sockets is its own."""
        for _, sockets in self.kept.values():
            for kept in sockets:
                if kept is not None:
                    kept.close()
        self.kept.clear()


def serve(channels: list[socket.socket], kernelapp: ModuleType) -> None:
    import select

    children = Children()
    listening = list(channels)
    while listening:
        for channel in select.select(listening, [], [])[0]:
            try:
                data = channel.recv(MESSAGE)
            except OSError:
                data = b""
            if not data:  # that caller is gone
                listening.remove(channel)
                continue
            request = json.loads(data)
            if request.get("op") == "zygote":
                _fork_zygote(channels, channels.index(channel), kernelapp, request, children)
            else:
                _fork_kernel(channels, channel, kernelapp, request, children)
    os._exit(0)


def _reply(channel: socket.socket, message: dict[str, Any],
           fds: list[int] | None = None) -> None:
    data = json.dumps(message).encode()
    if fds:
        socket.send_fds(channel, [data], fds)
    else:
        channel.send(data)


def _fork_kernel(channels: list[socket.socket], channel: socket.socket,
                 kernelapp: ModuleType, request: dict[str, Any], children: Children) -> None:
    gc.freeze()
    try:
        pid = os.fork()
    except OSError as error:
        _reply(channel, {"error": str(error)})
        return
    if pid == 0:
        for each in channels:
            each.close()
        children.close()
        _become_kernel(kernelapp, request)
    _reply(channel, {"pid": pid})


def _fork_zygote(channels: list[socket.socket], caller: int, kernelapp: ModuleType,
                 request: dict[str, Any], children: Children) -> None:
    modules = tuple(sorted(request.get("modules", [])))
    kept = children.take(modules, caller)
    if kept is not None:  # another caller asked for it first: the same child
        pid, theirs_kept = kept
        _reply(channels[caller], {"pid": pid}, [theirs_kept.fileno()])
        theirs_kept.close()
        return
    pairs = [socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET) for _ in channels]
    parent = os.getpid()
    gc.freeze()
    try:
        pid = os.fork()
    except OSError as error:
        for ours, theirs in pairs:
            ours.close()
            theirs.close()
        _reply(channels[caller], {"error": str(error)})
        return
    if pid == 0:
        code = 1
        try:
            for each in channels:
                each.close()
            children.close()
            for ours, _ in pairs:
                ours.close()
            die_with_parent(parent)
            failed = preload(list(modules))
            for _, theirs in pairs:
                _reply(theirs, {"ready": os.getpid(), "failed": failed})
            serve([theirs for _, theirs in pairs], kernelapp)
            code = 0
        finally:
            os._exit(code)
    for _, theirs in pairs:
        theirs.close()
    ours_now = pairs[caller][0]
    _reply(channels[caller], {"pid": pid}, [ours_now.fileno()])
    ours_now.close()
    children.kept[modules] = (pid, [None if index == caller else ours
                                    for index, (ours, _) in enumerate(pairs)])


def _become_kernel(kernelapp: ModuleType, request: dict[str, Any]) -> None:
    """In the forked child: set up what a freshly launched kernel has, then run it."""
    code = 1
    try:
        gc.enable()
        os.setsid()  # its own session and process group, as jupyter_client launches kernels
        for signum in (signal.SIGCHLD, signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_DFL)
        # Standard input is a pipe nobody writes to, as jupyter_client gives a kernel it starts.
        read, write = os.pipe()
        os.dup2(read, 0)
        os.close(read)
        os.close(write)
        os.chdir(request["cwd"])
        _fresh_state(request["env"])
        # Exit when the zygote is gone. The trait's default was read from the environment when
        # the zygote imported ipykernel, so it is given on the command line.
        parent = str(os.getppid())
        os.environ["JPY_PARENT_PID"] = parent
        argv = [*request["argv"], f"--IPKernelApp.parent_handle={parent}"]
        sys.argv = [str(Path(str(kernelapp.__file__)).parent.parent / f"{LAUNCHER}.py"), *argv]
        kernelapp.launch_new_instance(argv=argv)
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 0
    finally:
        os._exit(code)


def _fresh_state(env: dict[str, str]) -> None:
    """What a kernel started afresh would have that a forked one inherits otherwise: its own
    environment, the PYTHONPATH entries the zygote started without, new random seeds."""
    before = set(filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep)))
    os.environ.clear()
    os.environ.update(env)
    added = [entry for entry in env.get("PYTHONPATH", "").split(os.pathsep)
             if entry and entry not in before]
    sys.path[0:0] = added
    # Python's random reseeds itself after fork; NumPy's and torch's global generators,
    # seeded afresh in every new process, do not (NumPy loads numpy.random lazily: if it is
    # not loaded yet, the kernel seeds it on first use).
    random = sys.modules.get("numpy.random")
    if random is not None:
        random.seed()
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.seed()


if __name__ == "__main__":
    main()
