"""`hundred update`: bring projects up to the current project template, keeping their edits.

A project's answers (``.copier-answers.yml``) record the monorepo commit whose
``templates/project/`` it was rendered from (``_hundred_template_commit``; for older projects, the
commit that added their answers file). Each file is merged three ways: the template then (that
commit's template rendered with the project's answers), the template now, and the project now.
Text files merge line by line with ``git merge-file``; notebooks merge cell by cell, cells
matched by their ids (``hundred.notebook_merge``), and never get conflict markers in their
JSON. The writeup is never touched. What cannot be merged is marked (markers in text files,
the project's cell kept in a notebook) and listed in the project's ``UPDATE-CONFLICTS.md``,
which ``hundred run`` and ``hundred build`` refuse (``catalog.unfinished_update``).

Each project is written in a hidden folder of ``projects/`` and swapped into place in one step,
so an interrupt leaves every project wholly old or wholly new.
"""

from __future__ import annotations

import contextlib
import ctypes
import difflib
import errno
import io
import json
import os
import shutil
import signal
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from hundred.catalog import CONFLICTS_FILE, Project, discover, select
from hundred.errors import HundredError
from hundred.lock import monorepo_lock
from hundred.scaffold import TEMPLATE, canonical_notebook, copy_template, normalise_notebook

ANSWERS = ".copier-answers.yml"
WRITEUP = "writeup.md"
NOTEBOOK = "notebook.ipynb"
COMMIT_KEY = "_hundred_template_commit"
# Never taken from the template: the prose is the learner's, the answers are rewritten here.
NOT_MERGED = frozenset({WRITEUP, ANSWERS, CONFLICTS_FILE})
# A file the template deleted and one it added are a rename when this similar (difflib ratio).
RENAME_SIMILARITY = 0.5
MARKERS = ("project", "template before", "template")  # git merge-file's -L labels


@dataclass(frozen=True)
class Conflict:
    """A change of the template that could not be merged with the project's own."""

    path: str
    where: str  # "line 12", "cell 'train' (cell 8)", "" for the whole file
    detail: str
    template_version: str | None = None  # the template's cell, to apply by hand

    def line(self) -> str:
        where = f" {self.where}" if self.where else ""
        return f"{self.path}{where}: {self.detail}"


@dataclass(frozen=True)
class ProjectUpdate:
    """What updating one project did (or, in a dry run, would do)."""

    project: str
    base: str | None = None  # the template commit it was made from or last updated to
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()  # taken from the template: the project had not edited them
    merged: tuple[str, ...] = ()  # three-way merged with the project's edits
    deleted: tuple[str, ...] = ()
    renamed: tuple[tuple[str, str], ...] = ()
    kept: tuple[str, ...] = ()  # why a template change was not taken, one line each
    conflicts: tuple[Conflict, ...] = ()
    skipped: str | None = None  # not ours to update (another template, no answers)
    error: str | None = None  # could not be updated; nothing of it was written

    @property
    def touched(self) -> bool:
        """Whether the project is written: files change, or conflicts are to be marked."""
        return bool(self.added or self.changed or self.merged or self.deleted or self.renamed
                    or self.conflicts)


@dataclass(frozen=True)
class UpdateReport:
    """Every selected project's update, and the template commit they were brought to."""

    projects: tuple[ProjectUpdate, ...]
    template_commit: str | None  # None: the template has uncommitted changes (dry runs only)
    dry_run: bool

    @property
    def exit_code(self) -> int:
        """1 when a project has conflicts or could not be updated, else 0."""
        return 1 if any(p.conflicts or p.error for p in self.projects) else 0


