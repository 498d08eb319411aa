"""The upgrade preview (`hundred doctor`): which projects the latest releases would break, and why.

Each selected project is copied into a throwaway monorepo (``.hundred/preview/``, replaced on
every preview) whose ``requirements.txt`` names the same packages without their versions: the
project's own declared packages, or, for a project of the shared environment, the distributions
its code imports. uv locks them afresh, so at their latest releases, builds the environments
there, and ``run_projects`` runs the copies with the verifying profile. Nothing of the real
monorepo is written: not its environments, not its records, not its projects (their ``data/``
is linked, read as it is). Each project's verdict compares the preview run with its latest real
run, and a failure carries its diagnosis (``hundred.diagnosis``), as in a real run.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from hundred import catalog
from hundred import results as store
from hundred.config import load_settings
from hundred.environments import (
    LOCK,
    REQUIREMENTS,
    EnvironmentFailed,
    declared,
    normalise,
    read_lock,
)
from hundred.results import Deprecation, Diagnosis, RunResult
from hundred.run.events import Progress

PREVIEW = Path(".hundred") / "preview"
# Distributions kept at the version the project has: torch's latest release on the package
# index pulls the CUDA stack (gigabytes); preview an upgrade of it by hand.
HELD = frozenset({"torch"})
# What a copy leaves out: outputs, and what it gets afresh.
SKIPPED = shutil.ignore_patterns("runs", "data", ".ipynb_checkpoints", "__pycache__", LOCK)

Verdict = Literal["breaks", "still-passes", "fixed", "still-fails", "nothing-to-upgrade",
                  "cannot-resolve"]


@dataclass(frozen=True)
class Change:
    """One package at its version now and at its latest release."""

    name: str
    now: str | None  # None: not in the project's environment today
    latest: str | None  # None: the preview did not get that far


@dataclass(frozen=True)
class ProjectPreview:
    project: str
    upgraded: tuple[str, ...]  # the packages let go to their latest releases
    held: tuple[str, ...]  # kept at today's version (``HELD``)
    changes: tuple[Change, ...]  # versions that move
    now: RunResult | None  # its latest real run of the verifying profile
    latest: RunResult | None  # its run with the latest releases
    error: str | None = None  # why no environment of the latest releases could be made

    @property
    def verdict(self) -> Verdict:
        if self.error is not None:
            return "cannot-resolve"
        if not self.upgraded or self.latest is None:
            return "nothing-to-upgrade"
        was_passing = self.now is None or self.now.passed
        if self.latest.passed:
            return "still-passes" if was_passing else "fixed"
        return "breaks" if was_passing else "still-fails"

    @property
    def diagnosis(self) -> Diagnosis | None:
        """Why the latest releases fail it: the run's diagnosis, or, for an error the table of
        migrations does not know, the API gone from a package whose version moved."""
        if self.latest is None or self.latest.passed:
            return None
        known = self.latest.diagnosis
        if known is not None and known.cause != "unknown":
            return known
        return _gone_from_moved(self.latest, self.changes) or known

    @property
    def deprecations(self) -> list[Deprecation]:
        return list(self.latest.deprecations) if self.latest is not None else []


@dataclass(frozen=True)
class UpgradePreview:
    previews: tuple[ProjectPreview, ...]
    folder: Path  # the throwaway monorepo: its executed notebooks are there to read

    @property
    def breaking(self) -> list[ProjectPreview]:
        return [p for p in self.previews if p.verdict in ("breaks", "cannot-resolve")]

    @property
    def exit_code(self) -> int:
        return 1 if self.breaking else 0


def preview_upgrades(root: Path, selection: Sequence[str] = (), *, jobs: int | None = None,
                     timeout: float | None = None,
                     on_progress: Callable[[Progress], None] | None = None) -> UpgradePreview:
    """Run the selected projects (all if empty) with the latest releases of their packages."""
    from hundred.run import run_projects

    settings = load_settings(root)
    projects = catalog.select(catalog.load(root), list(selection))
    scratch = root / PREVIEW
    shutil.rmtree(scratch, ignore_errors=True)
    (scratch / "projects").mkdir(parents=True)
    shutil.copy(root / "pyproject.toml", scratch / "pyproject.toml")
    if (root / "tools").is_dir():  # the monorepo's own helper packages, as they are
        (scratch / "tools").symlink_to((root / "tools").absolute(), target_is_directory=True)
    plans: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    broken: dict[str, str] = {}  # a requirements.txt that does not parse: said, not run
    for project in projects:
        try:
            plans[project.name.folder] = _copy(project, scratch / "projects")
        except EnvironmentFailed as unreadable:
            plans[project.name.folder] = ((), ())
            broken[project.name.folder] = str(unreadable)
    runnable = [folder for folder, (upgraded, _) in plans.items() if upgraded]
    ran: dict[str, RunResult] = {}
    if runnable:
        report = run_projects(scratch, runnable, profile=settings.verify, jobs=jobs,
                              force=True, timeout=timeout, on_progress=on_progress)
        ran = {result.project: result for result in report.results}
    previews = []
    for project in projects:
        folder = project.name.folder
        upgraded, held = plans[folder]
        now = store.latest(root, folder, settings.verify)
        latest = ran.get(folder)
        error = broken.get(folder) or _environment_error(latest)
        previews.append(ProjectPreview(
            project=folder, upgraded=upgraded, held=held, now=now,
            latest=None if error else latest, error=error,
            changes=_changes(upgraded, now, scratch / "projects" / folder)))
    return UpgradePreview(tuple(previews), scratch)


def upgrade_requirements(project: catalog.Project) -> tuple[list[str], list[str]]:
    """The requirement lines of the preview (package names, no versions), and the packages
    held at today's versions: the project's declared packages, else the distributions its
    code imports that the shared environment has."""
    own = declared(project.path)
    if own:
        names = [requirement.name for requirement in own]
        pins = read_lock(project.path)
        versions = pins.pins if pins is not None else {}
    else:
        from hundred.cache import (
            TOOL,
            code_cells,
            imported_modules,
            package_versions,
            shared_sources,
        )

        modules = imported_modules(code_cells(project.notebook)) - {TOOL}
        helpers = shared_sources(project.path.parent.parent, modules)
        versions = {normalise(name): version for name, version
                    in package_versions(modules - set(helpers), project.path).items()}
        names = sorted(versions)
    held = [name for name in names if name in HELD and name in versions]
    return ([name for name in names if name not in HELD]
            + [f"{name}=={versions[name]}" for name in held], held)


def _copy(project: catalog.Project, into: Path) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Copy ``project`` into the throwaway monorepo with its requirements let go; return the
    packages upgraded and those held."""
    lines, held = upgrade_requirements(project)
    copy = into / project.name.folder
    shutil.copytree(project.path, copy, ignore=SKIPPED)
    data = project.path / "data"
    if data.is_dir():
        (copy / "data").symlink_to(data.absolute(), target_is_directory=True)
    upgraded = tuple(line for line in lines if "==" not in line)
    if upgraded:
        (copy / REQUIREMENTS).write_text(
            "# hundred doctor: the latest releases of this project's packages\n"
            + "".join(f"{line}\n" for line in lines), encoding="utf-8")
    return upgraded, tuple(held)


