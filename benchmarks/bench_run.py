"""Time `hundred run` against papermill, nbmake and jupyter-cache on the same small notebooks.

Every tool executes the same ``--notebooks`` trivial notebooks (a parameters cell, ``number = N``
and ``x = 1 + 1; print(x)``), each from its own fresh copy of a temporary monorepo, as a whole
process started the way a person starts it:

1. ``hundred run --jobs J``, cold (no ``.hundred/`` yet);
2. papermill, one notebook after another (``papermill.execute_notebook`` in a loop);
3. papermill in a process pool of J (``ProcessPoolExecutor(J)``);
4. ``pytest --nbmake -n J`` (pytest-xdist), outside any pytest configuration;
5. jupyter-cache's ``local-parallel`` executor with a fresh cache (its pool has one process
   per CPU: J only when J is the CPU count);
6. warm runs, nothing changed: ``hundred run`` again, and jupyter-cache's ``run_and_cache``
   again with every notebook cached.

A tool that fails (an exit code other than 0, or a notebook not executed) is reported as failed
and left out of the comparisons. The targets: cold hundred at most 0.4x papermill in a pool and
0.9x the fastest peer; warm hundred under 0.5 s and at most 0.33x warm jupyter-cache.

    python benchmarks/bench_run.py --notebooks 100 --jobs 2
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

from common import build_monorepo, find_tool, folder_for

COLD_TARGET = 0.9  # cold hundred / fastest cold peer
WARM_TARGET = 0.33  # warm hundred / warm jupyter-cache
POOL_TARGET = 0.4  # cold hundred / papermill in a pool of J, the way a user parallelises it
WARM_SECONDS = 0.5  # warm hundred, nothing changed: the whole process
TOOL_TIMEOUT = 1800.0  # seconds before a run counts as hung
TOOLS = ("hundred", "papermill", "papermill-pool", "nbmake", "jupyter-cache")

# The peers' drivers, each a small script run by this Python: argv is the monorepo root (and
# the job count, or "check"); the last line printed is JSON: {"ok": n, "errors": [...]}.
PAPERMILL_SEQUENTIAL = """\
import json, sys
from pathlib import Path
import papermill

root = Path(sys.argv[1])
out = root / "out"
out.mkdir()
ok, errors = 0, []
for notebook in sorted(root.glob("projects/*/notebook.ipynb")):
    try:
        papermill.execute_notebook(
            str(notebook), str(out / f"{notebook.parent.name}.ipynb"),
            parameters={"profile": "smoke"}, kernel_name="python3",
            cwd=str(notebook.parent), progress_bar=False)
        ok += 1
    except Exception as error:
        errors.append(f"{notebook.parent.name}: {type(error).__name__}: {error}"[:500])
print(json.dumps({"ok": ok, "errors": errors}))
sys.exit(1 if errors else 0)
"""

PAPERMILL_POOL = """\
import json, sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
import papermill


def run(notebook: Path) -> str | None:
    try:
        papermill.execute_notebook(
            str(notebook), str(notebook.parents[2] / "out" / f"{notebook.parent.name}.ipynb"),
            parameters={"profile": "smoke"}, kernel_name="python3",
            cwd=str(notebook.parent), progress_bar=False)
    except Exception as error:
        return f"{notebook.parent.name}: {type(error).__name__}: {error}"[:500]
    return None


if __name__ == "__main__":
    root, jobs = Path(sys.argv[1]), int(sys.argv[2])
    (root / "out").mkdir()
    notebooks = sorted(root.glob("projects/*/notebook.ipynb"))
    with ProcessPoolExecutor(jobs) as pool:
        outcomes = list(pool.map(run, notebooks))
    errors = [outcome for outcome in outcomes if outcome is not None]
    print(json.dumps({"ok": len(outcomes) - len(errors), "errors": errors}))
    sys.exit(1 if errors else 0)
"""

# As `jcache project add` + `jcache project execute --executor local-parallel` do, at the
# command line's default log level. With "check", instead: what the cache holds (untimed).
JUPYTER_CACHE = """\
import json, logging, sys
from pathlib import Path
from jupyter_cache import get_cache

