"""`hundred adopt`: an existing challenge repository's notebooks brought in as numbered projects.

``plan_adoption(root, source)`` reads the source and decides everything, writing nothing: a
frozen ``Plan``. ``adopt(root, plan)`` writes it, one project at a time, each built in a hidden
folder of projects/ and renamed into place (``scaffold.staged_folder``): a project that fails
leaves nothing behind and the others still come in. The source is only ever read.

The rules, each in one place below:

- **Projects.** Every Python notebook becomes a project, except that the notebooks under a
  folder whose *name* carries a number (``day15 - working with csv files/``, ``Project 7 -
  Title/``) are that one project: its *main* notebook is the one with the most code cells (then
  the first by name), the others are kept beside it, their outputs stripped. Checkpoints,
  hidden folders and virtual environments are not looked in.
- **Numbers** come from the nearest such folder, else from the notebook's own name
  (``Day 11_K-NN.ipynb``); a number already taken in the monorepo, or claimed by an earlier
  notebook of the source, and a notebook without one, take the next numbers after the highest
  in use, in the source's order. The plan says which and why; nothing is ever overwritten.
- **Slugs** come from the name without its number, else the notebook's first heading:
  kebab-case ASCII (accents transliterated, other characters dropped), at most 40 characters,
  made unique with ``-2``, ``-3``...
- **Files.** A project that has its folder to itself (no other project's notebook in it) takes
  every file in it; any project takes the files its code names in string literals
  (``pd.read_csv("../datasets/Data.csv")``), the modules beside it that it imports, and the
  files its writeup links to. A file up to ``SMALL_FILE_BYTES`` (1 MiB) is copied; a larger one
  is listed in a ``data.py`` that fetches it into ``data/`` (gitignored) once its URL is filled
  in, checked against the sha256 it had in the source. A path the code names is rewritten to
  the file's place in the project when that changed; an absolute path of a hosted notebook
  service (``/kaggle/input/...``) is rewritten to a file of the same name in the project, or
  flagged. Names that the project layout uses itself (``data/``, ``data.py``,
  ``requirements.txt``...) are kept as ``original-<name>``.
- **The notebook** is normalised (nbformat 4.5, cell ids, a Python kernelspec and language, a
  ``parameters`` cell for the profiles) with its outputs stripped; the outputs as committed
  are kept as the *imported* run record ``runs/imported.{ipynb,json}``, shown on the post as
  "outputs as originally committed, not verified" until hundred runs it.
- **The writeup**: the folder's README, then the notebook's ``.md`` twin, then its ``.py`` twin
  (as code) become the body; the title is the first heading; the date is the first commit of
  the notebook in the source's git history, else the file's date; the kind is guessed from the
  imports; tags name the libraries it uses.
- **requirements.txt**: the distributions behind its imports (``hundred.packages``) and its
  ``!pip install`` lines, less the standard library, its own modules and the monorepo's shared
  stack (what pyproject.toml installs). A name hundred cannot confirm is flagged.
- **Once only**: each project keeps ``.adopted.yml`` (the source and the notebooks with their
  sha256); a notebook adopted before, from the same source path or with the same content, is
  skipped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import tomllib
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import yaml

from hundred import results as store
from hundred.catalog import (
    NOTEBOOK,
    SLUG_MAX,
    WRITEUP,
    Project,
    ProjectName,
    Writeup,
    check_slug,
    project_folders,
)
from hundred.environments import LOCK, REQUIREMENTS, normalise
from hundred.errors import HundredError
from hundred.lock import monorepo_lock
from hundred.scaffold import infer_kind, staged_folder, title_from_slug

SHARED_EXTRA = "ml"  # pyproject's extra that the workflows install beside the dependencies
SMALL_FILE_BYTES = 1 << 20  # a file up to this size is copied; a larger one goes in data.py
ADOPTED = ".adopted.yml"  # in each adopted project: where it came from
DATA_SCRIPT = "data.py"
# Names of a project's own layout: a source file or folder of that name is kept as original-NAME.
RESERVED = frozenset({NOTEBOOK, WRITEUP, DATA_SCRIPT, REQUIREMENTS, LOCK, "data", "runs",
                      ADOPTED, ".copier-answers.yml"})
SKIPPED_FOLDERS = frozenset({"__pycache__", ".ipynb_checkpoints", "node_modules", "venv", "env",
                             "site-packages"})
# Modules that exist only on a hosted notebook service: nothing to install.
HOSTED_MODULES = ("google.colab", "kaggle_secrets", "kaggle_datasets", "kaggle_web_client")
_HOSTED_PATH = re.compile(r"^/(kaggle|content|gdrive|mnt/data|datasets)/")
_ABSOLUTE_PATH = re.compile(r"^(/|[A-Za-z]:[\\/])")
VISION_IMPORTS = frozenset({"cv2", "PIL", "torchvision", "skimage", "imageio", "timm",
                            "albumentations"})
# Imports that name a task's kind, checked in this order (statsmodels is too general to say).
TASK_IMPORTS: dict[str, frozenset[str]] = {
    "generative": frozenset({"diffusers"}),
    "time-series": frozenset({"prophet", "sktime", "darts", "pmdarima", "tsfresh"}),
    "nlp": frozenset({"nltk", "spacy", "transformers", "gensim", "tokenizers", "textblob",
                      "sentencepiece"}),
}
LEARNING_IMPORTS = frozenset({"sklearn", "torch", "tensorflow", "keras", "xgboost", "lightgbm",
                              "catboost", "statsmodels", "jax", "flax", "pandas"})
# A name of one of these says nothing about the project: the slug comes from elsewhere.
GENERIC_SLUGS = frozenset({"notebook", "notebooks", "main", "index", "code", "src", "solution",
                           "solutions", "project", "projects", "day", "final", "analysis",
                           "work", "scratch", "test", "draft"})
_GENERIC = re.compile(r"(copy-of-)?untitled(-?\d+)?")
# A number at the start of a name: day15, Day 11_, Project 7 -, p3_, 015-, #4.
_NUMBERED = re.compile(
    r"^\s*(?:(?:day|project|proj|p|no|nr|ex|exercise|lesson|task|#)\s*[-_.#]?\s*)?0*(\d{1,3})"
    r"(?!\d)(?:\s*[-_.:)]+\s*|\s+|$)(?P<rest>.*)$", re.IGNORECASE | re.DOTALL)
_STRING = re.compile(r"""(?P<q>["'])(?P<body>[^"'\n]{1,300}?)(?P=q)""")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
_MD_LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]+)((?:\s+\"[^\"]*\")?)\)")
_EXTERNAL = re.compile(r"^([a-z][a-z0-9+.-]*:|#|/)", re.IGNORECASE)
_LINKABLE = re.compile(r"[A-Za-z0-9._/-]+")
_CELL_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")
_LATIN = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "œ": "oe",
                        "Œ": "OE", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "þ": "th",
                        "Þ": "Th", "ı": "i"})
