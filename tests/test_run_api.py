"""The library API of the execution engine: ``run_projects``, its events, records and failures.

Every test makes a tiny real monorepo and runs it with real papermill kernels; the last ones
call the failure classifier and the kernel launcher directly, with real exceptions and processes.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import nbformat
import pytest

from hundred import results
from hundred.cli import main
from hundred.results import Corrupt, RunResult
from hundred.run import RunReport, run_projects
from hundred.run.events import (
    CellStarted,
    Finished,
    KernelGone,
    KernelStarted,
    Notice,
    Planned,
    Printed,
    Progress,
    Started,
    WorkerEvent,
)
from tests.runkit import RECORD, TAG, kernel_pids, make_project


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "mono"
    (root / "projects").mkdir(parents=True)
    return root


def executed(root: Path, folder: str, profile: str = "smoke") -> Any:
    return nbformat.read(root / ".hundred" / "runs" / folder / f"{profile}.ipynb", as_version=4)


def output_text(cell: Any) -> str:
    return "".join(output.get("text", "") for output in cell.get("outputs", []))


def cell_with(notebook: Any, source: str) -> Any:
    [cell] = [cell for cell in notebook.cells if cell.source == source]
    return cell


def ran(report: RunReport) -> list[str]:
    return [result.project for result in report.results]


def cached(report: RunReport) -> list[str]:
    return [result.project for result in report.cached]


def status_rows(root: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, Any]]:
    capsys.readouterr()
    assert main(["-C", str(root), "status", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["projects"]
    return {row["project"]: row for row in rows}


# 1. The report and the events of a run.

PRINTS = ("import time\nprint('first', flush=True)\ntime.sleep(1.0)\n"
          "print('epoch 3 loss 0.12')")


def test_run_projects_reports_what_ran_and_tells_its_progress(root: Path) -> None:
    make_project(root, "001-x", [PRINTS, "x = 1"])
    make_project(root, "002-y", [RECORD])
    events: list[Progress] = []

    report = run_projects(root, jobs=2, on_progress=events.append)

    assert ran(report) == ["001-x", "002-y"] and cached(report) == []
    assert [r.passed for r in report.results] == [True, True]
    assert (report.exit_code, report.not_run, report.stopped_by) == (0, (), None)
    for result in report.results:  # the report holds the records as saved
        assert results.latest(root, result.project, "smoke") == result
    assert report.results[1].metrics["accuracy"].value == 0.5

    planned = [e for e in events if isinstance(e, Planned)]
    assert planned == [Planned(tasks=2, done=0)]
    assert events.index(planned[0]) < min(
        i for i, e in enumerate(events) if isinstance(e, Started))
    assert Counter(e.project for e in events if isinstance(e, Started)) == {
        "001-x": 1, "002-y": 1}
    # Positions as the user counts them: markdown 1, parameters 2, then the cells.
    cells = [(e.position, e.total) for e in events
             if isinstance(e, CellStarted) and e.project == "001-x"]
    assert cells == [(2, 4), (3, 4), (4, 4)]
    printed = [e.line for e in events if isinstance(e, Printed) and e.project == "001-x"]
    assert printed and printed[-1] == "epoch 3 loss 0.12"
    finished = [e.result for e in events if isinstance(e, Finished)]
    assert Counter(r.project for r in finished) == {"001-x": 1, "002-y": 1}
    assert sorted(finished, key=lambda r: r.number) == list(report.results)

    again: list[Progress] = []
    second = run_projects(root, jobs=2, on_progress=again.append)
    assert ran(second) == [] and cached(second) == ["001-x", "002-y"]
    assert second.exit_code == 0
    assert [e for e in again if isinstance(e, Planned)] == [Planned(tasks=0, done=2)]
    assert not any(isinstance(e, Started | CellStarted | Printed) for e in again)


# 2. A failure, where the user finds it.

def test_a_failure_names_the_cell_the_line_and_the_executed_notebook(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    failing = "y = 2\nraise ValueError('boom')"
    make_project(root, "001-x", ["x = 1", failing])

    assert main(["-C", str(root), "run"]) == 1

    result = results.latest(root, "001-x", "smoke")
    assert result is not None and result.failure == "cell-error"
    error = result.error
    assert error is not None
    assert (error.ename, error.evalue) == ("ValueError", "boom")
    assert error.cell == 4  # markdown, parameters, x = 1, then this one
    raised = cell_with(executed(root, "001-x"), failing)
    assert raised.execution_count is not None
    assert error.execution_count == raised.execution_count
    assert error.line == "raise ValueError('boom')"
    assert result.notebook == ".hundred/runs/001-x/smoke.ipynb"

    out = capsys.readouterr().out
    assert f"In [{raised.execution_count}]" in out
    assert "raise ValueError('boom')" in out
    assert ".hundred/runs/001-x/smoke.ipynb" in out


# 3. Notebooks without language metadata.

def bare_notebook(metadata: dict[str, Any]) -> str:
    def code(source: str, tags: list[str]) -> dict[str, Any]:
        return {"cell_type": "code", "execution_count": None, "metadata": {"tags": tags},
                "outputs": [], "source": source}

    return json.dumps({
        "cells": [code("profile = 'full'", ["parameters"]), code("print('ran', profile)", [])],
        "metadata": metadata, "nbformat": 4, "nbformat_minor": 4,
    })


def test_notebooks_without_language_metadata_run(root: Path) -> None:
    bare = make_project(root, "001-bare", [])
    named = make_project(root, "002-named", [])
    (bare / "notebook.ipynb").write_text(bare_notebook({}), encoding="utf-8")
    (named / "notebook.ipynb").write_text(bare_notebook(
        {"kernelspec": {"name": "python3", "display_name": "Python 3"}}), encoding="utf-8")

    report = run_projects(root, jobs=2)

    assert [(r.project, r.status, r.failure) for r in report.results] == [
        ("001-bare", "passed", None), ("002-named", "passed", None)]
    for folder in ("001-bare", "002-named"):
        assert output_text(cell_with(executed(root, folder), "print('ran', profile)")) == (
            "ran smoke\n")


# 4. An invalid writeup fails its own project only.

BROKEN_WRITEUP = "---\ntitle: [unclosed\nnumber: 1\nslug: x\n---\n\n## Problem\n"


def test_an_invalid_writeup_fails_alone(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = make_project(root, "001-x", ["x = 1"])
    make_project(root, "002-y", [RECORD])
    make_project(root, "003-z", ["z = 3"])
    (broken / "writeup.md").write_text(BROKEN_WRITEUP, encoding="utf-8")

    assert main(["-C", str(root), "run"]) == 1

    out = capsys.readouterr().out
    assert "2 passed, 1 failed" in out
    failed = results.latest(root, "001-x", "smoke")
    assert failed is not None and failed.failure == "invalid-writeup"
    assert failed.error is not None
    message = failed.error.evalue
    assert "001-x/writeup.md" in message and "\n" not in message
    for folder in ("002-y", "003-z"):
        passed = results.latest(root, folder, "smoke")
        assert passed is not None and passed.passed

    assert main(["-C", str(root), "run", "002", "--force"]) == 0
    assert "1 passed, 0 failed" in capsys.readouterr().out
    report = run_projects(root, ["001", "003"])
    assert ran(report) == ["001-x"] and cached(report) == ["003-z"]
    assert report.exit_code == 1


# 5. The cache key covers the project's data files.

def test_the_cache_key_covers_data_files_but_not_prose_or_outputs(root: Path) -> None:
    path = make_project(root, "001-x", ["text = open('data.csv').read()\nprint(len(text))"],
                        files={"data.csv": "a,b\n1,2\n"})

    def again() -> RunReport:
        report = run_projects(root, jobs=1)
        assert report.exit_code == 0
        return report

    assert ran(again()) == ["001-x"]
    assert cached(again()) == ["001-x"]
    (path / "data.csv").write_text("a,b\n1,3\n", encoding="utf-8")  # same size
    assert ran(again()) == ["001-x"]
    assert cached(again()) == ["001-x"]
    (path / "data.csv").write_text("a,b\n1,2\n3,4\n", encoding="utf-8")  # another size
    assert ran(again()) == ["001-x"]
    (path / "requirements.txt").write_text("numpy\n", encoding="utf-8")
    assert ran(again()) == ["001-x"]
    assert cached(again()) == ["001-x"]
    with (path / "writeup.md").open("a", encoding="utf-8") as writeup:
        writeup.write("\nThe data is tiny, on purpose.\n")
    assert cached(again()) == ["001-x"]
    (path / "data").mkdir()
    (path / "data" / "predictions.csv").write_text("id,y\n1,0\n", encoding="utf-8")
    assert cached(again()) == ["001-x"]


def test_a_change_to_a_shared_helper_reruns_exactly_the_projects_that_import_it(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    helpers = root / "tools" / "helpers"
    helpers.mkdir(parents=True)
    (helpers / "__init__.py").write_text("from helpers.plots import SCALE\n", encoding="utf-8")
    (helpers / "plots.py").write_text("SCALE = 2\n", encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(root / "tools"))  # a generated monorepo installs it
    uses = "import helpers\nprint(helpers.SCALE * 21)"
    make_project(root, "001-uses", [uses])
    make_project(root, "002-does-not", ["x = 1"])
    first = run_projects(root, jobs=1)
    assert first.exit_code == 0 and ran(first) == ["001-uses", "002-does-not"]
    assert "42" in output_text(cell_with(executed(root, "001-uses"), uses))
    assert cached(run_projects(root, jobs=1)) == ["001-uses", "002-does-not"]
    (helpers / "plots.py").write_text("SCALE = 3\n", encoding="utf-8")  # a module inside
    again = run_projects(root, jobs=1)
    assert (ran(again), cached(again)) == (["001-uses"], ["002-does-not"])
    assert "63" in output_text(cell_with(executed(root, "001-uses"), uses))


# 6. Corrupt records are found, named and run again.

def test_a_corrupt_record_or_notebook_is_reported_and_run_again(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_project(root, "001-x", [RECORD])
    assert main(["-C", str(root), "run"]) == 0
    record = results.latest_path(root, "001-x", "smoke")
    data = record.read_bytes()
    record.write_bytes(data[: len(data) // 2])

    row = status_rows(root, capsys)["001-x"]
    assert row["smoke"] is None or row["smoke"]["status"] != "passed"
    assert any(".hundred/runs/001-x/smoke.json" in problem for problem in row["problems"])

    assert main(["-C", str(root), "run"]) == 0
    captured = capsys.readouterr()
    assert "1 passed, 0 failed, 0 cached" in captured.out
    assert ".hundred/runs/001-x/smoke.json is corrupt" in captured.err + captured.out
    assert isinstance(results.read_checked(root, record), RunResult)

    notebook = record.with_suffix(".ipynb")
    changed = bytearray(notebook.read_bytes())
    at = changed.index(b"# A study")
    changed[at + 2] = ord("B")
    notebook.write_bytes(bytes(changed))
    found = results.read_checked(root, record)
    assert isinstance(found, Corrupt) and found.path == record
    assert results.latest(root, "001-x", "smoke") is None

    report = run_projects(root, jobs=1)
    assert ran(report) == ["001-x"] and cached(report) == []
    assert any(".hundred/runs/001-x/smoke.json is corrupt" in text for text in report.notices)
    assert isinstance(results.read_checked(root, record), RunResult)


# 7. A cell's output is bounded.

def test_a_huge_output_is_cut_with_a_note_and_the_run_passes(root: Path) -> None:
    (root / "pyproject.toml").write_text("[tool.hundred]\nmax_cell_output = 5000\n",
                                         encoding="utf-8")
    big, small = "print('x' * 2_000_000)", "print('after the big one')"
    make_project(root, "001-x", [big, small])

    report = run_projects(root, jobs=1)

    [result] = report.results
    assert result.passed
    path = root / ".hundred" / "runs" / "001-x" / "smoke.ipynb"
    assert path.stat().st_size < 100_000
    notebook = executed(root, "001-x")
    text = output_text(cell_with(notebook, big))
    assert "the output of this cell was cut" in text
    assert len(text) < 6000
    assert output_text(cell_with(notebook, small)) == "after the big one\n"
    assert any("cell 3" in note and "cut" in note for note in result.notes)


# 8. Profiles come from [tool.hundred].

PROFILES = """[tool.hundred]
verify = "quick"
freeze = ["final"]
[tool.hundred.profiles.quick]
profile = "smoke"
[tool.hundred.profiles.final]
profile = "full"
"""


def test_profiles_come_from_the_configuration(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (root / "pyproject.toml").write_text(PROFILES, encoding="utf-8")
    make_project(root, "001-x", [RECORD])
    runs = root / ".hundred" / "runs" / "001-x"

    assert main(["-C", str(root), "run"]) == 0
    assert (runs / "quick.json").is_file() and not (runs / "smoke.json").exists()
    quick = results.latest(root, "001-x", "quick")
    assert quick is not None and quick.parameters == {"profile": "smoke"}
    assert not (root / "projects" / "001-x" / "runs").exists()  # quick is not frozen

    assert main(["-C", str(root), "run", "--profile", "final"]) == 0
    frozen = results.frozen(root, "001-x", "final")
    assert frozen is not None and frozen.metrics["accuracy"].value == 0.9
    assert (root / "projects" / "001-x" / "runs" / "final.json").is_file()

    row = status_rows(root, capsys)["001-x"]
    assert {"quick", "final"} <= set(row) and not {"smoke", "full"} & set(row)
    assert row["quick"]["status"] == "passed"
    assert row["final"]["status"] == "passed" and row["final"]["frozen"] is True


def test_freezing_an_undefined_profile_is_a_one_line_error(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (root / "pyproject.toml").write_text('[tool.hundred]\nfreeze = ["nope"]\n', encoding="utf-8")
    make_project(root, "001-x", ["x = 1"])

    assert main(["-C", str(root), "run"]) == 2

    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'nope'" in err and "not defined" in err
    assert not (root / ".hundred" / "runs").exists()


# 9. Failures are classified by type; our own bugs are not blamed on the kernel.

def _raised(kind: str) -> BaseException:
    from jupyter_client.kernelspec import NoSuchKernel
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from nbformat.reader import NotJSONError

    made: dict[str, BaseException] = {
        "internal-error": RuntimeError("x"),
        "dead-kernel": DeadKernelError("k"),
        "timeout": CellTimeoutError("t"),
        "missing-kernel": NoSuchKernel("n"),
        "invalid-notebook": NotJSONError("j"),
    }
    return made[kind]


@pytest.mark.parametrize(
    "kind", ["internal-error", "dead-kernel", "timeout", "missing-kernel", "invalid-notebook"])
def test_failures_are_classified_by_their_type(tmp_path: Path, kind: str) -> None:
    from hundred.run.failures import classify

    raised = _raised(kind)
    classified = classify(raised, tmp_path / "never-written.ipynb")

    assert classified.kind == kind
    assert classified.error.ename == type(raised).__name__
    blamed_on_us = "bug in hundred" in classified.error.evalue
    assert blamed_on_us == (kind == "internal-error")


# 10. A zygote that is gone gives way to ordinary kernel starts.

def test_a_dead_zygote_falls_back_to_ordinary_kernel_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jupyter_core.utils import run_sync

    from hundred.run.kernels import Kernel, KernelRequest, Launcher

    tag = f"zygote-fallback-{os.getpid()}-{time.monotonic_ns()}"
    monkeypatch.setenv(TAG, tag)  # inherited by the zygote and the kernels: ours, by name
    monkeypatch.delenv("HUNDRED_NO_ZYGOTE", raising=False)
    # By tag, not by name: other runs on this machine start and end kernels meanwhile.
    assert kernel_pids(tag) - {os.getpid()} == set()
    sockets = tempfile.mkdtemp(prefix="hk-")
    events: list[WorkerEvent] = []
    launcher = Launcher(sockets, events.append)
    kernel: Kernel | None = None
    request = KernelRequest("python3", tmp_path)
    try:
        warm = launcher.zygote_for(request)
        assert warm is not None and warm.process is not None
        zygote = warm.pid
        assert zygote in kernel_pids(tag)
        warm.process.kill()
        warm.process.wait()

        launched = launcher.launch(request)
        ready, attempts = launcher.ready(launched, request)

        assert isinstance(ready, Kernel), repr(ready)
        kernel = ready
        assert attempts == 1
        assert launcher.zygotes == {} and not launcher.use_zygotes
        notices = [e.text for e in events if isinstance(e, Notice)]
        assert len(notices) == 1 and "kernels start the ordinary way" in notices[0]
        assert KernelGone(zygote) in events
        assert kernel.pid is not None and kernel.pid in kernel_pids(tag)
        lines: list[str] = []

        def hook(message: dict[str, Any]) -> None:
            if message["msg_type"] == "stream":
                lines.append(message["content"]["text"])

        reply = run_sync(kernel.client.execute_interactive)(
            "import os; print(os.getcwd())", output_hook=hook, timeout=30)
        assert reply["content"]["status"] == "ok"
        assert "".join(lines).strip() == str(tmp_path)
    finally:
        if kernel is not None:
            launcher.retire(kernel)
        launcher.close()
        shutil.rmtree(sockets, ignore_errors=True)

    deadline = time.monotonic() + 10
    while (left := kernel_pids(tag) - {os.getpid()}) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert left == set()


# 10b. The next notebook's kernel starts while the worker's loop is busy with the current one.

def test_a_prepared_kernel_starts_in_the_background_and_is_the_one_launched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from jupyter_core.utils import run_sync

    from hundred.run.kernels import Kernel, KernelRequest, Launcher

    monkeypatch.delenv("HUNDRED_NO_ZYGOTE", raising=False)
    (tmp_path / "next").mkdir()
    sockets = tempfile.mkdtemp(prefix="hk-")
    events: list[WorkerEvent] = []
    launcher = Launcher(sockets, events.append)
    request = KernelRequest("python3", tmp_path / "next")
    kernel: Kernel | BaseException | None = None
    try:
        launcher.prepare(request)

        async def something_else_runs() -> set[int]:  # as a notebook does, on the same loop
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                started = {e.pid for e in events if isinstance(e, KernelStarted)}
                if len(started) >= 2:  # the zygote, then the kernel
                    return started
                await asyncio.sleep(0.05)
            return set()

        started = run_sync(something_else_runs)()
        assert len(started) == 2, events
        kernel = launcher.launch(request)

        assert isinstance(kernel, Kernel), repr(kernel)
        assert kernel.pid in started  # the one started meanwhile: not a second kernel
        assert len({e.pid for e in events if isinstance(e, KernelStarted)}) == 2
        ready, attempts = launcher.ready(kernel, request)
        assert ready is kernel and attempts == 1
        lines: list[str] = []
        reply = run_sync(kernel.client.execute_interactive)(
            "import os; print(os.getcwd())", timeout=30,
            output_hook=lambda m: lines.append(m["content"].get("text", "")))
        assert reply["content"]["status"] == "ok"
        assert "".join(lines).strip() == str(tmp_path / "next")
    finally:
        if isinstance(kernel, Kernel):
            launcher.retire(kernel)
        launcher.close()
        shutil.rmtree(sockets, ignore_errors=True)


# 11. Workers that crash before asking for work end the run instead of being restarted forever.

@pytest.mark.timeout(120)
def test_workers_that_crash_at_start_up_fail_the_run_instead_of_looping(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hundred.run import pool

    for folder in ("001-one", "002-two"):
        make_project(root, folder, ["print('never runs')"])

    def crash(*_: object) -> None:  # workers are forked: they run this
        os._exit(3)

    monkeypatch.setattr(pool, "worker_main", crash)
    report = run_projects(root, jobs=2)
    assert [r.failure for r in report.results] == ["internal-error", "internal-error"]
    assert all("kept exiting (last with 3)" in str(r.error) for r in report.results)
    assert report.exit_code == 1