def update_projects(
    root: Path,
    selected: Sequence[str] = (),
    *,
    dry_run: bool = False,
    on_wait: Callable[[str], None] | None = None,
    on_project: Callable[[ProjectUpdate], None] | None = None,
) -> UpdateReport:
    """Bring the ``selected`` projects (default: all) up to the current ``templates/project/``.

    Holds the monorepo's "run" lock while writing: a run writes its frozen records into the
    project folders this swaps. ``on_project`` hears each project's outcome once it is wholly
    written. A dry run computes the same and writes nothing.
    """
    if not (root / TEMPLATE / "copier.yml").is_file():
        raise HundredError(f"no project template at {root / TEMPLATE}; restore "
                           "templates/project/ from the hundred repository")
    _require_history(root)
    commit = template_commit(root)
    if commit is None and not dry_run:
        raise HundredError(f"{TEMPLATE} has uncommitted changes (or was never committed); commit "
                           "it first, so that each project records the template it was updated "
                           "to ('hundred update --dry-run' previews them)")
    projects = select(discover(root), list(selected))
    held = contextlib.nullcontext() if dry_run else monorepo_lock(root, "run", on_wait=on_wait)
    done: list[ProjectUpdate] = []
    with held, tempfile.TemporaryDirectory(prefix="hundred-update-") as scratch:
        templates = _Templates(root, Path(scratch))
        for project in projects:
            outcome = _update_one(root, project, templates, commit, dry_run=dry_run)
            done.append(outcome)
            if on_project is not None:
                on_project(outcome)
    return UpdateReport(tuple(done), commit, dry_run)


# ------------------------------------------------------------------------------ git history


class _GitFailed(Exception):
    pass


def _git(root: Path, *arguments: str) -> bytes:
    try:
        done = subprocess.run(["git", *arguments], cwd=root, capture_output=True, check=False)
    except OSError as error:
        raise _GitFailed(f"git cannot start ({error})") from error
    if done.returncode != 0:
        raise _GitFailed(done.stderr.decode(errors="replace").strip())
    return done.stdout


def _require_history(root: Path) -> None:
    if shutil.which("git") is None:
        raise HundredError("git is not installed; hundred update finds each project's template "
                           "in the monorepo's git history: install git")
    try:
        _git(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    except _GitFailed:
        raise HundredError(f"{root} is not a git repository with a commit, so the template "
                           "each project was made from cannot be found; commit the monorepo "
                           "(git init; git add -A; git commit), then update") from None


def template_commit(root: Path) -> str | None:
    """The latest commit whose ``templates/project/`` is the one in the working tree.

    None when the template has uncommitted changes, was never committed, or ``root`` is not in
    a git repository with a commit.
    """
    try:
        dirty = _git(root, "status", "--porcelain", "--", str(TEMPLATE))
        last = _git(root, "log", "-1", "--format=%H", "--", str(TEMPLATE))
    except _GitFailed:
        return None
    return None if dirty.strip() else last.decode().strip() or None


def record_template_commit(root: Path, template: Path, project: Path) -> None:
    """Record in ``project``'s answers the commit of the monorepo template it was rendered from.

    Nothing is recorded for another template, or when the commit is unknown (uncommitted template
    changes, no git history): ``hundred update`` then falls back to the commit that added the
    project's answers file.
    """
    if template.resolve() != (root / TEMPLATE).resolve():
        return
    commit = template_commit(root)
    answers = project / ANSWERS
    if commit is not None and answers.is_file():
        answers.write_text(set_answer(answers.read_text(encoding="utf-8"), COMMIT_KEY, commit),
                           encoding="utf-8")


def set_answer(text: str, key: str, value: str) -> str:
    """The answers file ``text`` with ``key: value`` set, every other line kept as it is.

    A new key goes where copier's sorted order puts it.
    """
    entry = yaml.safe_dump({key: value}, allow_unicode=True, default_flow_style=False)
    lines = text.splitlines(keepends=True)
    for index, line in enumerate(lines):
        if line.startswith(f"{key}:"):
            lines[index] = entry
            return "".join(lines)
    for index, line in enumerate(lines):
        if not line.startswith("#") and line.strip() and line > entry:
            lines.insert(index, entry)
            return "".join(lines)
    return "".join(lines) + ("" if not lines or text.endswith("\n") else "\n") + entry


class _Templates:
    """``templates/project/`` as it was at given commits, exported once each."""

    def __init__(self, root: Path, scratch: Path) -> None:
        self.root = root
        self.scratch = scratch
        self._exported: dict[str, Path] = {}
        self._renders = 0

    def at(self, commit: str) -> Path:
        if commit not in self._exported:
            self._exported[commit] = self._export(commit)
        return self._exported[commit]

    def _export(self, commit: str) -> Path:
        try:
            archive = _git(self.root, "archive", "--format=tar", f"{commit}:./{TEMPLATE}")
        except _GitFailed:
            raise HundredError(f"{TEMPLATE} is not in commit {commit[:12]} of this repository "
                               "(a shallow clone?); fetch the full history (git fetch "
                               "--unshallow), then update") from None
        folder = self.scratch / f"template-{commit}"
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(folder, filter="data")
        return folder

    def render(self, template: Path, answers: dict[str, Any]) -> _Render:
        self._renders += 1
        folder = self.scratch / f"render-{self._renders}"
        folder.mkdir()
        copy_template(template, folder, answers)
        if (folder / NOTEBOOK).is_file():
            normalise_notebook(folder / NOTEBOOK)
        files = {path.relative_to(folder).as_posix(): path.read_bytes()
                 for path in sorted(folder.rglob("*")) if path.is_file()}
        answers_text = files.pop(ANSWERS, b"").decode("utf-8")
        return _Render({path: data for path, data in files.items() if path not in NOT_MERGED},
                       answers_text)


@dataclass(frozen=True)
class _Render:
    files: dict[str, bytes]
    answers: str


# ------------------------------------------------------------------------------ one project


class _Skip(Exception):
    pass


@dataclass
class _Changes:
    """What updating one project takes: files to write and remove, and what to report."""

    writes: dict[str, bytes] = field(default_factory=dict)
    removes: set[str] = field(default_factory=set)
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)

    def report(self, project: str, base: str) -> ProjectUpdate:
        return ProjectUpdate(project, base, tuple(self.added), tuple(self.changed),
                             tuple(self.merged), tuple(self.deleted), tuple(self.renamed),
                             tuple(self.kept), tuple(self.conflicts))