PARAMETERS = ('# Parameters: `hundred run` sets them for its profile (smoke: a quick check, '
              'full: the real run).\nprofile = "full"\nseed = 0')
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


@dataclass(frozen=True)
class FileMove:
    """A file of the source that the project gets: copied, or fetched by data.py if large."""

    source: str  # relative to the source, posix
    target: str  # relative to the project, posix
    size: int
    sha256: str = ""  # of a fetched file: what data.py checks

    @property
    def fetched(self) -> bool:
        return self.size > SMALL_FILE_BYTES


@dataclass(frozen=True)
class PathRewrite:
    """A path in a code cell changed to where the file is in the project."""

    cell: int  # 1-based position in the project's notebook
    old: str
    new: str


@dataclass(frozen=True)
class Requirement:
    """A line of requirements.txt and where it came from."""

    distribution: str
    origin: str  # `import seaborn`, or the `!pip install` line
    known: bool  # confirmed by hundred's table, this environment or a pip install line


@dataclass(frozen=True)
class Adoption:
    """One project to make from the source: everything decided, nothing written yet."""

    name: ProjectName
    notebook: str  # the main notebook, relative to the source
    sha256: str  # of the main notebook as planned: adopt refuses it if it changed since
    numbering: str  # how the number was chosen, in words
    title: str
    date: dt.date
    date_from: Literal["git", "file"]
    outputs_at: dt.datetime  # when the committed outputs were made (last commit, or mtime)
    kind: str
    tags: tuple[str, ...]
    body: str  # the writeup's Markdown below the front matter
    body_from: tuple[str, ...]  # the source files that made it
    kept: tuple[FileMove, ...] = ()  # the folder's other notebooks, kept beside (no outputs)
    files: tuple[FileMove, ...] = ()
    rewrites: tuple[PathRewrite, ...] = ()
    requirements: tuple[Requirement, ...] = ()
    has_outputs: bool = False
    notes: tuple[str, ...] = ()  # what the user should check, in words

    @property
    def folder(self) -> str:
        return self.name.folder


@dataclass(frozen=True)
class Skipped:
    notebook: str  # relative to the source
    reason: str


@dataclass(frozen=True)
class Plan:
    """What ``adopt`` will do with ``source``: the projects it makes, and what it leaves."""

    source: Path
    projects: tuple[Adoption, ...]
    skipped: tuple[Skipped, ...] = ()


@dataclass(frozen=True)
class Adopted:
    """What became of one planned project: made, or the one-line reason it was not."""

    adoption: Adoption
    project: Project | None
    error: str | None = None


# ---------------------------------------------------------------------------- planning


def plan_adoption(root: Path, source: Path) -> Plan:
    """Decide how the notebooks of ``source`` become projects of the monorepo at ``root``.

    Reads only; raises ``HundredError`` for bad input: a source that is not a folder, holds no
    notebook, or holds a notebook that is not readable notebook JSON.
    """
    source = _checked_source(root, source)
    found = [_read_source_notebook(source, path) for path in _notebook_paths(source)]
    if not found:
        raise HundredError(f"{source} holds no notebook (.ipynb), checkpoints and hidden folders "
                           "left aside; give the folder of the challenge's notebooks")
    adopted = _adopted_before(root, source)
    skipped = [Skipped(notebook.rel, reason) for notebook in found
               if (reason := _why_not(notebook, adopted))]
    fresh = [notebook for notebook in found if notebook.rel not in {s.notebook for s in skipped}]
    units = _units(source, fresh)
    numbered, unnumbered = _numbers(root, units)
    skipped += [Skipped(unit.main.rel, "no free project number left (999 are in use)")
                for unit in unnumbered]
    shared = _shared_distributions(root)
    slugs = {name.slug for name, _ in project_folders(root)}
    projects = []
    for unit, number, how in numbered:
        adoption = _adoption(source, unit, number, how, slugs, shared)
        slugs.add(adoption.name.slug)
        projects.append(adoption)
    return Plan(source, tuple(projects), tuple(sorted(skipped, key=lambda s: _natural(s.notebook))))


def _why_not(notebook: _SourceNotebook, adopted: dict[tuple[str, str], str]) -> str | None:
    """Why ``notebook`` is not adopted (None: it is)."""
    language = _language(notebook.content)
    if language.lower() not in ("", "python"):
        return f"its language is {language}: hundred runs Python notebooks"
    already = adopted.get((notebook.rel, "path")) or adopted.get((notebook.sha256, "sha"))
    return f"already adopted as projects/{already}" if already else None


def _checked_source(root: Path, source: Path) -> Path:
    if not source.exists():
        raise HundredError(f"{source} does not exist; give the folder of the challenge "
                           "repository to adopt")
    if not source.is_dir():
        raise HundredError(f"{source} is a file, not a folder; give the folder that holds the "
                           "challenge's notebooks")
    resolved, monorepo = source.resolve(), root.resolve()
    if resolved == monorepo or monorepo.is_relative_to(resolved) or resolved.is_relative_to(
            monorepo / "projects"):
        raise HundredError(f"{source} is this monorepo or inside its projects/; give the folder "
                           "of another repository")
    return resolved


def _notebook_paths(source: Path) -> list[Path]:
    found = []
    for directory, folders, files in os.walk(source):
        folders[:] = [f for f in folders if not f.startswith(".") and f not in SKIPPED_FOLDERS]
        found += [Path(directory) / name for name in files if name.endswith(".ipynb")
                  and not name.startswith(".") and not name.endswith("-checkpoint.ipynb")]
    return sorted(found, key=lambda path: _natural(path.relative_to(source).as_posix()))


def _natural(text: str) -> tuple[Any, ...]:
    """Sort key putting ``Day 2`` before ``Day 10``."""
    return tuple(int(part) if part.isdigit() else part.lower()
                 for part in re.split(r"(\d+)", text))


