"""`hundred update`: real template histories in git, real renders, real merges."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml

from hundred import catalog, scaffold, update
from hundred.catalog import CONFLICTS_FILE
from hundred.cli import main
from hundred.errors import HundredError
from hundred.site import Links, build_post
from hundred.update import COMMIT_KEY, update_projects
from tests.conftest import snapshot
from tests.runkit import make_project, record

TEMPLATE = Path("templates") / "project"


def git(root: Path, *arguments: str) -> str:
    return subprocess.run(["git", *arguments], cwd=root, check=True, capture_output=True,
                          text=True).stdout


def commit(root: Path, message: str) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD").strip()


@pytest.fixture
def repo(monorepo: Path) -> Path:
    """The monorepo fixture as a git repository whose first commit holds the template."""
    git(monorepo, "init", "-q")
    git(monorepo, "config", "user.name", "Ada")
    git(monorepo, "config", "user.email", "ada@example.com")
    git(monorepo, "config", "commit.gpgsign", "false")
    commit(monorepo, "the template")
    return monorepo


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def improve_template(root: Path) -> str:
    """Commit a better template: a line more in the data script, the plot cell and the
    requirements, and a new writeup (which updates never take)."""
    template = root / TEMPLATE
    append(template / "skeleton" / "data.py.jinja", "\n# checked by template v2\n")
    append(template / "cells" / "plot.py", "\n# drawn by template v2")
    append(template / "skeleton" / "requirements.txt", "# template v2\n")
    append(template / "skeleton" / "writeup.md.jinja", "\nTemplate v2 prose.\n")
    return commit(root, "a better template")


def cells(project: Path) -> dict[str, str]:
    notebook = nbformat.read(project / "notebook.ipynb", as_version=4)
    nbformat.validate(notebook)
    return {cell.id: cell.source for cell in notebook.cells}


def edit_notebook(project: Path, edits: dict[str, str], added: str | None = None) -> None:
    """Append to cells by id (and add a cell at the end), saved as Jupyter saves."""
    path = project / "notebook.ipynb"
    notebook: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        if cell["id"] in edits:
            cell["source"] = [*cell["source"][:-1], cell["source"][-1] + "\n",
                              edits[cell["id"]]]
    if added is not None:
        notebook["cells"].append({"cell_type": "code", "execution_count": None, "id": "mine",
                                  "metadata": {}, "outputs": [], "source": [added]})
    path.write_text(json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n",
                    encoding="utf-8")


def answers(project: Path) -> dict[str, Any]:
    loaded = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def leftovers(root: Path) -> list[str]:
    return [path.name for path in (root / "projects").iterdir() if path.name.startswith(".")]


def test_new_project_records_the_commit_of_a_clean_template(repo: Path,
                                                            monorepo: Path) -> None:
    made = scaffold.new_project("001-clean", repo).path
    last = git(repo, "log", "-1", "--format=%H", "--", str(TEMPLATE)).strip()
    assert answers(made)[COMMIT_KEY] == last
    assert answers(made)["_src_path"] == "../../templates/project"  # the rest as copier wrote it
    append(repo / TEMPLATE / "cells" / "plot.py", "\n# not committed yet")
    assert COMMIT_KEY not in answers(scaffold.new_project("002-dirty", repo).path)


def test_new_project_outside_git_records_nothing(monorepo: Path) -> None:
    made = scaffold.new_project("001-plain", monorepo).path
    assert COMMIT_KEY not in answers(made)


def test_update_takes_the_template_and_keeps_each_projects_edits(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = scaffold.new_project("001-wine-plain", repo).path
    edited = scaffold.new_project("002-wine-edited", repo).path
    commit(repo, "two projects")
    (edited / "data.py").write_text("# my notes first\n" + (edited / "data.py").read_text())
    edit_notebook(edited, {"setup": "import os  # mine"}, added="print('my own cell')")
    append(edited / "writeup.md", "\nMy findings.\n")
    writeups = {p: (p / "writeup.md").read_bytes() for p in (plain, edited)}
    new = improve_template(repo)

    assert main(["update", "-C", str(repo)]) == 0
    out = capsys.readouterr().out
    assert "updated 001-wine-plain" in out and "  ~ data.py\n" in out
    assert "updated 002-wine-edited" in out and "  ~ data.py (merged)" in out
    assert "2 updated to the template of" in out

    # Untouched: exactly what the new template renders with the same answers.
    updated = snapshot(plain)
    shutil.rmtree(plain)
    scaffold.new_project("001-wine-plain", repo)
    fresh = snapshot(plain)
    assert fresh.pop("writeup.md") != updated.pop("writeup.md")  # the template's new prose
    assert fresh == updated
    (plain / "writeup.md").write_bytes(writeups[plain])
    # Edited: both sides' changes, the notebook merged cell by cell.
    data = (edited / "data.py").read_text()
    assert data.startswith("# my notes first\n") and data.endswith("# checked by template v2\n")
    merged = cells(edited)
    assert merged["setup"].endswith("import os  # mine")
    assert merged["plot"].endswith("# drawn by template v2")
    assert merged["mine"] == "print('my own cell')"
    assert list(merged)[-1] == "mine"
    for project in (plain, edited):
        assert (project / "writeup.md").read_bytes() == writeups[project]  # prose untouched
        assert answers(project)[COMMIT_KEY] == new
        assert not (project / CONFLICTS_FILE).exists()
    assert leftovers(repo) == []


def test_a_project_with_nothing_to_take_is_byte_identical(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scaffold.new_project("001-iris", repo)
    commit(repo, "a project")
    append(repo / TEMPLATE / "copier.yml", "\n# a comment changes no rendered file\n")
    commit(repo, "a template commit with nothing to take")
    before = snapshot(repo / "projects")
    assert main(["update", "-C", str(repo)]) == 0
    assert snapshot(repo / "projects") == before
    assert "0 updated to the template of" in capsys.readouterr().out


def test_conflicts_in_a_text_file_and_a_notebook_cell_are_marked_and_refused(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clashing = scaffold.new_project("001-iris-clash", repo).path
    other = scaffold.new_project("002-iris-other", repo).path
    commit(repo, "projects")
    append(clashing / "data.py", "# my own ending\n")
    edit_notebook(clashing, {"plot": "# my own plot note"})
    mine = cells(clashing)["plot"]
    improve_template(repo)

    assert main(["update", "-C", str(repo)]) == 1
    out = capsys.readouterr().out
    assert "! data.py line" in out
    assert "! notebook.ipynb cell 'plot' (cell" in out
    # The text file holds diff3 markers; the notebook stays valid JSON with the project's cell.
    data = (clashing / "data.py").read_text()
    assert "<<<<<<< project\n# my own ending\n" in data
    assert "=======\n\n# checked by template v2\n>>>>>>> template\n" in data
    assert cells(clashing)["plot"] == mine
    listed = (clashing / CONFLICTS_FILE).read_text()
    assert "`data.py` line" in listed and "`notebook.ipynb` cell 'plot'" in listed
    assert "# drawn by template v2" in listed  # the template's cell, to take by hand
    # The other project was updated all the same.
    assert "# checked by template v2" in (other / "data.py").read_text()

    # hundred run refuses the project (the others still run), hundred build will not publish it.
    make_project(repo, "003-trivial", ["x = 1"])
    assert main(["run", "-C", str(repo), "001", "003"]) == 1
    refused = record(repo, "001-iris-clash")
    assert refused["failure"] == "update-conflict"
    assert CONFLICTS_FILE in refused["error"]["evalue"]
    assert record(repo, "003-trivial")["status"] == "passed"
    project = next(p for p in catalog.load(repo) if p.number == 1)
    with pytest.raises(HundredError, match=f"001-iris-clash/{CONFLICTS_FILE}"):
        build_post(repo, project, links=Links(None))
    # Updating again waits for the conflicts to be resolved.
    assert main(["update", "-C", str(repo), "001"]) == 1
    assert "has an unfinished update" in capsys.readouterr().err


def test_renamed_deleted_and_kept_files(repo: Path) -> None:
    skeleton = repo / TEMPLATE / "skeleton"
    helpers = "".join(f"def helper_{n}():\n    return {n}\n\n\n" for n in range(8))
    (skeleton / "helpers.py").write_text(helpers)
    (skeleton / "notes.txt").write_text("notes of template v1\n")
    (skeleton / "old.txt").write_text("dropped by template v2\n")
    commit(repo, "template v1")
    plain = scaffold.new_project("001-plain", repo).path
    edited = scaffold.new_project("002-edited", repo).path
    commit(repo, "projects")
    (edited / "helpers.py").write_text("# mine\n" + helpers)
    append(edited / "old.txt", "but I use it\n")
    subprocess.run(["git", "mv", "helpers.py", "utils.py"], cwd=skeleton, check=True)
    append(skeleton / "utils.py", "def helper_new():\n    return 'v2'\n")
    (skeleton / "notes.txt").unlink()
    (skeleton / "old.txt").unlink()
    commit(repo, "template v2: helpers.py renamed to utils.py, notes and old dropped")

    report = update_projects(repo)
    by_name = {p.project: p for p in report.projects}
    assert by_name["001-plain"].renamed == (("helpers.py", "utils.py"),)
    assert sorted(by_name["001-plain"].deleted) == ["notes.txt", "old.txt"]
    assert not (plain / "helpers.py").exists() and not (plain / "notes.txt").exists()
    assert (plain / "utils.py").read_text().endswith("return 'v2'\n")
    # The edited project: the rename carries its edit, the file it edited is kept and said so.
    assert not (edited / "helpers.py").exists()
    utils = (edited / "utils.py").read_text()
    assert utils.startswith("# mine\n") and utils.endswith("return 'v2'\n")
    assert (edited / "old.txt").read_text().endswith("but I use it\n")
    assert by_name["002-edited"].kept == ("old.txt: edited here and deleted by the template: kept",)
    assert report.exit_code == 0


def test_an_interrupted_update_leaves_each_project_wholly_old_or_new(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("001-first", "002-second", "003-third"):
        scaffold.new_project(name, repo)
    commit(repo, "projects")
    old = snapshot(repo / "projects")
    improve_template(repo)

    def stop_after_first(done: update.ProjectUpdate) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        update_projects(repo, on_project=stop_after_first)
    now = snapshot(repo / "projects")
    assert {k: v for k, v in now.items() if k.startswith("001")} != \
        {k: v for k, v in old.items() if k.startswith("001")}  # wholly new, see below
    assert {k: v for k, v in now.items() if not k.startswith("001")} == \
        {k: v for k, v in old.items() if not k.startswith("001")}
    assert "# template v2" in (repo / "projects" / "001-first" / "requirements.txt").read_text()
    assert leftovers(repo) == []

    # Inside the writing of a project: the second file written raises.
    writes: list[Path] = []
    real_write = update._write_file

    def interrupted(path: Path, data: bytes, *, like: Path) -> None:
        writes.append(path)
        if len(writes) == 2:
            raise KeyboardInterrupt
        real_write(path, data, like=like)

    monkeypatch.setattr(update, "_write_file", interrupted)
    before = snapshot(repo / "projects")
    with pytest.raises(KeyboardInterrupt):
        update_projects(repo, ["002"])
    assert snapshot(repo / "projects") == before
    assert leftovers(repo) == []
    monkeypatch.undo()

    # A real SIGINT while the project is swapped in: held back until it is wholly in place.
    real_exchange = update._exchange

    def signalled(a: Path, b: Path) -> bool:
        os.kill(os.getpid(), signal.SIGINT)
        return real_exchange(a, b)

    monkeypatch.setattr(update, "_exchange", signalled)
    with pytest.raises(KeyboardInterrupt):
        update_projects(repo, ["002", "003"])
    assert "# template v2" in (repo / "projects" / "002-second" / "requirements.txt").read_text()
    assert "# template v2" not in (repo / "projects" / "003-third" / "requirements.txt").read_text()
    assert leftovers(repo) == []


def test_dry_run_prints_the_changes_and_writes_nothing(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scaffold.new_project("001-plain", repo)
    clashing = scaffold.new_project("002-clash", repo).path
    commit(repo, "projects")
    append(clashing / "data.py", "# my own ending\n")
    improve_template(repo)
    before = snapshot(repo / "projects")
    assert main(["update", "-C", str(repo), "--dry-run"]) == 1
    assert snapshot(repo / "projects") == before
    assert not (repo / ".hundred").exists()
    out = capsys.readouterr().out
    assert "would update 001-plain" in out and "  ~ requirements.txt\n" in out
    assert "would update 002-clash" in out and "! data.py line" in out
    assert out.rstrip().splitlines()[-1].startswith("dry run: nothing was written; 2 would be "
                                                     "updated")


def test_old_projects_fall_back_to_the_commit_that_added_them(repo: Path) -> None:
    made = scaffold.new_project("001-old", repo).path
    answers_file = made / ".copier-answers.yml"
    answers_file.write_text("".join(line for line in answers_file.read_text().splitlines(True)
                                    if not line.startswith(COMMIT_KEY)))
    foreign = scaffold.new_project("002-foreign", repo).path
    foreign_answers = foreign / ".copier-answers.yml"
    foreign_answers.write_text(foreign_answers.read_text().replace(
        "_src_path: ../../templates/project", "_src_path: gh:someone/their-template"))
    make_project(repo, "003-adopted", ["x = 1"])
    commit(repo, "projects made before template commits were recorded")
    new = improve_template(repo)

    report = update_projects(repo)
    outcome = {p.project: p for p in report.projects}
    assert outcome["001-old"].changed and answers(made)[COMMIT_KEY] == new
    assert outcome["002-foreign"].skipped == ("made from gh:someone/their-template: update it "
                                              "with that template's own tool")
    assert outcome["003-adopted"].skipped is not None
    assert report.exit_code == 0


def test_bad_input_is_one_line_and_exit_2(monorepo: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    scaffold.new_project("001-x", monorepo)
    assert main(["update", "-C", str(monorepo)]) == 2
    assert "not a git repository with a commit" in capsys.readouterr().err
    git(monorepo, "init", "-q")
    git(monorepo, "config", "user.name", "Ada")
    git(monorepo, "config", "user.email", "ada@example.com")
    commit(monorepo, "all")
    assert main(["update", "-C", str(monorepo), "042"]) == 2
    assert "no project '042'" in capsys.readouterr().err
    append(monorepo / TEMPLATE / "cells" / "plot.py", "\n# uncommitted")
    assert main(["update", "-C", str(monorepo)]) == 2
    assert "has uncommitted changes" in capsys.readouterr().err
    assert main(["update", "-C", str(monorepo), "--dry-run"]) == 0  # a preview is fine
    assert "to the template of the working tree" in capsys.readouterr().out


def test_set_answer_keeps_copiers_layout() -> None:
    text = "# Changes here will be overwritten by Copier\n_src_path: x\nslug: a\n"
    assert update.set_answer(text, COMMIT_KEY, "abc") == (
        "# Changes here will be overwritten by Copier\n_hundred_template_commit: abc\n"
        "_src_path: x\nslug: a\n")
    assert update.set_answer(text, "_src_path", "../y") == text.replace(": x", ": ../y")
