"""Time `hundred run --profile smoke` against papermill in a process pool on the example projects.

Both tools execute every project of the repository's ``projects/`` (the real studies: numpy,
scikit-learn, torch, matplotlib) with the smoke profile's parameters, each time from its own
fresh copy of a temporary monorepo (``projects/``, ``pyproject.toml`` and ``tools/``), as a whole
process started the way a person starts it. The copy holds what a clone of the repository
holds: the projects' committed frozen runs (``runs/``) included, whose durations hundred reads
to start the longest notebooks first (``--no-history`` leaves them out, as for a challenge never
run); no data, no ``.hundred/``.

1. ``hundred run --profile smoke --force --jobs J``, cold (no ``.hundred/`` in the copy);
2. papermill in a process pool of J (``ProcessPoolExecutor(J)``), each worker calling
   ``papermill.execute_notebook(..., parameters=..., cwd=<project>, kernel_name="python3")``;
3. the same pool with each kernel's thread pools limited to its share of the CPUs
   (``OMP_NUM_THREADS`` and the like = CPUs / J), as hundred limits its kernels': it shows how
   much of the gap is that limit and how much the warm kernels.

The parameters come from hundred's own library (``load_settings`` and ``parameters_for`` with
each writeup's overrides), so both tools inject the same ones; the benchmark checks that hundred
recorded them and that both executed notebooks hold the same injected-parameters cell.

Every project's ``python data.py`` runs once, untimed, in the template the copies are made
from, so neither tool's time includes preparing data (the notebooks would otherwise prepare it
themselves on their first ``data.load()``). An untimed import of the notebooks' heavy packages
fills the OS file cache first. With ``--repeat N`` each tool runs N times, the two tools taking
turns to go first, and the best run of each counts. The target: hundred at most 0.5x the
plain pool (2.), the way a user runs papermill in parallel.

    python benchmarks/bench_examples.py --jobs 2
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench_run import Outcome, failed, report_line, tail, timed
from common import REPO, find_tool

from hundred import catalog
from hundred.config import load_settings, parameters_for
from hundred.run.preload import THREAD_VARIABLES, thread_share

PROFILE = "smoke"
POOL_TARGET = 0.5  # hundred / papermill in a pool of J
PREPARE_TIMEOUT = 600.0  # seconds one project's `python data.py` may take
# papermill-pool-shared: the same pool with each kernel's thread pools limited to its share of
# the CPUs, as hundred gives its kernels: what part of the gap is that, and what is the rest.
TOOLS = ("hundred", "papermill-pool", "papermill-pool-shared")
# What a copy of the repository holds: what a monorepo needs to run its projects, no outputs.
IGNORED = shutil.ignore_patterns("data", "__pycache__", ".ipynb_checkpoints", "*.egg-info",
                                 ".hundred")
# --no-history: without the projects' committed frozen runs either (runs/), as if never run.
WITHOUT_HISTORY = shutil.ignore_patterns("data", "runs", "__pycache__", ".ipynb_checkpoints",
                                         "*.egg-info", ".hundred")
# Imported once, untimed, before anything is measured: the OS file cache then holds them for
# whichever tool goes first. A module that is missing is skipped.
WARM_MODULES = ("hundred.cli", "papermill", "ipykernel.kernelapp", "numpy", "pandas", "scipy",
                "sklearn", "joblib", "matplotlib.pyplot", "torch")

# The pool's driver, run by this Python: argv is the monorepo root, the job count and a JSON
# file {project folder: parameters}; the last line printed is JSON: {"ok": n, "errors": [...]}.
# bench_run.py's PAPERMILL_POOL, with each project's own parameters.
PAPERMILL_POOL = """\
import json, sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
import papermill


def run(job: tuple[str, str, dict]) -> str | None:
    notebook, out, parameters = job
    try:
        papermill.execute_notebook(
            notebook, out, parameters=parameters, kernel_name="python3",
            cwd=str(Path(notebook).parent), progress_bar=False)
    except Exception as error:
        if hasattr(error, "ename"):  # PapermillExecutionError: a cell raised
            what = f"{error.ename}: {error.evalue} (In [{error.exec_count}])"
        else:
            what = f"{type(error).__name__}: {error}"
        return f"{Path(notebook).parent.name}: {what}"[:500]
    return None


if __name__ == "__main__":
    root, jobs = Path(sys.argv[1]), int(sys.argv[2])
    parameters = json.loads(Path(sys.argv[3]).read_text(encoding="utf-8"))
    out = root / "out"
    out.mkdir()
    work = [(str(root / "projects" / folder / "notebook.ipynb"), str(out / f"{folder}.ipynb"),
             values) for folder, values in sorted(parameters.items())]
    with ProcessPoolExecutor(jobs) as pool:
        outcomes = list(pool.map(run, work))
    errors = [outcome for outcome in outcomes if outcome is not None]
    print(json.dumps({"ok": len(outcomes) - len(errors), "errors": errors}))
    sys.exit(1 if errors else 0)
