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

Errors are replied as ``{"error": "..."}``. A zygote ends when its socket closes (its caller is
gone) or, through Linux's parent-death signal, when the process that forked it dies.
"""

from __future__ import annotations

import contextlib
import ctypes
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
    fd, parent = int(sys.argv[1]), int(sys.argv[2])
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
    channel = socket.socket(fileno=fd)
    _reply(channel, {"ready": os.getpid(), "failed": []})
    serve(channel, kernelapp)


def preload(modules: list[str] | tuple[str, ...]) -> list[str]:
    """Import ``modules``; return those that failed (the notebook will say why itself)."""
    failed = []
    for module in modules:
        try:
            importlib.import_module(module)
        except Exception:
            failed.append(module)
    return failed


def serve(channel: socket.socket, kernelapp: ModuleType) -> None:
    while True:
        try:
            data = channel.recv(MESSAGE)
        except OSError:
            break
        if not data:
            break
        request = json.loads(data)
        if request.get("op") == "zygote":
            _fork_zygote(channel, kernelapp, request)
        else:
            _fork_kernel(channel, kernelapp, request)
    os._exit(0)


def _reply(channel: socket.socket, message: dict[str, Any],
           fds: list[int] | None = None) -> None:
    data = json.dumps(message).encode()
    if fds:
        socket.send_fds(channel, [data], fds)
    else:
        channel.send(data)


def _fork_kernel(channel: socket.socket, kernelapp: ModuleType,
                 request: dict[str, Any]) -> None:
    try:
        pid = os.fork()
    except OSError as error:
        _reply(channel, {"error": str(error)})
        return
    if pid == 0:
        channel.close()
        _become_kernel(kernelapp, request)
    _reply(channel, {"pid": pid})


def _fork_zygote(channel: socket.socket, kernelapp: ModuleType,
                 request: dict[str, Any]) -> None:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    parent = os.getpid()
    try:
        pid = os.fork()
    except OSError as error:
        ours.close()
        theirs.close()
        _reply(channel, {"error": str(error)})
        return
    if pid == 0:
        code = 1
        try:
            channel.close()
            ours.close()
            die_with_parent(parent)
            failed = preload(list(request.get("modules", [])))
            _reply(theirs, {"ready": os.getpid(), "failed": failed})
            serve(theirs, kernelapp)
            code = 0
        finally:
            os._exit(code)
    theirs.close()
    _reply(channel, {"pid": pid}, [ours.fileno()])
    ours.close()


def _become_kernel(kernelapp: ModuleType, request: dict[str, Any]) -> None:
    """In the forked child: set up what a freshly launched kernel has, then run it."""
    code = 1
    try:
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
