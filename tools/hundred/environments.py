"""Per-project environments: a project's requirements.txt, its uv lock, and the venv built from it.

A project that declares packages in ``requirements.txt`` runs in an environment of its own:
``lock`` resolves the file with uv (plus ipykernel, for the kernel) into ``requirements.lock``
beside it, exact versions and hashes for every platform, to be committed; ``environment_for``
builds a virtual environment from the lock under ``.hundred/envs/``, keyed by the lock's
contents, so projects with identical locks share one and a second build of the same lock is a
hard-linking copy from uv's cache. The environment holds what the lock names, pip (so that a
notebook's ``%pip`` reaches its throwaway layer, see ``hundred.installs``), hundred's
in-notebook helpers (``hundred.record``) and a path to the monorepo's own helper packages
(``tools/``), nothing else of hundred's. A project without requirements runs in the monorepo's
shared environment, as before.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from hundred.errors import HundredError, WorkFailed

REQUIREMENTS = "requirements.txt"
LOCK = "requirements.lock"
ENVS = Path(".hundred") / "envs"
# What every project environment needs besides the project's own packages: its kernel.
KERNEL_REQUIREMENTS = "ipykernel>=6\n"
KERNEL_SOURCE = "hundred's kernel (ipykernel)"
COMPLETE = "hundred-environment.json"  # written last: an environment without it is rebuilt
HEADER = """\
# The exact environment of this project: requirements.txt resolved by uv (with ipykernel, for
# its Jupyter kernel), for every platform, with hashes. Commit it; do not edit it: change
# requirements.txt and run `hundred lock`, or add a package with `hundred add`.
"""
_REQUIREMENTS_DIGEST = re.compile(r"^# requirements\.txt sha256: ([0-9a-f]{64})$", re.MULTILINE)
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)", re.MULTILINE)


class EnvironmentFailed(WorkFailed):
    """A project's environment could not be locked or built; the message says why and how to
    fix it, naming the project's file and line where one is to blame."""


@dataclass(frozen=True)
class Declared:
    """One requirement line of a project's requirements.txt."""

    line: int
    text: str
    name: str  # the distribution's normalised name


@dataclass(frozen=True)
class Lock:
    """A project's requirements.lock, read."""

    path: Path
    text: str

    @property
    def body(self) -> str:
        """The resolution without its comment header: what identical environments share."""
        return "\n".join(line for line in self.text.splitlines() if not line.startswith("# "))

    @property
    def digest(self) -> str:
        python = ".".join(map(str, sys.version_info[:2]))
        return hashlib.sha256(f"python {python}\n{self.body}".encode()).hexdigest()

    @property
    def pins(self) -> dict[str, str]:
        """Every package of the lock with its version."""
        return dict(_PIN.findall(self.text))

    @property
    def requirements_digest(self) -> str | None:
        found = _REQUIREMENTS_DIGEST.search(self.text)
        return found.group(1) if found else None


@dataclass(frozen=True)
class Environment:
    """A built project environment."""

    path: Path
    digest: str

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    @property
    def name(self) -> str:
        """What a run record calls it: its folder's name, the lock digest's first 16."""
        return self.path.name


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared(folder: Path) -> list[Declared]:
    """The requirements of ``folder/requirements.txt`` (none without the file).

    Comments, blank lines and pip options (``--index-url ...``) are skipped; a line that is not
    a requirement raises ``EnvironmentFailed`` naming the file and the line.
    """
    path = folder / REQUIREMENTS
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    from packaging.requirements import InvalidRequirement, Requirement

    found: list[Declared] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not line or line.startswith("-"):
            continue
        try:
            requirement = Requirement(line)
        except InvalidRequirement as error:
            raise EnvironmentFailed(
                f"{_where(path, number)}: {line!r} is not a requirement ({error}); write one "
                "package a line, e.g. seaborn or seaborn==0.13.2") from None
        found.append(Declared(number, line, normalise(requirement.name)))
    return found


def needs_environment(folder: Path) -> bool:
    """Whether the project declares packages, so runs in an environment of its own."""
    return bool(declared(folder))


