"""Executing project notebooks: ``run_projects(root, ...) -> RunReport``.

The modules, in the order a run goes through them:

- ``runner``: ``run_projects`` and ``RunReport``; selection, the run lock, saving records.
- ``plan``: which projects need to run (the cache), shards, ``--changed-since``; ``Task``.
- ``pool``: worker processes, the orchestrator's loop, stopping everything on a signal.
- ``worker``: a worker process: one notebook at a time, its record.
- ``kernels`` and ``zygote``: kernels started ahead of time, forked from a warm process.
- ``engine``: the papermill engine; cell progress and bounded outputs.
- ``failures``: exceptions classified by type; cell positions and the failing line.
- ``events``: the typed messages between workers, the orchestrator and the caller.
- ``signals``, ``lifetime``: Ctrl-C/SIGTERM as a stop request; children that die with us.

This package's ``__init__`` imports nothing eagerly: the kernel zygote (``run.zygote``) starts
with ipykernel alone, and every kernel is forked from it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hundred.run.runner import RunReport, run_projects

__all__ = ["RunReport", "run_projects"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from hundred.run import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'hundred.run' has no attribute {name!r}")
