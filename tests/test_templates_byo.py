"""new-project --template: the user's own copier and cookiecutter templates, folders and git."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import nbformat
import papermill
import pytest
import yaml

from hundred import catalog
from hundred.cli import main
from tests.conftest import build_file_tree, snapshot

AUTHOR = "Ada Lovelace"

COPIER_TEMPLATE = {
    "copier.yml": (
        "_answers_file: .copier-answers.yml\n"
        "project_name:\n  type: str\n  default: My project\n"
        "module_name:\n  type: str\n  default: \"{{ project_name | lower | replace(' ', '_') }}\"\n"
        "number:\n  type: int\n  default: 1\n"
        "author_name:\n  type: str\n  default: nobody\n"
        # A choice hundred's kind is not among: the template keeps its default.
        "kind:\n  type: str\n  choices: [classification, regression]\n  default: regression\n"
        "license: MIT\n"
    ),
    "{{_copier_conf.answers_file}}.jinja": "{{ _copier_answers | to_nice_yaml }}",
    "README.md.jinja": (
        "# {{ project_name }}\n\n{{ '%03d' | format(number) }} by {{ author_name }}, "
        "{{ kind }}, {{ license }}\n"
    ),
    "{{ module_name }}/__init__.py.jinja": "NAME = {{ module_name | tojson }}\n",
}

# Shaped like cookiecutter-data-science v2: ccds.json (list and dict-of-choices variables), a
# {{ cookiecutter.repo_name }} folder with notebooks/ and data/, a README and a post-gen hook.
CCDS_TEMPLATE = {
    "ccds.json": json.dumps({
        "project_name": "project_name",
        "repo_name": "{{ cookiecutter.project_name.lower().replace(' ', '_') }}",
        "module_name": "{{ cookiecutter.project_name.lower().replace(' ', '_') }}",
        "author_name": "Your name (or your organization/company/team)",
        "description": "A short description of the project.",
        "python_version_number": ["3.12", "3.11"],
        "dataset_storage": [{"none": "none"}, {"s3": {"bucket": "bucket-name"}}],
    }),
    "{{ cookiecutter.repo_name }}/README.md": (
        "# {{ cookiecutter.project_name }}\n\n{{ cookiecutter.description }}\n\n"
        "By {{ cookiecutter.author_name }}, Python {{ cookiecutter.python_version_number }}\n"
    ),
    "{{ cookiecutter.repo_name }}/notebooks/0.01-pjb-data-source-1.ipynb": json.dumps(
        nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    ),
    "{{ cookiecutter.repo_name }}/data/raw/.gitkeep": "",
    "{{ cookiecutter.repo_name }}/{{ cookiecutter.module_name }}/__init__.py": "",
    "hooks/post_gen_project.py": (
        "import pathlib, subprocess\n"
        "pathlib.Path('storage.txt').write_text("
        "'{{ cookiecutter.dataset_storage | list | first }}')\n"
        "subprocess.run(['git', 'init', '-q'], check=True)\n"
    ),
}


@pytest.fixture(autouse=True)
def _own_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """git's identity and cookiecutter's replay files stay in tmp_path."""
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text(f"[user]\n\tname = {AUTHOR}\n\temail = ada@example.org\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    config = tmp_path / "cookiecutterrc"
    config.write_text(f"cookiecutters_dir: {tmp_path / 'cc'}\nreplay_dir: {tmp_path / 'replay'}\n")
    monkeypatch.setenv("COOKIECUTTER_CONFIG", str(config))


def _set_template(root: Path, value: str) -> None:
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text()
    assert "\n[tool.hundred]\n" in text
    table = "\n[tool.hundred]\n"
    pyproject.write_text(text.replace(table, f"{table}template = {value}\n"))


def _git(folder: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True)


def _commit(folder: Path, tag: str) -> None:
    _git(folder, "add", "-A")
    _git(folder, "commit", "-qm", tag)
    _git(folder, "tag", tag)


def test_a_copier_folder_gets_hundreds_values_and_what_hundred_needs(
    monorepo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = build_file_tree(tmp_path / "my-template", COPIER_TEMPLATE)
    # wine names tabular data: hundred's vision starter would refuse it, a template does not.
    code = main(["-C", str(monorepo), "new", "wine-quality", "--template", str(template),
                 "--kind", "vision", "--title", "Wine quality", "--stage", "CNNs"])
    out = capsys.readouterr().out
    assert code == 0
    project = monorepo / "projects" / "001-wine-quality"
    assert f"created projects/001-wine-quality from {template} (copier)" in out
    assert "note: added writeup.md with hundred's front matter" in out
    assert "note: added notebook.ipynb" in out
    # The declared names got hundred's values; kind was not among the template's choices.
    assert (project / "README.md").read_text() == (
        f"# Wine quality\n\n001 by {AUTHOR}, regression, MIT\n"
    )
    assert (project / "wine_quality" / "__init__.py").read_text() == 'NAME = "wine_quality"\n'
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert recorded["_src_path"] == str(template)
    assert recorded["project_name"] == "Wine quality"
    name = catalog.ProjectName(1, "wine-quality")
    writeup = catalog.read_writeup(project / "writeup.md", expected=name)
    assert (writeup.title, writeup.kind, writeup.stage) == ("Wine quality", "vision", "CNNs")
    assert writeup.date == dt.date.today()
    assert "`README.md`" in (project / "writeup.md").read_text()
    notebook = nbformat.read(project / "notebook.ipynb", as_version=4)
    nbformat.validate(notebook)
    parameters = [cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(parameters) == 1 and 'profile = "full"' in parameters[0].source
    assert notebook.cells[0].source.startswith("# 001 · Wine quality")
    # Nothing else was left in projects/: no staging folder.
    assert [p.name for p in (monorepo / "projects").iterdir()] == ["001-wine-quality"]


def test_a_git_copier_template_records_its_commit_so_copier_update_works(
    monorepo: Path, tmp_path: Path
) -> None:
    from copier import run_update

    template = build_file_tree(tmp_path / "remote-template", COPIER_TEMPLATE)
    _git(template, "init", "-q")
    _commit(template, "1.0.0")
    url = template.as_uri()  # file://..., cloned like any remote
    assert main(["-C", str(monorepo), "new", "042-titanic", "--template", url]) == 0
    project = monorepo / "projects" / "042-titanic"
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert (recorded["_commit"], recorded["_src_path"]) == ("1.0.0", f"git+{url}")
    # The user can update the project from a newer release of the template themselves.
    (template / "CHANGELOG.md").write_text("1.1.0\n")
    _commit(template, "1.1.0")
    _git(monorepo, "init", "-q")
    _commit(monorepo, "start")
    run_update(str(project), defaults=True, overwrite=True, quiet=True)
    assert (project / "CHANGELOG.md").read_text() == "1.1.0\n"
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["_commit"] == "1.1.0"


def test_a_cookiecutter_data_science_template_renders_and_its_notebook_runs(
    monorepo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = build_file_tree(tmp_path / "ccds", CCDS_TEMPLATE)
    before = snapshot(template)
    assert main(["-C", str(monorepo), "new", "007-house-prices", "--template", str(template)]) == 0
    out = capsys.readouterr().out
    project = monorepo / "projects" / "007-house-prices"
    assert f"created projects/007-house-prices from {template} (cookiecutter)" in out
    assert "notebooks/0.01-pjb-data-source-1.ipynb stay as they are" in out
    assert "removed the .git folder" in out
    assert snapshot(template) == before  # ccds.json was renamed in a copy only
    # The repo_name folder's contents are the project; module_name follows the slug.
    assert (project / "README.md").read_text() == (
        f"# House Prices\n\nA short description of the project.\n\nBy {AUTHOR}, Python 3.12\n"
    )
    assert (project / "house_prices" / "__init__.py").is_file()
    assert (project / "data" / "raw" / ".gitkeep").is_file()
    assert (project / "storage.txt").read_text() == "none"  # the hook ran, with the defaults
    assert not (project / ".git").exists()
    assert (project / "notebooks" / "0.01-pjb-data-source-1.ipynb").is_file()
    found = catalog.scan(monorepo)
    assert [(p.name.folder, p.writeup.kind) for p in found.projects] == [
        ("007-house-prices", "tabular")
    ]
    # The notebook hundred added runs at once with the smoke profile.
    output = tmp_path / "out.ipynb"
    papermill.execute_notebook(
        project / "notebook.ipynb", output, parameters={"profile": "smoke"}, cwd=project,
        kernel_name="python3", progress_bar=False, shutdown_kernel="immediate",
    )
    assert "notebooks/0.01-pjb-data-source-1.ipynb" in nbformat.read(output, 4).cells[0].source


def test_the_configured_template_is_the_default_and_hundreds_own_stays_reachable(
    monorepo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    build_file_tree(monorepo / "templates" / "mine", COPIER_TEMPLATE)
    # A writeup of the template's own without front matter gets hundred's on top.
    build_file_tree(monorepo / "templates" / "mine", {"writeup.md.jinja": "My notes.\n"})
    _set_template(monorepo, '"templates/mine"')
    monkeypatch.chdir(tmp_path)  # relative to the monorepo, not to the current folder
    assert main(["-C", str(monorepo), "new", "first"]) == 0
    out = capsys.readouterr().out
    assert "from templates/mine (copier)" in out
    assert "note: added hundred's front matter to the template's writeup.md" in out
    first = monorepo / "projects" / "001-first"
    assert (first / "writeup.md").read_text().endswith("---\n\nMy notes.\n")
    catalog.read_writeup(first / "writeup.md", expected=catalog.ProjectName(1, "first"))
    # Inside the monorepo, copier records the template relative to the project.
    assert yaml.safe_load((first / ".copier-answers.yml").read_text())["_src_path"] == (
        "../../templates/mine"
    )
    monkeypatch.chdir(monorepo)
    assert main(["new", "second", "--template", "templates/project"]) == 0
    assert "created projects/002-second: tabular starter on wine" in capsys.readouterr().out


def _jinja_error(tmp_path: Path) -> str:
    build_file_tree(tmp_path / "broken", {"copier.yml": "name: x\n",
                                          "README.md.jinja": "{{ name | no_such_filter }}\n"})
    return str(tmp_path / "broken")


def _failing_hook(tmp_path: Path) -> str:
    build_file_tree(tmp_path / "hooked", {
        "cookiecutter.json": '{"repo_name": "x"}',
        "{{ cookiecutter.repo_name }}/README.md": "hi\n",
        "hooks/post_gen_project.py": "raise SystemExit(3)\n",
    })
    return str(tmp_path / "hooked")


def _bad_writeup(tmp_path: Path) -> str:
    build_file_tree(tmp_path / "bad-writeup", {"copier.yml": "name: x\n",
                                                "writeup.md": "---\ntitle: [\n---\n"})
    return str(tmp_path / "bad-writeup")


def _not_a_template(tmp_path: Path) -> str:
    build_file_tree(tmp_path / "plain", {"README.md": "not a template\n"})
    return str(tmp_path / "plain")


BAD_SOURCES = [
    (lambda tmp: str(tmp / "missing"), "no template folder"),
    (_not_a_template, "has no copier.yml, cookiecutter.json or ccds.json"),
    (lambda tmp: (tmp / "nowhere.git").as_uri(), "cannot clone the template file://"),
    (_jinja_error, "rendering the template"),
    (_failing_hook, "rendering the template"),
    (_bad_writeup, "renders a writeup.md hundred cannot use"),
]


@pytest.mark.parametrize(("make", "message"), BAD_SOURCES,
                         ids=["missing", "not-a-template", "no-clone", "jinja", "hook", "writeup"])
def test_a_bad_source_is_one_line_exit_2_and_writes_nothing(
    monorepo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], make: object,
    message: str,
) -> None:
    assert callable(make)
    src = make(tmp_path)
    before = snapshot(monorepo)
    assert main(["-C", str(monorepo), "new", "042-x", "--template", src]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert "created" not in captured.out
    assert snapshot(monorepo) == before


def test_a_failing_hook_is_one_line_without_cookiecutters_traceback(
    monorepo: Path, tmp_path: Path
) -> None:
    command = shutil.which("new-project")
    assert command is not None
    done = subprocess.run(
        [command, "-C", str(monorepo), "042-x", "--template", _failing_hook(tmp_path)],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"error: rendering the template {tmp_path / 'hooked'} failed (FailedHookException: Hook "
        "script failed (exit status: 3)); nothing was written: fix the template or run with "
        "--verbose"
    ]


def test_a_template_setting_that_is_not_a_string_is_refused(
    monorepo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _set_template(monorepo, "3")
    assert main(["-C", str(monorepo), "new", "x"]) == 2
    assert "[tool.hundred] template must be the folder or git URL" in capsys.readouterr().err
    assert not any((monorepo / "projects").iterdir())