@dataclass(frozen=True)
class _SourceNotebook:
    path: Path
    rel: str
    sha256: str
    content: dict[str, Any]  # the notebook converted to nbformat 4

    @property
    def code_cells(self) -> int:
        return sum(cell.get("cell_type") == "code" for cell in self.content["cells"])


def _read_source_notebook(source: Path, path: Path) -> _SourceNotebook:
    rel = path.relative_to(source).as_posix()
    data = path.read_bytes()
    return _SourceNotebook(path, rel, hashlib.sha256(data).hexdigest(), read_notebook(data, rel))


def read_notebook(data: bytes, where: str) -> dict[str, Any]:
    """A notebook file's JSON as nbformat 4 (version 3 converted); ``HundredError`` if it is
    not one."""
    import nbformat

    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise HundredError(f"{where} is not readable notebook JSON ({_one_line(str(error))}); "
                           "fix or remove it, then adopt again") from None
    major = raw.get("nbformat") if isinstance(raw, dict) else None
    cells = raw.get("cells") if major == 4 else raw.get("worksheets") if major == 3 else None
    if not isinstance(cells, list):
        raise HundredError(f"{where} is JSON but not a notebook of nbformat 3 or 4; fix or "
                           "remove it, then adopt again")
    try:
        converted = nbformat.convert(nbformat.from_dict(raw), 4)
    except Exception as error:  # nbformat raises what its converters meet
        raise HundredError(f"{where} is a notebook nbformat cannot read ({type(error).__name__}:"
                           f" {_one_line(str(error))}); fix or remove it") from None
    if not all(isinstance(cell, dict) and "cell_type" in cell for cell in converted["cells"]):
        raise HundredError(f"{where} has cells without a cell_type; fix or remove it")
    if (major, raw.get("nbformat_minor", 0)) < (4, 5):
        for cell in converted["cells"]:  # ids made up by the conversion: not stable
            cell.pop("id", None)
    return dict(converted)


def _language(notebook: dict[str, Any]) -> str:
    """The notebook's language as its metadata says ("" when it says nothing)."""
    meta = notebook.get("metadata") or {}
    spec, info = meta.get("kernelspec") or {}, meta.get("language_info") or {}
    named = str(spec.get("language") or info.get("name") or "")
    kernel = str(spec.get("name", "")).lower()
    if not named and kernel.startswith(("ir", "julia")):
        named = "R" if kernel.startswith("ir") else "Julia"
    return named


def _adopted_before(root: Path, source: Path) -> dict[tuple[str, str], str]:
    """(notebook path, "path") for notebooks adopted from ``source``, and (sha256, "sha") for
    any adopted notebook, each mapped to its project's folder."""
    known: dict[tuple[str, str], str] = {}
    for name, path in project_folders(root):
        record = read_adopted(path)
        if record is None:
            continue
        same_source = record.get("source") == str(source)
        for entry in record.get("notebooks", []):
            if not isinstance(entry, dict):
                continue
            if same_source and entry.get("path"):
                known[(str(entry["path"]), "path")] = name.folder
            if entry.get("sha256"):
                known[(str(entry["sha256"]), "sha")] = name.folder
    return known


