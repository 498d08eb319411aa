"""The challenge itself: its settings, goals and roadmap, and each project's verified status.

Nothing here is self-declared. A project is *done* only when its frozen full run succeeded,
recorded a headline metric, is current with its code (``hundred.freshness``) and its latest
smoke run passed (on a fresh clone, without .hundred/: the smoke run the committed ledger
names, when it is current); *failing* when its latest run failed; *in progress* otherwise.
The profile names are the configured ones (``verify``, ``freeze``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hundred.catalog import Project
from hundred.config import Settings
from hundred.errors import HundredError
from hundred.freshness import digest_for, is_current
from hundred.results import ProjectRuns, RunResult, project_runs

Verdict = Literal["done", "in-progress", "failing"]
GOALS = Path("docs") / "goals.yml"
ROADMAP = Path("docs") / "roadmap.yml"
DEFAULT_STAGES = [
    "Maths", "Python and data tools", "ML basics", "Neural networks", "CNNs", "RNNs and LSTMs",
    "Regularisation and optimisation", "Frameworks", "GANs and transformers", "Projects",
    "Reinforcement learning", "Research", "Portfolio",
]


class ChallengeSettings(BaseModel):
    """``[tool.hundred]``: how many projects, from when, until when."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    target: int = Field(default=100, ge=1, le=999)
    start: dt.date | None = None
    end: dt.date | None = None


class Goal(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    link: str | None = None
    progress: int = Field(default=0, ge=0, le=100)

    @field_validator("progress", mode="before")
    @classmethod
    def _done_is_100(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() == "done":
            return 100
        if isinstance(value, bool):
            raise ValueError("give a number from 0 to 100, or done")
        return value


class Stage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    description: str = ""


class Roadmap(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    stages: list[Stage]

    @field_validator("stages", mode="before")
    @classmethod
    def _names_alone(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"name": item} if isinstance(item, str) else item for item in value]
        return value


def load_challenge(root: Path, settings: Settings) -> ChallengeSettings:
    try:
        return ChallengeSettings.model_validate(settings.raw)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise HundredError(f"{root / 'pyproject.toml'}: [tool.hundred] {field} is invalid "
                           f"({first['msg']}); fix it") from None


def _read_yaml(path: Path) -> tuple[Any, Callable[[tuple[Any, ...]], int | None]]:
    """The data of a YAML file, and a function giving the line of a value by its path."""
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise HundredError(f"{path}{where}: not valid YAML ({problem}); fix it") from None

    def line_of(location: tuple[Any, ...]) -> int | None:
        current = node
        for key in location:
            if isinstance(current, yaml.MappingNode):
                match = [v for k, v in current.value if k.value == str(key)]
                if not match:
                    break
                current = match[0]
            elif isinstance(current, yaml.SequenceNode) and isinstance(key, int):
                if key >= len(current.value):
                    break
                current = current.value[key]
            else:
                break
        return current.start_mark.line + 1 if current is not None else None

    return data, line_of


def _invalid(path: Path, error: ValidationError,
             line_of: Callable[[tuple[Any, ...]], int | None], offset: tuple[Any, ...] = ()
             ) -> HundredError:
    first = error.errors()[0]
    location = (*offset, *first["loc"])
    line = line_of(location)
    field = ".".join(str(part) for part in location)
    return HundredError(f"{path}:{line or 1}: {field}: {first['msg']}; fix it")


def load_goals(root: Path) -> dict[str, list[Goal]]:
    """Goal groups (courses, competitions, papers, certificates…) from docs/goals.yml."""
    path = root / GOALS
    if not path.is_file():
        return {}
    data, line_of = _read_yaml(path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise HundredError(f"{path}:1: give groups of goals (courses: [...]); fix it")
    groups: dict[str, list[Goal]] = {}
    for group, items in data.items():
        if not isinstance(items, list):
            raise HundredError(f"{path}:{line_of((group,))}: {group} must be a list of goals "
                               "(- name: ..., progress: 0-100 or done); fix it")
        try:
            groups[str(group)] = [Goal.model_validate(item) for item in items]
        except ValidationError as error:
            index = next(i for i, item in enumerate(items) if not _valid_goal(item))
            raise _invalid(path, error, line_of, (group, index)) from None
    return groups


def _valid_goal(item: Any) -> bool:
    try:
        Goal.model_validate(item)
    except ValidationError:
        return False
    return True


def load_roadmap(root: Path) -> list[Stage]:
    """The roadmap's ordered stages from docs/roadmap.yml (a deep-learning default without it)."""
    path = root / ROADMAP
    if not path.is_file():
        return [Stage(name=name) for name in DEFAULT_STAGES]
    data, line_of = _read_yaml(path)
    try:
        return Roadmap.model_validate(data).stages
    except ValidationError as error:
        raise _invalid(path, error, line_of) from None


@dataclass(frozen=True)
class ProjectProgress:
    """A project's verified status and why, with what it was decided from."""

    project: Project
    runs: ProjectRuns
    status: Verdict
    reason: str
    settings: Settings
    digests: dict[str, str | None]  # profile → the cache key of the current code (None: invalid)

    @property
    def verifying_key(self) -> str | None:
        """The cache key of the verifying run this verdict rests on: here, or in the ledger."""
        if self.runs.verify is not None:
            return self.runs.verify.cache_key if self.runs.verify.passed else None
        return self.runs.ledger.get("cache_key") if self.runs.ledger else None

    def reference(self, profile: str) -> RunResult | None:
        """The reference run of ``profile`` (``freshness.reference_run``), already read."""
        return self.runs.frozen if profile == self.settings.publish else self.runs.verify

    def stale(self, profile: str) -> bool:
        """Whether ``profile`` must run again for the current code (the one rule)."""
        return not is_current(self.reference(profile), self.digests.get(profile))


def verified_status(root: Path, project: Project, settings: Settings) -> ProjectProgress:
    """Apply the rules: done, failing or in progress, with the reason in words."""
    verify, publish = settings.verify, settings.publish
    runs = project_runs(root, project.name.folder, verify=verify, publish=publish)
    digests = {profile: digest_for(project, profile, settings)
               for profile in dict.fromkeys((verify, publish))}

    def progress(status: Verdict, reason: str) -> ProjectProgress:
        return ProjectProgress(project, runs, status, reason, settings, digests)

    failed = runs.failure
    if failed is not None:
        known = failed.diagnosis is not None and failed.diagnosis.cause != "unknown"
        why = (f"{failed.failure}: {failed.diagnosis.explanation}"
               if known and failed.diagnosis else failed.failure)
        return progress("failing", f"the latest {failed.profile} run failed ({why})")
    frozen = runs.frozen
    if frozen is None or not frozen.passed:
        return progress("in-progress", f"no frozen {publish} run")
    if frozen.headline is None:
        return progress("in-progress", f"the {publish} run recorded no metric (hundred.record)")
    if digests[publish] is None:
        return progress("failing", "the notebook is not a valid notebook")
    if not is_current(frozen, digests[publish]):
        return progress("in-progress", f"the {publish} run is stale: the code changed since")
    checked = progress("done", "verified")
    if checked.verifying_key is None or (checked.verifying_key != digests[verify] and (
        runs.verify is None
    )):
        return progress("in-progress", f"no {verify} run verifies it still runs")
    return checked
