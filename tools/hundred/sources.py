"""Template sources: a project template of the user's own, copier or cookiecutter, from a folder
or a git URL.

``render_template`` finds the template (a local folder, or a git repository cloned into a
temporary folder), tells copier from cookiecutter by the file that declares its variables
(``copier.yml``, ``cookiecutter.json``, or cookiecutter-data-science's ``ccds.json``), renders it
with that tool's Python API into a project's staging folder, passing hundred's values to the
variables the template declares, and then adds what hundred needs that the template lacks: a
writeup with front matter and a notebook at the project's root.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from hundred.catalog import (
    NOTEBOOK,
    WRITEUP,
    Project,
    ProjectName,
    read_writeup,
    split_front_matter,
)
from hundred.errors import HundredError

Tool = Literal["copier", "cookiecutter"]
# The file that declares a template's variables, and the tool that renders it: the first found
# wins. cookiecutter-data-science v2 keeps cookiecutter's format under its own name.
CONFIGS: tuple[tuple[str, Tool], ...] = (
    ("copier.yml", "copier"),
    ("copier.yaml", "copier"),
    ("cookiecutter.json", "cookiecutter"),
    ("ccds.json", "cookiecutter"),
)
# What git and the two tools read as a repository rather than a path: a URL with a scheme,
# scp-like user@host:path, and the tools' gh:/gl:/bb: abbreviations.
_REMOTE = re.compile(r"(?:[a-z][a-z0-9+.-]*://|git@|gh:|gl:|bb:|[\w.-]+@[\w.-]+:)", re.I)
_SUMMARY = "One sentence: what this project shows."


@dataclass(frozen=True)
class TemplateSource:
    """A template found and fetched: its files on disk and the tool that renders it."""

    given: str  # as the user wrote it
    folder: Path  # the folder itself, or a fresh clone of the repository
    tool: Tool
    config: str  # the file that declares its variables: copier.yml, cookiecutter.json...
    remote: str | None  # the URL copier is given to clone, so it records _src_path and _commit


@dataclass(frozen=True)
class Rendered:
    """What ``render_template`` did: the template, its tool, one notice per thing it added."""

    source: str
    tool: Tool
    notices: tuple[str, ...]


@dataclass(frozen=True)
class TemplatedProject(Project):
    """A project made from a template of the user's own, with what rendering it did."""

    rendered: Rendered


def is_remote(src: str) -> bool:
    """Whether ``src`` names a git repository to clone rather than a local folder."""
    return _REMOTE.match(src) is not None


def local_folder(src: str, base: Path) -> Path:
    """The absolute folder a local ``src`` names, a relative one read from ``base``."""
    path = Path(src).expanduser()
    return Path(os.path.normpath(path if path.is_absolute() else base / path))


def chosen_template(
    root: Path, template: str | None, configured: str | None, *, builtin: Path
) -> tuple[str, Path] | None:
    """The template ``new-project`` renders and the folder a relative path in it is read from:
    ``template`` (given on the command line: from the current folder), else ``configured``
    (``[tool.hundred] template``: from the monorepo's root). None means hundred's own template,
    also when the source names its folder ``builtin``.
    """
    if template is not None:
        chosen, base = template, Path.cwd()
    elif configured is not None:
        chosen, base = configured, root
    else:
        return None
    if not is_remote(chosen) and local_folder(chosen, base) == Path(os.path.normpath(builtin)):
        return None
    return chosen, base


def render_template(
    src: str, staging: Path, answers: Mapping[str, Any], *, base: Path, root: Path
) -> Rendered:
    """Render the template ``src`` into ``staging`` and add what hundred needs.

    ``answers`` are the project's values (number, slug, title, date, kind, difficulty, stage);
    the template gets each under the names it declares, and its defaults for the rest, with no
    questions asked. Every failure is a ``HundredError`` of one line; the caller removes
    ``staging``, so nothing is written.
    """
    with open_template(src, base=base) as source:
        values = template_values(source, known_values(answers, root))
        try:
            if source.tool == "copier":
                _render_copier(source, staging, values, root)
            else:
                with _cookiecutter_log_for_debug_only():
                    _render_cookiecutter(source, staging, values)
        except (KeyboardInterrupt, HundredError):
            raise
        except Exception as error:
            raise HundredError(_failure(source, error)) from error
    notices = complete_project(staging, answers, src)
    return Rendered(src, source.tool, tuple(notices))


