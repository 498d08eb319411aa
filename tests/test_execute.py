"""hundred run: real papermill and real kernels on tiny projects in a temporary monorepo."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import nbformat
import pytest

from hundred import catalog
from hundred.cli import main
from hundred.run.plan import shard
from tests.conftest import snapshot
from tests.runkit import RECORD, kernel_pids, make_project, printed_json, record


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "mono"
    (root / "projects").mkdir(parents=True)
    return root


def test_every_failure_kind_is_reported_and_the_others_still_run(
    root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    make_project(root, "001-fine", [RECORD])
    make_project(root, "002-cell-error", ["x = 1", "raise ValueError('boom at step 3')", "y = 2"])
    make_project(root, "003-timeout", ["import time\ntime.sleep(60)"])
    make_project(root, "004-dead-kernel", ["import os\nos._exit(1)"])
    make_project(root, "005-invalid", [])
    (root / "projects" / "005-invalid" / "notebook.ipynb").write_text("{not json")
    make_project(root, "006-missing-kernel", ["x = 1"], kernel="no-such-kernel")
    make_project(root, "007-missing-data", ["open('data/train.csv').read()"])
    sources = snapshot(root / "projects")
    before = kernel_pids()
    monkeypatch.chdir(root)
    junit = root / "report.xml"

    code = main(["run", "--jobs", "2", "--timeout", "4", "--junit-xml", str(junit)])

    assert code == 1
    out = capsys.readouterr().out
    assert "1 passed, 6 failed, 0 cached" in out
    assert kernel_pids() - before == set()
    assert snapshot(root / "projects") == sources  # sources never modified
    kinds = {folder: record(root, folder)["failure"] for folder in [
        "001-fine", "002-cell-error", "003-timeout", "004-dead-kernel", "005-invalid",
        "006-missing-kernel", "007-missing-data"]}
    assert kinds == {
        "001-fine": None, "002-cell-error": "cell-error", "003-timeout": "timeout",
        "004-dead-kernel": "dead-kernel", "005-invalid": "invalid-notebook",
        "006-missing-kernel": "missing-kernel", "007-missing-data": "missing-data",
    }
    fine = record(root, "001-fine")
    assert fine["status"] == "passed"
    assert fine["metrics"] == {"accuracy": {"value": 0.5, "higher_is_better": True}}
    assert fine["parameters"] == {"profile": "smoke"}
    assert {"papermill", "ipykernel", "hundred"} <= set(fine["packages"])

    error = record(root, "002-cell-error")["error"]
    assert isinstance(error, dict)
    assert (error["cell"], error["ename"], error["evalue"]) == (4, "ValueError", "boom at step 3")
    assert any("boom at step 3" in line for line in error["traceback_tail"])
    # The executed notebook is kept up to the failure.
    executed = nbformat.read(root / ".hundred/runs/002-cell-error/smoke.ipynb", as_version=4)
    by_source = {cell.source: cell for cell in executed.cells}
    assert by_source["x = 1"].execution_count is not None
    assert by_source["raise ValueError('boom at step 3')"].outputs[0].output_type == "error"
    assert by_source["y = 2"].execution_count is None

    for folder, cell in (("003-timeout", 3), ("004-dead-kernel", 3)):
        failure = record(root, folder)["error"]
        assert isinstance(failure, dict) and failure["cell"] == cell
        # papermill leaves no mark after a timeout or a dead kernel: we do.
        marked = nbformat.read(root / f".hundred/runs/{folder}/smoke.ipynb", as_version=4)
        assert marked.metadata["hundred"]["failure"] == record(root, folder)["failure"]
        failing = [c for c in marked.cells if c.source.startswith(("import time", "import os"))]
        assert failing[0].outputs[-1].output_type == "error"
    assert "train.csv" in str(record(root, "007-missing-data")["error"])
    assert "no-such-kernel" in str(record(root, "006-missing-kernel")["error"])

    report = ET.parse(junit).getroot()
    assert (report.get("tests"), report.get("failures")) == ("7", "6")
    cases = {case.get("name"): case for case in report.iter("testcase")}
    failure_text = cases["002-cell-error"].find("failure")
    assert failure_text is not None and "boom at step 3" in (failure_text.text or "")
    assert cases["001-fine"].find("failure") is None


def test_the_cache_skips_unchanged_projects_and_reruns_changed_ones(
    root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make_project(root, "001-study", ["import helper\n" + RECORD],
                        files={"helper.py": "X = 1\n", "data.py": "def load(): return 1\n"})
    monkeypatch.chdir(root)

    def run(*extra: str) -> str:
        assert main(["run", "--jobs", "1", *extra]) == 0
        return capsys.readouterr().out

    def edit_notebook(index: int, source: str) -> None:
        notebook = nbformat.read(path / "notebook.ipynb", as_version=4)
        notebook.cells[index].source = source
        nbformat.write(notebook, path / "notebook.ipynb")

    assert "1 passed, 0 failed, 0 cached" in run()
    first = record(root, "001-study")["started_at"]
    assert "0 passed, 0 failed, 1 cached" in run()
    assert record(root, "001-study")["started_at"] == first  # nothing ran

    edit_notebook(0, "# A study, reworded")  # markdown: still cached
    assert "1 cached" in run()
    edit_notebook(2, "import helper\n" + RECORD + "\n# changed")  # code: re-run
    assert "1 passed" in run()
    (path / "data.py").write_text("def load(): return 2\n")  # the data script: re-run
    assert "1 passed" in run()
    (path / "helper.py").write_text("X = 2\n")  # any .py: re-run
    assert "1 passed" in run()
    assert "1 cached" in run()
    (root / "pyproject.toml").write_text(
        '[tool.hundred.profiles.smoke]\nprofile = "smoke"\nrows = 10\n')  # a parameter
    assert "1 passed" in run()
    assert record(root, "001-study")["parameters"] == {"profile": "smoke", "rows": 10}
    assert "1 passed" in run("--force")
    assert "1 cached" in run()


def test_the_key_covers_package_versions(root: Path) -> None:
    from hundred import cache

    path = make_project(root, "001-study", ["import numpy\nimport sklearn.linear_model\n"
                                            "from yaml import safe_load\nimport os, data"],
                        files={"data.py": "import pandas\n"})
    [project] = catalog.discover(root)
    key = cache.cache_key_for(project, {"profile": "smoke"})
    assert set(key.packages) == {"numpy", "scikit-learn", "PyYAML", "pandas"}
    assert key.packages["numpy"] == __import__("numpy").__version__
    assert path.is_dir()


def test_project_front_matter_overrides_profile_parameters(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_project(root, "001-study", ["print(f'rows={rows}')"],
                 extra="profiles:\n  smoke:\n    rows: 7\n")
    monkeypatch.chdir(root)
    assert main(["run"]) == 0
    executed = nbformat.read(root / ".hundred/runs/001-study/smoke.ipynb", as_version=4)
    assert "rows=7" in "".join(o.get("text", "") for c in executed.cells
                               for o in c.get("outputs", []))


def test_full_runs_are_frozen_and_a_failed_one_keeps_the_last_good(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make_project(root, "001-study", [RECORD])
    monkeypatch.chdir(root)
    assert main(["run", "001", "--profile", "full"]) == 0
    frozen = json.loads((path / "runs" / "full.json").read_text())
    assert frozen["metrics"]["accuracy"]["value"] == 0.9
    assert frozen["notebook"] == "projects/001-study/runs/full.ipynb"
    kept = (path / "runs" / "full.ipynb").read_bytes()
    assert b"0.9" in kept
    assert main(["run", "001", "--profile", "full"]) == 0  # cached against the frozen run
    assert (path / "runs" / "full.ipynb").read_bytes() == kept

    notebook = nbformat.read(path / "notebook.ipynb", as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell("raise RuntimeError('worse')"))
    nbformat.write(notebook, path / "notebook.ipynb")
    assert main(["run", "001", "--profile", "full"]) == 1
    assert (path / "runs" / "full.ipynb").read_bytes() == kept
    assert record(root, "001-study", "full")["failure"] == "cell-error"
    assert not (root / ".hundred" / "runs" / "001-study" / "smoke.json").exists()


def test_shards_cover_every_project_exactly_once(root: Path) -> None:
    for number in range(1, 12):
        make_project(root, f"{number:03d}-p{number}", ["x = 1"])
    projects = catalog.discover(root)
    weights = {p.name.folder: float(p.number % 4 + 1) for p in projects}
    shards = [shard(projects, k, 3, lambda p: weights[p.name.folder]) for k in (1, 2, 3)]
    folders = [p.name.folder for chunk in shards for p in chunk]
    assert sorted(folders) == sorted(p.name.folder for p in projects)
    assert len(folders) == len(set(folders))
    loads = [sum(weights[p.name.folder] for p in chunk) for chunk in shards]
    assert max(loads) - min(loads) <= max(weights.values())
    again = [shard(projects, k, 3, lambda p: weights[p.name.folder]) for k in (1, 2, 3)]
    assert again == shards


def test_shard_runs_and_collect_merges_them(
    root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for number in range(1, 6):
        make_project(root, f"{number:03d}-p{number}", [RECORD])
    monkeypatch.chdir(root)
    seen: list[set[str]] = []
    for k in (1, 2):
        assert main(["run", "--shard", f"{k}/2", "--jobs", "2"]) == 0
        shutil.move(root / ".hundred", root / f"shard{k}")
        seen.append({p.name for p in (root / f"shard{k}" / "runs").iterdir()})
    assert seen[0].isdisjoint(seen[1])
    assert seen[0] | seen[1] == {p.name for p in (root / "projects").iterdir()}
    capsys.readouterr()
    assert main(["collect", "shard1", "shard2/runs"]) == 0
    assert "collected 5 results" in capsys.readouterr().out
    assert main(["status", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["projects"]
    assert [row["smoke"]["status"] for row in rows] == ["passed"] * 5
    assert all((root / ".hundred/runs" / row["project"] / "smoke.ipynb").is_file()
               for row in rows)


def test_status_shows_stale_and_failing(
    root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fine = make_project(root, "001-fine", [RECORD])
    make_project(root, "002-broken", ["1 / 0"])
    make_project(root, "003-never", ["x = 1"])
    monkeypatch.chdir(root)
    assert main(["run", "001", "002"]) == 1
    capsys.readouterr()
    assert main(["status", "--json"]) == 0
    rows = {row["project"]: row for row in json.loads(capsys.readouterr().out)["projects"]}
    assert rows["001-fine"]["smoke"]["status"] == "passed"
    assert rows["001-fine"]["smoke"]["stale"] is False
    assert rows["001-fine"]["smoke"]["metric"] == "accuracy 0.5"
    assert rows["001-fine"]["full"] is None
    assert rows["002-broken"]["failing"] is True
    assert rows["002-broken"]["smoke"]["failure"] == "cell-error"
    assert rows["003-never"]["smoke"] is None
    (fine / "extra.py").write_text("x = 1\n")
    assert main(["status", "--json"]) == 0
    rows = {row["project"]: row for row in json.loads(capsys.readouterr().out)["projects"]}
    assert rows["001-fine"]["smoke"]["stale"] is True
    assert main(["status"]) == 0
    table = capsys.readouterr().out
    assert "3 projects, 1 failing" in table and "never run" in table


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--profile", "huge"], "unknown profile 'huge'; use one of full, smoke"),
        (["run", "999"], "no project '999'"),
        (["run", "--shard", "3/2"], "must be K/N with 1 <= K <= N"),
        (["run", "--jobs", "0"], "must be a whole number >= 1"),
        (["run", "--changed-since", "no-such-ref"], "git cannot compare with 'no-such-ref'"),
        (["collect", "nowhere"], "nowhere is not a folder"),
    ],
)
def test_bad_run_input_is_one_line_exit_2(
    root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    argv: list[str], message: str,
) -> None:
    make_project(root, "001-fine", ["x = 1"])
    monkeypatch.chdir(root)
    before = snapshot(root)
    with pytest.raises(SystemExit) if "--shard" in argv or "--jobs" in argv else _nothing():
        assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert snapshot(root) == before


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None


def test_changed_since_runs_only_changed_projects(
    root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    make_project(root, "001-old", ["x = 1"])
    make_project(root, "002-touched", ["x = 1"])
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], cwd=root, check=True)
    subprocess.run([*git, "add", "."], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "init"], cwd=root, check=True)
    (root / "projects" / "002-touched" / "data.py").write_text("x = 2\n")
    make_project(root, "003-new", ["x = 1"])
    monkeypatch.chdir(root)
    assert main(["run", "--changed-since", "HEAD"]) == 0
    assert "2 passed" in capsys.readouterr().out
    assert sorted(p.name for p in (root / ".hundred/runs").iterdir()) == [
        "002-touched", "003-new"]
    commit = record(root, "002-touched")["git_commit"]
    assert isinstance(commit, str) and len(commit) == 40


def test_ctrl_c_records_the_interrupt_and_leaves_no_kernel(root: Path) -> None:
    make_project(root, "001-slow", ["import time\ntime.sleep(120)"])
    make_project(root, "002-slow", ["import time\ntime.sleep(120)"])
    before = kernel_pids()
    hundred = shutil.which("hundred", path=str(Path(sys.executable).parent)) or "hundred"
    process = subprocess.Popen([hundred, "run", "--jobs", "2"], cwd=root,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until both notebooks are executing
        started = [p for p in (root / ".hundred/runs").glob("*/.smoke.partial.ipynb")]
        # Two kernels, and the zygote each worker forks them from.
        if len(started) == 2 and len(kernel_pids() - before) >= 4:
            break
        time.sleep(0.2)
    time.sleep(1.5)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert kernel_pids() - before == set()
    for folder in ("001-slow", "002-slow"):
        data = record(root, folder)
        assert data["failure"] == "interrupted"
        assert data["error"]["cell"] == 3
    assert "0 passed, 2 failed" in out


def test_no_kernel_outlives_a_run_even_when_kernels_fail(root: Path) -> None:
    make_project(root, "001-dead", ["import os\nos._exit(3)"])
    make_project(root, "002-error", ["raise SystemExit('no')"])
    before = kernel_pids()
    code = subprocess.run([sys.executable, "-m", "hundred.cli", "run", "--jobs", "2"], cwd=root,
                          capture_output=True, text=True, check=False, env={**os.environ})
    assert code.returncode == 1
    assert kernel_pids() - before == set()


@pytest.mark.parametrize("zygote", [True, False])
def test_kernels_start_in_the_project_with_the_environment(
    root: Path, monkeypatch: pytest.MonkeyPatch, zygote: bool
) -> None:
    check = (
        "import os, sys, helper\n"
        "assert os.getcwd() == os.path.dirname(helper.__file__), os.getcwd()\n"
        "assert os.environ['HUNDRED_TEST_MARK'] == 'seen'\n"
        "assert sys.stdin is None or not sys.stdin.isatty()\n"
        "print('kernel-ok', sys.executable)"
    )
    make_project(root, "001-env", [check], files={"helper.py": "X = 1\n"})
    monkeypatch.chdir(root)
    monkeypatch.setenv("HUNDRED_TEST_MARK", "seen")
    if not zygote:
        monkeypatch.setenv("HUNDRED_NO_ZYGOTE", "1")
    assert main(["run"]) == 0
    executed = nbformat.read(root / ".hundred/runs/001-env/smoke.ipynb", as_version=4)
    text = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []))
    assert f"kernel-ok {sys.executable}" in text



# A code cell that prints, as JSON, each cell's papermill status and output count in the
# executed notebook as it stands on disk while this cell runs.
ON_DISK = """\
import json
from pathlib import Path
partial = Path("../../.hundred/runs/001-disk/.smoke.partial.ipynb")
cells = json.loads(partial.read_text())["cells"]
print(json.dumps([[c["metadata"]["papermill"]["status"], len(c.get("outputs", []))]
                  for c in cells]))"""


def test_the_notebook_on_disk_shows_the_running_cell_and_every_output_before_it(
    root: Path,
) -> None:
    # What a killed run leaves must say where it was: the engine writes the executed notebook
    # when each code cell starts (papermill also wrote it after every cell, markdown included).
    make_project(root, "001-disk", ["print('first')", "# a comment", ON_DISK])
    assert main(["-C", str(root), "run", "001"]) == 0
    executed = nbformat.read(root / ".hundred" / "runs" / "001-disk" / "smoke.ipynb",
                             as_version=4)
    (seen,) = printed_json(executed.cells[-1].outputs)
    # markdown, parameters, injected parameters, print('first'), the comment, this cell
    assert [status for status, _ in seen] == ["completed"] * 5 + ["running"]
    assert seen[3] == ["completed", 1]  # print('first')'s output was on disk before this ran
    assert executed.cells[-1].metadata.papermill.status == "completed"  # the final write