def _update_one(root: Path, project: Project, templates: _Templates, commit: str | None, *,
                dry_run: bool) -> ProjectUpdate:
    name = project.name.folder
    try:
        base, changes, answers = _plan(root, project, templates)
    except _Skip as skip:
        return ProjectUpdate(name, skipped=str(skip))
    except HundredError as error:
        return ProjectUpdate(name, error=str(error))
    report = changes.report(name, base)
    if dry_run or not report.touched:
        return report
    assert commit is not None  # update_projects refuses a real update without one
    changes.writes[ANSWERS] = set_answer(answers, COMMIT_KEY, commit).encode("utf-8")
    if changes.conflicts:
        changes.writes[CONFLICTS_FILE] = conflicts_text(name, commit, changes.conflicts).encode()
    try:
        _replace_project(project.path, changes.writes, changes.removes)
    except OSError as error:
        return ProjectUpdate(name, error=f"writing projects/{name} failed ({error}); it was left "
                             "as it was: fix the cause and update again")
    return report


def _plan(root: Path, project: Project, templates: _Templates) -> tuple[str, _Changes, str]:
    """The base commit, the changes to take, and the answers file to write."""
    answers_path = project.path / ANSWERS
    if not answers_path.is_file():
        raise _Skip(f"not made from the project template (no {ANSWERS})")
    recorded = _read_answers(answers_path)
    source = str(recorded.get("_src_path", ""))
    if not _is_monorepo_template(root, project.path, source):
        raise _Skip(f"made from {source}: update it with that template's own tool")
    if (project.path / CONFLICTS_FILE).exists():
        raise HundredError(f"projects/{project.name.folder} has an unfinished update: resolve "
                           f"what its {CONFLICTS_FILE} lists, delete that file, then update again")
    base = _base_commit(root, project, recorded)
    answers = {key: value for key, value in recorded.items() if not str(key).startswith("_")}
    old = templates.render(templates.at(base), answers)
    new = templates.render(root / TEMPLATE, answers)
    changes = _Changes()
    _take_template_changes(project.path, old.files, new.files, changes)
    answers_text = set_answer(new.answers, "_src_path", source)
    return base, changes, answers_text


