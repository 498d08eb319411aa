"""Package installs inside notebooks: sent to a throwaway layer, and warned about.

Learners' notebooks carry ``!pip install seaborn`` and ``%pip install ...`` cells. Run by a
kernel of hundred's own environment, such a cell would install there and change what every
later project runs with (measured: ``!pip install pandas-profiling`` downgraded joblib under
scikit-learn). Every kernel that hundred starts has pip pointed at a *layer*: a folder of its
own for that run (``PIP_TARGET``), first on its ``PYTHONPATH``, deleted when the run ends. The
install still works for that run, and the run's record warns, naming the cell and the
packages, that they belong in the project's requirements.txt.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

LAYERS = Path(".hundred") / "layers"
# A cell line that installs packages: `!pip install`, `%pip install`, `!python -m pip install`,
# `!pip3 install`, `%conda install`, `!uv pip install` (all warned about; pip's are redirected).
_INSTALL = re.compile(
    r"^\s*[!%]\s*(?:(?:python3?(?:\.\d+)?|\S*/python3?)\s+-m\s+pip|pip3?|conda|mamba|uv\s+pip)"
    r"\s+install\b(?P<rest>.*)$", re.MULTILINE)
_OPTION_WITH_VALUE = {"-r", "--requirement", "-c", "--constraint", "-i", "--index-url",
                      "--extra-index-url", "-f", "--find-links", "-t", "--target", "-e",
                      "--editable", "--prefix", "--root", "--python"}


@dataclass(frozen=True)
class Install:
    """A cell of the notebook that installs packages."""

    cell: int  # the cell's 1-based position in the notebook
    line: str
    packages: tuple[str, ...]

    def warning(self, project: str) -> str:
        named = ", ".join(self.packages) or "packages"
        return (f"cell {self.cell}: `{self.line}` installed {named} for this run only; "
                f"declare {'them' if len(self.packages) != 1 else 'it'} in "
                f"projects/{project}/requirements.txt (hundred add {project} "
                f"{' '.join(self.packages) or 'PACKAGE'})")


def installs_in(cells: Sequence[tuple[str, str]]) -> list[Install]:
    """The install lines among ``cells`` (``(cell_type, source)`` in notebook order)."""
    found: list[Install] = []
    for position, (kind, source) in enumerate(cells, 1):
        if kind != "code":
            continue
        for match in _INSTALL.finditer(source):
            found.append(Install(position, match.group(0).strip(),
                                 _packages(match.group("rest"))))
    return found


def _packages(rest: str) -> tuple[str, ...]:
    words = rest.split("#", 1)[0].split()
    packages: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word in _OPTION_WITH_VALUE:
            skip = True
        elif not word.startswith("-") and not word.startswith(("$", "{")):
            packages.append(word.strip("'\""))
    return tuple(packages)


def layer_path(root: Path, project: str, profile: str) -> Path:
    return root / LAYERS / f"{project}-{profile}"


def fresh_layer(path: Path) -> Path:
    """An empty layer folder (it must exist before the kernel starts: Python remembers a
    missing ``sys.path`` entry as missing)."""
    remove_layer(path)
    path.mkdir(parents=True)
    return path


def remove_layer(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def layer_variables(layer: Path, pythonpath: str | None) -> dict[str, str]:
    """What points a kernel's pip at ``layer`` and puts the layer first on its path."""
    return {
        "PIP_TARGET": str(layer),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        # uv has no variable for a target folder: `!uv pip install` fails instead of installing
        # into the kernel's environment (the path names the way out).
        "UV_PYTHON": str(layer / "declare-packages-in-requirements.txt"),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(layer), pythonpath])),
    }