root = Path(sys.argv[1])
cache = get_cache(str(root / ".jupyter_cache"))
if sys.argv[2:] == ["check"]:
    records = cache.list_project_records()
    unexecuted = cache.list_unexecuted()
    errors = [f"{Path(r.uri).parent.name}: not cached: {(r.traceback or '')[-300:]}"
              for r in unexecuted]
    print(json.dumps({"ok": len(records) - len(unexecuted), "errors": errors}))
    sys.exit(0)
from jupyter_cache.executors import load_executor

logger = logging.getLogger("jcache")
logger.setLevel(logging.INFO)
for notebook in sorted(root.glob("projects/*/notebook.ipynb")):
    cache.add_nb_to_project(str(notebook))
result = load_executor("local-parallel", cache=cache, logger=logger).run_and_cache()
errors = [f"{Path(uri).parent.name}: excepted" for uri in result.excepted]
errors += [f"{Path(uri).parent.name}: errored" for uri in result.errored]
print(json.dumps({"ok": len(result.succeeded), "errors": errors}))
sys.exit(1 if errors else 0)
"""


@dataclass
class Outcome:
    """One timed run of one tool."""

    tool: str
    seconds: float
    ok: bool
    detail: str  # "100/100 executed", or what went wrong








def fresh_copy(template: Path, parent: Path, label: str) -> Path:
    """A private copy of the template monorepo for one measurement."""
    root = Path(tempfile.mkdtemp(prefix=f"{label}-", dir=parent))
    shutil.copytree(template / "projects", root / "projects")
    return root


def timed(argv: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess[str] | None]:
    """Seconds the whole process took, and the process (None when it hung)."""
    start = time.perf_counter()
    try:
        done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False,
                              timeout=TOOL_TIMEOUT)
    except subprocess.TimeoutExpired:
        return time.perf_counter() - start, None
    return time.perf_counter() - start, done


def tail(text: str, lines: int = 8) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def failed(tool: str, seconds: float, done: subprocess.CompletedProcess[str] | None,
           why: str) -> Outcome:
    if done is None:
        return Outcome(tool, seconds, False, f"hung: killed after {TOOL_TIMEOUT:.0f}s")
    return Outcome(tool, seconds, False,
                   f"{why} (exit code {done.returncode})\n{tail(done.stdout + done.stderr)}")


def report_line(text: str) -> dict[str, object] | None:
    """The JSON report a driver script prints last, if there is one."""
    lines = text.strip().splitlines()
    try:
        data = json.loads(lines[-1]) if lines else None
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def run_hundred(executable: str, root: Path, jobs: int, notebooks: int, *,
                warm: bool) -> Outcome:
    tool = "hundred (warm)" if warm else "hundred"
    seconds, done = timed([executable, "run", "--jobs", str(jobs)], root)
    if done is None or done.returncode != 0:
        return failed(tool, seconds, done, "failed")
    summary = re.search(r"(\d+)\s+passed,\s+(\d+)\s+failed,\s+(\d+)\s+cached", done.stdout)
    if summary is None:
        return failed(tool, seconds, done, "no summary line")
    passed, failures, cached = map(int, summary.groups())
    if warm:
        if (passed, failures, cached) != (0, 0, notebooks):
            return failed(tool, seconds, done,
                          f"warm run: {passed} run, {failures} failed, {cached} cached")
        return Outcome(tool, seconds, True, f"{cached}/{notebooks} cached, none executed")
    records = [root / ".hundred" / "runs" / folder_for(n) / "smoke.json"
               for n in range(1, notebooks + 1)]
    good = sum(path.is_file() and json.loads(path.read_text())["status"] == "passed"
               for path in records)
    if good != notebooks or passed != notebooks:
        return failed(tool, seconds, done, f"{good}/{notebooks} passed")
    shown = sum(shows_output(path.with_suffix(".ipynb")) for path in records)
    if shown != notebooks:
        return failed(tool, seconds, done,
                      f"{shown}/{notebooks} executed notebooks show the output")
    return Outcome(tool, seconds, True, f"{good}/{notebooks} executed")


def run_script(tool: str, script: Path, root: Path, extra: list[str],
               notebooks: int) -> Outcome:
    seconds, done = timed([sys.executable, str(script), str(root), *extra], root)
    if done is None:
        return failed(tool, seconds, done, "hung")
    report = report_line(done.stdout)
    if report is None:
        return failed(tool, seconds, done, "no report")
    ok = report.get("ok")
    errors = report.get("errors")
    if done.returncode != 0 or ok != notebooks or errors:
        first = errors[:3] if isinstance(errors, list) else errors
        return failed(tool, seconds, done, f"{ok}/{notebooks} executed; first errors: {first}")
    return Outcome(tool, seconds, True, f"{ok}/{notebooks} executed")


def shows_output(executed: Path) -> bool:
    """Whether the executed notebook ``executed`` exists and shows the cell's output ``2``."""
    if not executed.is_file():
        return False
    cells = json.loads(executed.read_text(encoding="utf-8"))["cells"]
    return any(output.get("text") in ("2\n", ["2\n"])
               for cell in cells for output in cell.get("outputs", []))


