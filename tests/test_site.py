"""The blog: real mkdocs builds of a monorepo with projects in every state."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from hundred import catalog
from hundred.errors import HundredError
from hundred.site import Links, build_post, project_runs
from tests.conftest import snapshot
from tests.runkit import make_project
from tests.sitekit import mkdocs, site_files, site_monorepo

PUBLISHED = ["001-full-run", "002-smoke-only", "003-failing", "004-never-run"]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = site_monorepo(tmp_path_factory.mktemp("site") / "mono")
    docs = snapshot(root / "docs")
    result = mkdocs(root, "build", "--strict")
    assert result.returncode == 0, result.stderr
    assert snapshot(root / "docs") == docs  # nothing left behind in docs/
    return root


def html(root: Path, page: str) -> str:
    return (root / "site" / page / "index.html").read_text(encoding="utf-8")


def images_of(root: Path, page: str) -> list[Path]:
    """Files every <img> of a page points at (relative URLs resolved against the page)."""
    sources = re.findall(r'<img[^>]+src="([^"]+)"', html(root, page))
    return [(root / "site" / page / src).resolve() for src in sources
            if not src.startswith(("http", "data:"))]


def test_every_published_post_has_its_title_metrics_and_figures(built: Path) -> None:
    for folder in PUBLISHED:
        page = html(built, f"blog/{folder}")
        assert "<h1" in page and folder.split("-", 1)[1] in page
        for image in images_of(built, f"blog/{folder}"):
            assert image.is_file(), f"{folder}: {image} missing"
    full = html(built, "blog/001-full-run")
    assert "Verified runnable" in full
    assert "0.875" in full and "full run of" in full  # metrics of the frozen full run
    assert "Executed with the <strong>full</strong> profile" in full
    assert len(images_of(built, "blog/001-full-run")) >= 2  # the figure and the diagram
    assert 'class="arithmatex"' in full  # math left for KaTeX
    assert "https://github.com/example/hundred/blob/main/projects/001-full-run/notebook.ipynb" \
        in full
    assert 'href="../002-smoke-only/"' in full  # a writeup link to another writeup
    smoke = html(built, "blog/002-smoke-only")
    assert "0.25" in smoke and "smoke run (tiny data)" in smoke
    assert len(images_of(built, "blog/002-smoke-only")) == 1


def test_failing_and_never_run_posts_say_so(built: Path) -> None:
    failing = html(built, "blog/003-failing")
    assert "Failing: the latest smoke run failed" in failing
    assert "cell-error" in failing and "data went missing" in failing
    never = html(built, "blog/004-never-run")
    assert "Not run yet" in never and "hundred run 004" in never


def test_the_draft_is_published_nowhere(built: Path) -> None:
    site = built / "site"
    assert not (site / "blog" / "005-secret-draft").exists()
    for path in site.rglob("*"):
        if path.suffix in (".html", ".xml", ".json"):
            assert "secret-draft" not in path.read_text(encoding="utf-8"), path


def test_rss_and_projects_page_list_the_posts(built: Path) -> None:
    feed = (built / "site" / "feed_rss_created.xml").read_text(encoding="utf-8")
    titles = re.findall(r"<item>\s*<title>([^<]+)</title>", feed)
    assert sorted(titles) == sorted(folder.split("-", 1)[1] for folder in PUBLISHED)
    projects = html(built, "projects")
    for folder in PUBLISHED:
        assert f'href="../blog/{folder}/"' in projects
    assert "accuracy 0.875" in projects and "<strong>failing</strong>" in projects
    assert "not run yet" in projects
    archive = html(built, "blog/archive/2026")
    assert all(folder.split("-", 1)[1] in archive for folder in PUBLISHED)
    index = json.loads((built / "site" / "search" / "search_index.json").read_text())
    located = {doc["location"].split("#")[0] for doc in index["docs"]}
    assert {f"blog/{folder}/" for folder in PUBLISHED} <= located  # posts are searchable
    assert any("data went missing" in doc["text"] for doc in index["docs"])


def test_post_markdown_for_each_state(built: Path) -> None:
    projects = {p.name.folder: p for p in catalog.load(built)}
    statuses = {folder: project_runs(built, project).status for folder, project in projects.items()}
    assert statuses == {"001-full-run": "verified", "002-smoke-only": "verified",
                        "003-failing": "failing", "004-never-run": "not-run",
                        "005-secret-draft": "verified"}
    post = build_post(built, projects["001-full-run"], links=Links(None))
    assert post.path == "blog/posts/001-full-run/index.md"
    assert post.markdown.startswith("---\ntitle: full-run\ndate: 2026-11-01\n")
    assert "diagram.png" in post.assets and any(a.startswith("figure-") for a in post.assets)
    assert "[project folder]" not in post.markdown  # no repository, no links
    assert build_post(built, projects["005-secret-draft"], links=Links(None)).draft


def _broken_site(built: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(built, copy, ignore=shutil.ignore_patterns("site"))
    return copy


def test_a_broken_image_in_a_writeup_fails_the_build_naming_it(built: Path,
                                                                tmp_path: Path) -> None:
    root = _broken_site(built, tmp_path)
    writeup = root / "projects" / "002-smoke-only" / "writeup.md"
    writeup.write_text(writeup.read_text() + "\n![gone](missing.png)\n")
    result = mkdocs(root, "build", "--strict")
    assert result.returncode != 0
    assert "projects/002-smoke-only/writeup.md links to 'missing.png'" in result.stderr
    assert not (root / "site" / "index.html").exists()


def test_merge_conflict_markers_stop_the_build(built: Path, tmp_path: Path) -> None:
    root = _broken_site(built, tmp_path)
    writeup = root / "projects" / "004-never-run" / "writeup.md"
    writeup.write_text(writeup.read_text() + "<<<<<<< HEAD\nmine\n=======\ntheirs\n>>>>>>> x\n")
    result = mkdocs(root, "build", "--strict")
    assert result.returncode != 0
    assert "projects/004-never-run/writeup.md:" in result.stderr
    assert "merge-conflict marker" in result.stderr
    with pytest.raises(HundredError, match="merge-conflict"):
        build_post(root, catalog.load(root)[3], links=Links(None))


def test_a_broken_writeup_is_left_out_and_the_rest_is_published(tmp_path: Path) -> None:
    root = site_files(tmp_path / "mono")
    make_project(root, "001-good", ["x = 1"])
    broken = make_project(root, "002-broken", ["x = 1"]) / "writeup.md"
    broken.write_text(broken.read_text().replace("kind: tabular", "kind: [tabular"))
    result = mkdocs(root, "build", "--strict")
    assert result.returncode == 0, result.stderr
    assert "left 002-broken out of the site: projects/002-broken/writeup.md:" in result.stderr
    assert "<h1" in html(root, "blog/001-good")  # the good project's post
    assert not (root / "site" / "blog" / "002-broken").exists()
    projects = html(root, "projects")
    assert 'href="../blog/001-good/"' in projects and "broken" not in projects
    # Conflict markers still stop the build, in a writeup that is broken anyway.
    broken.write_text("---\n<<<<<<< HEAD\ntitle: a\n=======\ntitle: b\n>>>>>>> x\n---\n")
    result = mkdocs(root, "build", "--strict")
    assert result.returncode != 0
    assert "projects/002-broken/writeup.md:2 holds a merge-conflict marker" in result.stderr


def test_gh_deploy_pushes_the_site_to_a_bare_remote(built: Path, tmp_path: Path) -> None:
    root = _broken_site(built, tmp_path)
    bare = tmp_path / "remote.git"
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "site"],
                    ["remote", "add", "pages", str(bare)]):
        subprocess.run([*git, *command], cwd=root, check=True)
    result = mkdocs(root, "gh-deploy", "--remote-name", "pages", "--force")
    assert result.returncode == 0, result.stderr
    listing = subprocess.run(["git", "ls-tree", "-r", "--name-only", "gh-pages"], cwd=bare,
                             capture_output=True, text=True, check=True).stdout.split()
    assert "index.html" in listing and "blog/001-full-run/index.html" in listing
    assert "feed_rss_created.xml" in listing
    assert not any("secret-draft" in name for name in listing)


def test_a_post_with_a_frozen_run_links_its_notebook_to_colab_github_and_download(
    built: Path,
) -> None:
    projects = {p.name.folder: p for p in catalog.load(built)}
    links = Links("https://github.com/owner/repo", "dev")
    markdown = build_post(built, projects["001-full-run"], links=links).markdown
    path = "projects/001-full-run/runs/full.ipynb"
    assert (f"[Open in Colab](https://colab.research.google.com/github/owner/repo/blob/dev/{path})"
            in markdown)
    assert f"[View on GitHub](https://github.com/owner/repo/blob/dev/{path})" in markdown
    assert f"[Download notebook](https://raw.githubusercontent.com/owner/repo/dev/{path})" \
        in markdown
    page = html(built, "blog/001-full-run")  # mkdocs.yml's repo_url, through the plugin
    assert ("https://colab.research.google.com/github/example/hundred/blob/main/projects/"
            "001-full-run/runs/full.ipynb") in page


def test_a_post_without_a_frozen_run_links_the_source_notebook(built: Path) -> None:
    projects = {p.name.folder: p for p in catalog.load(built)}
    links = Links("https://github.com/owner/repo.git")
    for folder in ("002-smoke-only", "004-never-run"):
        markdown = build_post(built, projects[folder], links=links).markdown
        source = f"projects/{folder}/notebook.ipynb"
        assert f"https://colab.research.google.com/github/owner/repo/blob/main/{source}" in markdown
        assert f"https://raw.githubusercontent.com/owner/repo/main/{source}" in markdown
        assert "runs/full.ipynb" not in markdown


def test_notebook_links_need_a_repository_and_github_for_colab() -> None:
    assert Links(None).notebook("projects/001-a/notebook.ipynb") == []
    gitlab = Links("https://gitlab.com/owner/repo").notebook("projects/001-a/notebook.ipynb")
    assert gitlab == [("View notebook",
                       "https://gitlab.com/owner/repo/blob/main/projects/001-a/notebook.ipynb")]
    assert Links("https://github.com/owner/repo/").github == "owner/repo"
    assert Links("https://github.com/owner").github is None


def test_a_post_without_a_repository_has_no_notebook_links(built: Path) -> None:
    projects = {p.name.folder: p for p in catalog.load(built)}
    markdown = build_post(built, projects["001-full-run"], links=Links(None)).markdown
    assert "Open in Colab" not in markdown and "Download notebook" not in markdown
    assert "View notebook" not in markdown and "View on GitHub" not in markdown
