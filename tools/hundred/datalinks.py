"""Data links watched: is every URL a project's data script downloads still there, unchanged?

Dataset links die and move; a learner finds out months later, when a fresh clone cannot run.
``check_links`` reads each project's ``data.py`` without running it, finds the files it
downloads (``Remote(url, sha256)``, with the environment overrides that ``.overridden(PREFIX)``
applies), and asks each URL: a HEAD request (a one-byte ranged GET where HEAD is refused),
with a time limit. With ``checksums``, it downloads each file and compares its sha256 with
the one data.py declares, so a file changed at its source is caught before a run uses it.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from hundred import catalog
from hundred.download import Remote

LinkState = Literal["alive", "moved", "dead", "changed"]
CHUNK = 1 << 20


@dataclass(frozen=True)
class Link:
    """A file a project's data script downloads."""

    project: str
    url: str
    sha256: str
    line: int  # where data.py declares it


@dataclass(frozen=True)
class LinkReport:
    link: Link
    state: LinkState
    detail: str  # the status code, where it moved to, or why it is dead
    moved_to: str | None = None

    @property
    def broken(self) -> bool:
        return self.state in ("dead", "changed")

    def line(self) -> str:
        where = f"{self.link.project}/data.py:{self.link.line}"
        return f"{where}: {self.state}: {self.link.url} ({self.detail})"


def declared_links(project: str, data_script: Path) -> list[Link]:
    """The ``Remote(...)`` downloads that ``data_script`` declares, overrides applied."""
    try:
        tree = ast.parse(data_script.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return []
    overrides = {id(node.func.value): node.args[0].value for node in ast.walk(tree)
                 if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                 and node.func.attr == "overridden" and node.args
                 and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)}
    links: list[Link] = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and _named(node.func, "Remote")):
            continue
        values = _arguments(node, ("url", "sha256"))
        if values is None:
            continue
        remote = Remote(*values)
        prefix = overrides.get(id(node))
        if prefix is not None:  # the mirror data.py itself would use
            remote = remote.overridden(prefix)
        links.append(Link(project, remote.url, remote.sha256, node.lineno))
    return sorted(links, key=lambda link: link.line)


def _named(func: ast.expr, name: str) -> bool:
    return (isinstance(func, ast.Name) and func.id == name) or (
        isinstance(func, ast.Attribute) and func.attr == name)


def _arguments(call: ast.Call, names: tuple[str, str]) -> tuple[str, str] | None:
    found: dict[str, str] = {}
    for name, argument in zip(names, call.args, strict=False):
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            found[name] = argument.value
    for keyword in call.keywords:
        if keyword.arg in names and isinstance(keyword.value, ast.Constant) and isinstance(
                keyword.value.value, str):
            found[keyword.arg] = keyword.value.value
    return (found[names[0]], found[names[1]]) if len(found) == 2 else None


def check_links(root: Path, selection: Iterable[str] = (), *, timeout: float = 10.0,
                checksums: bool = False) -> list[LinkReport]:
    """Ask every URL the selected projects' data scripts download (all projects by default)."""
    projects = catalog.select(catalog.scan(root).projects, list(selection))
    links = [link for project in projects
             for link in declared_links(project.name.folder, project.path / "data.py")]
    return [check(link, timeout=timeout, checksum=checksums) for link in links]


def check(link: Link, *, timeout: float = 10.0, checksum: bool = False) -> LinkReport:
    """What ``link``'s URL answers now."""
    import requests

    try:
        answer = requests.head(link.url, allow_redirects=True, timeout=timeout)
        if answer.status_code in (403, 405, 501):  # HEAD refused: ask for one byte instead
            answer = requests.get(link.url, headers={"Range": "bytes=0-0"}, stream=True,
                                  allow_redirects=True, timeout=timeout)
            answer.close()
    except requests.Timeout:
        return LinkReport(link, "dead", f"no answer within {timeout:g} s")
    except requests.RequestException as error:
        return LinkReport(link, "dead", f"unreachable: {type(error).__name__}")
    if answer.status_code >= 400:
        return LinkReport(link, "dead", f"HTTP {answer.status_code}")
    if checksum:
        changed = _changed(answer.url, link.sha256, timeout)
        if changed is not None:
            return LinkReport(link, "changed", changed)
    if answer.history and answer.url != link.url:
        return LinkReport(link, "moved", f"HTTP {answer.history[0].status_code}; update the "
                          "URL in data.py", moved_to=answer.url)
    return LinkReport(link, "alive", f"HTTP {answer.status_code}")


def _changed(url: str, sha256: str, timeout: float) -> str | None:
    """Why the file at ``url`` is not the one declared, or None when its sha256 matches."""
    import requests

    digest = hashlib.sha256()
    try:
        with requests.get(url, stream=True, timeout=timeout) as answer:
            answer.raise_for_status()
            for chunk in answer.iter_content(CHUNK):
                digest.update(chunk)
    except requests.RequestException as error:
        return f"could not download it to check: {type(error).__name__}"
    if digest.hexdigest() == sha256:
        return None
    return (f"its sha256 is now {digest.hexdigest()[:12]}…, data.py declares {sha256[:12]}…: "
            "the file changed at its source; check it, then update the checksum")