def check_papermill_outputs(outcome: Outcome, root: Path, notebooks: int) -> Outcome:
    """Every executed notebook is on disk, with the cell's output ``2``."""
    if not outcome.ok:
        return outcome
    good = sum(shows_output(root / "out" / f"{folder_for(number)}.ipynb")
               for number in range(1, notebooks + 1))
    if good != notebooks:
        return Outcome(outcome.tool, outcome.seconds, False,
                       f"{good}/{notebooks} executed notebooks show the output")
    return outcome


def run_nbmake(executable: str, root: Path, jobs: int, notebooks: int) -> Outcome:
    paths = [f"projects/{folder_for(n)}/notebook.ipynb" for n in range(1, notebooks + 1)]
    # -c /dev/null and --rootdir: no pytest configuration from any folder above applies.
    argv = [executable, "--nbmake", "-n", str(jobs), "-p", "no:cacheprovider", "-q",
            "-c", os.devnull, "--rootdir", str(root), *paths]
    seconds, done = timed(argv, root)
    if done is None or done.returncode != 0:
        return failed("nbmake", seconds, done, "failed")
    passed = re.search(r"(\d+) passed", done.stdout)
    count = int(passed[1]) if passed else 0
    if count != notebooks:
        return failed("nbmake", seconds, done, f"{count}/{notebooks} passed")
    return Outcome("nbmake", seconds, True, f"{count}/{notebooks} executed")


def run_jupyter_cache(script: Path, root: Path, notebooks: int, *, warm: bool) -> Outcome:
    tool = "jupyter-cache (warm)" if warm else "jupyter-cache"
    outcome = run_script(tool, script, root, [], 0 if warm else notebooks)
    if not outcome.ok:
        if warm:
            outcome.detail = "warm run executed notebooks again: " + outcome.detail
        return outcome
    # Untimed: the cache now holds every notebook, executed.
    check = subprocess.run([sys.executable, str(script), str(root), "check"], cwd=root,
                           capture_output=True, text=True, check=False)
    report = report_line(check.stdout)
    if report is None or report.get("ok") != notebooks or report.get("errors"):
        return Outcome(tool, outcome.seconds, False,
                       f"cache check: {report or tail(check.stdout + check.stderr)}")
    outcome.detail = (f"{notebooks}/{notebooks} cached, none executed" if warm
                      else f"{notebooks}/{notebooks} executed")
    return outcome


@dataclass
class Bench:
    """Everything the measurements share: the template, the scripts, the executables."""

    template: Path
    parent: Path
    notebooks: int
    jobs: int
    hundred: str
    pytest: str
    scripts: dict[str, Path]

    def copy(self, label: str) -> Path:
        return fresh_copy(self.template, self.parent, label)


