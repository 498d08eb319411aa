"""The challenge dashboard: verified status, settings files, the home page and README."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from pathlib import Path

import nbformat
import pytest

from hundred import catalog
from hundred.challenge import load_goals, load_roadmap, verified_status
from hundred.cli import main
from hundred.config import load_settings
from hundred.dashboard import (
    README_END,
    README_START,
    build_dashboard,
    dashboard_html,
    rewrite_readme,
)
from hundred.errors import HundredError
from tests.conftest import REPO, snapshot
from tests.runkit import RECORD, make_project
from tests.sitekit import mkdocs, site_files

PYPROJECT = """[tool.hundred]
target = 10
start = 2026-11-01
end = 2026-12-31
"""
GOALS = """courses:
  - name: Deep Learning Specialization
    link: https://example.org/dl
    progress: 60
  - name: Linear algebra refresher
    progress: done
papers:
  - name: Attention is all you need
"""
ROADMAP = """stages:
  - name: ML basics
    description: regression, classification, clustering
  - CNNs
  - Reinforcement learning
"""


def _run(root: Path, *argv: str) -> int:
    return main(["-C", str(root), *argv])


@pytest.fixture(scope="module")
def states(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """001 done, 002 stale, 003 no metric, 004 failing, 005 never run, 006 no smoke run."""
    root = site_files(tmp_path_factory.mktemp("dash") / "mono")
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "docs" / "goals.yml").write_text(GOALS)
    (root / "docs" / "roadmap.yml").write_text(ROADMAP)
    stage = "stage: ML basics\n"
    make_project(root, "001-done", [RECORD], extra=stage)
    make_project(root, "002-stale", [RECORD], extra=stage)
    make_project(root, "003-no-metric", ["x = 1"], extra="stage: CNNs\n")
    make_project(root, "004-failing", ["1 / 0"])
    make_project(root, "005-never-run", ["x = 1"], extra="stage: Quantum ML\n")
    make_project(root, "006-no-smoke", [RECORD])
    assert _run(root, "run", "001", "002", "003", "004", "--jobs", "2") == 1
    assert _run(root, "run", "001", "002", "003", "006", "--profile", "full", "--jobs", "2") == 0
    notebook = root / "projects" / "002-stale" / "notebook.ipynb"
    edited = nbformat.read(notebook, as_version=4)
    edited.cells.append(nbformat.v4.new_code_cell("y = 2"))
    nbformat.write(edited, notebook)
    (root / "README.md").write_text(f"# My challenge\n\nIntro.\n\n{README_START}\n"
                                    f"old\n{README_END}\n\nOutro.\n")
    return root


def test_status_follows_the_rules_nothing_self_declared(states: Path) -> None:
    settings = load_settings(states)
    found = {p.name.folder: verified_status(states, p, settings)
             for p in catalog.load(states)}
    assert {k: (v.status, v.reason) for k, v in found.items()} == {
        "001-done": ("done", "verified"),
        "002-stale": ("in-progress", "the full run is stale: the code changed since"),
        "003-no-metric": ("in-progress", "the full run recorded no metric (hundred.record)"),
        "004-failing": ("failing", "the latest smoke run failed (cell-error)"),
        "005-never-run": ("in-progress", "no frozen full run"),
        "006-no-smoke": ("in-progress", "no smoke run verifies it still runs"),
    }


def test_pace_streak_and_headline_figures(states: Path) -> None:
    board = build_dashboard(states, today=dt.date(2026, 11, 15))
    assert (board.settings.target, board.done) == (10, 1)
    pace = board.pace
    assert pace.per_week == pytest.approx(0.5)  # 1 done in 2 weeks since 2026-11-01
    assert pace.projected_finish == dt.date(2026, 11, 15) + dt.timedelta(weeks=18)
    assert pace.on_track is False  # the target end is 2026-12-31
    # Weekly streaks: three weeks in a row, a gap, then this week and last week.
    monday = dt.date(2026, 9, 7)
    board.activity = Counter({monday + dt.timedelta(weeks=w, days=2): 1 for w in (0, 1, 2, 5, 6)})
    board.today = monday + dt.timedelta(weeks=6, days=4)
    assert board.streaks() == (2, 3)
    board.today += dt.timedelta(weeks=3)  # three idle weeks: the streak is broken
    assert board.streaks() == (0, 3)


def test_hundred_status_prints_the_headline_figures(
    states: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(states, "status") == 0
    out = capsys.readouterr().out
    assert "1/10 done (verified), 4 in progress, 1 failing" in out
    assert "projected finish" in out and "target 2026-12-31" in out
    assert _run(states, "status", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["done"], data["in_progress"], data["failing"]) == (1, 4, 1)
    verified = {row["project"]: row["verified"] for row in data["projects"]}
    assert verified["001-done"] == "done" and verified["004-failing"] == "failing"


def test_dashboard_html_for_a_known_monorepo(states: Path) -> None:
    board = build_dashboard(states, today=dt.date(2026, 11, 15))
    page = dashboard_html(board, lambda p: f"blog/{p.project.name.folder}/")
    assert "<strong>1</strong> / 10 projects done" in page
    cells = re.findall(r'<(a|span) class="hundred-cell-(done|in-progress|failing|empty)', page)
    assert len(cells) == 10
    assert [status for _, status in cells].count("done") == 1
    assert [status for _, status in cells].count("empty") == 4
    assert 'href="blog/001-done/"' in page and 'href="blog/004-failing/"' in page
    assert page.count('class="hundred-stage-empty"') == 1  # Reinforcement learning
    assert "Other stages" in page and "Quantum ML" not in page.split("Other stages")[0]
    assert "Deep Learning Specialization" in page and 'aria-valuenow="60.0"' in page
    assert "accuracy ↑" in page  # the leaderboard
    assert "<svg" in page and "hundred-calendar" in page
    assert "http" not in page.replace("https://example.org/dl", "")  # drawn locally


def test_every_kind_is_shown_an_open_one_with_a_dashed_outline_and_its_name(
    tmp_path: Path,
) -> None:
    for folder, kind in (("001-a", "tabular"), ("002-b", "nlp"), ("003-c", "rl"),
                         ("004-d", "rl"), ("005-e", "audio")):
        writeup = make_project(tmp_path, folder, ["x = 1"]) / "writeup.md"
        writeup.write_text(writeup.read_text().replace("kind: tabular", f"kind: {kind}"))
    page = dashboard_html(build_dashboard(tmp_path), lambda p: None)
    # Each cell: its kind's class (plus a generic one for a kind with no colour of its own),
    # and the kind named in its tooltip.
    found = re.findall(r'class="hundred-cell-in-progress ([^"]+)" title="(\d{3})[^"]*\((\w+)\)',
                       page)
    assert found == [
        ("hundred-kind-tabular", "001", "tabular"), ("hundred-kind-nlp", "002", "nlp"),
        ("hundred-kind-rl hundred-kind-other", "003", "rl"),
        ("hundred-kind-rl hundred-kind-other", "004", "rl"),
        ("hundred-kind-audio hundred-kind-other", "005", "audio"),
    ]
    legend = page.split("outline:")[1].split("</p>")[0]
    named = re.findall(r'class="hundred-legend hundred-legend-kind ([^"]+)">([a-z-]+)<', legend)
    assert [name for _, name in named] == [
        "vision", "from-scratch", "nlp", "time-series", "generative", "audio", "rl"]
    assert named[-1][0] == "hundred-kind-rl hundred-kind-other"
    assert legend.endswith("none: tabular")
    counts = dict(re.findall(r'<div class="hundred-count"><span>([^<]+)</span>.*?'
                             r"<span>(\d+)</span></div>", page.split("By kind")[1]
                             .split("By difficulty")[0]))
    assert counts == {"audio": "1", "nlp": "1", "rl": "2", "tabular": "1"}
    css = (REPO / "docs" / "stylesheets" / "hundred.css").read_text()
    for kind in ("vision", "from-scratch", "nlp", "time-series", "generative", "other"):
        assert f".hundred-kind-{kind} {{ border-color: var(--hundred-kind-{kind}); }}" in css
        assert css.count(f"--hundred-kind-{kind}: #") == 2, kind  # a light and a dark colour


def test_the_home_page_is_the_dashboard_and_its_links_resolve(states: Path) -> None:
    built = mkdocs(states, "build", "--strict")
    assert built.returncode == 0, built.stderr
    home = (states / "site" / "index.html").read_text(encoding="utf-8")
    assert "hundred-dashboard" in home and "<!-- hundred:dashboard -->" not in home
    links = re.findall(r'<a class="hundred-cell-[^"]+" href="([^"]+)"', home)
    assert len(links) == 6
    for link in links:
        assert (states / "site" / link / "index.html").is_file(), link


def test_readme_rewrite_is_idempotent_and_stays_inside_its_markers(states: Path,
                                                                    tmp_path: Path) -> None:
    readme = states / "README.md"
    before = readme.read_text()
    assert _run(states, "readme", "--check") == 1  # stale: it says "old"
    assert readme.read_text() == before
    assert rewrite_readme(states) is True
    after = readme.read_text()
    head, tail = before.split(README_START)[0], before.split(README_END)[1]
    assert after.startswith(head) and after.endswith(tail)
    assert "**1 of 10** projects done" in after
    assert "| 001 | [001-done](projects/001-done/) | ML basics | done | accuracy 0.9 |" \
        not in after  # titles come from the writeups
    assert "| 001 | [done](projects/001-done/) | ML basics | done | accuracy 0.9 |" in after
    badge = (states / "docs" / "assets" / "progress.svg").read_text()
    assert badge.startswith("<svg") and ">1/10<" in badge
    assert rewrite_readme(states) is False  # idempotent
    assert _run(states, "readme", "--check") == 0
    assert readme.read_text() == after


def test_readme_without_markers_is_bad_input(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    make_project(tmp_path, "001-x", ["x = 1"])
    (tmp_path / "README.md").write_text("# Mine\n")
    before = snapshot(tmp_path)
    assert _run(tmp_path, "readme") == 2
    assert "has no progress section" in capsys.readouterr().err
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("goals.yml", "courses:\n  - name: A\n    progress: 150\n",
         "goals.yml:3: courses.0.progress: Input should be less than or equal to 100"),
        ("goals.yml", "courses:\n  - name: A\n  - nam: B\n", "goals.yml:3: courses.1.nam"),
        ("goals.yml", "courses: [a, b\n", "goals.yml:2: not valid YAML"),
        ("goals.yml", "courses: 3\n", "goals.yml:1: courses must be a list of goals"),
        ("roadmap.yml", "stages:\n  - name: A\n  - 3\n", "roadmap.yml:3: stages.1"),
        ("roadmap.yml", "phases: []\n", "roadmap.yml:1: stages: Field required"),
    ],
)
def test_invalid_goals_and_roadmap_name_the_file_and_line(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / name).write_text(text)
    load = load_goals if name == "goals.yml" else load_roadmap
    with pytest.raises(HundredError) as raised:
        load(tmp_path)
    assert message in str(raised.value)
    assert str(raised.value).startswith(str(tmp_path / "docs" / name))


def test_invalid_settings_name_the_field(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    make_project(tmp_path, "001-x", ["x = 1"])
    (tmp_path / "pyproject.toml").write_text("[tool.hundred]\ntarget = 0\n")
    assert _run(tmp_path, "status") == 2
    err = capsys.readouterr().err
    assert "pyproject.toml: [tool.hundred] target is invalid" in err


def test_default_roadmap_is_a_deep_learning_path(tmp_path: Path) -> None:
    names = [stage.name for stage in load_roadmap(tmp_path)]
    assert names[0] == "Maths" and "CNNs" in names and names[-1] == "Portfolio"
    assert names.index("ML basics") < names.index("Neural networks") < names.index("CNNs")
