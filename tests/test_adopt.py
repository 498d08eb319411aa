"""`hundred adopt`: realistic challenge repositories brought in as numbered projects."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest

from hundred import adopt as adoption_module
from hundred import catalog, challenge, results, scaffold, site
from hundred.adopt import adopt, number_in, plan_adoption, slugify
from hundred.cli import main
from hundred.config import load_settings
from hundred.errors import HundredError
from hundred.render import preformatted
from tests.conftest import build_file_tree, snapshot
from tests.envkit import served
from tests.runkit import make_project
from tests.sitekit import site_files

Cell = tuple[str, str] | tuple[str, str, list[dict[str, Any]]]


def notebook(*cells: Cell, metadata: dict[str, Any] | None = None, minor: int = 2) -> str:
    """A notebook's JSON as old tools saved it: no ids, no kernelspec unless given."""
    made = []
    for kind, text, *outputs in cells:
        cell: dict[str, Any] = {"cell_type": "markdown" if kind == "md" else kind,
                                "metadata": {}, "source": text.splitlines(keepends=True)}
        if cell["cell_type"] == "code":
            cell["outputs"] = outputs[0] if outputs else []
            cell["execution_count"] = 3 if outputs else None
        made.append(cell)
    return json.dumps({"nbformat": 4, "nbformat_minor": minor, "metadata": metadata or {},
                       "cells": made})


def printed(text: str) -> list[dict[str, Any]]:
    return [{"output_type": "stream", "name": "stdout", "text": text}]


PY3 = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
       "language_info": {"name": "python", "version": "3.8.10"}}


def challenge_tree(source: Path) -> Path:
    """A '100 days of ML' repository as learners push them (see /work/shared/USERS.md)."""
    return build_file_tree(source, {
        "README.md": "# My 100 days of ML\n",
        # A day folder: spaces and punctuation, two notebooks, a CSV, a README with an image.
        "day15 - working with csv files/reading.ipynb": notebook(
            ("md", "# Working with CSV files"),
            ("code", "import pandas as pd\ndf = pd.read_csv('marks.csv')\nprint(len(df))",
             printed("3\n")),
            ("code", "df.describe()"), metadata=PY3),
        "day15 - working with csv files/scratch.ipynb": notebook(
            ("code", "1 + 1", [{"output_type": "execute_result", "execution_count": 1,
                                "data": {"text/plain": "2"}, "metadata": {}}])),
        "day15 - working with csv files/marks.csv": "name,mark\nada,19\nbob,12\ncy,15\n",
        "day15 - working with csv files/README.md": (
            "Reading CSV files with pandas.\n\n![the marks](marks.png)\n\n"
            "See [my notes](notes/missing.md).\n"),
        "day15 - working with csv files/marks.png": b"\x89PNG\r\n\x1a\nnot really",
        # Loose notebooks in Code/ with .md and .py twins, data in a separate datasets/ folder.
        "Code/Day 11_K-NN.ipynb": notebook(
            ("md", "## K-Nearest Neighbours\n\nClassifying with neighbours."),
            ("code", "!pip install seaborn\nimport seaborn as sns\nimport mlxtend"),
            ("code", "import pandas as pd\nfrom sklearn.neighbors import KNeighborsClassifier\n"
                     "data = pd.read_csv('../datasets/Data.csv')\n"
                     "train = pd.read_csv('/kaggle/input/titanic/train.csv')")),
        "Code/Day 11_K-NN.md": "# Day 11: K-NN\n\nWhat I learned about neighbours.\n",
        "Code/Day 11_K-NN.py": "from sklearn.neighbors import KNeighborsClassifier\n",
        "Code/Day 12_Régression linéaire.ipynb": notebook(
            ("code", "import numpy as np\nw = np.zeros(3)")),
        "datasets/Data.csv": "x,y\n1,0\n2,1\n",
        # Project folders; 7 is used twice.
        "Project 7 - Title/Project 7.ipynb": notebook(("code", "x = 7")),
        "extras/Project 7 again.ipynb": notebook(("code", "y = 7")),
        # No number anywhere, a non-ASCII title only in its heading.
        "misc/Untitled.ipynb": notebook(("md", "# Éléments de statistique"), ("code", "z = 1")),
        # Not Python, and a checkpoint: both left alone.
        "R/analysis.ipynb": notebook(("code", "x <- 1"), metadata={
            "kernelspec": {"name": "ir", "display_name": "R", "language": "R"}}),
        "day15 - working with csv files/.ipynb_checkpoints/reading-checkpoint.ipynb": "{",
    })


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return challenge_tree(tmp_path / "my-old-100-days")