def measure(bench: Bench, skip: set[str], say: Callable[[str], None]) -> list[Outcome]:
    """Cold runs of every tool not skipped, then the warm runs; one fresh copy each."""
    n, jobs = bench.notebooks, bench.jobs
    outcomes: list[Outcome] = []
    hundred_root = cache_root = None

    def note(outcome: Outcome) -> None:
        outcomes.append(outcome)
        state = "ok" if outcome.ok else "FAILED"
        first = outcome.detail.splitlines()[0] if outcome.detail else ""
        say(f"  {outcome.tool:<22} {outcome.seconds:8.2f} s  {state}: {first[:100]}")

    if "hundred" not in skip:
        hundred_root = bench.copy("hundred")
        note(run_hundred(bench.hundred, hundred_root, jobs, n, warm=False))
    if "papermill" not in skip:
        root = bench.copy("papermill")
        outcome = run_script("papermill", bench.scripts["papermill"], root, [], n)
        note(check_papermill_outputs(outcome, root, n))
    if "papermill-pool" not in skip:
        root = bench.copy("papermill-pool")
        outcome = run_script("papermill-pool", bench.scripts["papermill-pool"], root,
                             [str(jobs)], n)
        note(check_papermill_outputs(outcome, root, n))
    if "nbmake" not in skip:
        note(run_nbmake(bench.pytest, bench.copy("nbmake"), jobs, n))
    if "jupyter-cache" not in skip:
        cache_root = bench.copy("jupyter-cache")
        note(run_jupyter_cache(bench.scripts["jupyter-cache"], cache_root, n, warm=False))
    if hundred_root is not None:
        note(run_hundred(bench.hundred, hundred_root, jobs, n, warm=True))
    if cache_root is not None:
        note(run_jupyter_cache(bench.scripts["jupyter-cache"], cache_root, n, warm=True))
    return outcomes


def warm_up(bench: Bench, skip: set[str]) -> None:
    """Untimed runs of every tool on a couple of notebooks: fills the OS file cache."""
    small = Bench(bench.parent / "warm-up-template", bench.parent, 2, bench.jobs, bench.hundred,
                  bench.pytest, bench.scripts)
    build_monorepo(small.template, small.notebooks)
    for outcome in measure(small, skip, lambda line: None):
        if not outcome.ok:
            print(f"warning: warm-up run of {outcome.tool} failed: {outcome.detail}")


def ratio_text(value: float) -> str:
    return f"{value:.2f}x"


