"""Kernels forked from a warm process that imported their notebook's heavy modules are
indistinguishable from kernels started afresh (HUNDRED_NO_ZYGOTE=1), except for being faster."""

from __future__ import annotations

import itertools
import json
import re
import shutil
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from hundred.cli import main
from tests.runkit import make_project, printed_json

# The first cell looks before any import; the probe reports the kernel's state at its end.
BEFORE = "import sys\nprint(json.dumps(sorted({'numpy', 'torch'} & set(sys.modules))))"
PROBE = """\
import gc, os, random, sys, threading
import numpy as np
import torch
import matplotlib.pyplot as plt
plt.plot([1, 2, 3]); plt.show()

def descriptors():
    kinds = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            kinds.append(os.readlink(f"/proc/self/fd/{fd}").split(":")[0].split("[")[0])
        except OSError:
            pass  # the listing's own descriptor, closed already
    return sorted(kinds)

def collected_cycle():
    class Node:
        pass
    node = Node()
    node.me = node
    alive = weakref.ref(node)
    del node
    gc.collect()
    return alive() is None

import weakref
state = {"modules": sorted(sys.modules), "path": sys.path, "cwd": os.getcwd(),
         "threads": sorted(t.name for t in threading.enumerate()), "fds": descriptors(),
         "tasks": len(os.listdir("/proc/self/task")), "backend": plt.get_backend(),
         "torch_seed": torch.initial_seed(), "python_random": random.random(),
         "parent": os.getppid(), "gc": [gc.isenabled(), gc.get_threshold()],
         "frozen": gc.get_freeze_count(), "collected": collected_cycle(),
         "numpy_random": np.random.rand(3).tolist(), "torch_random": torch.rand(3).tolist()}
print(json.dumps(state))"""


def _monorepo(root: Path, extra: str = "") -> Path:
    for folder in ("001-first", "002-second"):
        make_project(root, folder, ["import json", BEFORE, PROBE], extra=extra)
    return root


def _outputs(root: Path, folder: str) -> list[Any]:
    notebook = json.loads((root / ".hundred" / "runs" / folder / "smoke.ipynb").read_text())
    return [output for cell in notebook["cells"] for output in cell.get("outputs", [])]


