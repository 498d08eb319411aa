"""What projects exist: the monorepo's root, project names, and each writeup's front matter."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hundred.errors import HundredError

# A project's kind is any lowercase word (nlp, time-series, rl, audio...); the dashboard shows
# it. The starters are the kinds the project template has a notebook for.
Starter = Literal["tabular", "vision", "from-scratch", "nlp", "time-series", "generative"]
STARTERS: tuple[Starter, ...] = (
    "tabular", "vision", "from-scratch", "nlp", "time-series", "generative",
)
KIND_MAX = 30
_KIND = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
KIND_RULE = (
    f"a kind is a lowercase word that starts with a letter (a-z, 0-9, single dashes, at most "
    f"{KIND_MAX} characters), e.g. nlp, time-series or rl"
)

# libyaml's loader when PyYAML was built with it: a catalog of 100 writeups loads 5x faster.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SLUG_MAX = 40
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_FOLDER = re.compile(r"(\d{3})-(.+)")
WRITEUP = "writeup.md"
NOTEBOOK = "notebook.ipynb"
# Left in a project by `hundred update` while conflicts with the template wait to be resolved.
CONFLICTS_FILE = "UPDATE-CONFLICTS.md"


@dataclass(frozen=True, order=True)
class ProjectName:
    """``NNN-slug``: a number from 001 to 999 and a lowercase kebab-case slug."""

    number: int
    slug: str

    @property
    def folder(self) -> str:
        return f"{self.number:03d}-{self.slug}"

    def __str__(self) -> str:
        return self.folder


def is_kind(kind: object) -> bool:
    """Whether ``kind`` is a valid project kind: a lowercase word such as ``time-series``."""
    return isinstance(kind, str) and len(kind) <= KIND_MAX and bool(_KIND.fullmatch(kind))


def check_kind(kind: str) -> str:
    """Return ``kind`` when it is a valid project kind; else say what a kind may be."""
    if not is_kind(kind):
        raise HundredError(f"kind {kind!r} is not valid; {KIND_RULE}")
    return kind


def check_slug(slug: str) -> str:
    """Return ``slug`` when it is lowercase ASCII kebab-case of at most 40 characters."""
    if "/" in slug or "\\" in slug or ".." in slug:
        raise HundredError(
            f"project name {slug!r} contains a path separator or '..'; give a bare name "
            "such as 'cnn-cifar', not a path"
        )
    if not _SLUG.fullmatch(slug):
        hint = re.sub(r"[^a-z0-9]+", "-", slug.lower()).strip("-") or "my-project"
        raise HundredError(
            f"slug {slug!r} is not lowercase kebab-case (a-z, 0-9 and single dashes); "
            f"try {hint!r}"
        )
    if len(slug) > SLUG_MAX:
        raise HundredError(
            f"slug {slug!r} is {len(slug)} characters long; shorten it to at most {SLUG_MAX}"
        )
    return slug


def parse_name(name: str) -> tuple[int | None, str]:
    """Split ``042-cnn-cifar`` into ``(42, "cnn-cifar")`` and ``cnn-cifar`` into ``(None, ...)``."""
    if "/" in name or "\\" in name or ".." in name:
        check_slug(name)  # raises the path error
    # DOTALL and fullmatch: a name with a line break is refused whole, never cut at the break.
    leading = re.fullmatch(r"(\d+)-(.*)", name, re.DOTALL)
    if leading is None:
        if name.isdigit():
            raise HundredError(
                f"project name {name!r} has no slug; write it as NNN-slug, e.g. '{name}-my-study'"
            )
        return None, check_slug(name)
    digits, slug = leading.groups()
    if len(digits) != 3 or not 1 <= int(digits) <= 999:
        fix = repr(f"{int(digits):03d}-{slug}") if 1 <= int(digits) <= 999 else "a number 001-999"
        raise HundredError(
            f"project number {digits!r} must be three digits from 001 to 999; use {fix}"
        )
    return int(digits), check_slug(slug)


def find_root(start: Path | None = None) -> Path:
    """The monorepo root: the nearest folder at or above ``start`` holding ``projects/``."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "projects").is_dir():
            return folder
    raise HundredError(
        f"no projects/ folder found in {here} or any folder above it; run this inside a "
        "hundred monorepo or create one with 'mkdir projects'"
    )


