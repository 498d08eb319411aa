"""What breaks next: the deprecation warnings raised while a notebook runs are recorded by the
kernel itself (``hundred.deprecations``) and shown as "will break on upgrade"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hundred.cli import main
from tests.runkit import make_project, record

# Real deprecations of today's stack, each called the way a learner's notebook calls it.
ROW_STACK = "import numpy as np\nstacked = np.row_stack([[1, 2], [3, 4]])"
PENALTY = ("from sklearn.datasets import load_iris\n"
           "from sklearn.linear_model import LogisticRegression\n"
           "x, y = load_iris(return_X_y=True)\n"
           "model = LogisticRegression(penalty='l2', max_iter=500).fit(x, y)")
PENDING = ("import warnings\n"
           "warnings.warn('old_helper() goes away next year', PendingDeprecationWarning)")


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.conftest import REPO

    root = tmp_path_factory.mktemp("deprecations") / "mono"
    (root / "projects").mkdir(parents=True)
    (root / "pyproject.toml").write_text((REPO / "pyproject.toml").read_text())
    make_project(root, "001-old-calls", ["print('clean cell')", ROW_STACK, PENALTY, PENDING,
                                         # Twice the same call: recorded once.
                                         "np.row_stack([[5], [6]])"])
    make_project(root, "002-clean", ["import numpy as np\nprint(np.vstack([[1], [2]]).sum())"])
    assert main(["-C", str(root), "run", "--jobs", "2"]) == 0  # warnings do not fail runs
    return root


def test_each_deprecation_is_recorded_with_its_library_call_and_cell(ran: Path) -> None:
    found = record(ran, "001-old-calls")["deprecations"]

    # Cells: 1 markdown, 2 parameters, 3 print, 4 row_stack, 5 penalty, 6 pending, 7 row_stack.
    by_category: dict[str, dict[str, Any]] = {}
    for deprecation in found:  # the first of each category
        by_category.setdefault(deprecation["category"], deprecation)
    numpy = by_category["DeprecationWarning"]
    assert numpy["library"] == "numpy" and numpy["cell"] == 4
    assert numpy["call"] == "stacked = np.row_stack([[1, 2], [3, 4]])"
    assert "vstack" in numpy["message"]
    sklearn = by_category["FutureWarning"]
    assert sklearn["library"] == "sklearn" and sklearn["cell"] == 5
    assert sklearn["call"].startswith("model = LogisticRegression(penalty='l2'")
    assert "'penalty' was deprecated" in sklearn["message"]
    pending = by_category["PendingDeprecationWarning"]
    assert pending["library"] is None and pending["cell"] == 6  # the notebook's own warning
    assert pending["message"] == "old_helper() goes away next year"
    # The second row_stack call is in cell 7: the same message from another cell is kept.
    assert sorted(d["cell"] for d in found if d["library"] == "numpy") == [4, 7]
    assert len(found) == 4
    assert record(ran, "002-clean")["deprecations"] == []
    assert not list((ran / ".hundred" / "runs").rglob("*.jsonl"))  # read, then removed


def test_recording_changes_nothing_the_notebook_sees(ran: Path) -> None:
    executed = json.loads((ran / ".hundred" / "runs" / "001-old-calls" / "smoke.ipynb")
                          .read_text())
    cells = [c for c in executed["cells"] if c["cell_type"] == "code"]
    # The warnings still show in the notebook's output, as Jupyter shows them.
    stderr = "".join("".join(o.get("text", "")) for c in cells for o in c["outputs"]
                     if o.get("name") == "stderr")
    assert "row_stack" in stderr and "'penalty' was deprecated" in stderr
    # The kernel numbers the cells as always: the hook ran no cell of its own.
    counts = [c["execution_count"] for c in cells]
    assert counts == list(range(1, len(cells) + 1))


def test_status_shows_what_will_break_on_upgrade(ran: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["-C", str(ran), "status", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    rows = {row["project"]: row for row in document["projects"]}
    assert rows["001-old-calls"]["smoke"]["will_break"] == 4
    assert rows["002-clean"]["smoke"]["will_break"] == 0
    assert document["will_break_on_upgrade"] == 1  # projects carrying such warnings

    assert main(["-C", str(ran), "status"]) == 0
    text = capsys.readouterr().out
    assert "will break on upgrade" in text
    assert "cell 4: numpy: `stacked = np.row_stack([[1, 2], [3, 4]])`" in text


def test_the_post_and_the_dashboard_show_what_will_break(ran: Path) -> None:
    from hundred import catalog
    from hundred.dashboard import build_dashboard, dashboard_html, headline_lines, readme_section
    from hundred.site import Links, build_post

    projects = {p.name.folder: p for p in catalog.load(ran)}
    post = build_post(ran, projects["001-old-calls"], links=Links(None)).markdown
    box = post[post.index('!!! warning "Will break on upgrade: 4 deprecation warnings"'):]
    assert "    - cell 4: **numpy**: `stacked = np.row_stack([[1, 2], [3, 4]])`: " in box
    assert "    - cell 5: **sklearn**: `model = LogisticRegression(penalty='l2'" in box
    assert "    - cell 6: `warnings.warn(" in box  # the notebook's own: no library named
    assert post.index("Will break on upgrade") < post.index("<!-- more -->")
    clean = build_post(ran, projects["002-clean"], links=Links(None)).markdown
    assert "Will break on upgrade" not in clean

    board = build_dashboard(ran)
    assert "1 project will break on upgrade (deprecation warnings)" in headline_lines(board)
    assert "1 project will break on upgrade (deprecation warnings)." in readme_section(board)
    page = dashboard_html(board, lambda progress: None)
    assert '<p class="hundred-will-break">1 project will break on upgrade' in page
    assert "001 · old-calls" in page and "will break on upgrade: 4 deprecation warning(s)" in page


def test_kernels_started_the_ordinary_way_record_them_too(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import REPO

    monkeypatch.setenv("HUNDRED_NO_ZYGOTE", "1")  # jupyter_client launches the kernel itself
    root = tmp_path / "mono"
    (root / "projects").mkdir(parents=True)
    (root / "pyproject.toml").write_text((REPO / "pyproject.toml").read_text())
    make_project(root, "001-old", [ROW_STACK])
    assert main(["-C", str(root), "run"]) == 0
    found = record(root, "001-old")["deprecations"]
    assert [(d["library"], d["cell"]) for d in found] == [("numpy", 3)]
