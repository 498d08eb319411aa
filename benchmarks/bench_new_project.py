"""Time `new-project NNN-slug` against a bare `copier copy` of the same template.

Both tools run as whole processes, the way a person starts them, each in a fresh temporary
monorepo (a ``projects/`` folder and a copy of ``templates/``) so that both do the same work. The
runs of the two tools are interleaved, and which one goes first alternates, so that a slow spell
on the machine hurts both alike. The figures are the median and the minimum of ``--runs`` runs;
the ratio new-project / copier should be at most 1.0x.

    python benchmarks/bench_new_project.py --runs 7
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from common import find_tool

REPO = Path(__file__).resolve().parent.parent
TEMPLATES = REPO / "templates"
TARGET_RATIO = 1.0

# A run gets a monorepo root and a repetition number, makes one project, and returns its folder.
Command = Callable[[Path, int], tuple[list[str], Path]]




def slug_for(run: int) -> str:
    """A different, plain slug each repetition: ``bench-run-1``, ``bench-run-2``, ..."""
    return f"bench-run-{run}"


def title_for(slug: str) -> str:
    """The title new-project derives from such a slug (``bench-run-1`` → ``Bench Run 1``)."""
    return " ".join(word.capitalize() for word in slug.split("-"))


def new_project_command(executable: str) -> Command:
    def command(root: Path, run: int) -> tuple[list[str], Path]:
        folder = f"{run:03d}-{slug_for(run)}"
        return [executable, folder], root / "projects" / folder

    return command


def copier_command(executable: str) -> Command:
    def command(root: Path, run: int) -> tuple[list[str], Path]:
        slug = slug_for(run)
        folder = f"{run:03d}-{slug}"
        # The answers new-project gives for such a slug: tabular, on the wine stand-in.
        answers = {
            "number": str(run),
            "slug": slug,
            "kind": "tabular",
            "dataset": "wine",
            "dataset_is_placeholder": "true",
            "date": "2026-01-01",
            "difficulty": "2",
            "stage": "",
            "title": title_for(slug),
        }
        argv = [executable, "copy", "--defaults", "--quiet"]
        for key, value in answers.items():
            argv += ["-d", f"{key}={value}"]
        argv += ["templates/project", f"projects/{folder}"]
        return argv, root / "projects" / folder

    return command


def make_monorepo(parent: Path, label: str) -> Path:
    """A fresh monorepo under ``parent``: an empty projects/ and a copy of templates/."""
    root = Path(tempfile.mkdtemp(prefix=f"{label}-", dir=parent))
    (root / "projects").mkdir()
    shutil.copytree(TEMPLATES, root / "templates")
    return root


def time_once(command: Command, parent: Path, label: str, run: int) -> float:
    """Seconds one whole process takes to make one project in a fresh monorepo."""
    root = make_monorepo(parent, label)
    argv, made = command(root, run)
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=root, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0 or not (made / "notebook.ipynb").is_file():
        raise SystemExit(
            f"error: {label} failed (exit code {done.returncode}): {' '.join(argv)}\n"
            f"{done.stdout}{done.stderr}"
        )
    shutil.rmtree(root)
    return elapsed


def measure(
    tools: dict[str, Command], runs: int, warmup: int, parent: Path
) -> dict[str, list[float]]:
    """Interleaved timings of every tool; the first tool of each repetition alternates."""
    labels = list(tools)
    for run in range(1, warmup + 1):  # fills the OS file cache and __pycache__ folders
        for label in labels:
            time_once(tools[label], parent, label, run)
    times: dict[str, list[float]] = {label: [] for label in labels}
    for run in range(1, runs + 1):
        order = labels if run % 2 else labels[::-1]
        for label in order:
            times[label].append(time_once(tools[label], parent, label, run))
    return times


def report(times: dict[str, list[float]], runs: int) -> str:
    """A small table: tool, median and minimum seconds, then the ratio."""
    lines = [f"{'tool':<13} {'median s':>9} {'min s':>7}   ({runs} runs each)"]
    for label, seconds in times.items():
        lines.append(f"{label:<13} {statistics.median(seconds):>9.3f} {min(seconds):>7.3f}")
    ours = statistics.median(times["new-project"])
    theirs = statistics.median(times["copier copy"])
    ratio = ours / theirs
    verdict = "ok" if ratio <= TARGET_RATIO else "slower than the target"
    lines.append(
        f"ratio new-project / copier (medians): {ratio:.2f}x "
        f"(target <= {TARGET_RATIO:.1f}x: {verdict})"
    )
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=7,
                        help="timed runs of each tool; the median is reported (default 7)")
    parser.add_argument("--warmup", type=int, default=1,
                        help="untimed runs of each tool first (default 1)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.warmup < 0:
        parser.error("--warmup must not be negative")
    if args.runs + args.warmup > 999:
        parser.error("--runs plus --warmup must be at most 999 (project numbers)")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    new_project = find_tool("new-project")
    copier = find_tool("copier")
    print(f"new-project: {new_project}")
    print(f"copier:      {copier}")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    tools = {
        "new-project": new_project_command(new_project),
        "copier copy": copier_command(copier),
    }
    with tempfile.TemporaryDirectory(prefix="bench-new-project-") as parent:
        times = measure(tools, args.runs, args.warmup, Path(parent))
    print(report(times, args.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