def _printed(root: Path, folder: str) -> list[Any]:
    return printed_json(_outputs(root, folder))


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same two notebooks run forked from warm zygotes (by one worker; by two workers
    sharing their zygotes) and started afresh."""
    forked = _monorepo(tmp_path_factory.mktemp("forked") / "mono")
    fresh = tmp_path_factory.mktemp("fresh") / "mono"
    shared = tmp_path_factory.mktemp("shared") / "mono"
    shutil.copytree(forked, fresh)
    shutil.copytree(forked, shared)
    for root in (forked, fresh, shared):
        (root / "pyproject.toml").write_text("[tool.hundred]\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("HUNDRED_NO_ZYGOTE", raising=False)
        assert main(["-C", str(forked), "run", "--jobs", "1"]) == 0
        assert main(["-C", str(shared), "run", "--jobs", "2"]) == 0
        patch.setenv("HUNDRED_NO_ZYGOTE", "1")
        assert main(["-C", str(fresh), "run", "--jobs", "1"]) == 0
    return {"forked": forked, "fresh": fresh, "shared": shared}


def test_two_workers_fork_their_kernels_from_the_same_warm_process(
    runs: dict[str, Path]
) -> None:
    """The heavy imports are done once for the run, not once per worker."""
    first = _printed(runs["shared"], "001-first")[1]
    second = _printed(runs["shared"], "002-second")[1]
    assert first["parent"] == second["parent"]
    assert _printed(runs["shared"], "001-first")[0] == ["numpy", "torch"]


def test_a_forked_kernel_starts_with_its_notebooks_heavy_imports(runs: dict[str, Path]) -> None:
    assert _printed(runs["forked"], "001-first")[0] == ["numpy", "torch"]
    assert _printed(runs["fresh"], "001-first")[0] == []


@pytest.mark.parametrize("how", ["forked", "shared"])
def test_a_forked_kernel_holds_exactly_the_modules_a_fresh_one_does(
    runs: dict[str, Path], how: str
) -> None:
    forked = _printed(runs[how], "002-second")[1]
    fresh = _printed(runs["fresh"], "002-second")[1]
    assert set(forked["modules"]) - set(fresh["modules"]) == set()
    assert set(fresh["modules"]) - set(forked["modules"]) == set()
    def here(paths: list[str], root: Path) -> list[str]:  # each monorepo's own paths as ROOT
        return [path.replace(str(root), "ROOT") for path in paths]

    assert here(forked["path"], runs[how]) == here(fresh["path"], runs["fresh"])
    assert here([forked["cwd"]], runs[how]) == here([fresh["cwd"]], runs["fresh"])


@pytest.mark.parametrize("how", ["forked", "shared"])
def test_a_forked_kernel_shares_no_threads_or_open_files(runs: dict[str, Path],
                                                         how: str) -> None:
    forked = _printed(runs[how], "002-second")[1]
    fresh = _printed(runs["fresh"], "002-second")[1]

    def unnumbered(names: list[str]) -> list[str]:  # Thread-3 and Thread-2 are the same thread
        return sorted(re.sub(r"-\d+", "", name) for name in names)

    assert unnumbered(forked["threads"]) == unnumbered(fresh["threads"])
    assert Counter(forked["fds"]) == Counter(fresh["fds"])
    assert forked["tasks"] <= fresh["tasks"]  # no thread of the zygote's came along


@pytest.mark.parametrize("how", ["forked", "shared"])
def test_a_forked_kernel_collects_garbage_as_a_fresh_one(runs: dict[str, Path],
                                                         how: str) -> None:
    """The zygote never collects and freezes its objects before forking: the kernel's collector
    is on, with a fresh kernel's thresholds, and collects the notebook's cycles, while the
    modules' objects forked with it are frozen, out of its collections' way."""
    forked = _printed(runs[how], "002-second")[1]
    fresh = _printed(runs["fresh"], "002-second")[1]
    assert forked["gc"] == fresh["gc"] == [True, fresh["gc"][1]]
    assert forked["collected"] is fresh["collected"] is True
    assert fresh["frozen"] == 0
    assert forked["frozen"] > 100_000  # numpy, torch and matplotlib's objects at least


def test_random_states_are_a_fresh_kernels(runs: dict[str, Path]) -> None:
    """Two kernels forked from one zygote draw different numbers, as two fresh ones do."""
    for tool in ("forked", "shared", "fresh"):
        first = _printed(runs[tool], "001-first")[1]
        second = _printed(runs[tool], "002-second")[1]
        for generator in ("python_random", "numpy_random", "torch_random", "torch_seed"):
            assert first[generator] != second[generator], (tool, generator)


def test_matplotlib_draws_inline_in_a_forked_kernel(runs: dict[str, Path]) -> None:
    state = _printed(runs["forked"], "001-first")[1]
    assert state["backend"] == "module://matplotlib_inline.backend_inline"
    assert any("image/png" in output.get("data", {})
               for output in _outputs(runs["forked"], "001-first"))


def test_kernelspecs_are_found_where_jupyter_looks_for_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kernelspec in IPython's folder still starts its kernel (the workers find that folder
    without importing IPython), with the spec's own environment."""
    import sys

    ipython = tmp_path / "ipython"
    spec = ipython / "kernels" / "marked"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Marked", "language": "python", "env": {"HUNDRED_SPEC_MARK": "here"}}))
    monkeypatch.setenv("IPYTHONDIR", str(ipython))
    root = tmp_path / "mono"
    make_project(root, "001-marked", ["import json, os",
                                      "print(json.dumps(os.environ.get('HUNDRED_SPEC_MARK')))"],
                 kernel="marked")
    (root / "pyproject.toml").write_text("[tool.hundred]\n")
    assert main(["-C", str(root), "run", "--jobs", "2"]) == 0
    assert _printed(root, "001-marked") == ["here"]