def read_adopted(project: Path) -> dict[str, Any] | None:
    """A project's ``.adopted.yml``, or None when it was not adopted (or the file is broken)."""
    try:
        data = yaml.safe_load((project / ADOPTED).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    return data if isinstance(data, dict) else None


@dataclass(frozen=True)
class _Unit:
    """The notebooks that make one project, and the name that numbers and names it."""

    main: _SourceNotebook
    kept: tuple[_SourceNotebook, ...]
    number: int | None
    name: str  # the folder's or notebook's name the number came from (or would come from)
    home: Path  # the notebook's folder, or the numbered folder that makes the project
    owns_home: bool  # no other project's notebook in ``home``: all its files come along


def number_in(name: str) -> tuple[int | None, str]:
    """The project number at the start of a name, and the rest: ``"Day 11_K-NN"`` → (11,
    "K-NN"); ``(None, name)`` without one."""
    match = _NUMBERED.match(name)
    if match is None or int(match[1]) == 0:
        return None, name
    return int(match[1]), match["rest"].strip()


def _units(source: Path, notebooks: list[_SourceNotebook]) -> list[_Unit]:
    by_folder: dict[Path, list[_SourceNotebook]] = {}
    singles: list[_SourceNotebook] = []
    for notebook in notebooks:
        folder = _numbered_folder(source, notebook.path)
        if folder is None:
            singles.append(notebook)
        else:
            by_folder.setdefault(folder, []).append(notebook)
    units = []
    for folder, members in by_folder.items():
        main = min(members, key=lambda n: (-n.code_cells, _natural(n.rel)))
        kept = tuple(n for n in members if n is not main)
        units.append(_Unit(main, kept, number_in(folder.name)[0], folder.name, folder, True))
    counts: dict[Path, int] = {}
    for notebook in notebooks:
        for folder in notebook.path.parents:
            counts[folder] = counts.get(folder, 0) + 1
            if folder == source:
                break
    for notebook in singles:
        stem = Path(notebook.rel).stem
        home = notebook.path.parent
        units.append(_Unit(notebook, (), number_in(stem)[0], stem, home, counts[home] == 1))
    return sorted(units, key=lambda unit: _natural(unit.main.rel))


def _numbered_folder(source: Path, path: Path) -> Path | None:
    """The nearest folder between ``path`` and ``source`` whose name has a number."""
    for folder in path.parents:
        if folder == source or not folder.is_relative_to(source):
            return None
        if number_in(folder.name)[0] is not None:
            return folder
    return None


def _numbers(root: Path, units: list[_Unit]) -> tuple[list[tuple[_Unit, int, str]], list[_Unit]]:
    """Each unit's number and how it was chosen; the units no number is left for."""
    taken = {name.number: path for name, path in project_folders(root)}
    claimed: dict[int, _Unit] = {}
    chosen: dict[int, tuple[int, str]] = {}  # id(unit) → (number, how)
    for unit in units:
        if unit.number is None or unit.number in taken or unit.number in claimed:
            continue
        claimed[unit.number] = unit
        chosen[id(unit)] = (unit.number, f"{unit.number:03d} from the name {unit.name!r}")
    highest = max([*taken, *claimed, 0])
    left: list[_Unit] = []
    for unit in units:
        if id(unit) in chosen:
            continue
        highest += 1
        if highest > 999:
            left.append(unit)
            continue
        if unit.number is None:
            why = "no number in its name"
        elif unit.number in taken:
            why = (f"{unit.number:03d} from the name {unit.name!r} is taken by "
                   f"projects/{taken[unit.number].name}")
        else:
            why = (f"{unit.number:03d} from the name {unit.name!r} is also claimed by "
                   f"{claimed[unit.number].main.rel}")
        chosen[id(unit)] = (highest, f"{why}: the next free number, {highest:03d}")
    numbered = [(unit, *chosen[id(unit)]) for unit in units if id(unit) in chosen]
    return numbered, left


def _adoption(source: Path, unit: _Unit, number: int, how: str, slugs: set[str],
              shared: frozenset[str]) -> Adoption:
    notebook = normalised(unit.main.content, outputs=True)
    _check_valid(normalised(unit.main.content, outputs=False), unit.main.rel)
    # By position in the project's notebook; "" for Markdown, so positions match Jupyter's.
    cells = [str(cell["source"]) if cell["cell_type"] == "code" else ""
             for cell in notebook["cells"]]
    heading = first_heading(notebook)
    slug = _unique(_slug_for(unit, heading), slugs)
    files = _FileSet(source, unit.home)
    if unit.owns_home:
        skip = {n.path for n in (unit.main, *unit.kept)}
        for path in _files_in(unit.home):
            if path not in skip and path.suffix != ".ipynb" and not _is_body(unit, path):
                files.add(path)
    kept = tuple(files.kept(n.path) for n in unit.kept)
    notes: list[str] = []
    if unit.kept:
        notes.append(f"{len(unit.kept) + 1} notebooks in {unit.name!r}: the main one is "
                     f"{Path(unit.main.rel).name} (the most code cells); kept beside it, without "
                     f"outputs: {', '.join(move.target for move in kept)}")
    rewrites = _path_rewrites(unit, cells, files, notes)
    modules = _imports(cells)
    local = _local_modules(unit, modules, files)
    requirements = _requirements(modules, cells, local, shared, notes)
    body, body_from = _body(source, unit, files, notes)
    title = _title(unit, heading, slug)
    first, last, date_from = _dates(source, unit.main.path)
    if not _language(unit.main.content):
        notes.append("no kernel or language metadata: set to Python 3")
    has_outputs = any(cell.get("outputs") for cell in notebook["cells"])
    if not has_outputs:
        notes.append("no outputs were committed: there is no imported record to show")
    return Adoption(
        name=ProjectName(number, slug), notebook=unit.main.rel, sha256=unit.main.sha256,
        numbering=how, title=title, date=first.date(), date_from=date_from, outputs_at=last,
        kind=_kind(modules, slug), tags=_tags(modules, local), body=body, body_from=body_from,
        kept=kept, files=files.moves(), rewrites=tuple(rewrites),
        requirements=tuple(requirements), has_outputs=has_outputs, notes=tuple(notes))


def _files_in(folder: Path) -> Iterator[Path]:
    for directory, folders, names in os.walk(folder):
        folders[:] = sorted(f for f in folders
                            if not f.startswith(".") and f not in SKIPPED_FOLDERS)
        for name in sorted(names):
            path = Path(directory) / name
            if not name.startswith(".") and path.is_file():
                yield path


def _is_body(unit: _Unit, path: Path) -> bool:
    return path in _twins(unit) or path == _readme(unit)


def _twins(unit: _Unit) -> list[Path]:
    """The main notebook's ``.md`` and ``.py`` of the same name, beside it."""
    base = unit.main.path.with_suffix("")
    return [twin for twin in (base.with_name(base.name + ".md"), base.with_name(base.name + ".py"))
            if twin.is_file()]


def _readme(unit: _Unit) -> Path | None:
    if not unit.owns_home:
        return None
    return next((path for path in sorted(unit.home.iterdir())
                 if path.name.lower() == "readme.md" and path.is_file()), None)


class _FileSet:
    """The files a project takes, each with its one place in the project."""

    def __init__(self, source: Path, home: Path) -> None:
        self.source, self.home = source, home
        self.by_path: dict[Path, FileMove] = {}
        self.targets: set[str] = set()

    def add(self, path: Path) -> FileMove:
        path = path.resolve()
        if path in self.by_path:
            return self.by_path[path]
        size = path.stat().st_size
        fetched = size > SMALL_FILE_BYTES
        target = self._unique(_place(self._relative(path), fetched=fetched))
        digest = _file_sha256(path) if fetched else ""
        move = FileMove(path.relative_to(self.source).as_posix(), target, size, digest)
        self.by_path[path] = move
        return move

    def kept(self, path: Path) -> FileMove:
        move = FileMove(path.relative_to(self.source).as_posix(),
                        self._unique(_place(self._relative(path), fetched=False)),
                        path.stat().st_size)
        return move

    def _relative(self, path: Path) -> str:
        base = self.home if path.is_relative_to(self.home) else self.source
        return path.relative_to(base).as_posix()

    def _unique(self, target: str) -> str:
        candidate, count = target, 1
        while candidate in self.targets:
            count += 1
            pure = PurePosixPath(target)
            candidate = str(pure.with_name(f"{pure.stem}-{count}{pure.suffix}"))
        self.targets.add(candidate)
        return candidate

    def moves(self) -> tuple[FileMove, ...]:
        return tuple(sorted(self.by_path.values(), key=lambda move: move.target))


def _place(relative: str, *, fetched: bool) -> str:
    """Where a file of the source goes in the project: the same path, a name of the project's
    own layout as ``original-NAME``; a large file under ``data/`` (gitignored, fetched)."""
    parts = PurePosixPath(relative).parts
    if fetched:
        return relative if parts[0] == "data" else f"data/{relative}"
    if parts[0] in RESERVED:
        return "/".join((f"original-{parts[0]}", *parts[1:]))
    return relative


def _file_sha256(path: Path) -> str:
    return store.file_sha256(path)


def _path_rewrites(unit: _Unit, cells: list[str], files: _FileSet,
                   notes: list[str]) -> list[PathRewrite]:
    """The files the code names, added to ``files``; the paths that must change, to point at
    them; the absolute paths of hosted services flagged or pointed at a file of that name."""
    rewrites: list[PathRewrite] = []
    hosted: list[tuple[int, str]] = []
    for position, source in enumerate(cells, 1):
        for literal in dict.fromkeys(m["body"] for m in _STRING.finditer(source)):
            written = literal.replace("\\\\", "/").replace("\\", "/")
            if _ABSOLUTE_PATH.match(literal):
                if PurePosixPath(written).suffix and not written.startswith(("/tmp/", "/dev/")):
                    hosted.append((position, literal))
                continue
            path = _named_file(unit, written, files.source)
            if path is None:
                continue
            move = files.add(path)
            if move.target != posixpath.normpath(written):
                rewrites.append(PathRewrite(position, literal, move.target))
    for position, literal in hosted:
        name = PurePosixPath(literal.replace("\\", "/")).name
        matching = [move for move in files.by_path.values()
                    if PurePosixPath(move.target).name == name]
        service = " of a hosted notebook service" if _HOSTED_PATH.match(literal) else ""
        if len(matching) == 1:
            rewrites.append(PathRewrite(position, literal, matching[0].target))
            notes.append(f"cell {position} reads {literal}, an absolute path{service}: pointed "
                         f"at {matching[0].target}, the file of that name in the project")
        else:
            notes.append(f"cell {position} reads {literal}, an absolute path{service} that no "
                         "other machine has: put the file in the project or fetch it in data.py")
    return rewrites


def _named_file(unit: _Unit, written: str, source: Path) -> Path | None:
    """The file of the source that a path in the notebook's code names, if there is one."""
    if not written.strip() or "\n" in written:
        return None
    try:
        path = (unit.main.path.parent / written).resolve()
    except (OSError, ValueError):
        return None
    if not path.is_relative_to(source) or not path.is_file() or path.suffix == ".ipynb":
        return None
    if any(part.startswith(".") for part in path.relative_to(source).parts):
        return None
    return path


def _imports(cells: list[str]) -> set[str]:
    from hundred.cache import imported_module_paths

    return imported_module_paths(cells)


def _local_modules(unit: _Unit, modules: set[str], files: _FileSet) -> set[str]:
    """The top-level imports that are the project's own files, added to ``files``."""
    local = set()
    folder = unit.main.path.parent
    for top in sorted({module.split(".")[0] for module in modules}):
        single, package = folder / f"{top}.py", folder / top
        if single.is_file():
            files.add(single)
            local.add(top)
        elif (package / "__init__.py").is_file():
            for path in _files_in(package):
                files.add(path)
            local.add(top)
    return local


def _requirements(modules: set[str], cells: list[str], local: set[str],
                  shared: frozenset[str], notes: list[str]) -> list[Requirement]:
    from hundred.installs import installs_in
    from hundred.packages import DISTRIBUTIONS

    found: dict[str, Requirement] = {}
    for module in sorted(modules):
        top = module.split(".")[0]
        if module.startswith(HOSTED_MODULES):
            notes.append(f"`import {module}` exists only on a hosted notebook service: "
                         "replace it to run the notebook elsewhere")
            continue
        if top in sys.stdlib_module_names or top in local or top == "hundred":
            continue
        tabled = DISTRIBUTIONS.get(module) or DISTRIBUTIONS.get(top)
        installed = _installed_distribution(top)
        name = tabled or installed or top
        if normalise(name) in shared or normalise(name) in found:
            continue
        found[normalise(name)] = Requirement(name, f"import {top}", bool(tabled or installed))
    for install in installs_in([("code", cell) for cell in cells]):
        for package in install.packages:
            named = _requirement_name(package)
            if named is None or normalise(named) in shared or normalise(named) in found:
                continue
            found[normalise(named)] = Requirement(named, install.line, True)
        notes.append(f"cell {install.cell}: `{install.line}`: hundred runs it in a throwaway "
                     "folder and warns; requirements.txt declares what the shared stack lacks")
    for requirement in found.values():
        if not requirement.known:
            notes.append(f"requirements.txt: {requirement.distribution} is guessed from "
                         f"`{requirement.origin}`; check its name on the package index")
    return sorted(found.values(), key=lambda r: normalise(r.distribution))


def _installed_distribution(module: str) -> str | None:
    from hundred.cache import installed_version

    found = installed_version(module)
    return found[0] if found else None


def _requirement_name(spec: str) -> str | None:
    from packaging.requirements import InvalidRequirement
    from packaging.requirements import Requirement as Parsed

    try:
        return Parsed(spec).name
    except InvalidRequirement:
        return None


@cache
def _installed_requires(name: str) -> tuple[str, ...]:
    try:
        return tuple(metadata.requires(name) or ())
    except metadata.PackageNotFoundError:
        return ()


def _shared_distributions(root: Path) -> frozenset[str]:
    """The shared stack: what CI installs for every project (``pip install -e ".[ml]"``): the
    monorepo's dependencies and its ``ml`` extra, hundred's, and theirs in turn, as normalised
    names. Not what happens to be installed here: CI would lack it."""
    from packaging.requirements import InvalidRequirement
    from packaging.requirements import Requirement as Parsed

    lines = ["hundred"]
    try:
        project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8")).get(
            "project", {})
    except (OSError, tomllib.TOMLDecodeError):
        project = {}
    lines += list(project.get("dependencies", []))
    lines += list(project.get("optional-dependencies", {}).get(SHARED_EXTRA, []))
    own = normalise(str(project.get("name", "")))
    seen: set[str] = set()
    queue = list(lines)
    while queue:
        try:
            requirement = Parsed(queue.pop())
        except InvalidRequirement:
            continue
        name = normalise(requirement.name)
        if name in seen or name == own:
            continue
        seen.add(name)
        for line in _installed_requires(requirement.name):
            try:
                marker = Parsed(line).marker
            except InvalidRequirement:
                continue
            if marker is None or any(marker.evaluate({"extra": extra})
                                     for extra in ("", *requirement.extras)):
                queue.append(line)
    return frozenset(seen)