@contextlib.contextmanager
def open_template(src: str, *, base: Path) -> Iterator[TemplateSource]:
    """The template ``src``: a local folder, or a git repository cloned for the block's length."""
    if not is_remote(src):
        folder = local_folder(src, base)
        if not folder.is_dir():
            raise HundredError(
                f"no template folder {src} ({folder} does not exist or is not a folder); give "
                "a folder holding copier.yml, cookiecutter.json or ccds.json, or a git URL"
            )
        yield _detect(src, folder, remote=None)
        return
    url = _git_url(src)
    with tempfile.TemporaryDirectory(prefix="hundred-template-") as scratch:
        folder = _clone(src, url, Path(scratch) / _repository_name(url))
        yield _detect(src, folder, remote=_copier_url(src, url))


def _detect(given: str, folder: Path, *, remote: str | None) -> TemplateSource:
    for config, tool in CONFIGS:
        if (folder / config).is_file():
            return TemplateSource(given, folder, tool, config, remote)
    raise HundredError(
        f"{given} has no copier.yml, cookiecutter.json or ccds.json, so it is not a template "
        "hundred can render; point --template at a copier or cookiecutter template"
    )


def _git_url(src: str) -> str:
    """What git clones: the tools' abbreviations expanded, pip's ``git+`` prefix dropped."""
    from cookiecutter.config import BUILTIN_ABBREVIATIONS
    from cookiecutter.repository import expand_abbreviations

    url: str = expand_abbreviations(src, BUILTIN_ABBREVIATIONS)
    return url.removeprefix("git+")


def _copier_url(src: str, url: str) -> str:
    """What copier is given: it reads gh:, gl:, git@ and git+ itself and records them as typed,
    and takes any other URL for a local path unless it ends in .git or starts with git+."""
    if src.startswith(("gh:", "gl:", "git@", "git+")):
        return src
    return url if url.endswith(".git") else f"git+{url}"


def _repository_name(url: str) -> str:
    name = re.split(r"[/:]", url.rstrip("/"))[-1].removesuffix(".git")
    return re.sub(r"[^\w.-]", "-", name) or "template"


def _clone(src: str, url: str, dest: Path) -> Path:
    # No prompt for a password: a template that needs one fails here with git's own reason.
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    try:
        subprocess.run(
            ["git", "clone", "--quiet", "--depth", "1", "--", url, str(dest)],
            check=True, capture_output=True, text=True, env=env,
        )
    except FileNotFoundError:
        raise HundredError(
            f"git is not installed, so the template {src} cannot be cloned; install git or "
            "give a local folder"
        ) from None
    except subprocess.CalledProcessError as error:
        lines = [line.strip() for line in (error.stderr or "").splitlines() if line.strip()]
        fatal = [line for line in lines if line.startswith("fatal:")]
        reason = (fatal or lines or [f"git exited with {error.returncode}"])[0]
        raise HundredError(
            f"cannot clone the template {src} ({reason}); check the URL and that you can "
            "reach it, or give a local folder"
        ) from None
    return dest


def known_values(answers: Mapping[str, Any], root: Path) -> dict[str, Any]:
    """hundred's values under their own names and the names public templates use for them."""
    title, slug = answers["title"], answers["slug"]
    known = {name: answers[name]
             for name in ("number", "slug", "title", "date", "kind", "difficulty", "stage")}
    known |= {"project_name": title, "repo_name": slug, "project_slug": slug}
    module = slug.replace("-", "_")
    if module.isidentifier():  # else the template's own rule makes one from project_name
        known |= {"module_name": module, "package_name": module}
    author = _git_config("user.name", root)
    if author:
        known |= {"author_name": author, "author": author, "full_name": author}
    email = _git_config("user.email", root)
    if email:
        known |= {"author_email": email, "email": email}
    return known