def test_finding_the_python3_kernelspec_imports_no_ipython() -> None:
    """What jupyter_client finds for 'python3', found without importing IPython (0.4 s)."""
    import subprocess
    import sys

    probe = """\
import json, sys
import ipykernel.kernelspec
from hundred.run.kernels import Kernel, KernelRequest
from pathlib import Path
kernel = Kernel(KernelRequest("python3", Path(".")), "/tmp/unused", None)
spec = kernel.manager.kernel_spec
found = {"ipython": "IPython" in sys.modules, "argv": spec.argv, "dir": spec.resource_dir}
from jupyter_client.kernelspec import KernelSpecManager
expected = KernelSpecManager().get_kernel_spec("python3")
print(json.dumps([found, {"argv": expected.argv, "dir": expected.resource_dir}]))"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True)
    found, expected = json.loads(done.stdout)
    assert found.pop("ipython") is False
    assert found == expected


def test_preload_false_starts_a_plain_kernel(tmp_path: Path) -> None:
    root = tmp_path / "mono"
    make_project(root, "001-plain", ["import json", BEFORE, "import numpy"],
                 extra="preload: false\n")
    (root / "pyproject.toml").write_text("[tool.hundred]\n")
    assert main(["-C", str(root), "run"]) == 0
    assert _printed(root, "001-plain")[0] == []


def test_warm_chains_share_the_zygotes_of_common_imports() -> None:
    from hundred.run.preload import warm_chains

    core = frozenset({"numpy", "matplotlib.pyplot", "sklearn.datasets"})
    chains = warm_chains({
        "001": core | {"torch"},
        "002": core | {"torch", "torch.nn.functional"},
        "003": core | {"pandas"},
        "004": frozenset({"numpy"}),
        "005": frozenset(),
    })
    numpy = frozenset({"numpy"})
    assert chains["004"] == (numpy,)
    assert chains["005"] == ()
    # scikit-learn (three projects) first; then torch, the costliest import left, for the two
    # projects that import it, before the cheaper modules they share with 003.
    sklearn = frozenset({"sklearn.datasets"})
    assert chains["003"] == (sklearn, core | {"pandas"})
    assert chains["001"] == (sklearn, core | {"torch"})
    assert chains["002"] == (sklearn, core | {"torch"}, core | {"torch", "torch.nn.functional"})
    for chain in chains.values():  # each stop extends the one before it
        assert all(a < b for a, b in itertools.pairwise(chain))


def test_warm_chains_import_an_expensive_module_in_one_zygote_only() -> None:
    from hundred.run.preload import warm_chains

    # The example projects' imports: torch in five projects, sklearn.metrics in five (one of
    # them a torch project). Ordered by popularity alone, sklearn.metrics came before torch
    # and torch was imported under two branches (4.5 s of CPU each, measured).
    common = frozenset({"numpy", "matplotlib.pyplot", "sklearn.datasets",
                        "sklearn.model_selection"})
    imports = {
        "001": common | {"pandas", "sklearn.linear_model", "sklearn.metrics"},
        "002": common | {"pandas", "sklearn.linear_model", "sklearn.pipeline"},
        "003": common | {"pandas", "sklearn.cluster", "sklearn.metrics", "sklearn.neighbors"},
        "004": common | {"sklearn.ensemble", "sklearn.metrics", "sklearn.tree"},
        "005": common | {"sklearn.linear_model"},
        "006": common | {"sklearn.metrics", "torch"},
        "007": common | {"pandas", "torch"},
        "008": common | {"torch"},
        "009": common | {"torch", "torch.nn.functional"},
        "010": common | {"sklearn.neighbors", "torch", "torch.nn.functional"},
        "011": frozenset({"numpy", "matplotlib.pyplot", "matplotlib.colors"}),
        "012": common | {"sklearn", "sklearn.ensemble", "sklearn.metrics", "sklearn.svm"},
    }
    chains = warm_chains(imports)
    # A zygote imports a module when the zygote it is forked from lacks it.
    for module in ("torch", "sklearn.datasets"):
        imported_by = {stop for chain in chains.values()
                       for before, stop in itertools.pairwise((frozenset(), *chain))
                       if module in stop - before}
        assert len(imported_by) == 1, (module, imported_by)
    for name, chain in chains.items():  # every kernel holds exactly its notebook's imports
        assert chain[-1] == imports[name]


THREADS = """\
import os
import numpy, torch
print(json.dumps([os.environ.get("OMP_NUM_THREADS"), torch.get_num_threads(),
                  os.environ.get("MKL_NUM_THREADS")]))"""


@pytest.mark.parametrize("jobs", [1, 2])
def test_kernels_running_side_by_side_share_the_cpus_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    import os

    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    root = tmp_path / "mono"
    for folder in ("001-one", "002-two"):
        make_project(root, folder, ["import json", THREADS])
    (root / "pyproject.toml").write_text("[tool.hundred]\n")
    assert main(["-C", str(root), "run", "--jobs", str(jobs)]) == 0
    cpus = os.cpu_count() or 1
    for folder in ("001-one", "002-two"):
        variable, threads, _ = _printed(root, folder)[0]
        if jobs == 1:  # alone on the machine: the libraries' own defaults
            assert variable is None
        else:
            assert variable == str(max(1, cpus // jobs)) and threads == max(1, cpus // jobs)


def test_a_thread_limit_the_user_set_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    root = tmp_path / "mono"
    for folder in ("001-one", "002-two"):
        make_project(root, folder, ["import json", THREADS])
    (root / "pyproject.toml").write_text("[tool.hundred]\n")
    assert main(["-C", str(root), "run", "--jobs", "2"]) == 0
    variable, _, other = _printed(root, "001-one")[0]
    assert (variable, other) == ("3", None)  # nothing of hundred's added beside it


def test_the_workers_first_tasks_need_zygotes_apart() -> None:
    from hundred.run.plan import Task
    from hundred.run.pool import start_order
    from hundred.run.preload import warm_chains

    def task(number: int, seconds: float, imports: frozenset[str]) -> Task:
        return Task(root=Path(), project=f"{number:03d}-p", number=number,
                    folder=Path(), profile="smoke", parameters={}, kernel_name="python3",
                    language=None, timeout=None, cache_key="", packages={}, git_commit=None,
                    max_output=1000, expected_duration=seconds, imports=imports)

    torch = frozenset({"sklearn.datasets", "torch"})
    plain = frozenset({"sklearn.datasets", "matplotlib.pyplot"})
    planned = [task(7, 70.0, torch), task(8, 40.0, torch), task(3, 38.0, plain),
               task(9, 33.0, torch), task(1, 5.0, plain)]
    chains = warm_chains({t.project: t.imports for t in planned})
    tasks = [replace(t, preload=chains[t.project]) for t in planned]
    # The two longest both need the torch zygote: the second worker starts on 003 instead,
    # whose zygote is imported beside it; the rest stays longest first.
    assert [t.number for t in start_order(tasks, 2)] == [7, 3, 8, 9, 1]
    assert [t.number for t in start_order(tasks, 1)] == [7, 8, 3, 9, 1]

    # A notebook that needs none of the first one's imports, however short and far down the
    # queue, runs while they are imported: the second worker starts on it. A third worker
    # starts on the one that waits least (003 shares only scikit-learn's zygote with 007).
    alone = frozenset({"matplotlib.pyplot"})
    planned.append(task(11, 4.0, alone))
    chains = warm_chains({t.project: t.imports for t in planned})
    tasks = [replace(t, preload=chains[t.project]) for t in planned]
    assert [t.number for t in start_order(tasks, 2)] == [7, 11, 8, 3, 9, 1]
    assert [t.number for t in start_order(tasks, 3)] == [7, 11, 3, 8, 9, 1]



def test_a_forked_kernel_that_exited_is_gone_even_before_it_is_reaped() -> None:
    """A kernel's exit is seen at once, also while it is a zombie: its parent, the zygote,
    reaps it at once, unless a tracer (a profiler) holds its exit status, and a zombie taken
    for a live kernel made the worker wait for it forever."""
    import os
    import signal
    import time

    from hundred.run.zygote_manager import _ForkedProcess

    pid = os.fork()
    if pid == 0:
        os._exit(0)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # until it has exited: a zombie, not yet reaped
            if Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z":
                break
            time.sleep(0.01)
        gone = _ForkedProcess(pid)
        assert gone.poll() == 0
        assert gone.wait(timeout=1) == 0
    finally:
        os.waitpid(pid, 0)

    sleeper = os.fork()
    if sleeper == 0:
        time.sleep(30)
        os._exit(0)
    try:
        running = _ForkedProcess(sleeper)
        assert running.poll() is None
    finally:
        os.kill(sleeper, signal.SIGKILL)
        os.waitpid(sleeper, 0)
