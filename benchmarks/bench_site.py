"""Benchmark: building the site for N projects with executed notebooks, with and without hundred.

The same N writeups are built twice, in the same run, as separate processes:
  * hundred: the real mkdocs.yml (the hundred plugin renders every post with its executed
    notebook: code, outputs, a figure and the metric; Material's blog, RSS, search);
  * plain: the same writeups as plain blog posts in docs/blog/posts/, mkdocs.yml without the
    hundred plugin (what a user would do by hand: write posts, no notebooks).
Target: hundred <= 2x plain.

    python benchmarks/bench_site.py [--projects 100] [--runs 3]
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
from pathlib import Path

import nbformat
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.runkit import make_project  # noqa: E402

CELLS = [
    "import numpy as np\nrng = np.random.default_rng(0)\nx = rng.normal(size=200)\nprint(x[:5])",
    "import matplotlib.pyplot as plt\nfig, ax = plt.subplots(figsize=(3, 2))\n"
    "ax.hist(x, bins=20)\nax.set_title('a histogram')\nplt.show()",
    "import pandas as pd\npd.DataFrame({'a': x[:5], 'b': x[5:10]})",
    "import hundred\nhundred.record('accuracy', float(abs(x).mean()))",
]
BODY = "\n## Problem\n\nWhy this study.\n\n## Results\n\nThe loss is $L = x^2$.\n"


def make_monorepo(root: Path, count: int) -> None:
    """``count`` projects, each executed once (smoke) so every post has a real notebook."""
    (root / "projects").mkdir(parents=True)
    shutil.copy(REPO / "mkdocs.yml", root / "mkdocs.yml")
    shutil.copytree(REPO / "docs", root / "docs")
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    for number in range(1, count + 1):
        path = make_project(root, f"{number:03d}-study-{number}", CELLS,
                            extra=f"summary: Study number {number}.\n")
        with (path / "writeup.md").open("a", encoding="utf-8") as handle:
            handle.write(BODY)
    hundred = shutil.which("hundred", path=str(Path(sys.executable).parent)) or "hundred"
    subprocess.run([hundred, "run", "--jobs", "2"], cwd=root, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_plain(hundred_root: Path, root: Path) -> None:
    """The same writeups as hand-written posts, and mkdocs.yml without the hundred plugin."""
    shutil.copytree(hundred_root / "docs", root / "docs")
    config = yaml.safe_load((hundred_root / "mkdocs.yml").read_text(encoding="utf-8"))
    config["plugins"] = [p for p in config["plugins"]
                         if not (isinstance(p, dict) and "hundred" in p)]
    config["nav"] = [item for item in config["nav"] if "Projects" not in item]
    (root / "mkdocs.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    posts = root / "docs" / "blog" / "posts"
    for writeup in sorted((hundred_root / "projects").glob("*/writeup.md")):
        meta_text, _, body = writeup.read_text(encoding="utf-8")[4:].partition("\n---\n")
        meta = yaml.safe_load(meta_text)
        post = {"title": meta["title"], "date": meta["date"], "slug": writeup.parent.name,
                "categories": [meta["kind"]], "description": meta.get("summary", "")}
        text = "---\n" + yaml.safe_dump(post) + "---\n\n" + body.replace(
            "## Problem", "<!-- more -->\n\n## Problem", 1)
        (posts / f"{writeup.parent.name}.md").write_text(text, encoding="utf-8")


def build_seconds(root: Path) -> float:
    environment = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet"], cwd=root,
                   env=environment, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--projects", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-site-") as folder:
        hundred_root, plain_root = Path(folder) / "hundred", Path(folder) / "plain"
        print(f"executing {args.projects} notebooks once (not timed)…", flush=True)
        make_monorepo(hundred_root, args.projects)
        make_plain(hundred_root, plain_root)
        executed = sum(1 for _ in (hundred_root / ".hundred" / "runs").glob("*/smoke.ipynb"))
        notebook = nbformat.read(next((hundred_root / ".hundred/runs").glob("*/smoke.ipynb")),
                                 as_version=4)
        figures = sum("image/png" in o.get("data", {}) for c in notebook.cells
                      for o in c.get("outputs", []))
        print(f"{executed} executed notebooks, {figures} figure(s) each")
        timings: dict[str, list[float]] = {"hundred": [], "plain": []}
        for _ in range(args.runs):  # interleaved, so both see the same machine load
            timings["plain"].append(build_seconds(plain_root))
            timings["hundred"].append(build_seconds(hundred_root))
        posts = len(list((hundred_root / "site" / "blog").glob("*-study-*/index.html")))
        plain_posts = len(list((plain_root / "site" / "blog").glob("*-study-*/index.html")))
    hundred, plain = (statistics.median(timings[k]) for k in ("hundred", "plain"))
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {args.runs} builds each")
    print(f"{'site':<34}{'median s':>10}{'min s':>8}{'posts':>7}")
    print(f"{'hundred (posts + notebooks)':<34}{hundred:>10.2f}{min(timings['hundred']):>8.2f}"
          f"{posts:>7}")
    print(f"{'plain mkdocs (writeups only)':<34}{plain:>10.2f}{min(timings['plain']):>8.2f}"
          f"{plain_posts:>7}")
    ratio = hundred / plain
    verdict = "ok" if ratio <= 2 else "MISSED"
    print(f"ratio hundred / plain: {ratio:.2f}x (target <= 2.0x: {verdict})")


if __name__ == "__main__":
    main()