def _git_config(key: str, root: Path) -> str | None:
    try:
        done = subprocess.run(["git", "config", "--get", key], cwd=root, capture_output=True,
                              text=True, check=False)
    except OSError:
        return None
    return done.stdout.strip() or None


def declared_variables(source: TemplateSource) -> dict[str, Any]:
    """The template's variables: copier's questions (each a mapping) or cookiecutter's keys
    (each its default value); names starting with ``_`` are settings, not variables."""
    path = source.folder / source.config
    text = path.read_text(encoding="utf-8")
    if source.tool == "cookiecutter":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise HundredError(
                f"{source.given}: {source.config} is not valid JSON ({error}); fix the template"
            ) from None
        found = data if isinstance(data, dict) else {}
    else:
        found = _copier_questions(source, text)
    return {name: spec for name, spec in found.items()
            if isinstance(name, str) and not name.startswith("_")}


class _CopierLoader(yaml.SafeLoader):
    """copier.yml's YAML; copier's own tags (``!include``) read as nothing, not as an error."""


_CopierLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def _copier_questions(source: TemplateSource, text: str) -> dict[str, Any]:
    # copier merges the documents of a multi-document copier.yml; so does this.
    merged: dict[str, Any] = {}
    try:
        for document in yaml.load_all(text, Loader=_CopierLoader):
            if isinstance(document, dict):
                merged |= document
    except yaml.YAMLError as error:
        problem = " ".join(str(error).split())
        raise HundredError(
            f"{source.given}: {source.config} is not valid YAML ({problem}); fix the template"
        ) from None
    # A question given as `name: default` is copier's short form of `name: {default: ...}`.
    return {name: spec if isinstance(spec, dict) else {"default": spec}
            for name, spec in merged.items()}


def template_values(source: TemplateSource, known: Mapping[str, Any]) -> dict[str, Any]:
    """The ``known`` values the template declares and accepts, by the names it declares."""
    declared = declared_variables(source)
    values: dict[str, Any] = {}
    for name, value in known.items():
        if name not in declared:
            continue
        fitted = (_copier_fit(declared[name], value) if source.tool == "copier"
                  else _cookiecutter_fit(declared[name], value))
        if fitted is not _SKIP:
            values[name] = fitted
    return values


_SKIP = object()


def _copier_fit(question: Any, value: Any) -> Any:
    if not isinstance(question, dict) or question.get("when") is False:
        return _SKIP  # derived, never asked: the template computes it
    choices = question.get("choices")
    if choices is None:
        return value
    if isinstance(choices, dict):
        allowed = list(choices.values())
    elif isinstance(choices, list):
        allowed = [_choice_value(choice) for choice in choices]
    else:
        return _SKIP  # choices computed by a Jinja expression: only copier can tell
    return _among(value, allowed)


def _choice_value(choice: Any) -> Any:
    if isinstance(choice, list) and len(choice) == 2:  # [label, value]
        return choice[1]
    if isinstance(choice, dict) and "value" in choice:
        return choice["value"]
    return choice


def _cookiecutter_fit(default: Any, value: Any) -> Any:
    if isinstance(default, list):  # a choice: cookiecutter refuses a value not among them
        return _among(value, default)
    if isinstance(default, (bool, dict)) or default is None:
        return _SKIP  # a yes/no or a dict of settings: not what hundred's values are
    return value


def _among(value: Any, allowed: list[Any]) -> Any:
    if value in allowed:
        return value
    return str(value) if str(value) in allowed else _SKIP


