"""What every command module of the CLI shares: the monorepo root from ``-C``."""

from __future__ import annotations

import argparse
from pathlib import Path


def root_of(args: argparse.Namespace) -> Path:
    """The monorepo root: from ``-C DIR`` or the current folder, upwards."""
    from hundred import catalog  # pydantic and PyYAML: not before a command needs them

    return catalog.find_root(Path(args.directory) if args.directory else None)
