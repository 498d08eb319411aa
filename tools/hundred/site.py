"""The blog's content as plain values: a post per project, and the Projects page.

Everything here works without mkdocs; ``hundred.plugin`` only hands the results to it.
A post is ``blog/posts/<project>/index.md``: its place mirrors ``projects/<project>/writeup.md``,
so a writeup's relative links to its own files and to other writeups keep working.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from hundred import results as store
from hundred.catalog import Project, split_front_matter, unfinished_update
from hundred.config import Settings, load_settings
from hundred.errors import HundredError
from hundred.render import Markdown, render_notebook
from hundred.results import ProjectRuns, RunResult

POSTS = "blog/posts"
# Where the executed notebook's HTML goes, once Markdown has run (see hundred.render).
NOTEBOOK_PLACEHOLDER = "<!-- hundred:notebook -->"
_CONFLICT = re.compile(r"^(<{7}|>{7})( |$)", re.MULTILINE)
_LINK = re.compile(r"(!?\[[^\]]*\]\()([^)\s]+)((?:\s+\"[^\"]*\")?\))")
_EXTERNAL = re.compile(r"^([a-z][a-z0-9+.-]*:|#|/)", re.IGNORECASE)
_GITHUB = re.compile(r"^https?://(?:www\.)?github\.com/([\w.-]+)/([\w.-]+?)(?:\.git)?/?$",
                     re.IGNORECASE)


def project_runs(root: Path, project: Project, settings: Settings | None = None) -> ProjectRuns:
    """The records of ``project`` as the blog shows them (profiles from ``settings``)."""
    settings = settings or load_settings(root)
    return store.project_runs(root, project.name.folder, verify=settings.verify,
                              publish=settings.publish)


@dataclass
class Post:
    """A generated blog post: its path under docs, its Markdown, and files beside it."""

    project: Project
    path: str
    markdown: str
    assets: dict[str, bytes] = field(default_factory=dict)
    draft: bool = False
    notebook_html: str = ""  # replaces NOTEBOOK_PLACEHOLDER in the rendered page

    @property
    def folder(self) -> str:
        return str(PurePosixPath(self.path).parent)


@dataclass(frozen=True)
class Links:
    """Where the project's files live in the repository's web view, if it has one."""

    repo_url: str | None
    branch: str = "main"

    def tree(self, path: str) -> str | None:
        return f"{self.repo_url.rstrip('/')}/tree/{self.branch}/{path}" if self.repo_url else None

    def blob(self, path: str) -> str | None:
        return f"{self.repo_url.rstrip('/')}/blob/{self.branch}/{path}" if self.repo_url else None

    @property
    def github(self) -> str | None:
        """``OWNER/REPO`` when the repository is on github.com, else None."""
        match = _GITHUB.match(self.repo_url or "")
        return f"{match[1]}/{match[2]}" if match else None

    def colab(self, path: str) -> str | None:
        """Where Colab opens the notebook at ``path`` (GitHub repositories only)."""
        github = self.github
        return (f"https://colab.research.google.com/github/{github}/blob/{self.branch}/{path}"
                if github else None)

    def raw(self, path: str) -> str | None:
        """The file itself, to download (GitHub repositories only)."""
        github = self.github
        return (f"https://raw.githubusercontent.com/{github}/{self.branch}/{path}"
                if github else None)

    def notebook(self, path: str) -> list[tuple[str, str]]:
        """A post's links to the notebook at ``path``: open in Colab, view, download.

        Only a view link for a repository not on GitHub, and none without a repository.
        """
        github = self.github
        if github is None:
            blob = self.blob(path)
            return [("View notebook", blob)] if blob else []
        return [("Open in Colab", str(self.colab(path))),
                ("View on GitHub", f"https://github.com/{github}/blob/{self.branch}/{path}"),
                ("Download notebook", str(self.raw(path)))]


def post_path(project: Project) -> str:
    return f"{POSTS}/{project.name.folder}/index.md"


def check_writeup(path: Path, text: str) -> None:
    """Stop on what must never be published: merge-conflict markers."""
    match = _CONFLICT.search(text)
    if match:
        line = text[: match.start()].count("\n") + 1
        raise HundredError(
            f"{path}:{line} holds a merge-conflict marker ({match[1]}); resolve the conflict "
            "before building the site"
        )


def _rewrite_links(body: str, project: Project, root: Path, assets: dict[str, bytes],
                   links: Links) -> str:
    """Make a writeup's relative links work from its post, or fail naming the writeup."""

    def replace(match: re.Match[str]) -> str:
        target = match[2]
        if _EXTERNAL.match(target):
            return match[0]
        path_part, _, anchor = target.partition("#")
        resolved = (project.path / path_part).resolve()
        where = project.writeup_path.relative_to(root)
        if not resolved.exists():
            raise HundredError(
                f"{where} links to {target!r}, which does not exist; fix the link or add the file"
            )
        try:
            inside = resolved.relative_to(project.path.resolve()).as_posix()
        except ValueError:
            inside = None
        if resolved.name == "writeup.md":  # another project's writeup → its post
            new = str(PurePosixPath(path_part).with_name("index.md"))
        elif inside is None or not resolved.is_file():
            raise HundredError(
                f"{where} links to {target!r}, outside its project folder; link to a file "
                "inside the project, or use a full URL"
            )
        elif links.repo_url and resolved.suffix in (".ipynb", ".py") and match[1][0] != "!":
            new = str(links.blob(f"projects/{project.name.folder}/{inside}"))  # source: repo
        else:
            assets[inside] = resolved.read_bytes()  # published beside the post
            new = inside
        return f"{match[1]}{new}{'#' + anchor if anchor else ''}{match[3]}"

    return _LINK.sub(replace, body)