def project_folders(root: Path) -> list[tuple[ProjectName, Path]]:
    """Every ``projects/NNN-slug`` folder, by number; anything else in projects/ is ignored."""
    found: list[tuple[ProjectName, Path]] = []
    projects = root / "projects"
    if not projects.is_dir():
        return found
    for path in projects.iterdir():
        match = _FOLDER.fullmatch(path.name)
        if match and path.is_dir() and _SLUG.fullmatch(match[2]) and int(match[1]) > 0:
            found.append((ProjectName(int(match[1]), match[2]), path))
    return sorted(found)


class Writeup(BaseModel):
    """A writeup's front matter, validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=1)
    number: int = Field(ge=1, le=999)
    slug: str
    date: dt.date
    kind: str
    tags: list[str] = Field(default_factory=list)
    difficulty: int = Field(ge=1, le=5)
    stage: str | None = None
    summary: str = ""
    draft: bool = False
    # Per-project overrides of the run profiles' parameters (see ``hundred run``).
    profiles: dict[str, dict[str, Any]] = Field(default_factory=dict)
    # Kernels start with the heavy modules the code imports already loaded (forked from a warm
    # process); false for code that is not safe to fork, which then starts a plain kernel.
    preload: bool = True

    @field_validator("slug")
    @classmethod
    def _slug_is_kebab(cls, value: str) -> str:
        if not _SLUG.fullmatch(value) or len(value) > SLUG_MAX:
            raise ValueError("must be lowercase kebab-case, at most 40 characters")
        return value

    @field_validator("kind")
    @classmethod
    def _kind_is_a_word(cls, value: str) -> str:
        if not is_kind(value):
            raise ValueError(KIND_RULE)
        return value

    @field_validator("tags", mode="before")
    @classmethod
    def _tags_from_string(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


@dataclass(frozen=True)
class Project:
    """A project folder of the monorepo."""

    name: ProjectName
    path: Path

    @property
    def number(self) -> int:
        return self.name.number

    @property
    def slug(self) -> str:
        return self.name.slug

    @property
    def notebook(self) -> Path:
        return self.path / NOTEBOOK

    @property
    def writeup_path(self) -> Path:
        return self.path / WRITEUP

    @cached_property
    def writeup(self) -> Writeup:
        return read_writeup(self.writeup_path, expected=self.name)


def split_front_matter(text: str) -> tuple[str, str]:
    """Split a markdown file into its YAML front matter and its body."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return "", text
    for index, line in enumerate(lines[1:], start=1):
        if line.strip() in ("---", "..."):
            return "".join(lines[1:index]), "".join(lines[index + 1 :])
    return "", text


def read_writeup(path: Path, *, expected: ProjectName | None = None) -> Writeup:
    """Parse and validate the front matter of ``path``; errors name the file and the field."""
    where = _Shown(path)  # resolved only for an error message: a catalog of 100 loads faster
    if not path.is_file():
        raise HundredError(f"{where} is missing; every project needs a writeup with front matter")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise HundredError(
            f"{where}:{line}: not UTF-8 text ({error.reason}); save the file as UTF-8"
        ) from None
    head, _ = split_front_matter(text)
    if not head:
        raise HundredError(
            f"{where} has no YAML front matter; start the file with '---', the fields "
            "(title, number, slug, date, kind, difficulty...), and '---'"
        )
    data = _parse_front_matter(head, where)
    if not isinstance(data, dict):
        raise HundredError(f"{where}: front matter must be a mapping of field: value")
    try:
        writeup = Writeup.model_validate(data)
    except ValidationError as error:
        raise HundredError(f"{where}: {_explain(error)}") from None
    if expected is not None and (writeup.number, writeup.slug) != (expected.number, expected.slug):
        raise HundredError(
            f"{where}: number/slug say {writeup.number:03d}-{writeup.slug} but the folder is "
            f"{expected.folder}; make the front matter match the folder name"
        )
    return writeup