def folders(root: Path) -> list[str]:
    return [name.folder for name, _ in catalog.project_folders(root)]


def by_notebook(plan: adoption_module.Plan) -> dict[str, adoption_module.Adoption]:
    return {adoption.notebook: adoption for adoption in plan.projects}


# ------------------------------------------------------------------------- names


@pytest.mark.parametrize(("name", "number", "rest"), [
    ("day15 - working with csv files", 15, "working with csv files"),
    ("Day 11_K-NN", 11, "K-NN"),
    ("Project 7 - Title", 7, "Title"),
    ("p3_Name", 3, "Name"),
    ("015-linear-regression", 15, "linear-regression"),
    ("Day_042", 42, ""),
    ("3d-plots", None, "3d-plots"),
    ("2048 game", None, "2048 game"),
    ("Day 0", None, "Day 0"),
    ("pca", None, "pca"),
])
def test_numbers_come_from_the_start_of_a_name(name: str, number: int | None,
                                               rest: str) -> None:
    assert number_in(name) == (number, rest)


@pytest.mark.parametrize(("text", "slug"), [
    ("Régression linéaire", "regression-lineaire"),
    ("Straße & Café", "strasse-cafe"),
    ("K-NN", "k-nn"),
    ("LinearRegression", "linear-regression"),
    ("机器学习 intro", "intro"),
    ("a very long name that goes on and on and on past forty characters",
     "a-very-long-name-that-goes-on-and-on-and"),
])
def test_slugs_are_kebab_case_ascii_of_at_most_40(text: str, slug: str) -> None:
    assert slugify(text) == slug
    assert len(slug) <= catalog.SLUG_MAX


# -------------------------------------------------------------------------- plan


def test_the_plan_numbers_names_and_resolves_collisions_visibly(
    monorepo: Path, source: Path
) -> None:
    make_project(monorepo, "011-taken-already", ["x = 1"])
    plan = plan_adoption(monorepo, source)
    found = {a.notebook: a.folder for a in plan.projects}
    assert found == {
        "Code/Day 11_K-NN.ipynb": "016-k-nn",  # 011 is taken: after the highest in use
        "Code/Day 12_Régression linéaire.ipynb": "012-regression-lineaire",
        "day15 - working with csv files/reading.ipynb": "015-working-with-csv-files",
        "extras/Project 7 again.ipynb": "007-again",
        "misc/Untitled.ipynb": "017-elements-de-statistique",  # no number: by order
        "Project 7 - Title/Project 7.ipynb": "018-title",  # 7 claimed by extras/ first
    }
    notes = by_notebook(plan)
    assert "is taken by projects/011-taken-already" in notes["Code/Day 11_K-NN.ipynb"].numbering
    assert "also claimed by extras/Project 7 again.ipynb" in notes[
        "Project 7 - Title/Project 7.ipynb"].numbering
    assert notes["misc/Untitled.ipynb"].numbering.startswith("no number in its name")
    assert notes["misc/Untitled.ipynb"].title == "Éléments de statistique"
    assert [(s.notebook, s.reason) for s in plan.skipped] == [
        ("R/analysis.ipynb", "its language is R: hundred runs Python notebooks")]
    assert folders(monorepo) == ["011-taken-already"]  # planning wrote nothing


def test_a_folder_of_several_notebooks_is_one_project_with_the_others_kept_beside(
    monorepo: Path, source: Path
) -> None:
    day = by_notebook(plan_adoption(monorepo, source))[
        "day15 - working with csv files/reading.ipynb"]
    assert [(m.source, m.target) for m in day.kept] == [
        ("day15 - working with csv files/scratch.ipynb", "scratch.ipynb")]
    assert any("the main one is reading.ipynb (the most code cells)" in n for n in day.notes)
    assert {m.target for m in day.files} == {"marks.csv", "marks.png"}
    assert day.body_from == ("day15 - working with csv files/README.md",)