"""


@dataclass
class Run:
    """One timed run of one tool, and what it executed (for the checks after it)."""

    outcome: Outcome
    executed: dict[str, Path]  # project folder -> its executed notebook
    durations: dict[str, float]  # project folder -> seconds its notebook took, as recorded


@dataclass
class Bench:
    """Everything the measurements share."""

    template: Path  # projects/ (data prepared), pyproject.toml, tools/
    parent: Path
    jobs: int
    hundred: str
    script: Path  # the pool's driver
    parameters_file: Path
    parameters: dict[str, dict[str, Any]]  # project folder -> what both tools inject

    def copy(self, label: str) -> Path:
        """A private copy of the template monorepo for one measurement."""
        root = Path(tempfile.mkdtemp(prefix=f"{label}-", dir=self.parent)) / "mono"
        shutil.copytree(self.template, root, symlinks=True)
        return root


def make_template(root: Path, *, history: bool = True) -> Path:
    """A copy of the repository's monorepo at ``root``: projects/ (with their committed frozen
    runs unless ``history`` is False), pyproject.toml, tools/."""
    root.mkdir(parents=True)
    shutil.copytree(REPO / "projects", root / "projects", symlinks=True,
                    ignore=IGNORED if history else WITHOUT_HISTORY)
    shutil.copy2(REPO / "pyproject.toml", root / "pyproject.toml")
    # tools/hundred/templates links to ../../templates: kept as a link, never followed.
    shutil.copytree(REPO / "tools", root / "tools", ignore=IGNORED, symlinks=True)
    return root


def smoke_parameters(root: Path) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Each project's smoke parameters, as hundred injects them; and the invalid writeups."""
    found = catalog.scan(root)
    settings = load_settings(root)
    parameters = {project.name.folder: parameters_for(settings, PROFILE, project.writeup.profiles)
                  for project in found.projects}
    return parameters, [f"{bad.name.folder}: {bad.message}" for bad in found.invalid]


def prepare_data(root: Path, folders: Sequence[str], say: Callable[[str], None]) -> list[str]:
    """``python data.py`` in every project of ``root`` that has one; the failures."""
    problems: list[str] = []
    for folder in folders:
        project = root / "projects" / folder
        if not (project / "data.py").is_file():
            continue
        start = time.perf_counter()
        try:
            done = subprocess.run([sys.executable, "data.py"], cwd=project, capture_output=True,
                                  text=True, check=False, timeout=PREPARE_TIMEOUT)
        except subprocess.TimeoutExpired:
            problems.append(f"{folder}: python data.py hung (killed after "
                            f"{PREPARE_TIMEOUT:.0f}s)")
            continue
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            problems.append(f"{folder}: python data.py failed (exit code {done.returncode})\n"
                            f"{tail(done.stdout + done.stderr)}")
        else:
            say(f"  {folder:<40} {seconds:6.2f} s")
    return problems


