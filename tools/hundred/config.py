"""Monorepo settings from pyproject.toml's ``[tool.hundred]`` table."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hundred.errors import HundredError

DEFAULT_PROFILES: dict[str, dict[str, Any]] = {
    "smoke": {"profile": "smoke"},
    "full": {"profile": "full"},
}


# The most bytes of output a cell keeps in the executed notebook and the post; past it, the
# rest of that cell's output is dropped with a visible note (``[tool.hundred] max_cell_output``).
MAX_CELL_OUTPUT = 1_000_000


@dataclass(frozen=True)
class Settings:
    """What ``[tool.hundred]`` says, with defaults for everything it leaves out."""

    profiles: dict[str, dict[str, Any]] = field(default_factory=lambda: dict(DEFAULT_PROFILES))
    # The profile that verifies a project still runs: what `hundred run` and CI run by default.
    verify: str = "smoke"
    # Profiles whose successful runs are frozen into projects/*/runs/ and committed; the first
    # is the one the blog publishes and a project needs to be done.
    freeze: tuple[str, ...] = ("full",)
    max_cell_output: int = MAX_CELL_OUTPUT
    # The template new-project renders when --template is not given: a copier or cookiecutter
    # template's folder (relative to the monorepo's root) or git URL; None is hundred's own.
    template: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def publish(self) -> str:
        """The profile whose frozen run is published and counts for "done"."""
        return self.freeze[0]

    @property
    def reported(self) -> tuple[str, ...]:
        """The profiles status reports on: the verifying one, then the frozen ones."""
        return tuple(dict.fromkeys((self.verify, *self.freeze)))


def load_settings(root: Path) -> Settings:
    """Read ``root/pyproject.toml``; a missing file or table gives the defaults."""
    path = root / "pyproject.toml"
    if not path.is_file():
        return Settings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise HundredError(f"{path} is not valid TOML ({error}); fix it") from None
    table = data.get("tool", {}).get("hundred", {})
    if not isinstance(table, dict):
        raise HundredError(f"{path}: [tool.hundred] must be a table")
    profiles = {name: dict(values) for name, values in DEFAULT_PROFILES.items()}
    for name, values in table.get("profiles", {}).items():
        if not isinstance(values, dict):
            raise HundredError(
                f"{path}: [tool.hundred.profiles.{name}] must be a table of parameter = value"
            )
        profiles[name] = {**profiles.get(name, {}), **values}
    freeze = table.get("freeze", ["full"])
    if not isinstance(freeze, list) or not freeze or not all(
        isinstance(item, str) for item in freeze
    ):
        raise HundredError(f"{path}: [tool.hundred] freeze must be a non-empty list of profile "
                           "names, e.g. freeze = [\"full\"]")
    verify = table.get("verify", "smoke")
    for name in (verify, *freeze):
        if name not in profiles:
            raise HundredError(f"{path}: [tool.hundred] names the profile {name!r}, which is not "
                               f"defined; add [tool.hundred.profiles.{name}] or use one of "
                               f"{', '.join(sorted(profiles))}")
    limit = table.get("max_cell_output", MAX_CELL_OUTPUT)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1000:
        raise HundredError(f"{path}: [tool.hundred] max_cell_output must be a number of bytes "
                           ">= 1000")
    template = table.get("template")
    if template is not None and (not isinstance(template, str) or not template.strip()):
        raise HundredError(f"{path}: [tool.hundred] template must be the folder or git URL of a "
                           "copier or cookiecutter template, e.g. template = \"templates/mine\"")
    return Settings(profiles=profiles, verify=str(verify), freeze=tuple(freeze),
                    max_cell_output=limit, template=template, raw=table)


def parameters_for(settings: Settings, profile: str, overrides: dict[str, dict[str, Any]]) -> dict[
    str, Any
]:
    """The parameters papermill injects: the profile's defaults, then the project's overrides."""
    if profile not in settings.profiles:
        known = ", ".join(sorted(settings.profiles))
        raise HundredError(
            f"unknown profile {profile!r}; use one of {known} or add "
            f"[tool.hundred.profiles.{profile}] to pyproject.toml"
        )
    return {**settings.profiles[profile], **overrides.get(profile, {})}