def test_loose_notebooks_take_their_twins_and_the_files_their_code_names(
    monorepo: Path, source: Path
) -> None:
    knn = by_notebook(plan_adoption(monorepo, source))["Code/Day 11_K-NN.ipynb"]
    assert [(m.source, m.target, m.fetched) for m in knn.files] == [
        ("datasets/Data.csv", "datasets/Data.csv", False)]
    assert [(r.cell, r.old, r.new) for r in knn.rewrites] == [
        (4, "../datasets/Data.csv", "datasets/Data.csv")]
    assert knn.body_from == ("Code/Day 11_K-NN.md", "Code/Day 11_K-NN.py")
    assert knn.title == "K-Nearest Neighbours"
    assert any("/kaggle/input/titanic/train.csv, an absolute path of a hosted notebook "
               "service" in note for note in knn.notes)
    assert any("`!pip install seaborn`" in note for note in knn.notes)


def test_requirements_are_inferred_from_imports_and_unknown_names_flagged(
    monorepo: Path, source: Path
) -> None:
    knn = by_notebook(plan_adoption(monorepo, source))["Code/Day 11_K-NN.ipynb"]
    # pandas and scikit-learn are the shared stack (pyproject's ml extra): not listed.
    assert [(r.distribution, r.known) for r in knn.requirements] == [
        ("mlxtend", False), ("seaborn", True)]
    assert any("mlxtend is guessed from `import mlxtend`" in note for note in knn.notes)
    assert knn.kind == "tabular"
    assert knn.tags == ("adopted", "mlxtend", "pandas", "scikit-learn", "seaborn")
    numpy_only = by_notebook(plan_adoption(monorepo, source))[
        "Code/Day 12_Régression linéaire.ipynb"]
    assert numpy_only.kind == "from-scratch" and numpy_only.requirements == ()


def test_hosted_paths_helpers_and_hosted_modules(monorepo: Path, tmp_path: Path) -> None:
    source = build_file_tree(tmp_path / "src", {
        "day4 - titanic/titanic.ipynb": notebook(
            ("code", "import cv2\nfrom google.colab import drive\nimport helpers\n"
                     "import pandas as pd\ndf = pd.read_csv('/kaggle/input/titanic/train.csv')\n"
                     "other = pd.read_csv('/kaggle/input/titanic/test.csv')")),
        "day4 - titanic/train.csv": "survived\n1\n",
        "Code/helpers.py": "def load():\n    return 1\n",
        "Code/Day 5.ipynb": notebook(("code", "import helpers\nhelpers.load()")),
        "Code/Day 6.ipynb": notebook(("code", "x = 1")),
    })
    plan = by_notebook(plan_adoption(monorepo, source))
    titanic = plan["day4 - titanic/titanic.ipynb"]
    assert [(r.old, r.new) for r in titanic.rewrites] == [
        ("/kaggle/input/titanic/train.csv", "train.csv")]  # the file of that name, beside
    notes = " | ".join(titanic.notes)
    assert "pointed at train.csv, the file of that name in the project" in notes
    assert "/kaggle/input/titanic/test.csv, an absolute path of a hosted notebook service" in notes
    assert "`import google.colab` exists only on a hosted notebook service" in notes
    assert titanic.kind == "vision"
    assert [(r.distribution, r.known) for r in titanic.requirements] == [
        ("helpers", False), ("opencv-python", True)]  # helpers.py is not beside this one
    day5 = plan["Code/Day 5.ipynb"]
    assert [m.target for m in day5.files] == ["helpers.py"] and day5.requirements == ()
    assert [m.target for m in plan["Code/Day 6.ipynb"].files] == []  # loose: only what it uses


