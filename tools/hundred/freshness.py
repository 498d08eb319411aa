"""The one rule for "current": is a run record still valid for a project's code and profile?

The run compared with is the *reference run* (``reference_run``): the frozen run of a frozen
profile, else the latest attempt. Planning skips a project whose reference run is current,
status calls one that is not *stale*, and the dashboard's *done* needs the published
profile's frozen run to be current: all three ask ``is_current``.
"""

from __future__ import annotations

from pathlib import Path

from hundred import results as store
from hundred.cache import CacheKey, FileHashes, InvalidNotebook, cache_key_for
from hundred.catalog import Project
from hundred.config import Settings, parameters_for
from hundred.results import Corrupt, RunResult


def key_for(project: Project, profile: str, settings: Settings, *,
            hashes: FileHashes | None = None) -> CacheKey:
    """The cache key of running ``project``'s current code with ``profile``.

    Raises ``InvalidNotebook`` when the notebook is not a notebook.
    """
    parameters = parameters_for(settings, profile, project.writeup.profiles)
    return cache_key_for(project, parameters, hashes=hashes)


def digest_for(project: Project, profile: str, settings: Settings) -> str | None:
    """``key_for``'s digest, or None when the notebook is not a notebook."""
    try:
        return key_for(project, profile, settings).digest
    except InvalidNotebook:
        return None


def reference_run(root: Path, project: str, profile: str, settings: Settings
                  ) -> RunResult | Corrupt | None:
    """The record a new run is compared with: the frozen run of a frozen profile, else the
    latest attempt (checked: a corrupt one says why)."""
    path = (store.frozen_path if profile in settings.freeze else store.latest_path)(
        root, project, profile)
    return store.read_checked(root, path)


def is_current(record: RunResult | None, digest: str | None) -> bool:
    """A record is current when it passed and was made from the code that has ``digest``."""
    return record is not None and record.passed and digest is not None and (
        record.cache_key == digest)
