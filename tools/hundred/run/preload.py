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
# Kernel names that mean this Python's own ipykernel: the kernels a zygote can fork.
NATIVE_KERNELS = ("python3", "python")
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

    Each project's modules are put in an order (``_order``) that makes them paths in a trie
    whose shared prefixes are the zygotes shared: a zygote is made where a path ends or
    branches. Two projects that both import numpy, matplotlib and scikit-learn, one also
    torch, share the zygote that imported those three.
    """
    paths = _order(imports)
    through = Counter(tuple(path[:k]) for path in paths.values() for k in range(1, len(path) + 1))
    chains: dict[str, WarmChain] = {}
    for name, path in paths.items():
        stops = [frozenset(path[:k]) for k in range(1, len(path) + 1)
                 if k == len(path) or through[tuple(path[:k])] > through[tuple(path[:k + 1])]]
        chains[name] = tuple(stops)
    return chains


def _order(imports: Mapping[str, frozenset[str]]) -> dict[str, list[str]]:
    """Each project's modules, in the order its zygotes import them.

    Greedy, from the root: among the projects that share the modules imported so far, the
    next module is the one whose import, made once for all of them, saves the most (the
    projects that import it times its cost); those projects go on from there and the others
    choose again. So torch, imported by five projects, comes before a cheap scikit-learn
    module imported by three of them, and one zygote imports torch for all five, where an
    order by popularity alone had torch imported under two branches.
    """
    paths: dict[str, list[str]] = {name: [] for name in imports}
    pending = [(sorted(imports), frozenset[str]())]
    while pending:
        group, taken = pending.pop()
        left = {name: imports[name] - taken for name in group}
        counts = Counter(module for modules in left.values() for module in modules)
        if not counts:
            continue
        best = min(counts, key=lambda m: (-counts[m] * import_cost(m, taken), -counts[m], m))
        chosen = [name for name in group if best in left[name]]
        for name in chosen:
            paths[name].append(best)
        pending.append((chosen, taken | {best}))
        pending.append(([name for name in group if best not in left[name]], taken))
    return paths


# Roughly the seconds of CPU a package's first import costs (measured on 2 cores; their
# ratios are what matters): the zygote that imports an expensive package should be shared by
# every project that imports it. A package not listed costs DEFAULT_COST.
IMPORT_COST = {
    "tensorflow": 6.0, "torch": 3.0, "keras": 3.0, "transformers": 3.0, "jax": 2.0,
    "sklearn": 2.0, "statsmodels": 1.5, "seaborn": 1.0, "skimage": 1.0, "sympy": 1.0,
    "pandas": 0.8, "matplotlib": 0.8, "plotly": 0.8, "scipy": 0.6, "numpy": 0.25,
}
DEFAULT_COST = 0.5
SUBMODULE_COST = 0.1  # a module of a package that an earlier zygote on the way imported


def import_cost(module: str, imported: frozenset[str]) -> float:
    """What importing ``module`` costs in a process that has imported ``imported``."""
    package = module.split(".")[0]
    if any(done.split(".")[0] == package for done in imported):
        return SUBMODULE_COST
    return IMPORT_COST.get(package, DEFAULT_COST)