def _front_matter(project: Project, runs: ProjectRuns) -> str:
    writeup = project.writeup
    categories = list(dict.fromkeys([writeup.kind, *writeup.tags]))
    meta: dict[str, Any] = {
        "title": writeup.title,
        "date": writeup.date,
        "slug": project.name.folder,
        "categories": categories,
        "description": writeup.summary or writeup.title,
        "hundred": {"number": project.number, "status": runs.status},
    }
    if writeup.draft:
        meta["draft"] = True
    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---\n"


def _when(run: RunResult) -> str:
    return run.started_at.strftime("%Y-%m-%d %H:%M UTC")


def will_break_box(runs: ProjectRuns) -> str:
    """The admonition of what will break on upgrade ("" when the run raised no deprecation)."""
    found = runs.deprecations
    if not found:
        return ""
    lines = [f'\n!!! warning "Will break on upgrade: {len(found)} deprecation '
             f'warning{"s" if len(found) != 1 else ""}"',
             "    The latest run raised these warnings: the calls still work today and stop "
             "working when the library removes them.", ""]
    for found_one in found:
        where = f"cell {found_one.cell}: " if found_one.cell is not None else ""
        who = f"**{found_one.library}**: " if found_one.library else ""
        call = f"`{_one_line(found_one.call)}`: " if found_one.call else ""
        message = _one_line(found_one.message).replace("<", "&lt;")
        lines.append(f"    - {where}{who}{call}{message}")
    return "\n".join(lines) + "\n"


def results_box(project: Project, runs: ProjectRuns) -> str:
    """The admonition at the top of a post: verification status and headline metrics."""
    number = f"{project.number:03d}"
    failure = runs.failure
    if failure is not None:
        error = failure.error
        where = f" in {error.where()}" if error and error.cell else ""
        lines = [f'!!! failure "Failing: the latest {failure.profile} run failed"',
                 f"    The {failure.profile} run of {_when(failure)} ended with "
                 f"**{failure.failure}**{where}"
                 + (f": `{error.ename}: {_one_line(error.evalue)}`" if error else "") + "."]
        if error and error.line:
            lines.append(f"    The failing line: `{_one_line(error.line)}`.")
        if failure.diagnosis is not None:
            lines.append(f"    Why: {_one_line(failure.diagnosis.explanation)}. "
                         f"Fix: {_one_line(failure.diagnosis.fix)}.")
    elif runs.status == "verified":
        assert runs.verify is not None
        lines = ['!!! success "Verified runnable"',
                 f"    The latest {runs.verify.profile} run passed on {_when(runs.verify)} "
                 f"({runs.verify.duration:.1f} s)."]
    elif runs.imported is not None:
        lines = [f'!!! info "Not run yet: {store.NOT_VERIFIED}"',
                 f"    Adopted with its outputs as committed on {_when(runs.imported)}; hundred "
                 f"has not verified that it runs yet: `hundred run {number}`."]
    else:
        lines = ['!!! info "Not run yet"',
                 f"    This notebook has not been verified yet: `hundred run {number}`."]
    shown = runs.results
    if shown is not None and shown.metrics:
        source = (f"{shown.profile} run" if shown is runs.frozen
                  else f"{shown.profile} run (tiny data)")
        lines += ["", "    | Metric | Value | From |", "    | --- | --- | --- |"]
        for name, metric in shown.metrics.items():
            arrow = "↑" if metric.higher_is_better else "↓"
            lines.append(f"    | {name} {arrow} | {metric.value:.4g} | {source} of "
                         f"{_when(shown)} |")
    return "\n".join(lines)


def _one_line(text: str) -> str:
    return " ".join(text.split()).replace("`", "'")[:200]


def _linked_notebook(root: Path, project: Project, runs: ProjectRuns) -> str:
    """The notebook a reader opens or downloads: the frozen run's, else the source."""
    frozen = runs.frozen
    if frozen is not None and frozen.notebook and (root / frozen.notebook).is_file():
        return frozen.notebook
    return f"projects/{project.name.folder}/notebook.ipynb"