def _read_answers(path: Path) -> dict[str, Any]:
    try:
        answers = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise HundredError(f"{path} is not valid YAML ({error}); restore it from git") from None
    if not isinstance(answers, dict):
        raise HundredError(f"{path} holds no answers; restore it from git")
    return answers


def _is_monorepo_template(root: Path, project: Path, source: str) -> bool:
    if not source:
        return False
    return (project / source).resolve() == (root / TEMPLATE).resolve()


def _base_commit(root: Path, project: Project, answers: dict[str, Any]) -> str:
    recorded = answers.get(COMMIT_KEY)
    if recorded:
        try:
            return _git(root, "rev-parse", "--verify", "--quiet",
                        f"{recorded}^{{commit}}").decode().strip()
        except _GitFailed:
            raise HundredError(
                f"projects/{project.name.folder}: template commit {str(recorded)[:12]} is not in "
                "this repository (a shallow clone?); fetch the full history, then update"
            ) from None
    relative = os.path.relpath(project.path / ANSWERS, root)
    added = _git(root, "log", "--diff-filter=A", "--format=%H", "--", relative).decode().split()
    if not added:
        raise HundredError(f"projects/{project.name.folder}: its {ANSWERS} records no template "
                           "commit and is not committed; commit the project, then update")
    return added[-1]  # the oldest: when the project was made


def _take_template_changes(folder: Path, old: dict[str, bytes], new: dict[str, bytes],
                           changes: _Changes) -> None:
    renames = _renames(old, new)
    for before, after in renames.items():
        _take_rename(folder, before, after, old[before], new[after], changes)
    renamed = set(renames) | set(renames.values())
    for path in sorted((set(old) | set(new)) - renamed):
        _take_file(folder, path, old.get(path), new.get(path), changes)


def _read(folder: Path, path: str) -> bytes | None:
    target = folder / path
    if target.is_symlink() or (target.exists() and not target.is_file()):
        raise HundredError(f"{target} is not a plain file, but the template has a file there; "
                           "move it aside, then update")
    return target.read_bytes() if target.exists() else None


def _take_file(folder: Path, path: str, old: bytes | None, new: bytes | None,
               changes: _Changes) -> None:
    if old == new:
        return
    mine = _read(folder, path)
    if mine == new:
        return  # already as the template has it now
    if mine == old:  # not edited here: take the template's
        if new is None:
            changes.removes.add(path)
            changes.deleted.append(path)
        else:
            changes.writes[path] = new
            (changes.added if mine is None else changes.changed).append(path)
    elif new is None:
        changes.kept.append(f"{path}: edited here and deleted by the template: kept")
    elif mine is None:
        changes.kept.append(f"{path}: deleted here and changed by the template: left deleted")
    elif old is None:
        changes.conflicts.append(Conflict(path, "", "added here and by the template; yours is "
                                          "kept: compare it with the template's"))
    else:
        _take_merge(path, old, mine, new, changes)


def _take_rename(folder: Path, before: str, after: str, old: bytes, new: bytes,
                 changes: _Changes) -> None:
    mine = _read(folder, before)
    if _read(folder, after) is not None:  # a file of the project has the new name
        _take_file(folder, before, old, None, changes)
        _take_file(folder, after, None, new, changes)
        return
    if mine is None:
        changes.kept.append(f"{before}: deleted here and renamed to {after} by the template: "
                            "left out")
        return
    merged, conflicts = (new, ()) if mine == old else merge_file(after, old, mine, new)
    changes.removes.add(before)
    changes.renamed.append((before, after))
    changes.writes[after] = merged
    changes.conflicts += conflicts


def _take_merge(path: str, old: bytes, mine: bytes, new: bytes, changes: _Changes) -> None:
    merged, conflicts = merge_file(path, old, mine, new)
    changes.conflicts += conflicts
    if merged != mine:
        changes.writes[path] = merged
        changes.merged.append(path)


