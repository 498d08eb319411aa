"""What the rot doctor costs a run: `run_projects` with and without diagnosing, same notebooks.

The monorepo holds ``--notebooks`` trivial notebooks (``x = 1 + 1; print(x)``); one in five
fails the way rotten notebooks fail (a name never defined, a module not installed, a removed
NumPy alias), so that diagnosing has work to do. Each measurement is a cold
``run_projects(force=True, jobs=J)`` in this process, in two variants taking turns:

- **with**: as shipped: every failure diagnosed, every kernel recording its deprecation
  warnings (the hook in its ``exec_lines``), the records read back for them;
- **without**: the same run with both switched off (``diagnosed`` returns the record as it is,
  kernels get no hook): what a run cost before the rot doctor.

Workers are forked from this process, so they run the switched-off code too. The best of
``--repeat`` runs of each counts. The target: diagnosing adds less than 5 %.

    python benchmarks/bench_diagnosis.py --notebooks 100 --jobs 2 --repeat 3
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from common import REPO, folder_for

TARGET = 0.05  # what diagnosing may add to the run, as a share of it
ROT = ("print(never_defined)", "import hundred_no_such_module", "import numpy\nnumpy.NaN")


def build(root: Path, notebooks: int) -> Path:
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from tests.runkit import make_project

    (root / "projects").mkdir(parents=True)
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    for number in range(1, notebooks + 1):
        cells = [f"number = {number}", "x = 1 + 1\nprint(x)"]
        if number % 5 == 0:
            cells.append(ROT[(number // 5) % len(ROT)])
        make_project(root, folder_for(number), cells)
    return root


@contextlib.contextmanager
def switched_off() -> Iterator[None]:
    """The run without the rot doctor: no diagnosis, no deprecation hook in the kernels."""
    from hundred import deprecations
    from hundred.run import runner

    patched: list[tuple[dict[str, object], str, object]] = [
        (vars(runner), "diagnosed", lambda root, result: result),
        (vars(deprecations), "kernel_arguments", list)]
    saved = [(space, name, space[name]) for space, name, _ in patched]
    for space, name, value in patched:
        space[name] = value
    try:
        yield
    finally:
        for space, name, value in saved:
            space[name] = value


def measure(root: Path, jobs: int, *, doctor: bool) -> tuple[float, int, int]:
    """Seconds of one cold forced run, the failures and the diagnosed failures."""
    from hundred.run import run_projects

    shutil.rmtree(root / ".hundred", ignore_errors=True)
    with contextlib.nullcontext() if doctor else switched_off():
        start = time.perf_counter()
        report = run_projects(root, force=True, jobs=jobs)
        seconds = time.perf_counter() - start
    failed = report.failed
    return seconds, len(failed), sum(r.diagnosis is not None for r in failed)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hundred-bench-diagnosis-") as scratch:
        root = build(Path(scratch) / "mono", args.notebooks)
        print(f"python {sys.version.split()[0]}, {args.notebooks} trivial notebooks "
              f"({args.notebooks // 5} failing with rot), --jobs {args.jobs}, "
              f"--repeat {args.repeat}")
        measure(root, args.jobs, doctor=True)  # untimed: fills the OS file cache
        times: dict[str, list[float]] = {"with": [], "without": []}
        for turn in range(args.repeat):
            for variant in (("with", "without") if turn % 2 == 0 else ("without", "with")):
                seconds, failures, diagnosed = measure(root, args.jobs, doctor=variant == "with")
                times[variant].append(seconds)
                print(f"  {variant:<8} {seconds:6.2f} s  {failures} failed, "
                      f"{diagnosed} diagnosed")
    best = {variant: min(found) for variant, found in times.items()}
    added = best["with"] / best["without"] - 1
    print(f"\nbest of {args.repeat}: with the rot doctor {best['with']:.2f} s, without "
          f"{best['without']:.2f} s: it adds {added:+.1%} (target < {TARGET:.0%}: "
          f"{'MET' if added < TARGET else 'MISSED'})")
    return 0 if added < TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
