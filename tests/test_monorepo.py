"""`hundred init`: a learner's own monorepo, rendered for real, that builds, scaffolds and tests."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from hundred.cli import main
from hundred.monorepo import init_monorepo, installed_hundred_spec, template_path
from tests.conftest import REPO, snapshot

TEMPLATE = REPO / "templates" / "monorepo"
ANSWERS = {
    "title": "Ada's 30 projects", "author": "Ada Lovelace", "github_owner": "ada-l",
    "github_repo": "ml-30", "target": "30", "start": "2026-09-01", "end": "2027-03-01",
    "roadmap": "classic-ml", "license": "MIT",
}
# This repository's own answers: rendering them must give back the files the two share.
OWN_ANSWERS = {
    "title": "100 ML projects", "author": "hundred", "github_owner": "example",
    "github_repo": "hundred", "target": "100", "start": "2026-09-01", "end": "2027-08-31",
    "roadmap": "deep-learning", "license": "MIT",
}


def _set(answers: dict[str, str]) -> list[str]:
    return [part for key, value in answers.items() for part in ("--set", f"{key}={value}")]


def _git(repo: Path, *arguments: str) -> str:
    return subprocess.run(["git", *arguments], cwd=repo, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_init_makes_a_monorepo_that_builds_scaffolds_and_passes_its_tests(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "ml-30"
    assert main(["init", str(root), "--no-input", *_set(ANSWERS)]) == 0
    assert "next: cd" in capsys.readouterr().out
    assert sorted(path.name for path in tmp_path.iterdir()) == ["ml-30"]  # no staging left
    assert _git(root, "log", "--format=%an <%ae>|%s") == (
        "Ada Lovelace <ada-l@users.noreply.github.com>|Start the challenge: Ada's 30 projects")
    assert _git(root, "status", "--porcelain") == ""
    assert _git(root, "branch", "--show-current") == "main"
    assert list((root / "projects").iterdir()) == [root / "projects" / ".gitkeep"]
    assert not (root / "docs" / "benchmarks.md").exists()
    assert "example" not in (root / "mkdocs.yml").read_text()

    for name in ("001-titanic-eda", "iris-knn"):
        assert main(["-C", str(root), "new", name]) == 0
    assert main(["-C", str(root), "build", "--jobs", "2"]) == 0
    home = (root / "site" / "index.html").read_text()
    assert "<strong>0</strong> / 30 projects done" in home
    assert "Trees and ensembles" in home and "Maths" not in home  # the classic-ML roadmap
    assert (root / "site" / "blog" / "001-titanic-eda" / "index.html").is_file()
    assert (root / "site" / "blog" / "002-iris-knn" / "index.html").is_file()

    assert main(["-C", str(root), "readme"]) == 0  # two projects in progress now: record them
    checks = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                            cwd=root, capture_output=True, text=True, check=False)
    assert checks.returncode == 0, checks.stdout[-3000:]
    assert "4 passed" in checks.stdout  # writeups, two notebooks without outputs, README


def test_the_installed_command_asks_for_what_was_not_given(tmp_path: Path) -> None:
    typed = "Ada's projects\nAda Lovelace\nada-l\n\n\n50\n\n\nempty\n"  # blank: default
    done = subprocess.run(["hundred", "init", "mine", "--set", "license=CC-BY-4.0"],
                          cwd=tmp_path, input=typed, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "Target number of projects (1-999) [100]:" in done.stdout
    assert "Licence" not in done.stdout  # given with --set: not asked
    pyproject = tomllib.loads((tmp_path / "mine" / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == "my-100-projects"
    assert pyproject["tool"]["hundred"]["target"] == 50
    assert "stages: []" in (tmp_path / "mine" / "docs" / "roadmap.yml").read_text()
    assert "Creative Commons" in (tmp_path / "mine" / "LICENSE").read_text()


def test_the_generated_files_are_the_learners_own(tmp_path: Path) -> None:
    root = init_monorepo(tmp_path / "mine", {**ANSWERS, "license": "Apache-2.0"},
                         hundred_spec="0.1.0")
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    assert pyproject["project"]["dependencies"] == ["hundred==0.1.0"]
    assert pyproject["project"]["name"] == "ml-30"
    assert pyproject["project"]["optional-dependencies"]["test"][0] == "ml-30[ml]"
    assert pyproject["tool"]["hundred"] == {"target": 30, "start": _date("2026-09-01"),
                                            "end": _date("2027-03-01")}
    settings = yaml.safe_load((root / "mkdocs.yml").read_text())
    assert settings["site_name"] == "Ada's 30 projects"
    assert settings["site_url"] == "https://ada-l.github.io/ml-30/"
    plugin = next(p["hundred"] for p in settings["plugins"] if isinstance(p, dict)
                  and "hundred" in p)
    assert plugin["repo_url"] == "https://github.com/ada-l/ml-30"
    license_text = (root / "LICENSE").read_text()
    assert license_text.startswith("Copyright 2026 Ada Lovelace\n")
    assert "Apache License" in license_text
    assert yaml.safe_load((root / "docs" / "goals.yml").read_text()) is None  # all commented
    readme = (root / "README.md").read_text()
    quickstart = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    assert quickstart.count("```bash") == 2
    assert 'pip install -e ".[ml]" && hundred build' in quickstart
    assert 'pip install -e ".[test]" && pytest' in quickstart
    assert 'pip install -e ".[notebook]"' in readme
    assert pyproject["project"]["optional-dependencies"]["notebook"] == ["jupyterlab>=4"]
    assert "hundred publish" in readme and ".github/workflows/pages.yml" in readme
    helper = subprocess.run(
        [sys.executable, "-c", "import helpers; print(helpers.plot_curves.__name__)"],
        cwd=root, env={**os.environ, "PYTHONPATH": str(root / "tools")}, capture_output=True,
        text=True, check=True)
    assert helper.stdout.strip() == "plot_curves"


def test_by_default_it_depends_on_exactly_the_hundred_that_ran_it(tmp_path: Path) -> None:
    root = init_monorepo(tmp_path / "mine", ANSWERS)
    dependency = tomllib.loads((root / "pyproject.toml").read_text())["project"]["dependencies"]
    assert dependency == [installed_hundred_spec()]
    from importlib.metadata import distribution

    origin = distribution("hundred").read_text("direct_url.json")
    if origin and "dir_info" in json.loads(origin):  # this checkout, installed editable
        assert dependency == [f"hundred @ {REPO.as_uri()}"]


@pytest.mark.parametrize(("license_name", "words"), [
    ("MIT", "Permission is hereby granted"),
    ("CC-BY-4.0", "Creative Commons Attribution 4.0 International"),
])
def test_licence_names_the_author_and_year(tmp_path: Path, license_name: str, words: str) -> None:
    root = init_monorepo(tmp_path / "mine", {**ANSWERS, "license": license_name})
    text = (root / "LICENSE").read_text()
    assert "2026 Ada Lovelace" in text and words in text


def test_the_empty_roadmap_has_no_stages(tmp_path: Path) -> None:
    from hundred.challenge import load_roadmap

    root = init_monorepo(tmp_path / "mine", {**ANSWERS, "roadmap": "empty"})
    assert load_roadmap(root) == []


@pytest.mark.parametrize(("answer", "message"), [
    ("target=0", "target '0' must be a whole number of projects from 1 to 999"),
    ("target=1000", "from 1 to 999"),
    ("target=ten", "from 1 to 999"),
    ("end=2026-08-31", "end 2026-08-31 must come after start 2026-09-01"),
    ("end=2026-09-01", "must come after start"),
    ("start=1 Sept", "start '1 Sept' is not a date; write it as YYYY-MM-DD"),
    ("github_owner=-ada", "is not a GitHub user or organisation name"),
    ("github_owner=ada--l", "is not a GitHub user or organisation name"),
    ("github_repo=my repo", "is not a valid repository name"),
    ("github_repo=ml.git", "is not a valid repository name"),
    ("roadmap=nlp", "roadmap 'nlp' is not one of deep-learning, classic-ml, empty"),
    ("license=GPL", "license 'GPL' is not one of MIT, CC-BY-4.0, Apache-2.0"),
    ("colour=blue", "unknown answer 'colour'"),
    ("author=", "author '' must be one line"),
    ("email=nobody", "is not an e-mail address"),
])
def test_bad_answers_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], answer: str, message: str
) -> None:
    before = snapshot(tmp_path)
    assert main(["init", str(tmp_path / "mine"), "--no-input", *_set(ANSWERS),
                 "--set", answer]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert snapshot(tmp_path) == before


def test_a_bad_hundred_spec_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(tmp_path)
    assert main(["init", str(tmp_path / "mine"), "--no-input", "--hundred", "numpy>=2"]) == 2
    assert "is not a requirement for hundred" in capsys.readouterr().err
    assert snapshot(tmp_path) == before


def test_an_existing_non_empty_folder_is_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    before = snapshot(tmp_path)
    assert main(["init", str(tmp_path / "mine"), "--no-input"]) == 2
    err = capsys.readouterr().err
    assert "already exists and is not empty" in err and err.count("\n") == 1
    assert snapshot(tmp_path) == before


def test_an_empty_existing_folder_is_filled(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    assert main(["init", str(tmp_path / "mine"), "--no-input"]) == 0
    assert (tmp_path / "mine" / "mkdocs.yml").is_file()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["mine"]


def test_an_unwritable_location_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if os.geteuid() == 0:  # root writes anywhere a mode allows nothing: use a kernel folder
        parent = Path("/proc")
    else:
        parent = tmp_path / "locked"
        parent.mkdir(mode=0o555)
    assert main(["init", str(parent / "mine"), "--no-input"]) == 2
    err = capsys.readouterr().err
    assert f"cannot write in {parent}" in err and err.count("\n") == 1
    assert not (parent / "mine").exists()
    if parent != Path("/proc"):
        assert list(parent.iterdir()) == []


def test_a_missing_parent_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(tmp_path)
    assert main(["init", str(tmp_path / "no" / "mine"), "--no-input"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert snapshot(tmp_path) == before


def test_ctrl_c_mid_render_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import cookiecutter.generate

    real = cookiecutter.generate.generate_file
    rendered: list[str] = []

    def interrupted_after_three(*args: Any, **kwargs: Any) -> None:
        if len(rendered) == 3:
            raise KeyboardInterrupt
        rendered.append(str(args[1]))
        real(*args, **kwargs)

    monkeypatch.setattr(cookiecutter.generate, "generate_file", interrupted_after_three)
    before = snapshot(tmp_path)
    assert main(["init", str(tmp_path / "mine"), "--no-input"]) == 130
    assert len(rendered) == 3  # it was stopped part-way through
    assert capsys.readouterr().err.count("\n") == 1
    assert snapshot(tmp_path) == before


def test_cookiecutter_alone_renders_and_validates(tmp_path: Path) -> None:
    from cookiecutter.exceptions import FailedHookException
    from cookiecutter.main import cookiecutter

    config = _cookiecutter_config(tmp_path)
    out = tmp_path / "out"
    made = Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(out),
                             config_file=str(config)))
    assert made == out / "my-100-projects"
    hundred_settings = tomllib.loads((made / "pyproject.toml").read_text())["tool"]["hundred"]
    start, end = hundred_settings["start"], hundred_settings["end"]
    assert end.year == start.year + 1 and end.month == start.month
    assert main(["-C", str(made), "readme", "--check"]) == 0
    with pytest.raises(FailedHookException):
        cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(tmp_path / "bad"),
                     config_file=str(config), extra_context={"target": "0"})
    assert not (tmp_path / "bad" / "my-100-projects").exists()


def test_the_template_is_found_from_the_installed_package() -> None:
    assert template_path().resolve() == TEMPLATE.resolve()


def test_a_wheel_ships_both_templates_with_their_hidden_files(tmp_path: Path) -> None:
    """`pipx install hundred` then `hundred init`: the templates travel in the wheel."""
    source = tmp_path / "source"  # a copy: building writes build/ beside the sources
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for folder in ("tools", "templates"):
        shutil.copytree(REPO / folder, source / folder, symlinks=True, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path / "dist"), str(source)], capture_output=True, text=True, check=False)
    assert built.returncode == 0, built.stderr
    [wheel] = (tmp_path / "dist").glob("hundred-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    inside = "hundred/templates/monorepo/{{cookiecutter.folder}}/"
    for name in ("hundred/templates/monorepo/cookiecutter.json",
                 "hundred/templates/monorepo/hooks/pre_gen_project.py",
                 f"{inside}.gitignore", f"{inside}.github/workflows/notebooks.yml",
                 f"{inside}templates/project/copier.yml",
                 "hundred/templates/project/copier.yml"):
        assert name in names, name


# -- one source of truth: what this repository and the template share must not drift apart --


@pytest.fixture(scope="module")
def own_render(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from cookiecutter.main import cookiecutter

    where = tmp_path_factory.mktemp("own")
    return Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(where / "out"),
                             config_file=str(_cookiecutter_config(where)),
                             extra_context={**OWN_ANSWERS, "folder": "own"}))


@pytest.mark.parametrize("shared", [
    ".github/workflows/notebooks.yml", ".github/workflows/pages.yml", ".pre-commit-config.yaml",
    ".gitignore", "docs/roadmap.yml", "docs/blog/index.md",
])
def test_shared_files_have_not_drifted(own_render: Path, shared: str) -> None:
    assert (own_render / shared).read_text() == (REPO / shared).read_text(), (
        f"{shared} differs from templates/monorepo's copy: change both alike")


@pytest.mark.parametrize("shared", [
    "templates/project", "docs/assets/katex", "docs/javascripts", "docs/stylesheets",
])
def test_shared_folders_have_not_drifted(own_render: Path, shared: str) -> None:
    assert _tree(own_render / shared) == _tree(REPO / shared), (
        f"{shared}/ differs from templates/monorepo's copy: copy it over again")


def test_mkdocs_settings_have_not_drifted(own_render: Path) -> None:
    ours = yaml.safe_load((REPO / "mkdocs.yml").read_text())
    theirs = yaml.safe_load((own_render / "mkdocs.yml").read_text())
    for key in ("site_name", "site_description", "site_url", "docs_dir", "edit_uri", "theme",
                "plugins", "markdown_extensions", "extra_javascript", "extra_css"):
        assert theirs[key] == ours[key], f"mkdocs.yml's {key} drifted from the template's"
    assert theirs["nav"] == [item for item in ours["nav"] if "Benchmarks" not in item]


def test_pyproject_settings_have_not_drifted(own_render: Path) -> None:
    ours = tomllib.loads((REPO / "pyproject.toml").read_text())
    theirs = tomllib.loads((own_render / "pyproject.toml").read_text())
    extras = "optional-dependencies"
    assert theirs["project"][extras]["ml"] == ours["project"][extras]["ml"]
    assert theirs["tool"]["hundred"] == {key: ours["tool"]["hundred"][key]
                                         for key in ("target", "start", "end")}
    assert theirs["tool"]["setuptools"] == {"packages": ours["tool"]["setuptools"]["packages"]}
    assert (theirs["tool"]["ruff"]["extend-exclude"] == ours["tool"]["ruff"]["extend-exclude"])


def _tree(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*"))
            if path.is_file() and "__pycache__" not in path.parts}


def _cookiecutter_config(where: Path) -> Path:
    """A config that keeps cookiecutter's replay files out of the home folder."""
    config = where / "cookiecutter.yaml"
    config.write_text(json.dumps({"replay_dir": str(where / "replay"),
                                  "cookiecutters_dir": str(where / "cookiecutters")}))
    return config


def _date(text: str) -> Any:
    import datetime as dt

    return dt.date.fromisoformat(text)


def test_right_after_init_publish_pushes_the_site_for_its_pages_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`hundred publish` (mkdocs gh-deploy) of a new monorepo, to a real local bare remote."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    for variable in ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"):
        monkeypatch.setenv(variable, "Ada Lovelace")
    for variable in ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"):
        monkeypatch.setenv(variable, "ada@example.org")
    root = init_monorepo(tmp_path / "ml-30", ANSWERS)
    bare = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    _git(root, "remote", "add", "origin", str(bare))
    assert main(["-C", str(root), "publish"]) == 0
    assert capsys.readouterr().out.rstrip().endswith(
        "published to origin's gh-pages branch: https://ada-l.github.io/ml-30/")
    published = subprocess.run(["git", "--git-dir", str(bare), "ls-tree", "-r", "--name-only",
                                "gh-pages"], capture_output=True, text=True, check=True).stdout
    assert "index.html" in published.split() and "sitemap.xml" in published.split()
    home = subprocess.run(["git", "--git-dir", str(bare), "show", "gh-pages:index.html"],
                          capture_output=True, text=True, check=True).stdout
    assert "<strong>0</strong> / 30 projects done" in home
