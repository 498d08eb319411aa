"""Time building a project's environment from its lock against what a user would do instead.

One project declares a small package (``--package``, default ``six``); ``hundred lock``
resolves it (with ipykernel) into requirements.lock (timed too). Then, in the same run:

1. hundred, first build: ``environment_for`` on a monorepo with no ``.hundred/`` (uv's cache
   already holds the packages after the lock, as on any machine that ran before);
2. hundred, a second project with the same lock: the environment is shared, nothing is built;
3. hundred, the same lock in a fresh monorepo (a new clone, a CI job with uv's cache restored);
4. the tool a user would pick instead: ``python -m venv`` + ``pip install -r requirements.lock``
   (pip's own cache warm: it runs once before it is timed).

Target: the second project's environment in under 1 s (items 2 and 3).

    python benchmarks/bench_environments.py
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from hundred.environments import environment_for, lock

TARGET_SECONDS = 1.0


def make_project(root: Path, folder: str, package: str) -> Path:
    path = root / "projects" / folder
    path.mkdir(parents=True)
    (path / "requirements.txt").write_text(f"{package}\n", encoding="utf-8")
    return path


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def pip_install(lock_file: Path, where: Path) -> None:
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True)
    subprocess.run([str(where / "bin" / "python"), "-m", "pip", "install", "--quiet",
                    "--disable-pip-version-check", "-r", str(lock_file)], check=True,
                   stderr=subprocess.DEVNULL)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--package", default="six", help="the package the project declares")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="bench-envs-"))
    try:
        first = scratch / "first"
        one = make_project(first, "001-one", args.package)
        resolved = lock(one)
        two = make_project(first, "002-two", args.package)
        shutil.copy(one / "requirements.lock", two / "requirements.lock")
        locked_two = lock(two)
        figures = {
            "hundred lock (uv pip compile)": timed(lambda: lock(one)),
            "hundred, first build": timed(lambda: environment_for(first, resolved)),
            "hundred, second project, same lock": timed(
                lambda: environment_for(first, locked_two)),
        }
        clone = scratch / "clone"
        shutil.copytree(first / "projects", clone / "projects")
        again = lock(clone / "projects" / "001-one")
        figures["hundred, same lock, new clone"] = timed(lambda: environment_for(clone, again))
        pip_install(one / "requirements.lock", scratch / "warm-pip-cache")  # not timed
        figures["venv + pip install -r lock"] = timed(
            lambda: pip_install(one / "requirements.lock", scratch / "pip-env"))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"environment of a project declaring {args.package} ({len(resolved.pins)} packages "
          "locked, ipykernel included)")
    for name, seconds in figures.items():
        print(f"  {name:<38} {seconds:7.2f} s")
    pip = figures["venv + pip install -r lock"]
    clone_build = figures["hundred, same lock, new clone"]
    print(f"  ratio new clone / venv + pip: {clone_build / pip:.2f}x")
    second = max(figures["hundred, second project, same lock"], clone_build)
    met = "met" if second < TARGET_SECONDS else "NOT met"
    print(f"target: a second project's environment in < {TARGET_SECONDS:.0f} s: {met} "
          f"({second:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