def _kind(modules: set[str], slug: str) -> str:
    tops = {module.split(".")[0] for module in modules}
    suggested = infer_kind(slug)
    if suggested in TASK_IMPORTS:  # the slug names the task: mnist-gan, sales-forecast
        return suggested
    for kind, imports in TASK_IMPORTS.items():
        if tops & imports:
            return kind
    if tops & VISION_IMPORTS or infer_kind(slug) == "vision":
        return "vision"
    if ("numpy" in tops and not tops & LEARNING_IMPORTS) or infer_kind(slug) == "from-scratch":
        return "from-scratch"
    return "tabular"


def _tags(modules: set[str], local: set[str]) -> tuple[str, ...]:
    from hundred.packages import distribution_of

    hosted = {module.split(".")[0] for module in modules if module.startswith(HOSTED_MODULES)}
    tops = {module.split(".")[0] for module in modules} - hosted - local - {"hundred"}
    used = {distribution_of(top).lower() for top in tops if top not in sys.stdlib_module_names}
    return ("adopted", *sorted(used))


def slugify(text: str) -> str:
    """Kebab-case ASCII of at most 40 characters: accents transliterated (``é`` → ``e``,
    ``ß`` → ``ss``), other characters dropped, camelCase split, cut at a dash."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text.translate(_LATIN))
    ascii_text = unicodedata.normalize("NFKD", spaced).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) <= SLUG_MAX:
        return slug
    cut = slug[: SLUG_MAX + 1].rsplit("-", 1)[0]
    return (cut if "-" in slug[: SLUG_MAX + 1] else slug[:SLUG_MAX]).strip("-")


def _meaningful(slug: str) -> bool:
    return bool(slug) and slug not in GENERIC_SLUGS and not _GENERIC.fullmatch(slug)


def _slug_for(unit: _Unit, heading: str | None) -> str:
    """The first meaningful of: the name without its number, the first heading, the
    notebook's own name, the name with its number."""
    _, rest = number_in(unit.name)
    stem = Path(unit.main.rel).stem
    candidates = [rest, heading or "", number_in(stem)[1], unit.name, stem]
    for candidate in candidates:
        slug = re.sub(r"^copy-of-", "", slugify(candidate))
        if _meaningful(slug):
            return check_slug(slug)
    return "notebook"


