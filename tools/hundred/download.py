"""Verified, cached, atomic downloads for project data scripts (a thin layer over pooch).

pooch streams into a temporary file beside the target, checks the sha256 and only then moves
the file into place, so an interrupted download never leaves half a file; a file already there
with the right checksum is not downloaded again. This module adds one-line errors and the
environment overrides that let tests and mirrors point a dataset at another URL.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from hundred.errors import WorkFailed


@dataclass(frozen=True)
class Remote:
    """A file to download: where from, what it must hash to, and the name to store it as."""

    url: str
    sha256: str
    filename: str = ""

    @property
    def name(self) -> str:
        return self.filename or self.url.rstrip("/").rsplit("/", 1)[-1]

    def overridden(self, prefix: str) -> Remote:
        """This remote with ``{PREFIX}_URL`` / ``{PREFIX}_SHA256`` from the environment applied.

        A mirror, or a test server on 127.0.0.1, is named this way without editing data.py.
        """
        key = re.sub(r"[^A-Z0-9]+", "_", prefix.upper())
        url = os.environ.get(f"{key}_URL", self.url)
        sha256 = os.environ.get(f"{key}_SHA256", self.sha256)
        return replace(self, url=url, sha256=sha256, filename=self.name)


def fetch(remote: Remote, folder: Path) -> Path:
    """Download ``remote`` into ``folder`` unless a verified copy is there; return its path."""
    import pooch
    import requests

    # pooch logs each download at INFO on stderr: a failure would print two lines, not one.
    pooch.get_logger().setLevel("WARNING")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / remote.name
    try:
        path = pooch.retrieve(
            remote.url,
            known_hash=f"sha256:{remote.sha256}",
            fname=remote.name,
            path=folder,
            progressbar=sys.stderr.isatty(),
        )
    except ValueError as error:
        if "hash" not in str(error).lower():
            raise
        raise WorkFailed(
            f"download of {remote.url} does not match its sha256 {remote.sha256[:12]}…; "
            "the file was not kept: check the URL, or update the checksum if the source changed"
        ) from None
    except requests.RequestException as error:
        raise WorkFailed(
            f"could not download {remote.url} ({_reason(error)}); check your network, "
            "or point it at a mirror with the environment variable named in data.py"
        ) from None
    return Path(path) if path else target


def _reason(error: Exception) -> str:
    text = str(error.__class__.__name__)
    response = getattr(error, "response", None)
    if response is not None and getattr(response, "status_code", None):
        return f"HTTP {response.status_code}"
    return text


def main_guard(run: object) -> None:
    """Run a data script's ``main``: a failure prints one line and exits 1, no traceback."""
    if not callable(run):
        raise TypeError("main_guard needs a callable")
    try:
        run()
    except WorkFailed as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        print("interrupted: nothing half-written was kept", file=sys.stderr)
        raise SystemExit(130) from None
