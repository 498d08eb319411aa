"""Why a notebook failed, and what to do about it: a cause and a one-line fix for every failure.

Learners' notebooks rot for a handful of known reasons: a library removed or changed an API, a
package nobody declared, a URL fetched at run time, a file that was never committed, cells run
out of order when the notebook was saved, a model pickled by an older library. ``diagnose``
reads a failure (its kind, exception, traceback and the notebook's code) and names the cause;
an error it does not recognise says so ("no known cause") instead of guessing.

Removed and changed APIs come from ``MIGRATIONS``, a curated table: each entry matches the
exception that today's release of the library raises for the old call, and names the release
that changed it and the replacement. Each has a test with a real notebook that triggers it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from hundred.packages import distribution_of
from hundred.results import CellFailure, Diagnosis, FailureKind, RunResult


@dataclass(frozen=True)
class Migration:
    """An API that a library removed or changed, recognised by the error it raises now."""

    library: str
    release: str  # the release that removed or changed it
    ename: str  # the exception's class name, as the kernel reports it
    evalue: str  # a regular expression searched in the exception's message
    old: str
    new: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration("pandas", "2.0", "AttributeError",
              r"'(DataFrame|Series)' object has no attribute 'append'",
              "DataFrame.append", "pd.concat([df, other])"),
    Migration("pandas", "2.0", "AttributeError",
              r"'DatetimeProperties' object has no attribute '(week|weekofyear)'",
              "Series.dt.week", "Series.dt.isocalendar().week"),
    Migration("pandas", "1.0", "AttributeError",
              r"'(DataFrame|Series)' object has no attribute 'ix'",
              "DataFrame.ix", ".loc[] (labels) or .iloc[] (positions)"),
    Migration("pandas", "2.0", "(TypeError|ValueError)",
              r"could not convert string to float|Could not convert .* to numeric|"
              r"Cannot perform reduction '\w+' with string dtype",
              "numeric_only=None defaults of mean(), corr() and friends",
              "select the numeric columns first, or pass numeric_only=True"),
    Migration("numpy", "2.0", "AttributeError", r"`np\.NaN` was removed",
              "np.NaN", "np.nan"),
    Migration("numpy", "1.24", "AttributeError",
              r"module 'numpy' has no attribute '(float|int|bool|object|str)'",
              "np.float, np.int, np.bool, np.object", "the builtins float, int, bool, object"),
    Migration("scikit-learn", "1.4", "TypeError",
              r"OneHotEncoder.__init__\(\) got an unexpected keyword argument 'sparse'",
              "OneHotEncoder(sparse=...)", "OneHotEncoder(sparse_output=...)"),
    Migration("scikit-learn", "1.4", "InvalidParameterError",
              r"'penalty' parameter of LogisticRegression must be .* Got 'none' instead",
              "LogisticRegression(penalty='none')", "LogisticRegression(penalty=None)"),
    Migration("scikit-learn", "0.20", "ModuleNotFoundError",
              r"No module named 'sklearn\.cross_validation'",
              "sklearn.cross_validation", "sklearn.model_selection"),
    Migration("scikit-learn", "0.22", "ImportError",
              r"cannot import name 'Imputer' from 'sklearn\.preprocessing'",
              "sklearn.preprocessing.Imputer", "sklearn.impute.SimpleImputer"),
    Migration("scikit-learn", "1.2", "ImportError",
              r"cannot import name 'load_boston'|`load_boston` has been removed",
              "sklearn.datasets.load_boston",
              "fetch_california_housing() or another data set (load_boston was withdrawn)"),
    Migration("matplotlib", "3.6", "OSError",
              r"'seaborn[-\w]*' is not a valid package style",
              "plt.style.use('seaborn')", "plt.style.use('seaborn-v0_8')"),
    Migration("seaborn", "0.12", "TypeError",
              r"\w+plot\(\) takes from 0 to 1 positional arguments but \d+ were given",
              "positional x and y, as in sns.barplot(x, y)",
              "keyword arguments: sns.barplot(x=..., y=..., data=...)"),
    Migration("keras", "3.0", "ValueError", r"Argument\(s\) not recognized: \{'lr'",
              "optimizers' lr=", "learning_rate="),
    Migration("keras", "3.0", "ImportError",
              r"cannot import name 'ImageDataGenerator' from 'keras\.preprocessing",
              "keras.preprocessing.image.ImageDataGenerator",
              "keras.utils.image_dataset_from_directory() and preprocessing layers such as "
              "keras.layers.RandomFlip"),
    Migration("keras", "2.0", "TypeError", r"fit\(\) got an unexpected keyword argument "
              r"'nb_epoch'", "fit(nb_epoch=...)", "fit(epochs=...)"),
    Migration("tensorflow", "2.0", "AttributeError",
              r"module 'tensorflow' has no attribute '(Session|placeholder|get_default_graph|"
              r"global_variables_initializer|ConfigProto|train)'",
              "TensorFlow 1 graphs and sessions (tf.Session, tf.placeholder…)",
              "eager code and tf.function, or tf.compat.v1 while you port it"),
    Migration("pydantic", "2.0", "PydanticImportError",
              r"`BaseSettings` has been moved to the `pydantic-settings` package",
              "pydantic.BaseSettings", "from pydantic_settings import BaseSettings "
              "(add pydantic-settings to requirements.txt)"),
)

_NO_MODULE = re.compile(r"No module named '([\w.]+)'")
_NAME = re.compile(r"name '(\w+)' is not defined")
_PATH = re.compile(r"No such file or directory: '([^']+)'")
_HOST = re.compile(r"(?:https?|ftp)://([^/\s:'\"]+)(?::\d+)?")
_HOST_PHRASE = re.compile(r"host='([^']+)'")
_NETWORK_ERRORS = frozenset({"URLError", "ConnectionError", "ConnectionRefusedError",
                             "gaierror", "HTTPError", "Timeout", "ConnectTimeout",
                             "ReadTimeout", "SSLError", "RemoteDisconnected",
                             "NewConnectionError", "MaxRetryError", "TimeoutError"})
_PICKLE_FRAMES = re.compile(r"pickle|joblib|numpy_pickle|torch/serialization", re.IGNORECASE)
_PICKLE_ERRORS = frozenset({"UnpicklingError", "ModuleNotFoundError", "AttributeError",
                            "ImportError", "ValueError", "KeyError", "TypeError"})


def diagnose(kind: FailureKind, error: CellFailure | None,
             cells: Sequence[str] = (), *, project: str = "NNN",
             out_of_memory: bool = False) -> Diagnosis:
    """The cause of a failure and its fix. ``cells`` are the sources of the notebook's cells
    by position ("" for markdown), for names defined later; ``project`` names the project in
    the fix."""
    ename = error.ename if error else ""
    evalue = error.evalue if error else ""
    trace = "\n".join(error.traceback_tail) if error else ""
    fixed = _by_kind(kind, evalue, out_of_memory)
    if fixed is not None:
        return fixed
    for check in (_stale_pickle, _migration, _missing_package, _network, _missing_file,
                  _hidden_state):
        found = check(ename, evalue, trace, cells, project, error)
        if found is not None:
            return found
    return Diagnosis(cause="unknown", explanation=f"no known cause for {ename or 'this'}: "
                     "read the traceback", fix="if it is rot others will meet too, tell "
                     "hundred's authors so that it can be recognised")


def _by_kind(kind: FailureKind, evalue: str, out_of_memory: bool) -> Diagnosis | None:
    if kind == "timeout":
        return Diagnosis(cause="timeout", explanation="a cell ran past the time limit",
                         fix="make the smoke profile smaller (fewer rows, epochs) or raise "
                         "--timeout")
    if kind == "dead-kernel" and out_of_memory:
        return Diagnosis(cause="out-of-memory", explanation="the kernel was killed for using "
                         "too much memory", fix="use less data in this profile, or smaller "
                         "batches and models")
    if kind == "dead-kernel":
        return Diagnosis(cause="dead-kernel", explanation="the kernel process died (a crash in "
                         "native code, os._exit, or a kill)", fix="run the notebook in Jupyter "
                         "to see where it dies; hundred run --verbose shows the kernel's log")
    if kind == "interrupted":
        return Diagnosis(cause="interrupted", explanation="the run was stopped (Ctrl-C or "
                         "SIGTERM)", fix="run it again")
    if kind == "internal-error":
        return Diagnosis(cause="internal-error", explanation="a bug in hundred, not in the "
                         "notebook", fix="report it with the output of 'hundred run --verbose'")
    if kind in ("invalid-notebook", "invalid-writeup", "missing-kernel", "environment-error",
                "update-conflict"):
        return Diagnosis(cause=kind, explanation=evalue.split(";")[0][:300],
                         fix=evalue.split(";", 1)[1].strip() if ";" in evalue
                         else "fix the file named above")
    return None


def _migration(ename: str, evalue: str, *_: object) -> Diagnosis | None:
    for entry in MIGRATIONS:
        if re.fullmatch(entry.ename, ename) and re.search(entry.evalue, evalue):
            return Diagnosis(
                cause="removed-api", library=entry.library, release=entry.release,
                explanation=f"{entry.library} {entry.release} removed or changed {entry.old}",
                fix=f"use {entry.new}")
    return None


def _missing_package(ename: str, evalue: str, trace: str, cells: Sequence[str],
                     project: str, error: CellFailure | None) -> Diagnosis | None:
    found = _NO_MODULE.search(evalue)
    if ename not in ("ModuleNotFoundError", "ImportError") or found is None:
        return None
    module = found.group(1)
    top = module.split(".")[0]
    if module != top and not _imports_directly(cells, top):
        return None  # a submodule of an installed package: not a package to add
    distribution = distribution_of(module)
    return Diagnosis(cause="missing-package", library=distribution,
                     explanation=f"the package {distribution} (import {top}) is not installed",
                     fix=f"add it to the project's requirements.txt: hundred add {project} "
                     f"{distribution}")


def _imports_directly(cells: Sequence[str], top: str) -> bool:
    """Whether the notebook imports a submodule of ``top`` itself (import top.sub)."""
    return any(re.search(rf"^\s*(from|import)\s+{re.escape(top)}\b", cell, re.MULTILINE)
               for cell in cells)


def _network(ename: str, evalue: str, trace: str, cells: Sequence[str], project: str,
             error: CellFailure | None) -> Diagnosis | None:
    text = f"{evalue}\n{trace}\n{error.line if error and error.line else ''}"
    networky = (ename in _NETWORK_ERRORS or "Name or service not known" in text
                or "Temporary failure in name resolution" in text
                or "Failed to establish a new connection" in text)
    if not networky:
        return None
    failing = cells[error.cell - 1] if error and error.cell and error.cell <= len(cells) else ""
    host = _HOST.search(text) or _HOST_PHRASE.search(text) or _HOST.search(failing)
    where = host.group(1) if host else "a server"
    return Diagnosis(cause="network", explanation=f"the notebook contacted {where} while it ran",
                     fix="download it in data.py with a checksum (hundred.download), so that "
                     "it is fetched once, cached, and verified")


def _missing_file(ename: str, evalue: str, *_: object) -> Diagnosis | None:
    found = _PATH.search(evalue)
    if ename not in ("FileNotFoundError", "OSError", "IOError") or found is None:
        return None
    path = found.group(1)
    pure = PurePosixPath(path)
    if pure.is_absolute():
        where = (f"{path} is an absolute path" + (" of a hosted notebook service" if
                 path.startswith(("/kaggle/", "/content/", "/gdrive/")) else "")
                 + ", which exists on no other machine")
    elif ".." in pure.parts:
        where = f"{path} is outside the project"
    else:
        where = f"{path} is not in the project"
    return Diagnosis(cause="missing-file", explanation=where,
                     fix="produce it in data.py (fetched with a checksum) or add it to the "
                     "project, and read it by a path relative to the project")


def _hidden_state(ename: str, evalue: str, trace: str, cells: Sequence[str],
                  project: str, error: CellFailure | None) -> Diagnosis | None:
    found = _NAME.search(evalue)
    if ename != "NameError" or found is None:
        return None
    name = found.group(1)
    failing = (error.cell - 1) if error and error.cell else None
    later = [position for position, source in enumerate(cells, 1)
             if name in _defined(source) and (failing is None or position > failing)]
    if later:
        return Diagnosis(cause="hidden-state", explanation=f"{name!r} is defined only in a "
                         f"later cell ({later[0]}): the cells ran out of order when this "
                         "notebook was saved", fix=f"move the cell defining {name!r} above "
                         "its first use, then restart and run all")
    if not any(name in _defined(source) for source in cells):
        return Diagnosis(cause="hidden-state", explanation=f"{name!r} is never defined in the "
                         "notebook: it came from a cell since deleted, or another session",
                         fix=f"define or import {name!r} before its first use")
    return None


def _defined(source: str) -> set[str]:
    """The names a cell binds: assignments, defs, classes, imports, loop targets."""
    try:
        tree = ast.parse(re.sub(r"^\s*[%!].*$", "", source, flags=re.MULTILINE))
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names


def _stale_pickle(ename: str, evalue: str, trace: str, *_: object) -> Diagnosis | None:
    if ename not in _PICKLE_ERRORS or not _PICKLE_FRAMES.search(trace):
        return None
    if not re.search(r"pickle\.load|joblib\.load|pd\.read_pickle|read_pickle|torch\.load|"
                     r"load\(|_unpickle|Unpickler", trace):
        return None
    return Diagnosis(cause="stale-pickle", explanation="a pickled object was saved by another "
                     f"version of its library ({ename}: {evalue[:120]})",
                     fix="re-create the file with today's versions (train again in the "
                     "notebook or in data.py) instead of loading an old pickle")


def diagnosed(root: Path, result: RunResult) -> RunResult:
    """``result`` with the diagnosis of its failure (passed runs are returned as they are)."""
    if result.passed or result.failure is None:
        return result
    from hundred.cache import cell_sources

    try:
        cells = [source if kind == "code" else "" for kind, source in
                 cell_sources(root / "projects" / result.project / "notebook.ipynb")]
    except (OSError, ValueError):  # not a notebook: its failure says so already
        cells = []
    found = diagnose(result.failure, result.error, cells, project=result.project,
                     out_of_memory=result.out_of_memory)
    return result.model_copy(update={"diagnosis": found})
