"""`hundred publish`: verify, build and push the site to GitHub Pages, without surprises.

``mkdocs gh-deploy`` alone fails with a git traceback in a folder that is not a repository,
before the first commit or without the remote, and happily publishes uncommitted edits. Here
each of these stops first with one line saying what to do, and the site is built as
``hundred build`` builds it (the verifying runs, cached) before it is deployed.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from hundred.errors import HundredError
from hundred.sitebuild import check_site, verify_then_mkdocs

if TYPE_CHECKING:
    from hundred.run import RunReport
    from hundred.sitebuild import ProgressHook

BRANCH = "gh-pages"


def _git(root: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["git", *arguments], cwd=root, capture_output=True, text=True,
                              check=False)
    except FileNotFoundError:
        raise HundredError("git is not installed; install git to publish the site") from None


def check_publishable(root: Path, remote: str = "origin", *, allow_dirty: bool = False) -> None:
    """Raise ``HundredError`` unless ``root`` can be published to ``remote`` as a commit.

    It must be in a git repository with a commit, have the remote, and (unless
    ``allow_dirty``) no uncommitted changes to tracked files.
    """
    if _git(root, "rev-parse", "--git-dir").returncode != 0:
        raise HundredError(f"{root} is not a git repository; run 'git init', commit, and add "
                           "the GitHub repository as a remote ('git remote add origin URL')")
    if _git(root, "rev-parse", "--verify", "--quiet", "HEAD").returncode != 0:
        raise HundredError("the repository has no commits yet; commit your work first "
                           "('git add -A && git commit -m ...')")
    remotes = _git(root, "remote").stdout.split()
    if remote not in remotes:
        have = f"it has {', '.join(remotes)}" if remotes else "it has none"
        raise HundredError(f"no git remote named {remote!r} ({have}); add it with 'git remote "
                           f"add {remote} URL' or pick one with --remote NAME")
    changed = _git(root, "status", "--porcelain", "--untracked-files=no").stdout.splitlines()
    if changed and not allow_dirty:
        first = changed[0][3:]
        more = f" and {len(changed) - 1} more" if len(changed) > 1 else ""
        raise HundredError(f"uncommitted changes to {first}{more}; commit or stash them first; "
                           "the published site must match a commit (or pass --allow-dirty)")


def site_url(root: Path) -> str | None:
    """mkdocs.yml's ``site_url``: where the published site lives, when it says."""
    try:
        config = yaml.safe_load((root / "mkdocs.yml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):  # e.g. !!python tags: mkdocs reads them, we need not
        return None
    url = config.get("site_url") if isinstance(config, dict) else None
    return url if isinstance(url, str) and url else None


def publish(
    root: Path,
    *,
    remote: str = "origin",
    allow_dirty: bool = False,
    jobs: int | None = None,
    timeout: float | None = None,
    progress: Callable[[], AbstractContextManager[ProgressHook | None]] = nullcontext,
    on_report: Callable[[RunReport], None] | None = None,
) -> int:
    """Check, run what changed, then ``mkdocs gh-deploy`` the site to ``remote``'s gh-pages.

    Nothing runs and nothing is pushed when a check fails (``HundredError``). Returns as
    ``hundred build`` does: 0, or 1 when a notebook failed (the site, failing posts included,
    was published); 130 or 143 when stopped by a signal (nothing published); raises
    ``WorkFailed`` when mkdocs could not build or push.
    """
    check_site(root)
    check_publishable(root, remote, allow_dirty=allow_dirty)
    return verify_then_mkdocs(
        root, "gh-deploy", "--force", "--remote-name", remote, "--remote-branch", BRANCH,
        "--strict", "--site-dir", str(root / "site"),
        failure=f"the site was not published to {remote!r}; mkdocs says why above",
        jobs=jobs, timeout=timeout, progress=progress, on_report=on_report)