def _unique(slug: str, used: set[str]) -> str:
    candidate, count = slug, 1
    while candidate in used:
        count += 1
        suffix = f"-{count}"
        candidate = slug[: SLUG_MAX - len(suffix)].rstrip("-") + suffix
    return candidate


def first_heading(notebook: dict[str, Any]) -> str | None:
    """The text of the notebook's first Markdown heading, Markdown taken out."""
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        found = _heading_in(_text(cell.get("source", "")))
        if found:
            return found
    return None


def _heading_in(markdown: str) -> str | None:
    match = _HEADING.search(markdown)
    if match is None:
        return None
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", match[1])
    text = re.sub(r"<[^>]+>|[*_`]", "", text)
    text = " ".join(text.split())[:120]
    return text or None


def _title(unit: _Unit, heading: str | None, slug: str) -> str:
    if heading:
        return heading
    rest = " ".join(re.sub(r"[_]+", " ", number_in(unit.name)[1]).split())
    if _meaningful(slugify(rest)):
        return rest[:1].upper() + rest[1:]
    return title_from_slug(slug)


def _dates(source: Path, path: Path) -> tuple[dt.datetime, dt.datetime, Literal["git", "file"]]:
    """When the notebook was first and last committed in the source's git history, else the
    file's modification time (both)."""
    found = _git_dates(source, path)
    if found is not None:
        return found[0], found[1], "git"
    when = dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC)
    return when, when, "file"