def test_the_date_comes_from_the_sources_git_history(monorepo: Path, source: Path) -> None:
    def git(*arguments: str, when: str) -> None:
        env = {**os.environ, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when,
               "GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.org",
               "GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.org"}
        subprocess.run(["git", *arguments], cwd=source, env=env, check=True,
                       capture_output=True)

    git("init", "-q", when="2024-03-02T10:00:00+01:00")
    git("add", ".", when="2024-03-02T10:00:00+01:00")
    git("commit", "-qm", "day 15", when="2024-03-02T10:00:00+01:00")
    reading = source / "day15 - working with csv files" / "reading.ipynb"
    reading.write_text(reading.read_text().replace("print(len(df))", "print(len(df), 'rows')"))
    git("commit", "-qam", "more", when="2024-05-06T12:30:00+00:00")
    plan = plan_adoption(monorepo, source)
    day = by_notebook(plan)["day15 - working with csv files/reading.ipynb"]
    assert (day.date, day.date_from) == (dt.date(2024, 3, 2), "git")
    assert day.outputs_at == dt.datetime(2024, 5, 6, 12, 30, tzinfo=dt.UTC)
    before = snapshot(source)
    [made, *_] = [a for a in adopt(monorepo, plan) if a.adoption is day]
    assert made.project is not None
    assert made.project.writeup.date == dt.date(2024, 3, 2)
    record = results.read_result(made.project.path / "runs" / "imported.json")
    assert record is not None and record.started_at == day.outputs_at
    assert snapshot(source) == before  # git was only read


# ------------------------------------------------------------------------- write


def test_adopt_writes_normalised_projects_and_leaves_the_source_alone(
    monorepo: Path, source: Path
) -> None:
    before = snapshot(source)
    made = adopt(monorepo, plan_adoption(monorepo, source))
    assert [a.error for a in made] == [None] * 6
    assert snapshot(source) == before
    projects = catalog.load(monorepo)  # every writeup is valid front matter for its folder
    assert len(projects) == 6
    for project in projects:
        nb = nbformat.read(project.notebook, as_version=nbformat.NO_CONVERT)
        nbformat.validate(nb)  # nbformat 4.5, ids included
        assert (nb.nbformat, nb.nbformat_minor) == (4, 5)
        assert nb.metadata.kernelspec.language == "python"
        assert nb.metadata.language_info.name == "python"
        assert all(not c.get("outputs") and c.get("execution_count") is None
                   for c in nb.cells if c.cell_type == "code")
        [parameters] = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert 'profile = "full"' in parameters.source
        assert (project.path / ".adopted.yml").is_file()
    assert not [p for p in (monorepo / "projects").iterdir() if p.name.startswith(".")]


def test_the_writeup_front_matter_and_body_come_from_the_source(
    monorepo: Path, source: Path
) -> None:
    adopt(monorepo, plan_adoption(monorepo, source))
    knn = catalog.Project(catalog.ProjectName(11, "k-nn"), monorepo / "projects" / "011-k-nn")
    writeup = knn.writeup
    assert (writeup.title, writeup.kind) == ("K-Nearest Neighbours", "tabular")
    assert "adopted" in writeup.tags and 1 <= writeup.difficulty <= 5
    body = catalog.split_front_matter(knn.writeup_path.read_text(encoding="utf-8"))[1]
    assert "What I learned about neighbours." in body  # the .md twin
    assert "```python\nfrom sklearn.neighbors import KNeighborsClassifier\n```" in body
    code = nbformat.read(knn.notebook, as_version=4).cells[3].source
    assert "pd.read_csv('datasets/Data.csv')" in code  # the path, rewritten
    assert (knn.path / "datasets" / "Data.csv").read_text() == "x,y\n1,0\n2,1\n"
    requirements = (knn.path / "requirements.txt").read_text()
    assert "\nseaborn\n" in requirements
    assert "mlxtend  # guessed from `import mlxtend`" in requirements
    day = monorepo / "projects" / "015-working-with-csv-files"
    text = (day / "writeup.md").read_text(encoding="utf-8")
    assert "![the marks](marks.png)" in text and "See my notes." in text  # dead link: text
    kept = nbformat.read(day / "scratch.ipynb", as_version=4)
    assert kept.cells[0].outputs == [] and len(kept.cells) == 1  # no parameters cell added