def _renames(old: dict[str, bytes], new: dict[str, bytes]) -> dict[str, str]:
    """Files the template renamed: deleted paths paired with the most similar added one."""
    deleted = [path for path in old if path not in new]
    added = [path for path in new if path not in old]
    pairs: dict[str, str] = {}
    for before in deleted:
        scored = [(_similarity(old[before], new[after]), after) for after in added
                  if after not in pairs.values()
                  and (old[before] == new[after] or Path(after).suffix == Path(before).suffix)]
        best = max(scored, default=None)
        if best is not None and best[0] >= RENAME_SIMILARITY:
            pairs[before] = best[1]
    return pairs


def _similarity(a: bytes, b: bytes) -> float:
    if a == b:
        return 1.0
    return difflib.SequenceMatcher(None, a.splitlines(), b.splitlines(), autojunk=False).ratio()


# ------------------------------------------------------------------------------ merging


def merge_file(path: str, base: bytes, mine: bytes, template: bytes
               ) -> tuple[bytes, tuple[Conflict, ...]]:
    """Three-way merge of one file: notebooks cell-wise, text line-wise, binary not at all."""
    if path.endswith(".ipynb"):
        return merge_notebook(path, base, mine, template)
    if any(_is_binary(data) for data in (base, mine, template)):
        return mine, (Conflict(path, "", "a binary file changed here and in the template; "
                               "yours is kept"),)
    return merge_text(path, base, mine, template)


def _is_binary(data: bytes) -> bool:
    if b"\0" in data:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def merge_text(path: str, base: bytes, mine: bytes, template: bytes
               ) -> tuple[bytes, tuple[Conflict, ...]]:
    """``git merge-file``: the project's lines and the template's; where both changed the same
    lines, diff3 markers (``<<<<<<< project`` … ``>>>>>>> template``) and one conflict each."""
    with tempfile.TemporaryDirectory(prefix="hundred-merge-") as scratch:
        files = []
        for name, data in (("mine", mine), ("base", base), ("template", template)):
            (Path(scratch) / name).write_bytes(data)
            files.append(name)
        labels = [argument for label in MARKERS for argument in ("-L", label)]
        done = subprocess.run(["git", "merge-file", "-p", "--diff3", *labels, *files],
                              cwd=scratch, capture_output=True, check=False)
    if done.returncode < 0 or done.returncode > 127:
        raise HundredError(f"git merge-file failed on {path} "
                           f"({done.stderr.decode(errors='replace').strip()}); update again")
    starts = [number for number, line in enumerate(done.stdout.splitlines(), start=1)
              if line.startswith(b"<<<<<<< " + MARKERS[0].encode())]
    return done.stdout, tuple(
        Conflict(path, f"line {line}", "changed here and in the template: both are between the "
                 "markers") for line in starts)


def merge_notebook(path: str, base: bytes, mine: bytes, template: bytes
                   ) -> tuple[bytes, tuple[Conflict, ...]]:
    """A cell-wise merge, cells matched by their ids (``hundred.notebook_merge``). A cell both
    sides changed keeps the project's version (the template's goes into the conflict); the
    JSON stays valid."""
    import nbformat

    from hundred.notebook_merge import CellConflict, merge_notebooks

    try:
        merged = merge_notebooks(*(json.loads(data.decode("utf-8"))
                                   for data in (base, mine, template)))
        nbformat.validate(nbformat.from_dict(merged.notebook))
    except (ValueError, nbformat.ValidationError) as error:  # no cell ids, or not a notebook
        reason = " ".join(str(error).split())[:200]
        return mine, (Conflict(path, "", f"could not be merged cell by cell ({reason}); yours is "
                               "kept: take the template's changes by hand"),)
    conflicts = []
    for found in merged.conflicts:
        if isinstance(found, CellConflict):
            shown = f"cell {found.cell_id!r}" + (f" (cell {found.position})"
                                                  if found.position is not None else "")
            kept = "yours is kept" if found.position is not None else "it stays deleted"
            conflicts.append(Conflict(path, shown, f"{found.what}; {kept}",
                                      found.template_source))
        else:
            conflicts.append(Conflict(path, f"metadata {found.key!r}",
                                      "changed here and in the template; yours is kept"))
    return canonical_notebook(merged.notebook).encode(), tuple(conflicts)