def _parse_front_matter(head: str, where: _Shown) -> Any:
    """The front matter's YAML; an error is one line naming the line of the writeup file."""
    line: int | None = None  # counted from the front matter's first line, 0-based
    try:
        return yaml.load(head, Loader=_Loader)
    except yaml.MarkedYAMLError as error:
        # PyYAML's str(error) spans lines and counts lines from the front matter, not the file.
        line = error.problem_mark.line if error.problem_mark is not None else None
        problem = " ".join(part for part in (error.problem, error.context) if part)
    except yaml.reader.ReaderError as error:
        # Its position counts characters or bytes depending on the loader; find the character.
        line = head.count("\n", 0, max(head.find(chr(error.character)), 0))
        problem = f"character #x{error.character:04x} is not allowed: {error.reason}"
    except yaml.YAMLError as error:
        problem = str(error).splitlines()[0] if str(error) else type(error).__name__
    except ValueError as error:  # a timestamp such as 2026-13-01: PyYAML raises a bare ValueError
        raise HundredError(
            f"{where}: front matter holds a value YAML cannot read ({_one_line(str(error))}); "
            "fix it (dates are YYYY-MM-DD)"
        ) from None
    # The front matter starts on the file's second line, after the opening '---'.
    at = f"{where}:{line + 2}:" if line is not None else f"{where}:"
    raise HundredError(f"{at} front matter is not valid YAML ({_one_line(problem)}); fix it")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _explain(error: ValidationError) -> str:
    first = error.errors()[0]
    field = _one_line(".".join(str(part) for part in first["loc"])) or "front matter"
    if first["type"] == "missing":
        return f"field '{field}' is missing; add it to the front matter"
    if first["type"] == "extra_forbidden":
        return f"field '{field}' is unknown; remove it or fix its spelling"
    if field == "kind":
        return f"field 'kind' is {first.get('input')!r}; {KIND_RULE}"
    return f"field '{field}' is invalid ({_one_line(first['msg'])}); fix it in the front matter"


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class _Shown:
    """A path as messages show it (relative to the current folder when inside it)."""

    path: Path

    def __str__(self) -> str:
        return _display(self.path)


def discover(root: Path) -> list[Project]:
    """Every project of the monorepo at ``root``, by number (front matter read lazily)."""
    return [Project(name, path) for name, path in project_folders(root)]


def load(root: Path) -> list[Project]:
    """Every project with its writeup validated; the first malformed writeup raises."""
    projects = discover(root)
    for project in projects:
        _ = project.writeup
    return projects


@dataclass(frozen=True)
class InvalidProject:
    """A project folder whose writeup cannot be read: it is left out, the others go on."""

    name: ProjectName
    path: Path
    message: str  # one line: what is wrong and how to fix it, naming the file


@dataclass(frozen=True)
class Catalog:
    """The monorepo's projects, split into those with a valid writeup and the others."""

    projects: list[Project]  # every project whose writeup is valid, by number
    invalid: list[InvalidProject]  # the others, by number


def scan(root: Path) -> Catalog:
    """Every project's writeup validated, each error kept with its project instead of raised.

    One broken writeup then fails its own project only: commands list, run and publish the rest.
    """
    projects: list[Project] = []
    invalid: list[InvalidProject] = []
    for project in discover(root):
        try:
            _ = project.writeup
        except HundredError as error:
            invalid.append(InvalidProject(project.name, project.path, str(error)))
        else:
            projects.append(project)
    return Catalog(projects, invalid)


def select(projects: list[Project], wanted: list[str]) -> list[Project]:
    """The projects named by number (``42``, ``042``) or folder name, in catalog order."""
    if not wanted:
        return projects
    chosen: list[Project] = []
    for item in wanted:
        match = [
            p for p in projects
            if item == p.name.folder or (item.isdigit() and int(item) == p.number)
        ]
        if not match:
            raise HundredError(
                f"no project {item!r}; name one by number (042) or folder "
                "(042-cnn-cifar): 'hundred list' shows them"
            )
        chosen.extend(p for p in match if p not in chosen)
    return [p for p in projects if p in chosen]


def unfinished_update(root: Path, project: Path) -> str | None:
    """One line when ``project`` holds conflicts that ``hundred update`` left, else None.

    The one check that ``hundred run`` and ``hundred build`` make before they touch a project.
    """
    marker = project / CONFLICTS_FILE
    if not marker.exists():
        return None
    try:
        shown = marker.relative_to(root)
    except ValueError:
        shown = marker
    return (f"{shown} lists conflicts that 'hundred update' left; resolve them as it says, then "
            "delete the file")
