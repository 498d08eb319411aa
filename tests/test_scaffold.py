"""new-project: names, kinds, the rendered template, atomicity, and running the starters."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import papermill
import pytest
import yaml

from hundred import catalog, scaffold
from hundred.cli import main, new_project_main
from hundred.errors import HundredError, WorkFailed
from hundred.metrics import METRIC_MIME, metrics_in
from tests.conftest import REPO, snapshot


@pytest.mark.parametrize(
    ("slug", "kind", "dataset"),
    [
        ("cnn-cifar", "vision", "cifar10"),
        ("mnist-digits-cnn", "vision", "mnist"),
        ("image-classifier", "vision", None),
        ("numpy-gd", "from-scratch", None),
        ("scratch-diabetes", "from-scratch", "diabetes"),
        ("knn-vs-kmeans", "tabular", None),
        ("breast-cancer-trees", "tabular", "breast-cancer"),
        ("iris", "tabular", "iris"),
        # The tasks come before the data's kind: a GAN on MNIST is generative.
        ("mnist-gan", "generative", "mnist"),
        ("digits-autoencoder", "generative", "digits"),
        ("vae-from-scratch", "generative", None),
        ("sales-forecast", "time-series", None),
        ("time-series-basics", "time-series", None),
        ("lstm-timeseries", "time-series", None),
        ("spam-filter", "nlp", None),
        ("cnn-text-sentiment", "nlp", None),
        ("time-of-day", "tabular", None),  # "time" alone, without "series", is no hint
    ],
)
def test_kind_and_dataset_are_inferred_from_the_slug(
    slug: str, kind: str, dataset: str | None
) -> None:
    assert scaffold.infer_kind(slug) == kind
    assert scaffold.infer_dataset(slug) == dataset


def test_title_from_slug_spells_acronyms() -> None:
    assert scaffold.title_from_slug("cnn-cifar") == "CNN CIFAR"
    assert scaffold.title_from_slug("knn-vs-kmeans") == "KNN vs Kmeans"


@pytest.mark.parametrize("kind", catalog.STARTERS)
def test_every_starter_renders_a_valid_project(monorepo: Path, kind: str) -> None:
    project = scaffold.new_project("042-my-study", monorepo, kind=kind)
    assert project.path == monorepo / "projects" / "042-my-study"
    assert sorted(p.name for p in project.path.iterdir()) == [
        ".copier-answers.yml", "data.py", "notebook.ipynb", "requirements.txt", "writeup.md",
    ]
    # requirements.txt starts with comments only: the project runs in the shared environment.
    from hundred.environments import needs_environment

    assert "hundred add" in (project.path / "requirements.txt").read_text()
    assert not needs_environment(project.path)
    notebook = nbformat.read(project.notebook, as_version=4)
    nbformat.validate(notebook)
    assert (notebook.nbformat, notebook.nbformat_minor) == (4, 5)
    assert notebook.metadata.kernelspec.name == "python3"
    assert all(cell.get("id") for cell in notebook.cells)
    assert notebook.cells[0].cell_type == "markdown"
    assert notebook.cells[0].source.startswith("# 042 · My Study")
    parameters = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(parameters) == 1
    assert 'profile = "full"' in parameters[0].source
    assert "seed = 0" in parameters[0].source
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    assert "import data" in code and "data.load(" in code
    assert "hundred.record(" in code
    assert ("import torch" in code) == (kind in ("vision", "generative"))
    assert ("sklearn.linear_model" in code) == (kind in ("tabular", "nlp", "time-series"))
    compile((project.path / "data.py").read_text(encoding="utf-8"), "data.py", "exec")
    # The writeup is valid front matter for the catalog, with every section.
    writeup = catalog.read_writeup(project.writeup_path, expected=project.name)
    assert (writeup.number, writeup.slug, writeup.kind) == (42, "my-study", kind)
    body = project.writeup_path.read_text(encoding="utf-8")
    for section in ("Problem", "Data", "Approach", "Results", "What I learned", "Next"):
        assert f"\n## {section}\n" in body
    # The answers file lets copier find the template again from the project folder.
    answers = yaml.safe_load((project.path / ".copier-answers.yml").read_text())
    assert (answers["kind"], answers["starter"]) == (kind, kind)
    assert (project.path / answers["_src_path"] / "copier.yml").is_file()
    assert not Path(answers["_src_path"]).is_absolute()


def test_a_slug_naming_no_dataset_gets_a_marked_stand_in(monorepo: Path) -> None:
    project = scaffold.new_project("001-house-prices", monorepo)
    data_py = (project.path / "data.py").read_text()
    assert "TODO: replace me" in data_py
    assert "load_wine" in data_py
    named = scaffold.new_project("002-wine-quality", monorepo)
    assert "TODO" not in (named.path / "data.py").read_text()


def test_next_free_number_follows_the_highest(monorepo: Path) -> None:
    scaffold.new_project("007-first", monorepo)
    scaffold.new_project("003-earlier", monorepo)
    project = scaffold.new_project("second", monorepo)
    assert project.name.folder == "008-second"
    assert [p.name.folder for p in catalog.load(monorepo)] == [
        "003-earlier", "007-first", "008-second",
    ]


def test_new_project_works_from_inside_a_project(
    monorepo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    first = scaffold.new_project("001-first", monorepo)
    monkeypatch.chdir(first.path)
    assert new_project_main(["cnn-digits"]) == 0
    assert (monorepo / "projects" / "002-cnn-digits" / "notebook.ipynb").is_file()
    out = capsys.readouterr().out
    assert "created projects/002-cnn-digits: vision starter on digits" in out


BAD_NAMES = [
    (["042-taken"], "project number 042 is taken by projects/042-cnn-cifar"),
    (["007-cnn-cifar"], "slug 'cnn-cifar' is already used by projects/042-cnn-cifar"),
    (["042-cnn-cifar"], "projects/042-cnn-cifar already exists"),
    (["42-short"], "must be three digits from 001 to 999; use '042-short'"),
    (["000-zero"], "three digits from 001 to 999"),
    (["1000-big"], "three digits from 001 to 999"),
    (["Bad_Name"], "not lowercase kebab-case"),
    (["double--dash"], "not lowercase kebab-case"),
    (["x" * 41], "at most 40"),
    (["../escape"], "path separator or '..'"),
    (["sub/dir"], "path separator or '..'"),
    (["042"], "has no slug"),
    (["fine-name", "--kind", "Audio"], "kind 'Audio' is not valid; a kind is a lowercase word"),
    (["fine-name", "--kind", "rl!"], "(a-z, 0-9, single dashes, at most 30 characters)"),
    (["fine-name", "--kind", "x" * 31], "kind 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' is not valid"),
    (["cnn-wine"], "the vision starter needs image data"),
    (["sentiment-wine"], "the nlp starter needs text data but 'sentiment-wine' names wine"),
    (["iris-forecast"], "the time-series starter needs a time series but 'iris-forecast'"),
    (["iris-gan"], "the generative starter needs image data"),
    (["fine-name", "--difficulty", "9"], "difficulty 9 is out of range"),
]


@pytest.mark.parametrize(("argv", "message"), BAD_NAMES)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    monorepo: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    scaffold.new_project("042-cnn-cifar", monorepo)
    (monorepo / "projects" / "notes.txt").write_text("mine")
    before = snapshot(monorepo)
    monkeypatch.chdir(monorepo)
    assert new_project_main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1, captured.err
    assert message in captured.err
    assert "Traceback" not in captured.err
    assert snapshot(monorepo) == before


@pytest.mark.parametrize(("slug", "starter", "dataset"), [
    ("q-learning-gridworld", "tabular", "wine"),  # the slug suggests no starter: tabular
    ("rl-text-games", "nlp", "reviews"),  # the slug suggests nlp
])
def test_any_kind_word_begins_from_a_starter_with_a_notice(
    monorepo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    slug: str, starter: str, dataset: str,
) -> None:
    monkeypatch.chdir(monorepo)
    assert new_project_main([slug, "--kind", "rl"]) == 0
    out = capsys.readouterr().out
    assert f"created projects/001-{slug}: {starter} starter on {dataset}" in out
    assert (f"note: kind 'rl' has no starter of its own, so the project begins from the "
            f"{starter} starter") in out
    [project] = catalog.load(monorepo)
    assert project.writeup.kind == "rl"
    assert "rl" in project.writeup.tags
    answers = yaml.safe_load((project.path / ".copier-answers.yml").read_text())
    assert (answers["kind"], answers["starter"], answers["dataset"]) == ("rl", starter, dataset)
    title = nbformat.read(project.notebook, as_version=4).cells[0].source
    assert f"A {starter} starter on **{dataset}**" in title


def test_a_starters_name_as_kind_prints_no_notice(
    monorepo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(monorepo)
    assert new_project_main(["gridworld", "--kind", "time-series"]) == 0
    out = capsys.readouterr().out
    assert "created projects/001-gridworld: time-series starter on seasonal" in out
    assert "note:" not in out


def test_old_answers_naming_only_a_kind_render_as_that_starter(tmp_path: Path) -> None:
    """Answers recorded before kinds were open have no `starter`: the kind is their starter.

    `hundred update` re-renders projects from their recorded answers: those of the example
    projects must give the same files as the same answers with the starter named.
    """
    from copier import run_copy

    template = REPO / "templates" / "project"
    recorded: dict[str, Path] = {}  # one example project of each kind
    for path in sorted((REPO / "projects").glob("*/.copier-answers.yml")):
        recorded.setdefault(yaml.safe_load(path.read_text())["kind"], path)
    assert sorted(recorded) == ["from-scratch", "tabular", "vision"]
    for number, path in enumerate(recorded.values()):
        old = {k: v for k, v in yaml.safe_load(path.read_text()).items() if k[0] != "_"}
        assert "starter" not in old
        for name, data in (("old", old), ("new", {**old, "starter": old["kind"]})):
            run_copy(str(template), tmp_path / f"{number}-{name}", data=data, defaults=True,
                     quiet=True)
        for file in ("notebook.ipynb", "data.py", "writeup.md"):
            assert (tmp_path / f"{number}-old" / file).read_bytes() == \
                (tmp_path / f"{number}-new" / file).read_bytes(), (path, file)
        answers = yaml.safe_load((tmp_path / f"{number}-old" / ".copier-answers.yml").read_text())
        assert answers["starter"] == old["kind"]


def test_no_projects_folder_names_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["new", "first"]) == 2
    err = capsys.readouterr().err
    assert f"no projects/ folder found in {tmp_path.resolve()}" in err
    assert list(tmp_path.iterdir()) == []


def test_a_failure_mid_render_leaves_nothing(monorepo: Path) -> None:
    # A template file that fails to render after the others were written.
    (monorepo / "templates" / "project" / "skeleton" / "zz-broken.txt.jinja").write_text(
        "{{ 1 / 0 }}"
    )
    before = snapshot(monorepo)
    with pytest.raises(WorkFailed, match="rendering the template"):
        scaffold.new_project("001-doomed", monorepo)
    assert snapshot(monorepo) == before


def test_ctrl_c_mid_render_leaves_nothing(
    monorepo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered: list[Path] = []

    def interrupted(path: Path) -> None:
        rendered.append(path)
        assert path.is_file()  # the render had really written files when Ctrl-C came
        raise KeyboardInterrupt

    monkeypatch.setattr(scaffold, "normalise_notebook", interrupted)
    before = snapshot(monorepo)
    with pytest.raises(KeyboardInterrupt):
        scaffold.new_project("001-doomed", monorepo)
    assert rendered
    assert snapshot(monorepo) == before


def test_missing_template_is_bad_input(monorepo: Path) -> None:
    shutil.rmtree(monorepo / "templates")
    with pytest.raises(HundredError, match="no project template at") as raised:
        scaffold.new_project("001-x", monorepo)
    assert raised.value.exit_code == 2
    assert list((monorepo / "projects").iterdir()) == []


STARTERS = [
    ("001-wine-tabular", "accuracy"),
    ("002-image-starter", "accuracy"),
    ("003-numpy-logistic", "accuracy"),
    ("004-scratch-diabetes", "r2"),
    ("005-diabetes-ridge", "r2"),
]


@pytest.mark.parametrize(("name", "metric"), STARTERS)
def test_every_starter_runs_offline_with_the_smoke_profile(
    monorepo: Path, name: str, metric: str
) -> None:
    project = scaffold.new_project(name, monorepo)
    source = project.notebook.read_bytes()
    output = project.path / "out.ipynb"
    papermill.execute_notebook(
        project.notebook, output, parameters={"profile": "smoke"}, cwd=project.path,
        kernel_name="python3", progress_bar=False, shutdown_kernel="immediate",
    )
    assert project.notebook.read_bytes() == source
    executed = nbformat.read(output, as_version=4)
    recorded = metrics_in(executed)
    assert list(recorded) == [metric]
    value = recorded[metric]["value"]
    assert (0.0 <= value <= 1.0) if metric == "accuracy" else (-1.0 < value <= 1.0)
    figures = [
        o for c in executed.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})
    ]
    assert len(figures) >= 2
    # The injected parameters really switched to the smoke profile (the small subset).
    text = "".join(
        o.get("text", "") for c in executed.cells for o in c.get("outputs", [])
    )
    rows = re.search(r"train \((\d+),", text)
    assert rows is not None and 0 < int(rows[1]) <= 256
    assert (project.path / "data").is_dir()
    displayed = [o for c in executed.cells for o in c.get("outputs", [])
                 if METRIC_MIME in o.get("data", {})]
    assert f"{metric} = " in displayed[0]["data"]["text/plain"]


def test_the_new_starters_run_offline_through_hundred_run(
    monorepo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """nlp, time-series and generative on their offline data, as CI runs them: one run."""
    for name in ("001-sentiment-study", "002-sales-forecast", "003-digits-autoencoder"):
        scaffold.new_project(name, monorepo)
    assert main(["-C", str(monorepo), "run", "--jobs", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    metrics = {r["project"]: {k: m["value"] for k, m in r["metrics"].items()}
               for r in report["results"]}
    assert [r["status"] for r in report["results"]] == ["passed"] * 3
    assert 0.5 < metrics["001-sentiment-study"]["accuracy"] <= 1.0  # 3 classes: chance is 1/3
    forecast = metrics["002-sales-forecast"]
    assert list(forecast) == ["mae", "mae_vs_seasonal_naive"] and forecast["mae"] > 0
    assert forecast["mae_vs_seasonal_naive"] < 1.0  # the model beats the seasonal-naive baseline
    assert 0.0 < metrics["003-digits-autoencoder"]["reconstruction_mse"] < 0.25
    for result in report["results"]:
        executed = nbformat.read(monorepo / result["notebook"], as_version=4)
        figures = [o for c in executed.cells for o in c.get("outputs", [])
                   if "image/png" in o.get("data", {})]
        assert len(figures) >= 2, result["project"]
    assert report["results"][0]["metrics"]["accuracy"]["higher_is_better"] is True
    assert report["results"][1]["metrics"]["mae"]["higher_is_better"] is False


def test_console_scripts_work_as_real_processes(monorepo: Path) -> None:
    bindir = Path(sys.executable).parent
    new_project = shutil.which("new-project", path=str(bindir)) or shutil.which("new-project")
    hundred = shutil.which("hundred", path=str(bindir)) or shutil.which("hundred")
    assert new_project and hundred
    made = subprocess.run([new_project, "cnn-cifar"], cwd=monorepo / "projects",
                          capture_output=True, text=True, check=False)
    assert made.returncode == 0, made.stderr
    assert "created projects/001-cnn-cifar: vision starter on cifar10" in made.stdout
    again = subprocess.run([new_project, "001-cnn-cifar"], cwd=monorepo,
                           capture_output=True, text=True, check=False)
    assert again.returncode == 2
    assert again.stderr.startswith("error: projects/001-cnn-cifar already exists")
    listed = subprocess.run([hundred, "list", "--json"], cwd=monorepo,
                            capture_output=True, text=True, check=True)
    rows = json.loads(listed.stdout)
    assert [(r["number"], r["title"], r["kind"]) for r in rows] == [(1, "CNN CIFAR", "vision")]
