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


@dataclass(frozen=True)
class Settings:
    """What ``[tool.hundred]`` says, with defaults for everything it leaves out."""

    profiles: dict[str, dict[str, Any]] = field(default_factory=lambda: dict(DEFAULT_PROFILES))
    # Profiles whose successful runs are frozen into projects/*/runs/ and committed.
    freeze: tuple[str, ...] = ("full",)
    raw: dict[str, Any] = field(default_factory=dict)


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
    if not isinstance(freeze, list) or not all(isinstance(item, str) for item in freeze):
        raise HundredError(f"{path}: [tool.hundred] freeze must be a list of profile names")
    return Settings(profiles=profiles, freeze=tuple(freeze), raw=table)


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
