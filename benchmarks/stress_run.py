"""Repeat a cold `hundred run` on fresh trivial notebooks and count spurious failures.

Every run gets a fresh temporary monorepo of ``--notebooks`` trivial projects (a parameters
cell, ``number = N`` and ``x = 1 + 1; print(x)``) that cannot fail on their own, and runs
``hundred run --jobs J`` in it as a whole process. Any project not recorded as passed is a
spurious failure: its record's ``failure`` and ``error`` are printed. A process still running
in the monorepo after ``hundred run`` has exited (a kernel or a zygote) is counted as leaked.
The exit code is 1 when any run had a failure or a leak.

    python benchmarks/stress_run.py --runs 10
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import build_monorepo, find_tool, folder_for

RUN_TIMEOUT = 1800.0  # seconds before a run counts as hung
LEAK_GRACE = 2.0  # seconds a stopped process may take to disappear


@dataclass
class Run:
    """What one cold run did."""

    seconds: float
    exit_code: int | None  # None: hung, killed
    passed: int
    failures: list[dict[str, Any]] = field(default_factory=list)  # project, failure, error
    leaked: list[str] = field(default_factory=list)  # "pid command" of processes left behind
    output: str = ""

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.failures and not self.leaked








def processes_in(root: Path) -> list[str]:
    """``"pid command"`` of every process whose working folder is ``root`` or inside it."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cwd = (entry / "cwd").resolve(strict=True)
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue
        if cwd == root or root in cwd.parents:
            found.append(f"{entry.name} {command[:120]}")
    return found


def leaked_processes(root: Path) -> list[str]:
    """Processes left in ``root``, after giving stopped ones a moment to go."""
    deadline = time.monotonic() + LEAK_GRACE
    while True:
        left = processes_in(root)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def failure_records(root: Path, notebooks: int) -> tuple[int, list[dict[str, Any]]]:
    """How many projects passed, and what every other one's smoke record says."""
    passed = 0
    failures: list[dict[str, Any]] = []
    for number in range(1, notebooks + 1):
        folder = folder_for(number)
        path = root / ".hundred" / "runs" / folder / "smoke.json"
        if not path.is_file():
            failures.append({"project": folder, "failure": "no record", "error": None})
            continue
        record = json.loads(path.read_text(encoding="utf-8"))
        if record.get("status") == "passed":
            passed += 1
        else:
            failures.append({"project": folder, "status": record.get("status"),
                             "failure": record.get("failure"), "error": record.get("error"),
                             "kernel_attempts": record.get("kernel_attempts")})
    return passed, failures


def run_once(executable: str, root: Path, notebooks: int, jobs: int) -> Run:
    build_monorepo(root, notebooks)
    start = time.perf_counter()
    try:
        done = subprocess.run([executable, "run", "--jobs", str(jobs)], cwd=root,
                              capture_output=True, text=True, check=False,
                              timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired as hung:
        seconds = time.perf_counter() - start
        raw = hung.stdout or b""
        output = raw if isinstance(raw, str) else raw.decode(errors="replace")
        passed, failures = failure_records(root, notebooks)
        return Run(seconds, None, passed, failures, leaked_processes(root), output)
    seconds = time.perf_counter() - start
    passed, failures = failure_records(root, notebooks)
    return Run(seconds, done.returncode, passed, failures, leaked_processes(root),
               done.stdout + done.stderr)


def kill(processes: list[str]) -> None:
    """Stop processes a run left behind, so that the next run starts clean."""
    for line in processes:
        pid = int(line.split()[0])
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def describe(number: int, run: Run, notebooks: int) -> list[str]:
    code = "hung" if run.exit_code is None else f"exit {run.exit_code}"
    lines = [f"run {number:>3}  {run.seconds:7.2f} s  {code:<7}  "
             f"{run.passed}/{notebooks} passed  {len(run.failures)} failed  "
             f"{len(run.leaked)} leaked"]
    for failure in run.failures:
        lines.append("    " + json.dumps(failure))
    for process in run.leaked:
        lines.append(f"    leaked: {process}")
    if not run.ok and not run.failures and not run.leaked:
        summary = re.sub(r"\n\s*\n", "\n", run.output.strip())
        lines.append("    output: " + "\n    ".join(summary.splitlines()[-12:]))
    return lines


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=10, help="cold runs (default 10)")
    parser.add_argument("--notebooks", type=int, default=100,
                        help="fresh trivial notebooks in every run (default 100)")
    parser.add_argument("--jobs", type=int, default=2, help="hundred run --jobs (default 2)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the monorepo of every run that failed, and print where")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if not 1 <= args.notebooks <= 999:
        parser.error("--notebooks must be between 1 and 999 (project numbers)")
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    hundred = find_tool("hundred")
    print(f"hundred: {hundred}")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; {args.runs} cold runs of "
          f"{args.notebooks} notebooks, --jobs {args.jobs}")
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="stress-run-") as temporary:
        for number in range(1, args.runs + 1):
            root = Path(temporary) / f"run-{number}"
            run = run_once(hundred, root, args.notebooks, args.jobs)
            runs.append(run)
            print("\n".join(describe(number, run, args.notebooks)), flush=True)
            kill(run.leaked)
            if not run.ok and args.keep:
                kept = Path(tempfile.mkdtemp(prefix=f"stress-run-{number}-"))
                shutil.copytree(root, kept, dirs_exist_ok=True, symlinks=True)
                print(f"    kept in {kept}")
            shutil.rmtree(root, ignore_errors=True)
    seconds = [run.seconds for run in runs]
    failures = sum(len(run.failures) for run in runs)
    leaked = sum(len(run.leaked) for run in runs)
    bad_exits = sum(run.exit_code != 0 for run in runs)
    print(f"seconds: min {min(seconds):.2f}, median {statistics.median(seconds):.2f}, "
          f"max {max(seconds):.2f}")
    print(f"total: {failures} spurious failures in {sum(bool(r.failures) for r in runs)} of "
          f"{len(runs)} runs; {leaked} leaked processes; {bad_exits} runs exited non-zero")
    return 0 if all(run.ok for run in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