def _notebook_section(root: Path, project: Project, runs: ProjectRuns, links: Links,
                      markdown: Markdown | None) -> tuple[str, str, dict[str, bytes]]:
    folder = f"projects/{project.name.folder}"
    refs = [(label, url) for label, url in (
        ("project folder", links.tree(folder)),
        ("notebook", links.blob(f"{folder}/notebook.ipynb")),
        ("data script", links.blob(f"{folder}/data.py")
         if (project.path / "data.py").is_file() else None),
    ) if url]
    lines = ["## The notebook", ""]
    if refs:
        lines += [" · ".join(f"[{label}]({url})" for label, url in refs), ""]
    opened = links.notebook(_linked_notebook(root, project, runs))
    if opened:
        lines += [" · ".join(f"[{label}]({url})" for label, url in opened), ""]
    shown = runs.results
    failed = runs.failure
    if failed is not None and failed.notebook and (root / failed.notebook).is_file():
        shown = failed  # show where it broke
    if not _has_notebook(root, shown):
        shown = runs.imported  # until hundred runs it, what the adopted notebook showed
    if shown is None or not _has_notebook(root, shown):
        lines.append("*Not run yet: the executed notebook appears here after `hundred run`.*")
        return "\n".join(lines) + "\n", "", {}
    assert shown.notebook is not None
    notebook = json.loads((root / shown.notebook).read_text(encoding="utf-8"))
    rendered = (render_notebook(notebook, markdown=markdown) if markdown
                else render_notebook(notebook))
    if shown.status == "imported":
        lines += [f"*Imported: {store.NOT_VERIFIED} (committed on {_when(shown)}); "
                  f"`hundred run {project.number:03d}` verifies it.*"]
    else:
        lines += [f"*Executed with the **{shown.profile}** profile on {_when(shown)} "
                  f"({shown.duration:.1f} s).*"]
    lines += ["", NOTEBOOK_PLACEHOLDER, ""]
    return "\n".join(lines), rendered.html, rendered.assets


def _has_notebook(root: Path, run: RunResult | None) -> bool:
    return run is not None and bool(run.notebook) and (root / str(run.notebook)).is_file()


def build_post(root: Path, project: Project, *, links: Links,
               markdown: Markdown | None = None, settings: Settings | None = None) -> Post:
    """The blog post of ``project``: front matter, results box, writeup, executed notebook.

    The notebook comes as ``notebook_html`` (its markdown cells converted with ``markdown``),
    to replace ``NOTEBOOK_PLACEHOLDER`` once the post's Markdown is rendered.
    """
    text = project.writeup_path.read_text(encoding="utf-8")
    check_writeup(project.writeup_path.relative_to(root), text)
    unfinished = unfinished_update(root, project.path)
    if unfinished is not None:
        raise HundredError(f"{unfinished}; the site is not built until then")
    writeup = project.writeup
    runs = project_runs(root, project, settings)
    _, body = split_front_matter(text)
    assets: dict[str, bytes] = {}
    body = _rewrite_links(body, project, root, assets, links)
    notebook, notebook_html, figures = _notebook_section(root, project, runs, links, markdown)
    clash = set(assets) & set(figures)
    if clash:
        raise HundredError(f"{project.writeup_path.relative_to(root)} ships {sorted(clash)[0]}, "
                           "a name the executed notebook's figures use; rename the file")
    parts = [_front_matter(project, runs)]
    if writeup.summary:
        parts.append(f"*{writeup.summary}*\n")
    warned = will_break_box(runs)
    parts += [results_box(project, runs), *([warned] if warned else []), "\n<!-- more -->\n",
              body.strip(), "", notebook]
    return Post(project, post_path(project), "\n".join(parts), {**assets, **figures},
                draft=writeup.draft, notebook_html=notebook_html)


def projects_page(root: Path, projects: list[Project], *, page: str = "projects.md",
                  settings: Settings | None = None) -> str:
    """The Projects page: a table of every project with its metric, status and post."""
    status_text = {"verified": "verified", "failing": "**failing**", "not-run": "not run yet"}
    up = "../" * page.count("/")
    lines = ["# Projects", "",
             f"{len(projects)} projects. *Verified* means the latest smoke run of the notebook "
             "passed; metrics come from the frozen full run, else the smoke run.", "",
             "| # | Project | Kind | Difficulty | Headline metric | Status |",
             "| --- | --- | --- | --- | --- | --- |"]
    settings = settings or load_settings(root)
    for project in projects:
        writeup = project.writeup
        runs = project_runs(root, project, settings)
        shown = runs.results
        metric = shown.headline_text() if shown is not None else ""
        title = writeup.title.replace("|", "\\|")
        link = title if writeup.draft else f"[{title}]({up}{post_path(project)})"
        status = "draft" if writeup.draft else status_text[runs.status]
        lines.append(f"| {project.number:03d} | {link} | {writeup.kind} | "
                     f"{'★' * writeup.difficulty}{'☆' * (5 - writeup.difficulty)} | "
                     f"{metric} | {status} |")
    return "\n".join(lines) + "\n"