def test_outputs_are_kept_as_an_imported_record_that_verifies_nothing(
    monorepo: Path, source: Path
) -> None:
    adopt(monorepo, plan_adoption(monorepo, source))
    project = next(p for p in catalog.load(monorepo) if p.number == 15)
    runs = site.project_runs(monorepo, project)
    assert runs.imported is not None and runs.imported.status == "imported"
    assert not runs.imported.passed
    assert runs.status == "not-run" and runs.failure is None and runs.results is None
    kept = nbformat.read(project.path / "runs" / "imported.ipynb", as_version=4)
    assert kept.cells[2].outputs[0].text == "3\n"  # as committed in the source
    verdict = challenge.verified_status(monorepo, project, load_settings(monorepo))
    assert verdict.status == "in-progress"  # never done on imported outputs
    post = site.build_post(monorepo, project, links=site.Links(None))
    assert f"Not run yet: {results.NOT_VERIFIED}" in post.markdown
    assert "*Imported: outputs as originally committed, not verified" in post.markdown
    assert preformatted("3\n") in post.notebook_html  # the committed output, shown
    assert "describe" in post.notebook_html
    without = next(p for p in catalog.load(monorepo) if p.number == 12)  # nothing committed
    assert not (without.path / "runs").exists()
    assert "Not run yet: the executed notebook" in site.build_post(
        monorepo, without, links=site.Links(None)).markdown