def _git_dates(source: Path, path: Path) -> tuple[dt.datetime, dt.datetime] | None:
    if shutil.which("git") is None:
        return None
    try:
        done = subprocess.run(
            ["git", "-C", str(path.parent), "log", "--follow", "--format=%aI", "--",
             path.name], capture_output=True, text=True, timeout=60, check=False,
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"})
    except (OSError, subprocess.TimeoutExpired):
        return None
    stamps = done.stdout.split() if done.returncode == 0 else []
    try:
        dates = [dt.datetime.fromisoformat(stamp) for stamp in stamps]
    except ValueError:
        return None
    return (dates[-1], dates[0]) if dates else None


def _body(source: Path, unit: _Unit, files: _FileSet,
          notes: list[str]) -> tuple[str, tuple[str, ...]]:
    """The writeup's body: the folder's README, the notebook's .md twin, its .py twin as code."""
    parts = [f"*Adopted from `{unit.main.rel}` of {source.name} with `hundred adopt`.*"]
    used: list[str] = []
    readme = _readme(unit)
    markdown = [path for path in (readme, *_twins(unit)) if path is not None
                and path.suffix == ".md"]
    for path in markdown:
        text = path.read_text(encoding="utf-8", errors="replace").strip()
        parts.append(_adopted_links(text, path, files, notes))
        used.append(path.relative_to(source).as_posix())
    for path in (twin for twin in _twins(unit) if twin.suffix == ".py"):
        code = path.read_text(encoding="utf-8", errors="replace").rstrip()
        fence = "`" * max(3, max((len(m) for m in re.findall(r"`{3,}", code)), default=0) + 1)
        parts.append(f"## The script\n\n`{path.name}`, the notebook's twin in the source:\n\n"
                     f"{fence}python\n{code}\n{fence}")
        used.append(path.relative_to(source).as_posix())
    if not used:
        parts.append("## Problem\n\n*The notebook came without a description: say here what "
                     "it answers and what you learned.*")
    return "\n\n".join(parts) + "\n", tuple(used)


def _adopted_links(text: str, markdown: Path, files: _FileSet, notes: list[str]) -> str:
    """Relative links and images made to point at the project's copy of their file; a link
    to something the project does not get becomes its text (the site refuses broken links)."""

    def replace(match: re.Match[str]) -> str:
        bang, label, target, title = match.groups()
        if _EXTERNAL.match(target):
            return match[0]
        path_part, _, anchor = target.partition("#")
        from urllib.parse import unquote

        path = (markdown.parent / unquote(path_part)).resolve()
        usable = (path.is_relative_to(files.source) and path.is_file()
                  and path.suffix not in (".ipynb", ".md")
                  and path.stat().st_size <= SMALL_FILE_BYTES)
        move = files.add(path) if usable else None
        if move is None or not _LINKABLE.fullmatch(move.target):
            notes.append(f"{markdown.name}: the link to {target} became plain text (the "
                         "project has no such file)")
            return f"*{label or target}*" if bang else label or target
        return f"{bang}[{label}]({move.target}{'#' + anchor if anchor else ''}{title})"

    return _MD_LINK.sub(replace, text)


# ------------------------------------------------------------- notebooks, normalised


def normalised(notebook: dict[str, Any], *, outputs: bool,
               parameters: bool = True) -> dict[str, Any]:
    """``notebook`` as hundred keeps it: nbformat 4.5, unique cell ids, a Python kernelspec and
    language_info, only ``tags`` in cell metadata, and (with ``parameters``) a ``parameters``
    cell first after a title cell unless it has one; outputs and execution counts kept only
    with ``outputs``."""
    import nbformat

    cells = [_cell(cell, outputs=outputs) for cell in notebook.get("cells", [])]
    if parameters and not any("parameters" in cell["metadata"].get("tags", [])
                              for cell in cells):
        at = 1 if cells and cells[0]["cell_type"] == "markdown" else 0
        cells.insert(at, {"cell_type": "code", "id": "parameters", "execution_count": None,
                          "metadata": {"tags": ["parameters"]}, "outputs": [],
                          "source": PARAMETERS})
    _assign_ids(cells)
    info = dict((notebook.get("metadata") or {}).get("language_info") or {})
    info = {key: value for key, value in info.items()
            if key in ("name", "version", "file_extension", "mimetype")}
    info["name"] = "python"
    # Not nbformat.v4.new_notebook: it validates, and old outputs may not (see below).
    node = nbformat.from_dict({"nbformat": 4, "nbformat_minor": 5, "cells": cells, "metadata": {
        "kernelspec": dict(KERNELSPEC), "language_info": info}})
    return dict(node)


def _cell(cell: dict[str, Any], *, outputs: bool) -> dict[str, Any]:
    kind = cell.get("cell_type")
    kind = kind if kind in ("code", "markdown", "raw") else "raw"
    metadata_in = cell.get("metadata") or {}
    tags = [str(tag) for tag in metadata_in.get("tags", []) if isinstance(tag, str)]
    made: dict[str, Any] = {"cell_type": kind, "id": cell.get("id"),
                            "metadata": {"tags": tags} if tags else {},
                            "source": _text(cell.get("source", ""))}
    if kind == "code":
        kept = outputs and isinstance(cell.get("outputs"), list)
        made["outputs"] = [dict(output) for output in cell["outputs"]] if kept else []
        count = cell.get("execution_count")
        made["execution_count"] = count if kept and isinstance(count, int) else None
    elif kind == "markdown" and isinstance(cell.get("attachments"), dict):
        made["attachments"] = cell["attachments"]
    return made


def _assign_ids(cells: list[dict[str, Any]]) -> None:
    """Keep each valid, unique id; give the others ``cell-N`` (N its position): stable, so a
    re-adoption or a second plan gives the same notebook."""
    seen: set[str] = set()
    for position, cell in enumerate(cells, 1):
        given = cell.get("id")
        if not (isinstance(given, str) and _CELL_ID.fullmatch(given) and given not in seen):
            given = f"cell-{position}"
            while given in seen:
                given += "-x"
        cell["id"] = given
        seen.add(given)


def _text(source: Any) -> str:
    return "".join(source) if isinstance(source, list) else str(source)


def with_rewrites(notebook: dict[str, Any], rewrites: Iterable[PathRewrite]) -> dict[str, Any]:
    """``notebook`` with each rewrite's path changed in its cell (string literals only)."""
    cells = notebook["cells"]
    for rewrite in rewrites:
        cell = cells[rewrite.cell - 1]
        for quote in ("'", '"'):
            cell["source"] = cell["source"].replace(f"{quote}{rewrite.old}{quote}",
                                                    f"{quote}{rewrite.new}{quote}")
    return notebook


def _valid_or_without_outputs(notebook: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """``notebook`` if nbformat validates it, else with the outputs of the cells that fail
    dropped (old notebooks carry outputs of shapes no longer allowed); and how many."""
    import nbformat

    try:
        nbformat.validate(nbformat.from_dict(notebook))
        return notebook, 0
    except nbformat.ValidationError:
        pass
    dropped = 0
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code" or not cell["outputs"]:
            continue
        alone = {**notebook, "cells": [cell]}
        try:
            nbformat.validate(nbformat.from_dict(alone))
        except nbformat.ValidationError:
            cell["outputs"], dropped = [], dropped + 1
    return notebook, dropped


def _check_valid(notebook: dict[str, Any], where: str) -> None:
    import nbformat

    try:
        nbformat.validate(nbformat.from_dict(notebook))
    except nbformat.ValidationError as error:
        raise HundredError(f"{where} does not make a valid notebook even without its outputs "
                           f"({_one_line(error.message)}); fix it in Jupyter, then adopt "
                           "again") from None


def _notebook_text(notebook: dict[str, Any]) -> str:
    import nbformat

    return str(nbformat.writes(nbformat.from_dict(notebook))) + "\n"


def _one_line(text: str) -> str:
    return " ".join(text.split())[:200]


# ------------------------------------------------------------------------------ writing


def adopt(root: Path, plan: Plan, *,
          on_wait: Callable[[str], None] | None = None) -> tuple[Adopted, ...]:
    """Make the planned projects in the monorepo at ``root``, each atomically.

    Under the monorepo's numbering lock (the one ``new-project`` takes), each project is
    checked again (its number and slug still free, its notebook not adopted meanwhile, its
    source files unchanged), written into a hidden folder of projects/ and renamed into place.
    A project that cannot be made is reported with its reason, and leaves nothing.
    """
    done: list[Adopted] = []
    with monorepo_lock(root, "new", on_wait=on_wait):
        for adoption in plan.projects:
            try:
                _check_still_free(root, plan.source, adoption)
                target = root / "projects" / adoption.folder
                with staged_folder(target, root, prefix=".adopt-") as staging:
                    _write_project(staging, plan.source, adoption)
            except (HundredError, OSError, ValueError) as error:
                done.append(Adopted(adoption, None, _failure(error, adoption)))
            else:
                done.append(Adopted(adoption, Project(adoption.name, target)))
    return tuple(done)


def _failure(error: Exception, adoption: Adoption) -> str:
    if isinstance(error, HundredError):
        return str(error)
    return (f"{adoption.notebook}: {type(error).__name__}: {_one_line(str(error))}; nothing "
            f"of projects/{adoption.folder} was kept")


def _check_still_free(root: Path, source: Path, adoption: Adoption) -> None:
    for name, path in project_folders(root):
        if name.number == adoption.name.number or name.slug == adoption.name.slug:
            raise HundredError(f"projects/{adoption.folder}: projects/{path.name} took its "
                               "number or slug after the plan; run adopt again")
    adopted = _adopted_before(root, source)
    already = adopted.get((adoption.notebook, "path")) or adopted.get((adoption.sha256, "sha"))
    if already:
        raise HundredError(f"{adoption.notebook} was adopted as projects/{already} meanwhile")


def _write_project(folder: Path, source: Path, adoption: Adoption) -> None:
    data = (source / adoption.notebook).read_bytes()
    if hashlib.sha256(data).hexdigest() != adoption.sha256:
        raise HundredError(f"{adoption.notebook} changed since the plan; run adopt again")
    original = read_notebook(data, adoption.notebook)
    clean = with_rewrites(normalised(original, outputs=False), adoption.rewrites)
    (folder / NOTEBOOK).write_text(_notebook_text(clean), encoding="utf-8")
    for move in adoption.kept:
        kept = read_notebook((source / move.source).read_bytes(), move.source)
        _write(folder / move.target,
               _notebook_text(normalised(kept, outputs=False, parameters=False)))
    for move in adoption.files:
        if not move.fetched:
            (folder / move.target).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / move.source, folder / move.target)
    fetched = [move for move in adoption.files if move.fetched]
    if fetched:
        _write(folder / DATA_SCRIPT, data_script(adoption, fetched))
    _write(folder / REQUIREMENTS, requirements_text(adoption.requirements))
    _write(folder / WRITEUP, writeup_text(adoption))
    _write(folder / ADOPTED, _adopted_text(source, adoption))
    if adoption.has_outputs:
        _write_imported(folder, original, adoption)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _write_imported(folder: Path, original: dict[str, Any], adoption: Adoption) -> None:
    """``runs/imported.{ipynb,json}``: the notebook as the project has it, with the outputs
    committed in the source, and its record (status ``imported``)."""
    from hundred.metrics import metrics_in

    notebook = with_rewrites(normalised(original, outputs=True), adoption.rewrites)
    notebook, dropped = _valid_or_without_outputs(notebook)
    runs = folder / "runs"
    runs.mkdir()
    where = runs / f"{store.IMPORTED}.ipynb"
    where.write_text(_notebook_text(notebook), encoding="utf-8")
    notes = [store.NOT_VERIFIED, f"imported from {adoption.notebook} by hundred adopt"]
    if dropped:
        notes.append(f"the outputs of {dropped} cells were not valid nbformat and were left out")
    record = store.RunResult(
        project=adoption.folder, number=adoption.name.number, profile=store.IMPORTED,
        status="imported", started_at=adoption.outputs_at.astimezone(dt.UTC), duration=0.0,
        metrics={name: store.Metric(value=payload["value"],
                                    higher_is_better=bool(payload.get("higher_is_better", True)))
                 for name, payload in metrics_in(notebook).items()},
        python=str(notebook["metadata"]["language_info"].get("version", "")),
        notebook=f"projects/{adoption.folder}/runs/{where.name}",
        notebook_sha256=store.file_sha256(where), notes=notes)
    (runs / f"{store.IMPORTED}.json").write_text(record.model_dump_json(indent=2),
                                                 encoding="utf-8")


def writeup_text(adoption: Adoption) -> str:
    """writeup.md: front matter checked by the catalog's own model, then the body."""
    front: dict[str, Any] = {
        "title": adoption.title, "number": adoption.name.number, "slug": adoption.name.slug,
        "date": adoption.date, "kind": adoption.kind, "tags": list(adoption.tags),
        "difficulty": 2,
    }
    Writeup.model_validate(front)
    head = yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=100)
    return f"---\n{head}---\n\n{adoption.body}"


