"""The change-aware cache key of a project run.

The key covers what decides a run's outcome: the notebook's code cells (not outputs, not
markdown), the project's other source files (data.py and any .py), the sources of the
monorepo's own helper packages it imports (``tools/<name>``), every other file of the
project that is not an output (data files such as CSV, JSON, pickles and images, a
requirements.txt and its lock), the profile's parameters, and the versions of the installed
packages the code imports; for a project with an environment of its own, its lock stands for
those versions, so the shared stack can change under it without making its runs stale.
jupyter-cache and Quarto's freeze look at the notebook alone; a changed data file, data script
or an upgraded library re-runs here.

Data files are hashed by content, cheaply: ``FileHashes`` remembers each file's digest by its
size and modification time (as git's index does), so an unchanged large file is not read again.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import json
import os
import re
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from hundred.catalog import Project
from hundred.environments import EnvironmentFailed, Lock, needs_environment, read_lock
from hundred.errors import HundredError
from hundred.packages import distribution_of

# Folders of a project that hold outputs, not sources.
NOT_SOURCES = frozenset({"data", "runs", "__pycache__", ".ipynb_checkpoints"})
# Files of a project that are not inputs of its run: the writeup is prose (its parameters are
# in the key anyway) and the notebook enters by its code cells.
NOT_INPUTS = frozenset({"writeup.md", "notebook.ipynb"})
# The monorepo's own helper packages (tools/<name>), importable from every notebook: a project
# that imports one has its sources in its key, so a change to a helper re-runs exactly the
# projects that import it. hundred itself is versioned, not hashed.
SHARED = Path("tools")
TOOL = "hundred"
# A file modified this recently may change again within the clock's resolution: not remembered.
RACY_SECONDS = 2.0
_MAGIC = re.compile(r"^\s*[%!].*$", re.MULTILINE)


class InvalidNotebook(HundredError):
    """The notebook file is not a notebook nbformat can read."""

    exit_code = 1


@dataclass(frozen=True)
class CacheKey:
    """The key, and the package versions that went into it (kept in the run record)."""

    digest: str
    packages: dict[str, str]
    imports: frozenset[str] = frozenset()  # dotted names of the modules the code imports


def code_cells(notebook: Path) -> list[str]:
    """The sources of the notebook's code cells; ``InvalidNotebook`` if it is not a notebook."""
    try:
        data = json.loads(notebook.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidNotebook(f"{notebook} is missing") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InvalidNotebook(f"{notebook} is not valid JSON ({error})") from None
    cells = data.get("cells") if isinstance(data, dict) else None
    if not isinstance(cells, list) or not all(
        isinstance(cell, dict) and "cell_type" in cell and "source" in cell for cell in cells
    ):
        raise InvalidNotebook(f"{notebook} is JSON but not a notebook (no list of cells)")
    return [
        "".join(cell["source"]) if isinstance(cell["source"], list) else str(cell["source"])
        for cell in cells
        if cell["cell_type"] == "code"
    ]


def cell_sources(notebook: Path) -> list[tuple[str, str]]:
    """``(cell_type, source)`` of every cell, in order; ``ValueError`` if it is not JSON."""
    cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
    return [(str(cell.get("cell_type")), "".join(cell["source"])
             if isinstance(cell.get("source"), list) else str(cell.get("source", "")))
            for cell in cells]


def input_files(folder: Path) -> list[Path]:
    """Every file of the project that its run may read, outputs left out, in a stable order."""
    found: list[Path] = []
    for directory, folders, files in os.walk(folder):
        folders[:] = sorted(f for f in folders if f not in NOT_SOURCES and not f.startswith("."))
        here = Path(directory)
        found.extend(here / name for name in files
                     if not name.startswith(".") and not (here == folder and name in NOT_INPUTS))
    return sorted(found)


def source_files(folder: Path) -> list[Path]:
    """The project's Python sources besides the notebook, in a stable order."""
    return [path for path in input_files(folder) if path.suffix == ".py"]


class FileHashes:
    """Content digests of files, remembered by (size, mtime) in ``.hundred/file-hashes.json``."""

    def __init__(self, root: Path | None) -> None:
        """Remember digests under ``root``'s ``.hundred/``; ``None``: in memory only."""
        self.path = root / ".hundred" / "file-hashes.json" if root is not None else None
        self.known: dict[str, list[Any]] = {}
        if self.path is not None:
            with contextlib.suppress(FileNotFoundError, ValueError):
                self.known = json.loads(self.path.read_text(encoding="utf-8"))
        self.changed = False

    def digest(self, path: Path) -> str:
        stat = path.stat()
        key = str(path)
        remembered = self.known.get(key)
        if remembered and remembered[:2] == [stat.st_size, stat.st_mtime_ns]:
            return str(remembered[2])
        with path.open("rb") as stream:
            digest = hashlib.file_digest(stream, "sha256").hexdigest()
        if time.time() - stat.st_mtime > RACY_SECONDS:
            self.known[key] = [stat.st_size, stat.st_mtime_ns, digest]
            self.changed = True
        return digest

    def save(self) -> None:
        if self.changed and self.path is not None:
            from hundred.results import atomic_write

            atomic_write(self.path, json.dumps(self.known).encode())
            self.changed = False


def imported_module_paths(sources: Iterable[str]) -> set[str]:
    """The dotted names of every module imported by ``sources`` (magics are ignored)."""
    names: set[str] = set()
    for source in sources:
        try:
            tree = ast.parse(_MAGIC.sub("", source))
        except SyntaxError:
            continue  # the run will report it; the cell's text is in the key anyway
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
    return names


def imported_modules(sources: Iterable[str]) -> set[str]:
    """Top-level names of every module imported by ``sources`` (magics are ignored)."""
    return {name.split(".")[0] for name in imported_module_paths(sources)}


@cache
def _all_distributions() -> Mapping[str, list[str]]:
    return metadata.packages_distributions()


@cache
def installed_version(module: str) -> tuple[str, str] | None:
    """``(distribution, version)`` of the installed package providing ``module``, if any."""
    candidates = [distribution_of(module)]
    for name in candidates:
        try:
            return name, metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    for name in _all_distributions().get(module, []):  # slower: scans every distribution
        try:
            return name, metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return None


def shared_sources(root: Path, modules: Iterable[str]) -> dict[str, list[Path]]:
    """The monorepo's own helper modules among ``modules``, with their ``.py`` files."""
    found: dict[str, list[Path]] = {}
    for module in sorted(set(modules) - {TOOL}):
        package, single = root / SHARED / module, root / SHARED / f"{module}.py"
        if (package / "__init__.py").is_file():
            found[module] = sorted(path for path in package.rglob("*.py")
                                   if "__pycache__" not in path.parts)
        elif single.is_file():
            found[module] = [single]
    return found


def package_versions(modules: Iterable[str], local: Path) -> dict[str, str]:
    """Versions of the distributions behind ``modules``, skipping stdlib and the project's own."""
    versions: dict[str, str] = {}
    for module in sorted(modules):
        if module in sys.stdlib_module_names or (local / f"{module}.py").exists() or (
            local / module
        ).is_dir():
            continue
        found = installed_version(module)
        if found is not None:
            versions[found[0]] = found[1]
    return versions


def cache_key_for(project: Project, parameters: dict[str, Any], *,
                  hashes: FileHashes | None = None) -> CacheKey:
    """The cache key of running ``project`` with ``parameters``."""
    cells = code_cells(project.notebook)
    digest = hashlib.sha256()

    def feed(label: str, text: str) -> None:
        digest.update(f"{label}\0{len(text)}\0".encode())
        digest.update(text.encode())

    for index, source in enumerate(cells):
        feed(f"cell {index}", source)
    files = input_files(project.path)
    sources = [(path, path.read_text(encoding="utf-8", errors="replace"))
               for path in files if path.suffix == ".py"]
    for path, text in sources:
        feed(path.relative_to(project.path).as_posix(), text)
    hashes = hashes or FileHashes(None)
    for path in files:
        if path.suffix != ".py":
            feed(f"file {path.relative_to(project.path).as_posix()}", hashes.digest(path))
    imports = imported_module_paths([*cells, *(text for _, text in sources)])
    modules = {name.split(".")[0] for name in imports}
    root = project.path.parent.parent
    helpers = shared_sources(root, modules)
    for path in (path for paths in helpers.values() for path in paths):
        feed(f"shared {path.relative_to(root).as_posix()}",
             path.read_text(encoding="utf-8", errors="replace"))
    feed("parameters", json.dumps(parameters, sort_keys=True, default=str))
    lock = environment_lock(project.path)
    if lock is not None:  # its own environment: the lock (a project file, fed above) says all
        packages = lock.pins
    else:
        packages = package_versions(modules - set(helpers), project.path)
        feed("packages", json.dumps(packages, sort_keys=True))
    feed("python", ".".join(map(str, sys.version_info[:3])))
    return CacheKey(digest.hexdigest(), packages, frozenset(imports))


def environment_lock(folder: Path) -> Lock | None:
    """The lock of a project that declares packages; None for one that runs in the shared
    environment (a requirements.txt that does not parse is reported when the project runs)."""
    try:
        return read_lock(folder) if needs_environment(folder) else None
    except EnvironmentFailed:
        return None