def test_adopting_again_does_not_duplicate_even_from_a_moved_copy(
    monorepo: Path, source: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    adopt(monorepo, plan_adoption(monorepo, source))
    made = folders(monorepo)
    again = plan_adoption(monorepo, source)
    assert again.projects == ()
    assert ("Code/Day 11_K-NN.ipynb", "already adopted as projects/011-k-nn") in [
        (s.notebook, s.reason) for s in again.skipped]
    moved = source.parent / "moved-copy"
    shutil.copytree(source, moved)
    assert plan_adoption(monorepo, moved).projects == ()  # same notebooks by content
    assert main(["-C", str(monorepo), "adopt", str(source)]) == 0
    assert "plan: 0 projects" in capsys.readouterr().out
    assert folders(monorepo) == made


def test_large_files_are_fetched_by_a_data_script_with_their_checksum(
    monorepo: Path, tmp_path: Path
) -> None:
    big = b"x,y\n" + b"1,2\n" * (adoption_module.SMALL_FILE_BYTES // 4)
    source = build_file_tree(tmp_path / "src", {
        "day3-big-data/big.ipynb": notebook(
            ("code", "import pandas as pd\ndf = pd.read_csv('big.csv')\nsmall = "
                     "pd.read_csv('small.csv')")),
        "day3-big-data/big.csv": big,
        "day3-big-data/small.csv": "a\n1\n",
    })
    plan = plan_adoption(monorepo, source)
    [day] = plan.projects
    assert [(m.target, m.fetched) for m in day.files] == [
        ("data/big.csv", True), ("small.csv", False)]
    assert [(r.old, r.new) for r in day.rewrites] == [("big.csv", "data/big.csv")]
    [made] = adopt(monorepo, plan)
    assert made.project is not None
    path = made.project.path
    assert not (path / "data").exists() and (path / "small.csv").is_file()
    script = (path / "data.py").read_text()
    assert hashlib.sha256(big).hexdigest() in script
    fetch = subprocess.run([sys.executable, "data.py"], cwd=path, capture_output=True,
                           text=True, check=False)
    assert fetch.returncode == 1
    assert fetch.stderr.strip() == ("error: no URL yet for data/big.csv: fill it in data.py")
    with served(source / "day3-big-data") as url:
        (path / "data.py").write_text(script.replace('url=""', f'url="{url}big.csv"'))
        fetch = subprocess.run([sys.executable, "data.py"], cwd=path, capture_output=True,
                               text=True, check=False)
    assert fetch.returncode == 0, fetch.stderr
    assert (path / "data" / "big.csv").read_bytes() == big


def test_a_project_that_fails_leaves_nothing_and_the_others_come_in(
    monorepo: Path, source: Path
) -> None:
    plan = plan_adoption(monorepo, source)
    changed = source / "Code" / "Day 11_K-NN.ipynb"
    changed.write_text(changed.read_text().replace("mlxtend", "xgboost"))
    scaffold.new_project("012-mine-now", monorepo)  # takes a planned number meanwhile
    made = {a.adoption.notebook: a for a in adopt(monorepo, plan)}
    assert made["Code/Day 11_K-NN.ipynb"].error == (
        "Code/Day 11_K-NN.ipynb changed since the plan; run adopt again")
    error = made["Code/Day 12_Régression linéaire.ipynb"].error
    assert error is not None and "projects/012-mine-now took its number" in error
    assert sorted(folders(monorepo)) == [
        "007-again", "012-mine-now", "015-working-with-csv-files",
        "016-elements-de-statistique", "017-title"]
    assert not [p for p in (monorepo / "projects").iterdir() if p.name.startswith(".")]


def test_a_notebook_with_an_old_output_shape_still_adopts(monorepo: Path, tmp_path: Path) -> None:
    # nbformat 3 and a v4 output carrying v3's prompt_number: both seen in old repositories.
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {"name": ""}, "worksheets": [
        {"cells": [{"cell_type": "heading", "level": 1, "metadata": {}, "source": "Old one"},
                   {"cell_type": "code", "input": "print(1)", "language": "python",
                    "metadata": {}, "prompt_number": 1,
                    "outputs": [{"output_type": "stream", "stream": "stdout", "text": "1\n"}]}]}]}
    odd = notebook(("code", "x = 2", [{"output_type": "execute_result", "prompt_number": 4,
                                        "data": {"text/plain": "2"}, "metadata": {}}]))
    source = build_file_tree(tmp_path / "src", {"day1/old.ipynb": json.dumps(v3),
                                                "day2/odd.ipynb": odd})
    made = adopt(monorepo, plan_adoption(monorepo, source))
    assert [(a.adoption.folder, a.error) for a in made] == [
        ("001-old-one", None), ("002-odd", None)]
    old = nbformat.read(monorepo / "projects/001-old-one/runs/imported.ipynb", as_version=4)
    assert old.cells[2].outputs[0].text == "1\n"
    record = results.read_result(monorepo / "projects/002-odd/runs/imported.json")
    assert record is not None
    assert "the outputs of 1 cells were not valid nbformat" in " ".join(record.notes)


# ---------------------------------------------------------------------- the CLI


def test_dry_run_prints_the_plan_and_writes_nothing(
    monorepo: Path, source: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(monorepo.parent)
    monkeypatch.chdir(monorepo)
    assert main(["adopt", str(source), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Code/Day 11_K-NN.ipynb → projects/011-k-nn\n" in out
    assert "  path: cell 4: '../datasets/Data.csv' → 'datasets/Data.csv'\n" in out
    assert "  keep: day15 - working with csv files/scratch.ipynb → scratch.ipynb" in out
    assert "requirements: mlxtend (unknown: guessed), seaborn" in out
    assert "skip: R/analysis.ipynb: its language is R" in out
    assert out.rstrip().endswith("dry run: nothing was written; run it again without "
                                 "--dry-run to adopt")
    assert snapshot(monorepo.parent) == before


def test_on_a_terminal_the_plan_is_a_table(
    monorepo: Path, source: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["-C", str(monorepo), "adopt", str(source), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "hundred adopt" in out and "┃" in out and "011-k-nn" in out
    assert "Code/Day 11_K-NN.ipynb → projects/011-k-nn" not in out  # not the plain lines


def test_adopt_then_the_commands_see_the_projects(
    monorepo: Path, source: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["-C", str(monorepo), "adopt", str(source)]) == 0
    out = capsys.readouterr().out
    assert "adopted Code/Day 11_K-NN.ipynb as projects/011-k-nn\n" in out
    assert "6 of 6 projects adopted; next: 'hundred run'" in out
    assert main(["-C", str(monorepo), "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [row["folder"] for row in listed] == folders(monorepo)


def _bad_sources(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    build_file_tree(tmp_path / "broken", {
        "day1/fine.ipynb": notebook(("code", "x = 1")),
        "day2/broken.ipynb": '{"cells": [',
    })
    build_file_tree(tmp_path / "empty", {"README.md": "# nothing yet\n",
                                         ".ipynb_checkpoints/a-checkpoint.ipynb": "{}"})
    build_file_tree(tmp_path / "not-a-notebook", {"day1/x.ipynb": '{"hello": "world"}'})
    (tmp_path / "file.ipynb").write_text(notebook(("code", "x = 1")))
    return {
        "missing": (tmp_path / "nowhere", "does not exist"),
        "file": (tmp_path / "file.ipynb", "is a file, not a folder"),
        "no notebooks": (tmp_path / "empty", "holds no notebook (.ipynb)"),
        "broken json": (tmp_path / "broken", "day2/broken.ipynb is not readable notebook JSON"),
        "json, not a notebook": (tmp_path / "not-a-notebook",
                                 "day1/x.ipynb is JSON but not a notebook"),
    }


@pytest.mark.parametrize("case", ["missing", "file", "no notebooks", "broken json",
                                  "json, not a notebook"])
@pytest.mark.parametrize("dry_run", [False, True])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    monorepo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str,
    dry_run: bool
) -> None:
    bad, message = _bad_sources(tmp_path)[case]
    before = snapshot(tmp_path)
    argv = ["-C", str(monorepo), "adopt", str(bad), *(["--dry-run"] if dry_run else [])]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1, captured.err
    assert message in captured.err and "Traceback" not in captured.err
    assert snapshot(tmp_path) == before


def test_the_monorepo_itself_is_refused(monorepo: Path) -> None:
    make_project(monorepo, "001-mine", ["x = 1"])
    for wrong in (monorepo, monorepo / "projects", monorepo / "projects" / "001-mine"):
        with pytest.raises(HundredError, match="is this monorepo or inside its projects/"):
            plan_adoption(monorepo, wrong)


def test_the_installed_command_exits_2_with_one_line(monorepo: Path, tmp_path: Path) -> None:
    hundred = shutil.which("hundred")
    assert hundred is not None
    done = subprocess.run([hundred, "-C", str(monorepo), "adopt", str(tmp_path / "nowhere")],
                          capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.count("\n") == 1 and "does not exist" in done.stderr


# ------------------------------------------------------------------- end to end


def test_adopted_projects_run_with_diagnoses_and_every_one_is_published(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = site_files(tmp_path / "mono")
    source = build_file_tree(tmp_path / "old", {
        "day1 - reading csv/reading.ipynb": notebook(
            ("md", "# Reading a CSV"),
            ("code", "import pandas as pd\ndf = pd.read_csv('marks.csv')\nprint(df['mark'].sum())",
             printed("46\n"))),
        "day1 - reading csv/marks.csv": "name,mark\nada,19\nbob,12\ncy,15\n",
        "Day 2_kaggle.ipynb": notebook(
            ("code", "import pandas as pd\ntrain = pd.read_csv('/kaggle/input/titanic/train.csv')",
             printed("loaded\n"))),
        "Day 3_old numpy.ipynb": notebook(("code", "import numpy as np\nmissing = np.NaN")),
    })
    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")
    assert main(["-C", str(root), "adopt", str(source)]) == 0
    assert folders(root) == ["001-reading-csv", "002-kaggle", "003-old-numpy"]
    capsys.readouterr()
    assert main(["-C", str(root), "build", "--jobs", "1"]) == 1  # two fail: built anyway
    out = capsys.readouterr().out
    assert "1 passed, 2 failed" in out
    kaggle = results.read_result(root / ".hundred/runs/002-kaggle/smoke.json")
    assert kaggle is not None and kaggle.diagnosis is not None
    assert kaggle.diagnosis.cause == "missing-file"
    assert "hosted notebook service" in kaggle.diagnosis.explanation
    numpy = results.read_result(root / ".hundred/runs/003-old-numpy/smoke.json")
    assert numpy is not None and numpy.diagnosis is not None
    assert (numpy.diagnosis.cause, numpy.diagnosis.fix) == ("removed-api", "use np.nan")
    for folder in folders(root):
        assert (root / "site" / "blog" / folder / "index.html").is_file()
    reading = (root / "site/blog/001-reading-csv/index.html").read_text()
    assert "Verified runnable" in reading and "46" in reading
    assert "removed or changed np.NaN" in (root / "site/blog/003-old-numpy/index.html").read_text()