def report(outcomes: list[Outcome]) -> tuple[str, bool]:
    """The tables and the two target checks; True when both targets are met."""
    by_tool = {outcome.tool: outcome for outcome in outcomes}
    lines: list[str] = []
    met = True
    for title, reference in (("cold", "hundred"), ("warm", "hundred (warm)")):
        rows = [o for o in outcomes if o.tool.endswith("(warm)") == (title == "warm")]
        if not rows:
            continue
        base = by_tool.get(reference)
        lines.append("")
        lines.append(f"{title:<22} {'seconds':>9} {'vs hundred':>11}  result")
        for outcome in rows:
            if outcome.ok and base is not None and base.ok:
                versus = ratio_text(outcome.seconds / base.seconds)
            else:
                versus = "-"
            state = "ok" if outcome.ok else "FAILED"
            first = outcome.detail.splitlines()[0] if outcome.detail else ""
            if len(first) > 60:
                first = first[:57] + "..."
            lines.append(f"{outcome.tool:<22} {outcome.seconds:>9.2f} {versus:>11}  "
                         f"{state}: {first}")
    lines.append("")
    cold = by_tool.get("hundred")
    peers = [o for o in outcomes if o.ok and not o.tool.startswith("hundred")
             and not o.tool.endswith("(warm)")]
    if cold is None or not cold.ok or not peers:
        lines.append("cold target: not checked (hundred or every peer skipped or failed)")
        met = False
    else:
        fastest = min(peers, key=lambda o: o.seconds)
        ratio = cold.seconds / fastest.seconds
        verdict = "ok" if ratio <= COLD_TARGET else "MISSED"
        met &= ratio <= COLD_TARGET
        lines.append(f"cold target: hundred / fastest peer ({fastest.tool}) = "
                     f"{ratio_text(ratio)} (target <= {COLD_TARGET}x: {verdict})")
    warm, cache = by_tool.get("hundred (warm)"), by_tool.get("jupyter-cache (warm)")
    if warm is None or cache is None or not warm.ok or not cache.ok:
        lines.append("warm target: not checked (hundred or jupyter-cache skipped or failed)")
        met = False
    else:
        ratio = warm.seconds / cache.seconds
        verdict = "ok" if ratio <= WARM_TARGET else "MISSED"
        met &= ratio <= WARM_TARGET
        lines.append(f"warm target: hundred / jupyter-cache (both warm) = "
                     f"{ratio_text(ratio)} (target <= {WARM_TARGET}x: {verdict})")
    pool = by_tool.get("papermill-pool")
    if cold is not None and cold.ok and pool is not None and pool.ok:
        ratio = cold.seconds / pool.seconds
        met &= ratio <= POOL_TARGET
        lines.append(f"pool target: hundred / papermill-pool = {ratio_text(ratio)} "
                     f"(target <= {POOL_TARGET}x: {'ok' if ratio <= POOL_TARGET else 'MISSED'})")
    if warm is not None and warm.ok:
        met &= warm.seconds < WARM_SECONDS
        lines.append(f"warm seconds: hundred {warm.seconds:.2f} s (target < {WARM_SECONDS} s: "
                     f"{'ok' if warm.seconds < WARM_SECONDS else 'MISSED'})")
    failures = [o for o in outcomes if not o.ok]
    for outcome in failures:
        lines.append(f"\n{outcome.tool} FAILED: {outcome.detail}")
    return "\n".join(lines), met


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--notebooks", type=int, default=100,
                        help="trivial notebooks every tool executes (default 100)")
    parser.add_argument("--jobs", type=int, default=2,
                        help="notebooks at once for hundred, the pool and nbmake (default 2)")
    parser.add_argument("--skip", action="append", default=[], choices=TOOLS, metavar="TOOL",
                        help=f"leave a tool out (repeatable): {', '.join(TOOLS)}")
    parser.add_argument("--no-warmup", action="store_true",
                        help="skip the untimed runs of every tool on two notebooks first")
    args = parser.parse_args(argv)
    if not 1 <= args.notebooks <= 999:
        parser.error("--notebooks must be between 1 and 999 (project numbers)")
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    skip = set(args.skip)
    hundred = find_tool("hundred")
    pytest = find_tool("pytest")
    print(f"hundred: {hundred}")
    print(f"pytest:  {pytest}")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; "
          f"{args.notebooks} notebooks, --jobs {args.jobs}")
    if "jupyter-cache" not in skip and args.jobs != os.cpu_count():
        print(f"note: jupyter-cache's local-parallel pool has {os.cpu_count()} processes "
              f"(one per CPU), not {args.jobs}")
    with tempfile.TemporaryDirectory(prefix="bench-run-") as temporary:
        parent = Path(temporary)
        scripts = {}
        for name, text in (("papermill", PAPERMILL_SEQUENTIAL),
                           ("papermill-pool", PAPERMILL_POOL),
                           ("jupyter-cache", JUPYTER_CACHE)):
            # Not named like a module the script imports (papermill.py would shadow it).
            scripts[name] = parent / f"drive_{name.replace('-', '_')}.py"
            scripts[name].write_text(text, encoding="utf-8")
        bench = Bench(build_monorepo(parent / "template", args.notebooks), parent,
                      args.notebooks, args.jobs, hundred, pytest, scripts)
        if not args.no_warmup:
            print("warming up (untimed, 2 notebooks each) ...")
            warm_up(bench, skip)
        print("measuring ...")
        outcomes = measure(bench, skip, print)
    text, _ = report(outcomes)
    print(text)
    return 1 if any(not outcome.ok for outcome in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