def conflicts_text(project: str, commit: str, conflicts: Sequence[Conflict]) -> str:
    """``UPDATE-CONFLICTS.md``: each conflict, how to finish, the template's conflicting cells."""
    lines = ["# Update conflicts", "",
             f"`hundred update` brought projects/{project} up to the template of commit "
             f"{commit[:12]}, but could not merge these changes of the template with yours:", ""]
    lines += [f"- `{conflict.path}`{' ' + conflict.where if conflict.where else ''}: "
              f"{conflict.detail}" for conflict in conflicts]
    lines += ["", "To finish: in a text file, keep what you want between `<<<<<<< project` and "
              "`>>>>>>> template` and delete the markers; in a notebook, your cell was kept: take "
              "what you want of the template's version below by hand. Then delete this file: "
              "until then `hundred run` and `hundred build` refuse this project."]
    for conflict in conflicts:
        if conflict.template_version is not None:
            lines += ["", f"## The template's {conflict.path} {conflict.where}", "",
                      "```", conflict.template_version.rstrip("\n"), "```"]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------ writing


def _replace_project(folder: Path, writes: dict[str, bytes], removes: set[str]) -> None:
    """Build the updated project beside ``folder`` and swap it in: wholly old or wholly new.

    Unchanged files are hard links to the project's own, so big data costs nothing.
    """
    staging = Path(tempfile.mkdtemp(prefix=".update-", dir=folder.parent))
    try:
        folders = _link_tree(folder, staging, skip=set(writes) | removes)
        for path, data in writes.items():
            _write_file(staging / path, data, like=folder / path)
        for made in reversed(folders):  # last: a read-only folder is filled by then
            shutil.copystat(folder / made, staging / made)
        _swap_in(staging, folder)
    except BaseException:
        with _signals_held():
            shutil.rmtree(staging, ignore_errors=True)
        raise


def _link_tree(source: Path, target: Path, *, skip: set[str]) -> list[Path]:
    """Mirror ``source`` into ``target`` (except ``skip``); return the folders made, relative,
    parents first, ``.`` included."""
    folders = [Path()]
    for top, names, files in os.walk(source, onerror=_unreadable):
        here = Path(top)
        relative = here.relative_to(source)
        for name in names:
            if (here / name).is_symlink():
                (target / relative / name).symlink_to((here / name).readlink())
            else:
                (target / relative / name).mkdir()
                folders.append(relative / name)
        for name in files:
            if (relative / name).as_posix() not in skip:
                _link_file(here / name, target / relative / name)
    return folders


def _unreadable(error: OSError) -> None:
    raise error  # os.walk would skip the folder, and the update would lose it


def _link_file(source: Path, target: Path) -> None:
    if source.is_symlink():
        target.symlink_to(source.readlink())
        return
    try:
        target.hardlink_to(source)
    except OSError:  # another file system, or links not allowed: a copy is as good
        shutil.copy2(source, target)


def _write_file(path: Path, data: bytes, *, like: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if like.is_file():
        shutil.copymode(like, path)


def _swap_in(staging: Path, folder: Path) -> None:
    """Put ``staging`` at ``folder`` and delete the old project, with Ctrl-C and SIGTERM held
    back meanwhile: one arriving then is raised once the new project is wholly in place."""
    with _signals_held():
        if not _exchange(staging, folder):
            aside = staging.with_name(staging.name + "-old")
            folder.rename(aside)
            try:
                staging.rename(folder)
            except BaseException:
                aside.rename(folder)
                raise
            aside.rename(staging)
        shutil.rmtree(staging)


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux ``renameat2``); False where the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back for the block; they arrive when it ends."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