def requirements_text(requirements: Iterable[Requirement]) -> str:
    lines = [
        "# Packages this project needs beyond the monorepo's shared stack, one a line, inferred",
        "# by `hundred adopt` from the notebook's imports and `!pip install` lines: check them.",
        "# With none (only comments), the project runs in the shared environment; with some,",
        "# `hundred run` locks them with uv into requirements.lock (commit both).",
    ]
    for requirement in requirements:
        guessed = "" if requirement.known else (
            f"  # guessed from `{requirement.origin}`: check the name")
        lines.append(f"{requirement.distribution}{guessed}")
    return "\n".join(lines) + "\n"


def data_script(adoption: Adoption, fetched: Iterable[FileMove]) -> str:
    """data.py for the files too large to copy: each with the sha256 it had in the source,
    fetched into data/ once its URL is filled in."""
    remotes = "\n".join(
        f"    # {move.source} ({move.size / 1e6:.1f} MB in the source)\n"
        f"    {move.target!r}: Remote(url=\"\", sha256={move.sha256!r},\n"
        f"                   filename={PurePosixPath(move.target).name!r}),"
        for move in fetched)
    return f'''"""Data for project {adoption.folder}, adopted from {adoption.notebook}.

`hundred adopt` copied the small files the notebook reads into the project. These were too
large to commit (over {SMALL_FILE_BYTES // (1 << 20)} MiB): put each where it can be downloaded,
fill in its URL below, and `python data.py` fetches it into data/ (gitignored), checked against
the sha256 the file had in the adopted repository.
"""

from __future__ import annotations

from pathlib import Path

from hundred.download import Remote, fetch, main_guard
from hundred.errors import WorkFailed

HERE = Path(__file__).resolve().parent
# Where each file goes in the project (the notebook reads it there), and where it comes from.
FILES = {{
{remotes}
}}


def main() -> None:
    missing = [target for target, remote in FILES.items() if not remote.url]
    for target, remote in FILES.items():
        if remote.url:
            path = fetch(remote, (HERE / target).parent)
            print(f"{{path}}: ready")
    if missing:
        raise WorkFailed(f"no URL yet for {{', '.join(missing)}}: fill it in data.py")


if __name__ == "__main__":
    main_guard(main)
'''


def _adopted_text(source: Path, adoption: Adoption) -> str:
    record = {
        "source": str(source),
        "notebooks": [{"path": adoption.notebook, "sha256": adoption.sha256},
                      *({"path": move.source, "sha256": _file_sha256(source / move.source)}
                        for move in adoption.kept)],
        "adopted": dt.date.today().isoformat(),
    }
    return ("# Written by `hundred adopt`: where this project came from. Adopting the same\n"
            "# source again skips these notebooks (by path or by content).\n"
            + yaml.safe_dump(record, sort_keys=False, allow_unicode=True))
