"""The `hundred` mkdocs plugin: a thin adapter that hands hundred.site's posts to mkdocs.

Material's blog plugin reads posts from disk (its on_files runs at priority -50, after this
one), so posts are real files in a temporary folder, never in docs/.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from markdown import Markdown
from mkdocs.config import config_options as c
from mkdocs.config.base import Config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url

from hundred import catalog
from hundred.challenge import ProjectProgress
from hundred.dashboard import DASHBOARD_MARKER, build_dashboard, dashboard_html
from hundred.errors import HundredError
from hundred.render import ASSET_PREFIX
from hundred.site import (
    NOTEBOOK_PLACEHOLDER,
    Links,
    build_post,
    check_writeup,
    post_path,
    projects_page,
)

log = logging.getLogger("mkdocs.plugins.hundred")


def _publishable(root: Path) -> list[catalog.Project]:
    """The projects with a valid writeup; the others are left out of the site, logged.

    INFO, not WARNING: `mkdocs build --strict` fails on warnings, and one broken writeup must
    not unpublish every project (the run command reports it as failing). Merge-conflict markers
    still stop the build, in a broken writeup too: they must never be published.
    """
    found = catalog.scan(root)
    for broken in found.invalid:
        writeup = broken.path / catalog.WRITEUP
        if writeup.is_file():
            text = writeup.read_text(encoding="utf-8", errors="replace")
            check_writeup(writeup.relative_to(root), text)
        log.info("left %s out of the site: %s", broken.name.folder, broken.message)
    return found.projects


class HundredPluginConfig(Config):
    projects_page = c.Type(str, default="projects.md")
    repo_url = c.Optional(c.Type(str))  # default: mkdocs' own repo_url
    branch = c.Type(str, default="main")


class HundredPlugin(BasePlugin[HundredPluginConfig]):
    def __init__(self) -> None:
        self._folder: Path | None = None
        self._serving = False
        self._notebooks: dict[str, tuple[str, str]] = {}  # post src_uri → (html, folder)

    def on_startup(self, *, command: str, dirty: bool) -> None:
        self._serving = command == "serve"

    def on_files(self, files: Files, /, *, config: MkDocsConfig) -> Files:
        self._clean()
        self._folder = Path(tempfile.mkdtemp(prefix="hundred-site-"))
        root = Path(config.config_file_path).resolve().parent
        links = Links(self.config.repo_url or config.repo_url, self.config.branch)
        converter = Markdown(extensions=config.markdown_extensions,
                             extension_configs=config.mdx_configs)

        def markdown(text: str) -> str:
            return str(converter.reset().convert(text))

        try:
            projects = _publishable(root)
            posts = [build_post(root, project, links=links, markdown=markdown)
                     for project in projects]
        except HundredError as error:
            raise PluginError(str(error)) from None
        self._notebooks = {}
        for post in posts:
            if post.draft and not self._serving:
                continue  # a draft is published nowhere, figures included
            self._add(files, config, post.path, post.markdown.encode("utf-8"))
            self._notebooks[post.path] = (post.notebook_html, post.folder)
            for name, data in post.assets.items():
                self._add(files, config, f"{post.folder}/{name}", data)
        page = self.config.projects_page
        if files.get_file_from_path(page) is None:
            published = [p for p in projects if self._serving or not p.writeup.draft]
            self._add(files, config, page, projects_page(root, published, page=page).encode())
        return files

    def _add(self, files: Files, config: MkDocsConfig, uri: str, data: bytes) -> None:
        assert self._folder is not None
        path = self._folder / uri
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        files.append(File.generated(config, uri, abs_src_path=str(path)))

    def on_page_content(self, html: str, /, *, page: Page, config: MkDocsConfig,
                        files: Files) -> str:
        """Put the executed notebook into its post, its figures' URLs relative to the page."""
        if DASHBOARD_MARKER in html:
            html = html.replace(DASHBOARD_MARKER, self._dashboard(page, config, files), 1)
        found = self._notebooks.get(page.file.src_uri)
        if found is None:
            return html
        notebook, folder = found

        def url(match: re.Match[str]) -> str:
            asset = files.get_file_from_path(f"{folder}/{match[1]}")
            return get_relative_url(asset.url, page.url) if asset else match[1]

        notebook = re.sub(re.escape(ASSET_PREFIX) + r'([^"\s)]+)', url, notebook)
        return html.replace(NOTEBOOK_PLACEHOLDER, notebook, 1)

    def _dashboard(self, page: Page, config: MkDocsConfig, files: Files) -> str:
        root = Path(config.config_file_path).resolve().parent
        try:
            board = build_dashboard(root, drafts=self._serving)
        except HundredError as error:
            raise PluginError(str(error)) from None

        def post_url(progress: ProjectProgress) -> str | None:
            post = files.get_file_from_path(post_path(progress.project))
            if post is None or progress.project.writeup.draft:
                return None
            return get_relative_url(post.url, page.url)

        return dashboard_html(board, post_url)

    def on_serve(self, server: Any, /, *, config: MkDocsConfig, builder: Any) -> Any:
        root = Path(config.config_file_path).resolve().parent
        for folder in (root / "projects", root / ".hundred" / "runs"):
            if folder.is_dir():
                server.watch(str(folder))
        return server

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        if not self._serving:
            self._clean()

    def on_shutdown(self) -> None:
        self._clean()

    def _clean(self) -> None:
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None