def read_lock(folder: Path) -> Lock | None:
    path = folder / LOCK
    try:
        return Lock(path, path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def requirements_digest(folder: Path) -> str:
    return hashlib.sha256((folder / REQUIREMENTS).read_bytes()).hexdigest()


def ensure_locked(folder: Path, on_lock: Callable[[], None] = lambda: None) -> Lock:
    """The project's lock, resolved again first (``on_lock`` hears it) if it is missing or
    requirements.txt changed since."""
    found = read_lock(folder)
    if found is not None and found.requirements_digest == requirements_digest(folder):
        return found
    on_lock()
    return lock(folder)


def lock(folder: Path) -> Lock:
    """Resolve ``folder/requirements.txt`` with uv into ``folder/requirements.lock``.

    The lock is written atomically, and only when the resolution succeeded; a requirement that
    does not resolve raises ``EnvironmentFailed`` naming the file and line.
    """
    requirements = declared(folder)
    if not requirements:
        raise HundredError(f"{folder / REQUIREMENTS} declares no packages; add one a line "
                           "(e.g. seaborn), or use `hundred add`")
    python = ".".join(map(str, sys.version_info[:2]))
    with tempfile.TemporaryDirectory(prefix="hundred-lock-") as scratch:
        kernel = Path(scratch) / "kernel.in"
        kernel.write_text(KERNEL_REQUIREMENTS, encoding="utf-8")
        resolved = Path(scratch) / LOCK
        done = _uv("pip", "compile", REQUIREMENTS, str(kernel), "--universal",
                   "--python-version", python, "--generate-hashes", "--no-header", "--quiet",
                   "--output-file", str(resolved), cwd=folder)
        if done.returncode != 0:
            raise EnvironmentFailed(_explain(done.stderr, folder, requirements, "lock"))
        body = resolved.read_text(encoding="utf-8").replace(f"-r {kernel}", KERNEL_SOURCE)
    text = (f"{HEADER}# requirements.txt sha256: {requirements_digest(folder)}\n"
            f"# python: {python}\n{body}")
    from hundred.results import atomic_write

    atomic_write(folder / LOCK, text.encode())
    return Lock(folder / LOCK, text)


@dataclass(frozen=True)
class Locked:
    """What ``lock_projects`` did for one project: its lock, or why it has none."""

    project: str
    lock: Lock | None
    error: str | None = None


def lock_projects(root: Path, selection: Iterable[str] = ()) -> list[Locked]:
    """Lock the selected projects (all that declare packages when none are named): each
    whose lock is missing or stale is resolved again; one that fails does not stop the rest."""
    from hundred import catalog

    wanted = list(selection)
    chosen = catalog.select(catalog.scan(root).projects, wanted)
    outcomes: list[Locked] = []
    for project in chosen:
        try:
            if not needs_environment(project.path):
                if wanted:
                    outcomes.append(Locked(project.name.folder, None, (
                        f"{project.name.folder}/{REQUIREMENTS} declares no packages; add one "
                        f"with 'hundred add {project.name.folder} PACKAGE'")))
                continue
            outcomes.append(Locked(project.name.folder, lock(project.path)))
        except EnvironmentFailed as error:
            outcomes.append(Locked(project.name.folder, None, str(error)))
    return outcomes


def add(folder: Path, packages: Iterable[str]) -> Lock:
    """Declare ``packages`` in the project's requirements.txt and lock again.

    If the new requirements do not resolve, requirements.txt is put back as it was.
    """
    from packaging.requirements import InvalidRequirement, Requirement

    names: dict[str, str] = {}  # requirement -> its distribution's normalised name
    for package in (package.strip() for package in packages):
        if not package:
            continue
        try:
            names[package] = normalise(Requirement(package).name)
        except InvalidRequirement as error:
            raise HundredError(f"{package!r} is not a requirement ({error}); give a package "
                               "name, e.g. seaborn or 'seaborn>=0.13'") from None
    path = folder / REQUIREMENTS
    before = path.read_bytes() if path.is_file() else None
    have = {item.name for item in declared(folder)}
    new = [package for package, name in names.items() if name not in have]
    if not new:
        return ensure_locked(folder)
    text = (before or b"").decode("utf-8")
    if text and not text.endswith("\n"):
        text += "\n"
    from hundred.results import atomic_write

    atomic_write(path, (text + "".join(f"{p}\n" for p in new)).encode())
    try:
        return lock(folder)
    except BaseException:
        if before is None:
            path.unlink(missing_ok=True)
        else:
            atomic_write(path, before)
        raise


def environment_is_built(root: Path, found: Lock) -> bool:
    return (_environment_path(root, found) / COMPLETE).is_file()


def _environment_path(root: Path, found: Lock) -> Path:
    return root / ENVS / found.digest[:16]


def environment_for(root: Path, found: Lock) -> Environment:
    """The environment built from ``found``, shared by every project with the same lock;
    built now if it is not there yet (or a build was cut short)."""
    digest = found.digest
    path = _environment_path(root, found)
    if environment_is_built(root, found):
        return Environment(path, digest)
    shutil.rmtree(path, ignore_errors=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        _build(root, path, found)
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise
    return Environment(path, digest)


def _build(root: Path, path: Path, found: Lock) -> None:
    folder = found.path.parent
    made = _uv("venv", "--quiet", "--seed", "--python", sys.executable, str(path), cwd=root)
    if made.returncode != 0:
        raise EnvironmentFailed(_explain(made.stderr, folder, [], "build"))
    synced = _uv("pip", "sync", "--quiet", "--python", str(path / "bin" / "python"),
                 str(found.path), cwd=root)
    if synced.returncode != 0:
        raise EnvironmentFailed(_explain(synced.stderr, folder, declared(folder), "build"))
    site = _site_packages(path)
    helpers = site / "hundred"
    helpers.mkdir()
    metrics = Path(__file__).with_name("metrics.py")
    shutil.copy(metrics, helpers / "metrics.py")
    (helpers / "__init__.py").write_text(
        '"""hundred\'s in-notebook helpers, in a project environment."""\n\n'
        "from hundred.metrics import METRIC_MIME, record\n\n"
        '__all__ = ["METRIC_MIME", "record"]\n', encoding="utf-8")
    # The monorepo's helper packages, after the environment's own (so hundred stays the above).
    (site / "hundred-monorepo-tools.pth").write_text(f"{(root / 'tools').absolute()}\n",
                                                     encoding="utf-8")
    (path / COMPLETE).write_text(json.dumps({"lock": found.digest,
                                             "python": sys.version.split()[0]}),
                                 encoding="utf-8")


def _site_packages(path: Path) -> Path:
    python = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    return path / "lib" / python / "site-packages"


def kernel_variables(environment: Environment | None, layer: Path,
                     base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment variables of a kernel in ``environment`` (None: the shared one) whose
    pip installs land in ``layer`` (``hundred.installs``)."""
    from hundred.installs import layer_variables

    variables = zygote_variables(environment, base)
    return {**variables, **layer_variables(layer, variables.get("PYTHONPATH"))}


def zygote_variables(environment: Environment | None,
                     base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment variables a kernel of ``environment`` starts with, before its layer."""
    variables = dict(os.environ if base is None else base)
    if environment is None:
        return variables
    for name in ("PYTHONPATH", "PYTHONHOME"):  # nothing of hundred's environment leaks in
        variables.pop(name, None)
    variables["VIRTUAL_ENV"] = str(environment.path)
    variables["PATH"] = os.pathsep.join([str(environment.path / "bin"),
                                         variables.get("PATH", os.defpath)])
    return variables


def _uv(*arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    try:
        from uv import find_uv_bin

        uv = find_uv_bin()
    except (ImportError, FileNotFoundError):
        uv = shutil.which("uv") or "uv"
    try:
        return subprocess.run([uv, *arguments], cwd=cwd, capture_output=True, text=True,
                              check=False, env={**os.environ, "UV_NO_PROGRESS": "1"})
    except FileNotFoundError:
        raise EnvironmentFailed("uv is not installed; reinstall hundred (it depends on uv)"
                                ) from None


_NETWORK = re.compile(r"Failed to fetch|Failed to download|error sending request|dns error|"
                      r"Connection refused|tcp connect error|timed out|offline", re.IGNORECASE)


def _explain(stderr: str, folder: Path, requirements: list[Declared], doing: str) -> str:
    """One line from uv's error: the project, the file and line to blame, the cause, the fix."""
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    causes = [line.split(":", 1)[1].strip() for line in lines
              if line.startswith(("error:", "cause:", "×", "╰─▶"))]
    cause = causes[-1] if causes else (lines[-1] if lines else "uv failed without a message")
    project = folder.name
    if _NETWORK.search(stderr):
        url = re.search(r"https?://\S+", stderr)
        where = f" ({url.group(0).rstrip('/`')})" if url else ""
        return (f"{project}: cannot reach the package index{where} to {doing} the project's "
                f"environment: {cause}; check the network (uv caches what it downloads, so "
                "one online run is enough)")
    text = stderr.lower()
    blamed = next((item for item in requirements if re.search(
        rf"(?<![a-z0-9-]){re.escape(item.name)}(?![a-z0-9])",
        re.sub(r"[-_.]+", "-", text))), None)
    if blamed is None:
        return f"{project}: uv could not {doing} the environment of {folder / LOCK}: {cause}"
    where = _where(folder / REQUIREMENTS, blamed.line)
    if "not found in the package registry" in cause or "was not found" in cause:
        fix = ("check the name on pypi.org (an import name can differ from its package's: "
               "sklearn is scikit-learn, cv2 is opencv-python)")
    elif "no version of" in cause or "there is no version" in cause:
        fix = "pick a version that exists, or loosen the pin"
    else:
        fix = "loosen or change that requirement"
    return f"{where}: {blamed.text!r} does not resolve: {cause}; {fix}"


def _where(path: Path, line: int) -> str:
    parts = path.parts
    short = Path(*parts[-3:]) if len(parts) >= 3 else path
    return f"{short}:{line}"