def _render_copier(source: TemplateSource, staging: Path, data: dict[str, Any],
                   root: Path) -> None:
    from copier import run_copy

    # copier records the source as given in the answers file (with _commit for git), so that
    # `copier update` works later: a URL as typed, a folder inside the monorepo relative to the
    # project (the staging folder sits where the project will), any other folder absolute.
    if source.remote is not None:
        given = source.remote
    elif source.folder.is_relative_to(root.resolve()) or source.folder.is_relative_to(root):
        given = os.path.relpath(source.folder, staging)
    else:
        given = str(source.folder)
    with contextlib.chdir(staging):
        run_copy(given, ".", data=data, defaults=True, quiet=True, overwrite=True,
                 cleanup_on_error=False)


def _render_cookiecutter(source: TemplateSource, staging: Path, context: dict[str, Any]) -> None:
    from cookiecutter.main import cookiecutter

    with tempfile.TemporaryDirectory(prefix="hundred-cookiecutter-") as scratch:
        # cookiecutter reads only cookiecutter.json: a copy names ccds.json so, and the user's
        # template stays untouched. The copy keeps the template's folder name, which cookiecutter
        # uses to name its replay file.
        copy = Path(scratch) / "template" / source.folder.name
        shutil.copytree(source.folder, copy, symlinks=True, ignore=shutil.ignore_patterns(".git"))
        if source.config != "cookiecutter.json":
            (copy / source.config).replace(copy / "cookiecutter.json")
        output = Path(scratch) / "output"
        made = Path(cookiecutter(str(copy), no_input=True, extra_context=context,
                                 output_dir=str(output), accept_hooks=True))
        # cookiecutter renders into a folder named by the template's top folder; the project
        # is that folder's contents.
        for child in made.iterdir():
            shutil.move(child, staging / child.name)


@contextlib.contextmanager
def _cookiecutter_log_for_debug_only() -> Iterator[None]:
    """cookiecutter logs a failing hook's traceback as an error; hundred raises one line for it
    instead, and shows tracebacks only with --verbose (the debug level)."""
    logger = logging.getLogger("cookiecutter")
    previous = logger.level
    if not logging.getLogger().isEnabledFor(logging.DEBUG):
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(previous)


def _failure(source: TemplateSource, error: Exception) -> str:
    from copier.errors import UnsafeTemplateError

    if isinstance(error, UnsafeTemplateError):
        return (
            f"the template {source.given} runs tasks or other code of its own, which copier "
            "does not do for an untrusted template; if you trust it, add it to 'trust' in "
            "copier's settings.yml and run again; nothing was written"
        )
    reason = " ".join(str(error).split())
    if len(reason) > 300:
        reason = reason[:297] + "..."
    hint = ""
    if source.config == "ccds.json" and type(error).__name__ == "FailedHookException":
        hint = " (cookiecutter-data-science's hooks import its package: pip install " \
               "cookiecutter-data-science)"
    return (
        f"rendering the template {source.given} failed ({type(error).__name__}: {reason}){hint}; "
        "nothing was written: fix the template or run with --verbose"
    )


def complete_project(staging: Path, answers: Mapping[str, Any], src: str) -> list[str]:
    """Add what hundred needs and the rendered template lacks; one notice per addition."""
    name = ProjectName(int(answers["number"]), str(answers["slug"]))
    notices = [*_complete_writeup(staging, answers, name, src),
               *_complete_notebook(staging, answers)]
    nested = staging / ".git"
    if nested.exists():
        # A hook that ran `git init` made a repository inside the monorepo's own.
        shutil.rmtree(nested)
        notices.append("removed the .git folder the template made: the project belongs to the "
                       "monorepo's repository")
    return notices


