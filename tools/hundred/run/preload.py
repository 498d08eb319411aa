"""Which modules a kernel starts with loaded, and the warm zygotes it is forked through.

Planning decides it (``warm_imports`` per project, ``warm_chains`` across a run) and the
worker's launcher follows it (``hundred.run.kernels``); this module imports nothing heavy, so
that a run with nothing to do stays fast.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Mapping

# Packages slow enough to import that a kernel should start with them loaded, when its
# notebook imports them. A kernel holds only what its notebook imports itself.
HEAVY = frozenset({
    "numpy", "pandas", "scipy", "sklearn", "matplotlib", "seaborn", "torch", "statsmodels",
    "xgboost", "lightgbm", "plotly", "PIL", "skimage", "cv2", "tensorflow", "keras", "jax",
    "transformers", "polars", "pyarrow", "sympy", "networkx",
})
# The zygotes a kernel is forked through, coolest first: each imports what the one before it
# lacks, and the last has imported exactly the notebook's heavy modules.
WarmChain = tuple[frozenset[str], ...]


# The thread pools of the numerical libraries: a kernel that shares the CPUs with others gets
# its share (CPUs / jobs) instead of one thread per CPU, which would oversubscribe them (on 2
# cores, two kernels with two threads each ran the example projects 1.4x slower).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")


def thread_share(jobs: int, cpus: int | None = None) -> int | None:
    """Threads for each of ``jobs`` kernels running at once; None: one kernel, no limit."""
    cpus = cpus or os.cpu_count() or 1
    return max(1, cpus // jobs) if jobs > 1 else None


def with_threads(variables: Mapping[str, str], threads: int | None) -> dict[str, str]:
    """``variables`` with the thread pools limited to ``threads``, unless the user set any of
    them (libraries read several and take the smallest)."""
    limited = dict(variables)
    if threads is not None and not any(name in limited for name in THREAD_VARIABLES):
        limited.update(dict.fromkeys(THREAD_VARIABLES, str(threads)))
    return limited


def warm_imports(modules: Iterable[str]) -> frozenset[str]:
    """The modules among ``modules`` (dotted names a notebook imports) worth loading ahead."""
    return frozenset(module for module in modules if module.split(".")[0] in HEAVY)


def warm_chains(imports: Mapping[str, frozenset[str]]) -> dict[str, WarmChain]:
    """For each project's heavy imports, the zygotes to fork on the way to its own, shared
    as far as the projects' imports allow.

    Every project's modules are ordered by how many projects of the run import them (then by
    name): the orders are paths in a trie whose shared prefixes are the zygotes shared. A
    zygote is made where a path ends or branches, so two projects that both import numpy,
    matplotlib and scikit-learn, one also torch, share the zygote that imported those three.
    """
    popular = Counter(module for modules in imports.values() for module in modules)
    paths = {name: sorted(modules, key=lambda m: (-popular[m], m))
             for name, modules in imports.items()}
    through = Counter(tuple(path[:k]) for path in paths.values() for k in range(1, len(path) + 1))
    chains: dict[str, WarmChain] = {}
    for name, path in paths.items():
        stops = [frozenset(path[:k]) for k in range(1, len(path) + 1)
                 if k == len(path) or through[tuple(path[:k])] > through[tuple(path[:k + 1])]]
        chains[name] = tuple(stops)
    return chains
