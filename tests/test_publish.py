"""`hundred publish`: real git, a local bare repository as the remote, no mocks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hundred.cli import main
from tests.runkit import RECORD, make_project
from tests.sitekit import site_files

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]


@pytest.fixture(autouse=True)
def _git_sees_only_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # No repository around tmp_path may stand in for a missing one; ghp_import commits too.
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    for variable in ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"):
        monkeypatch.setenv(variable, "t")
    for variable in ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"):
        monkeypatch.setenv(variable, "t@t")


def git(root: Path, *arguments: str) -> str:
    done = subprocess.run([*GIT, *arguments], cwd=root, capture_output=True, text=True,
                          check=True)
    return done.stdout


def monorepo(tmp_path: Path, *, init: bool = True, commit: bool = True,
             remote: str | None = "pages") -> tuple[Path, Path]:
    """A site monorepo with one project; a git repository with a commit and a bare remote."""
    root = site_files(tmp_path / "mono")
    make_project(root, "001-good", [RECORD])
    bare = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    if init:
        git(root, "init", "-q", "-b", "main")
        if remote:
            git(root, "remote", "add", remote, str(bare))
        if commit:
            git(root, "add", "-A")
            git(root, "commit", "-qm", "the first project")
    return root, bare


def published(bare: Path) -> list[str]:
    """The files of the remote's gh-pages branch; [] when there is none."""
    done = subprocess.run(["git", "--git-dir", str(bare), "ls-tree", "-r", "--name-only",
                           "gh-pages"], capture_output=True, text=True, check=False)
    return done.stdout.split() if done.returncode == 0 else []


def test_publish_runs_builds_and_pushes_gh_pages(tmp_path: Path) -> None:
    root, bare = monorepo(tmp_path)
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run([sys.executable, "-m", "hundred.cli", "publish", "--remote", "pages",
                           "--jobs", "1"], cwd=root, env=env, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert "1 passed" in done.stdout  # the verifying run, as `hundred build` does it
    assert done.stdout.rstrip().endswith(
        "published to pages's gh-pages branch: https://example.github.io/hundred/")
    files = published(bare)
    assert "index.html" in files and "blog/001-good/index.html" in files
    post = subprocess.run(["git", "--git-dir", str(bare), "show",
                           "gh-pages:blog/001-good/index.html"], capture_output=True,
                          text=True, check=True).stdout
    assert "Verified runnable" in post
    assert git(root, "status", "--porcelain", "--untracked-files=no") == ""


def _refused(root: Path, capsys: pytest.CaptureFixture[str], *arguments: str) -> str:
    code = main(["-C", str(root), "publish", "--jobs", "1", *arguments])
    captured = capsys.readouterr()
    assert code == 2, captured
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert not (root / ".hundred").exists()  # nothing ran
    assert not (root / "site").exists()  # nothing was built
    return lines[0]


def test_outside_a_git_repository(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root, bare = monorepo(tmp_path, init=False)
    line = _refused(root, capsys)
    assert "is not a git repository" in line and "git init" in line
    assert published(bare) == []


def test_before_the_first_commit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root, bare = monorepo(tmp_path, commit=False)
    line = _refused(root, capsys, "--remote", "pages")
    assert "no commits yet" in line and "git commit" in line
    assert published(bare) == []


def test_without_the_remote(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root, bare = monorepo(tmp_path)
    line = _refused(root, capsys)  # --remote defaults to origin
    assert "no git remote named 'origin' (it has pages)" in line
    assert "git remote add origin URL" in line and "--remote" in line
    git(root, "remote", "remove", "pages")
    assert "(it has none)" in _refused(root, capsys, "--remote", "pages")
    assert published(bare) == []


def test_with_uncommitted_changes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root, bare = monorepo(tmp_path)
    writeup = root / "projects" / "001-good" / "writeup.md"
    writeup.write_text(writeup.read_text() + "\nAn unfinished thought.\n")
    line = _refused(root, capsys, "--remote", "pages")
    assert "projects/001-good/writeup.md" in line
    assert "commit or stash them first; the published site must match a commit" in line
    assert "--allow-dirty" in line
    assert published(bare) == []
    (root / "notes.txt").write_text("untracked files do not count")
    git(root, "checkout", "--", ".")
    assert main(["-C", str(root), "publish", "--remote", "pages", "--jobs", "1"]) == 0
    assert "index.html" in published(bare)


def test_allow_dirty_publishes_the_working_tree(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, bare = monorepo(tmp_path)
    writeup = root / "projects" / "001-good" / "writeup.md"
    writeup.write_text(writeup.read_text() + "\nAn unfinished thought.\n")
    assert main(["-C", str(root), "publish", "--remote", "pages", "--allow-dirty"]) == 0
    assert "published to pages's gh-pages branch" in capsys.readouterr().out
    post = subprocess.run(["git", "--git-dir", str(bare), "show",
                           "gh-pages:blog/001-good/index.html"], capture_output=True,
                          text=True, check=True).stdout
    assert "An unfinished thought." in post