def front_matter(answers: Mapping[str, Any]) -> str:
    """hundred's front matter for a writeup, from the project's values."""
    fields: dict[str, Any] = {
        "title": answers["title"],
        "number": answers["number"],
        "slug": answers["slug"],
        "date": dt.date.fromisoformat(str(answers["date"])),
        "kind": answers["kind"],
        "tags": [answers["kind"]],
        "difficulty": answers["difficulty"],
    }
    if answers.get("stage"):
        fields["stage"] = answers["stage"]
    fields["summary"] = _SUMMARY
    # Flow style for the tags list only, as hundred's own template writes it: tags: [tabular]
    dumped = yaml.safe_dump(fields, sort_keys=False, allow_unicode=True, width=1000,
                            default_flow_style=None)
    return f"---\n{dumped}---\n"


def _complete_writeup(staging: Path, answers: Mapping[str, Any], name: ProjectName,
                      src: str) -> list[str]:
    path = staging / WRITEUP
    if not path.is_file():
        path.write_text(front_matter(answers) + _writeup_body(staging, answers, src),
                        encoding="utf-8")
        return ["added writeup.md with hundred's front matter (the template has none)"]
    text = path.read_text(encoding="utf-8", errors="replace")
    head, _ = split_front_matter(text)
    if not head:
        path.write_text(front_matter(answers) + "\n" + text, encoding="utf-8")
        return ["added hundred's front matter to the template's writeup.md"]
    try:
        read_writeup(path, expected=name)
    except HundredError as error:
        # The error names the staging folder, which is gone by the time the user reads it.
        problem = re.sub(r"\S*writeup\.md", "writeup.md", str(error), count=1)
        raise HundredError(
            f"the template {src} renders a writeup.md hundred cannot use ({problem}); fix the "
            "template's writeup.md or leave it out; nothing was written"
        ) from None
    return []


def _writeup_body(staging: Path, answers: Mapping[str, Any], src: str) -> str:
    number = f"{int(answers['number']):03d}"
    # README.md stays as the template wrote it, for the repository's readers; the post says
    # where it is without linking it, since the site publishes a linked file beside the post.
    readme = (f"This project began from the template `{src}`; its `README.md` describes what "
              "the template laid out.\n\n") if (staging / "README.md").is_file() else ""
    return (
        f"\n{readme}## Problem\n\nWhat question does this project answer, and why does it "
        "matter to you?\n\n## Data\n\n## Approach\n\n## Results\n\nQuote the numbers of the "
        f"full run (`hundred run {number} --profile full`).\n\n## What I learned\n\n## Next\n"
    )


def _complete_notebook(staging: Path, answers: Mapping[str, Any]) -> list[str]:
    if (staging / NOTEBOOK).is_file():
        return []
    others = sorted(path.relative_to(staging).as_posix() for path in staging.rglob("*.ipynb")
                    if ".ipynb_checkpoints" not in path.parts)
    write_starter_notebook(staging / NOTEBOOK, answers, others)
    kept = f"; {_listing(others)} stay as they are" if others else ""
    return [f"added notebook.ipynb, a minimal notebook that 'hundred run' executes (the template "
            f"has none at the project's root{kept})"]


def _listing(paths: list[str]) -> str:
    shown = ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
    return f"its {shown}"


def write_starter_notebook(path: Path, answers: Mapping[str, Any], others: list[str]) -> None:
    """hundred's smallest runnable notebook: a title and the parameters cell it injects after."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    number = f"{int(answers['number']):03d}"
    pointer = (
        "The template's notebooks (" + ", ".join(f"`{other}`" for other in others) + ") are "
        "kept as they are; move the work to be verified and published here."
        if others else "Write the project's code here."
    )
    title = (f"# {number} · {answers['title']}\n\n`hundred run {number}` executes this notebook "
             f"(`--profile full` for the real experiment). {pointer}")
    parameters = (
        "# Parameters: `hundred run` injects the chosen profile's values after this cell.\n"
        'profile = "full"  # "smoke" proves the notebook runs on tiny data; "full" is the real '
        "experiment\nseed = 0"
    )
    notebook = new_notebook(
        cells=[new_markdown_cell(title),
               new_code_cell(parameters, metadata={"tags": ["parameters"]})],
        metadata={
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
    )
    nbformat.write(notebook, str(path))