def warm_up() -> None:
    """Untimed: import the notebooks' heavy packages once, so the OS file cache holds them."""
    code = ("import importlib\n"
            f"for name in {WARM_MODULES!r}:\n"
            "    try:\n"
            "        importlib.import_module(name)\n"
            "    except ImportError:\n"
            "        pass\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        print(f"warning: warm-up imports failed: {tail(done.stderr, 3)}")


def injected(executed: Path) -> str | None:
    """The source of the executed notebook's injected-parameters cell, if it has one."""
    try:
        cells = json.loads(executed.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError):
        return None
    for cell in cells:
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            source = cell.get("source", "")
            return "".join(source) if isinstance(source, list) else str(source)
    return None


def papermill_duration(executed: Path) -> float:
    """Seconds papermill recorded for the whole notebook (0.0 when it recorded none)."""
    try:
        metadata = json.loads(executed.read_text(encoding="utf-8"))["metadata"]
        return float(metadata["papermill"]["duration"] or 0.0)
    except (OSError, ValueError, KeyError, TypeError):
        return 0.0


def run_hundred(bench: Bench, root: Path) -> Run:
    tool = "hundred"
    expected = bench.parameters
    argv = [bench.hundred, "run", "--profile", PROFILE, "--force", "--jobs", str(bench.jobs)]
    seconds, done = timed(argv, root)
    executed: dict[str, Path] = {}
    durations: dict[str, float] = {}
    if done is None:
        return Run(failed(tool, seconds, done, "hung"), executed, durations)
    problems: list[str] = []
    for folder, parameters in expected.items():
        path = root / ".hundred" / "runs" / folder / f"{PROFILE}.json"
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            problems.append(f"{folder}: no run record")
            continue
        if record.get("status") != "passed":
            error = record.get("error") or {}
            problems.append(f"{folder}: {record.get('failure')}: {error.get('ename')}: "
                            f"{error.get('evalue')}"[:300])
            continue
        if record.get("parameters") != parameters:
            problems.append(f"{folder}: ran with {record.get('parameters')}, not {parameters}")
            continue
        executed[folder] = path.with_suffix(".ipynb")
        durations[folder] = float(record.get("duration") or 0.0)
    if problems:
        detail = f"{len(expected) - len(problems)}/{len(expected)} passed"
        outcome = failed(tool, seconds, done, detail)
        outcome.detail = detail + "\n" + "\n".join(problems) + "\n" + outcome.detail
        return Run(outcome, executed, durations)
    summary = re.search(r"(\d+)\s+passed,\s+(\d+)\s+failed,\s+(\d+)\s+cached", done.stdout)
    if done.returncode != 0 or summary is None:
        return Run(failed(tool, seconds, done, "failed" if summary else "no summary line"),
                   executed, durations)
    counts = tuple(map(int, summary.groups()))
    if counts != (len(expected), 0, 0):
        return Run(failed(tool, seconds, done, "summary says {} passed, {} failed, {} cached"
                          .format(*counts)), executed, durations)
    missing = [folder for folder, path in executed.items() if not path.is_file()]
    if missing:
        return Run(Outcome(tool, seconds, False, f"no executed notebook for {missing}"),
                   executed, durations)
    return Run(Outcome(tool, seconds, True, f"{len(expected)}/{len(expected)} executed"),
               executed, durations)


def run_pool(bench: Bench, root: Path, *, shared: bool = False) -> Run:
    tool = "papermill-pool-shared" if shared else "papermill-pool"
    expected = bench.parameters
    argv = [sys.executable, str(bench.script), str(root), str(bench.jobs),
            str(bench.parameters_file)]
    share = thread_share(bench.jobs)
    if shared and share is not None:
        argv = ["env", *(f"{name}={share}" for name in THREAD_VARIABLES), *argv]
    seconds, done = timed(argv, root)
    executed = {folder: root / "out" / f"{folder}.ipynb" for folder in expected}
    durations = {folder: papermill_duration(path) for folder, path in executed.items()}
    if done is None:
        return Run(failed(tool, seconds, done, "hung"), executed, durations)
    report = report_line(done.stdout)
    if report is None:
        return Run(failed(tool, seconds, done, "no report"), executed, durations)
    ok, errors = report.get("ok"), report.get("errors")
    if done.returncode != 0 or ok != len(expected) or errors:
        listed = "\n".join(map(str, errors)) if isinstance(errors, list) else str(errors)
        outcome = failed(tool, seconds, done, f"{ok}/{len(expected)} executed")
        outcome.detail = f"{ok}/{len(expected)} executed\n{listed}\n{outcome.detail}"
        return Run(outcome, executed, durations)
    missing = [folder for folder, path in executed.items() if not path.is_file()]
    if missing:
        return Run(Outcome(tool, seconds, False, f"no executed notebook for {missing}"),
                   executed, durations)
    return Run(Outcome(tool, seconds, True, f"{ok}/{len(expected)} executed"), executed,
               durations)


def measure(bench: Bench, repeat: int, say: Callable[[str], None]) -> dict[str, list[Run]]:
    """Every tool ``repeat`` times, each from a fresh copy, the tools taking turns to go first."""
    runners: dict[str, Callable[[Bench, Path], Run]] = {
        "hundred": run_hundred, "papermill-pool": run_pool,
        "papermill-pool-shared": lambda bench, root: run_pool(bench, root, shared=True)}
    runs: dict[str, list[Run]] = {tool: [] for tool in TOOLS}
    for attempt in range(repeat):
        order = TOOLS if attempt % 2 == 0 else tuple(reversed(TOOLS))
        for tool in order:
            run = runners[tool](bench, bench.copy(f"{tool}-{attempt + 1}"))
            runs[tool].append(run)
            outcome = run.outcome
            state = "ok" if outcome.ok else "FAILED"
            first = outcome.detail.splitlines()[0] if outcome.detail else ""
            say(f"  {tool:<22} {outcome.seconds:8.2f} s  {state}: {first[:100]}")
    return runs


def best(runs: list[Run]) -> Run | None:
    """The fastest successful run, or None when none succeeded."""
    good = [run for run in runs if run.outcome.ok]
    return min(good, key=lambda run: run.outcome.seconds) if good else None


def compare_parameters(runs: dict[str, list[Run]], folders: Sequence[str]) -> list[str]:
    """Projects whose injected-parameters cells differ between any two executed notebooks."""
    differ: list[str] = []
    for folder in folders:
        cells = {injected(run.executed[folder]) for tool_runs in runs.values()
                 for run in tool_runs if run.outcome.ok and folder in run.executed}
        if len(cells) > 1 or None in cells:
            differ.append(folder)
    return differ


def report(runs: dict[str, list[Run]], folders: Sequence[str], repeat: int) -> str:
    lines = [""]
    chosen = {tool: best(tool_runs) for tool, tool_runs in runs.items()}
    base = chosen.get("hundred")
    lines.append(f"{f'best of {repeat}':<22} {'seconds':>9} {'vs hundred':>11}  result")
    for tool in TOOLS:
        run = chosen[tool]
        if run is None:
            lines.append(f"{tool:<22} {'-':>9} {'-':>11}  FAILED")
            continue
        versus = f"{run.outcome.seconds / base.outcome.seconds:.2f}x" if base else "-"
        others = ", ".join(f"{r.outcome.seconds:.2f}" for r in runs[tool] if r is not run)
        also = f" (other runs: {others} s)" if others else ""
        lines.append(f"{tool:<22} {run.outcome.seconds:>9.2f} {versus:>11}  "
                     f"ok: {run.outcome.detail.splitlines()[0]}{also}")
    hundred, pool = chosen.get("hundred"), chosen.get("papermill-pool")
    if hundred is not None and pool is not None:
        lines.append("")
        lines.append(f"{'notebook seconds':<40} {'hundred':>9} {'pool':>9}")
        for folder in folders:
            lines.append(f"{folder:<40} {hundred.durations.get(folder, 0.0):>9.2f} "
                         f"{pool.durations.get(folder, 0.0):>9.2f}")
        lines.append(f"{'sum (one notebook after another)':<40} "
                     f"{sum(hundred.durations.values()):>9.2f} "
                     f"{sum(pool.durations.values()):>9.2f}")
    lines.append("")
    if hundred is None or pool is None:
        lines.append("pool target: not checked (hundred or papermill-pool failed)")
    else:
        ratio = hundred.outcome.seconds / pool.outcome.seconds
        verdict = "ok" if ratio <= POOL_TARGET else "MISSED"
        lines.append(f"pool target: hundred / papermill-pool = {ratio:.2f}x "
                     f"(target <= {POOL_TARGET}x: {verdict})")
    differ = compare_parameters(runs, folders)
    if hundred is None or pool is None:
        lines.append("parameters: not compared (a tool has no successful run)")
    elif differ:
        lines.append(f"WARNING: the injected parameters differ between the tools in: "
                     f"{', '.join(differ)}")
    else:
        lines.append(f"parameters: the same injected-parameters cell in every executed notebook "
                     f"of both tools ({len(folders)} projects)")
    for tool in TOOLS:
        for number, run in enumerate(runs[tool], start=1):
            if not run.outcome.ok:
                lines.append(f"\n{tool} (run {number}) FAILED: {run.outcome.detail}")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--jobs", type=int, default=2,
                        help="notebooks at once for hundred and the pool (default 2)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs of each tool; the best counts (default 1)")
    parser.add_argument("--no-history", action="store_true",
                        help="copy the projects without their committed frozen runs (runs/), "
                        "so hundred knows no durations to start the longest notebooks first")
    parser.add_argument("--no-warmup", action="store_true",
                        help="skip the untimed import of the notebooks' packages first")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    hundred = find_tool("hundred")
    print(f"hundred: {hundred}")
    with tempfile.TemporaryDirectory(prefix="bench-examples-") as temporary:
        parent = Path(temporary)
        template = make_template(parent / "template", history=not args.no_history)
        parameters, invalid = smoke_parameters(template)
        if invalid:
            print("error: invalid writeups:\n" + "\n".join(invalid))
            return 1
        folders = sorted(parameters)
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; {len(folders)} example "
              f"projects, --profile {PROFILE}, --jobs {args.jobs}, --repeat {args.repeat}")
        print("preparing data once (untimed, python data.py in the template) ...")
        problems = prepare_data(template, folders, print)
        if problems:
            print("error: preparing data failed:\n" + "\n".join(problems))
            return 1
        script = parent / "drive_papermill_pool.py"  # not papermill.py: it would shadow it
        script.write_text(PAPERMILL_POOL, encoding="utf-8")
        parameters_file = parent / "parameters.json"
        parameters_file.write_text(json.dumps(parameters), encoding="utf-8")
        bench = Bench(template, parent, args.jobs, hundred, script, parameters_file, parameters)
        if not args.no_warmup:
            print("warming up (untimed: importing the notebooks' packages) ...")
            warm_up()
        print("measuring ...")
        runs = measure(bench, args.repeat, print)
        print(report(runs, folders, args.repeat))
    failures = any(not run.outcome.ok for tool_runs in runs.values() for run in tool_runs)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