def _environment_error(result: RunResult | None) -> str | None:
    if result is None or result.failure != "environment-error" or result.error is None:
        return None
    return result.error.evalue


def _changes(upgraded: Sequence[str], now: RunResult | None, copy: Path
             ) -> tuple[Change, ...]:
    try:
        found = read_lock(copy)
    except (OSError, EnvironmentFailed):
        found = None
    latest = {normalise(name): v for name, v in (found.pins if found is not None else {}).items()}
    before = {normalise(name): v for name, v in (now.packages if now else {}).items()}
    changes = []
    for name in upgraded:
        change = Change(name, before.get(normalise(name)), latest.get(normalise(name)))
        if change.now != change.latest:
            changes.append(change)
    return tuple(changes)


# The errors of a name a package no longer has.
_GONE = (re.compile(r"module '(?P<module>[\w.]+)' has no attribute '(?P<name>\w+)'"),
         re.compile(r"cannot import name '(?P<name>\w+)' from '(?P<module>[\w.]+)'"))


def _gone_from_moved(run: RunResult, changes: Sequence[Change]) -> Diagnosis | None:
    """A removed-api diagnosis when the failure is a name missing from a module of a package
    that the preview moved to another version."""
    from hundred.packages import distribution_of

    if run.error is None:
        return None
    found = next((m for pattern in _GONE if (m := pattern.search(run.error.evalue))), None)
    if found is None:
        return None
    module, name = found["module"], found["name"]
    wanted = normalise(distribution_of(module))
    change = next((c for c in changes if normalise(c.name) in (wanted, normalise(module.split(
        ".")[0]))), None)
    if change is None:
        return None
    return Diagnosis(
        cause="removed-api", library=change.name, release=change.latest,
        explanation=(f"{module}.{name} is gone in {change.name} {change.latest} "
                     f"({change.now or 'the version used today'} had it)"),
        fix=(f"find what replaced {name} in {change.name} {change.latest}'s release notes, or "
             f"keep {change.name}=={change.now} in requirements.txt"
             if change.now else f"find what replaced {name} in {change.name}'s release notes"))
