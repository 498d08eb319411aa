"""Make a project: validate its name, render the copier template, move it into place atomically."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hundred.catalog import (
    STARTERS,
    Project,
    ProjectName,
    Starter,
    check_kind,
    parse_name,
    project_folders,
)
from hundred.errors import HundredError, WorkFailed
from hundred.lock import monorepo_lock

TEMPLATE = Path("templates") / "project"

# Words in a slug that suggest a starter, checked in this order: the tasks first, so that
# mnist-gan is generative and cnn-text is nlp. A hint with a dash matches those words in a row.
KIND_WORDS: dict[Starter, tuple[str, ...]] = {
    "generative": ("gan", "gans", "dcgan", "vae", "autoencoder", "autoencoders", "generative",
                   "diffusion", "ddpm"),
    "time-series": ("forecast", "forecasts", "forecasting", "timeseries", "time-series",
                    "arima", "sarima", "prophet", "seasonal", "seasonality"),
    "nlp": ("nlp", "text", "texts", "sentiment", "spam", "tokenizer", "tokenizers", "bert",
            "reviews", "tfidf", "word2vec", "imdb"),
    "vision": ("cnn", "cifar", "cifar10", "mnist", "image", "images", "vision"),
    "from-scratch": ("scratch", "numpy"),
}
IMAGE_DATASETS = ("cifar10", "mnist", "digits")
# Words in a slug that name a dataset the data script knows how to fetch.
DATASET_WORDS: dict[str, tuple[str, ...]] = {
    "cifar10": ("cifar", "cifar10"),
    "mnist": ("mnist",),
    "iris": ("iris",),
    "digits": ("digits",),
    "wine": ("wine",),
    "breast-cancer": ("cancer",),
    "diabetes": ("diabetes",),
}
# The stand-in each starter begins on when the slug names no dataset; the data script generates
# reviews and seasonal offline, so no slug names them as real data.
PLACEHOLDER_DATASET: dict[Starter, str] = {
    "tabular": "wine",
    "vision": "digits",
    "from-scratch": "breast-cancer",
    "nlp": "reviews",
    "time-series": "seasonal",
    "generative": "digits",
}
# The data each starter's notebook can work on (copier.yml's dataset validator says the same).
STARTER_DATA: dict[Starter, tuple[str, tuple[str, ...]]] = {
    "tabular": ("tabular or image data", tuple(DATASET_WORDS)),
    "from-scratch": ("tabular or image data", tuple(DATASET_WORDS)),
    "vision": ("image data", IMAGE_DATASETS),
    "generative": ("image data", IMAGE_DATASETS),
    "nlp": ("text data", ("reviews",)),
    "time-series": ("a time series", ("seasonal",)),
}


@dataclass(frozen=True)
class Plan:
    """Everything decided before anything is written."""

    name: ProjectName
    kind: str  # what the writeup says: a starter's name or any other kind word
    starter: Starter  # the template's notebook it begins from
    dataset: str
    placeholder: bool
    target: Path

    def answers(self, *, title: str | None, difficulty: int, stage: str) -> dict[str, Any]:
        answers: dict[str, Any] = {
            "number": self.name.number,
            "slug": self.name.slug,
            "kind": self.kind,
            "starter": self.starter,
            "dataset": self.dataset,
            "dataset_is_placeholder": self.placeholder,
            "date": dt.date.today().isoformat(),
            "difficulty": difficulty,
            "stage": stage,
        }
        answers["title"] = title or title_from_slug(self.name.slug)
        return answers


# Words that read better in capitals or with their usual spelling in a title.
SPELLINGS = {
    word: word.upper()
    for word in ("ai", "cnn", "rnn", "lstm", "gru", "gan", "vae", "mlp", "knn", "svm", "pca",
                 "nlp", "gpt", "bert", "mnist", "cifar", "cifar10", "ml", "dl", "rl", "gd",
                 "sgd", "xgboost", "tsne", "umap", "api", "roc", "auc")
} | {"numpy": "NumPy", "pytorch": "PyTorch", "sklearn": "scikit-learn", "vs": "vs"}


def title_from_slug(slug: str) -> str:
    """A readable first title: ``cnn-cifar`` → ``CNN CIFAR``, ``knn-vs-kmeans`` → ``KNN vs Kmeans``.

    The user edits it in the writeup; this only saves them fixing the obvious.
    """
    return " ".join(SPELLINGS.get(word, word.capitalize()) for word in slug.split("-"))


def infer_kind(slug: str) -> Starter:
    """The starter a slug suggests: ``mnist-gan`` → generative, ``sales-forecast`` →
    time-series, ``spam-filter`` → nlp, ``cnn-cifar`` → vision, ``numpy-gd`` → from-scratch,
    else tabular. The first starter in ``KIND_WORDS`` with a word in the slug wins.
    """
    return _suggested_starter(slug) or "tabular"


def _suggested_starter(slug: str) -> Starter | None:
    padded = f"-{slug}-"
    for starter, hints in KIND_WORDS.items():
        if any(f"-{hint}-" in padded for hint in hints):
            return starter
    return None


def choose_starter(slug: str, kind: str | None) -> tuple[str, Starter]:
    """The project's kind and its starter: a starter's name picks it; any other kind word
    begins from the starter the slug suggests (else tabular); no kind takes the slug's."""
    if kind is None:
        suggested = infer_kind(slug)
        return suggested, suggested
    check_kind(kind)
    for starter in STARTERS:
        if kind == starter:
            return kind, starter
    return kind, infer_kind(slug)


def starter_notice(kind: str, starter: str) -> str | None:
    """One line for a project whose kind has no starter of its own, else None."""
    if kind == starter:
        return None
    return (f"kind {kind!r} has no starter of its own, so the project begins from the "
            f"{starter} starter: make notebook.ipynb your own")


def infer_dataset(slug: str) -> str | None:
    """The well-known dataset a slug names (``cnn-cifar`` → ``cifar10``), if any."""
    words = slug.split("-")
    for dataset, hints in DATASET_WORDS.items():
        if any(word in hints for word in words):
            return dataset
    return None


def plan_project(
    name: str, root: Path, *, kind: str | None = None, starter_data: bool = True
) -> Plan:
    """Check ``name`` and ``kind`` against the monorepo at ``root``; raise before writing.

    ``starter_data=False`` skips checking that the starter can work on the data the slug names
    (a template of the user's own brings its own notebook).
    """
    number, slug = parse_name(name)
    chosen, starter = choose_starter(slug, kind)
    existing = project_folders(root)
    if number is None:
        number = max((taken.number for taken, _ in existing), default=0) + 1
        if number > 999:
            raise HundredError("all numbers up to 999 are taken; give the project a free number")
    target = root / "projects" / f"{number:03d}-{slug}"
    if target.exists() or target.is_symlink():
        raise HundredError(
            f"{_rel(target, root)} already exists; pick another name or remove that folder"
        )
    for taken, path in existing:
        if taken.number == number:
            raise HundredError(
                f"project number {number:03d} is taken by {_rel(path, root)}; pick another "
                f"number or run 'new-project {slug}' to take the next free one"
            )
        if taken.slug == slug:
            raise HundredError(
                f"slug {slug!r} is already used by {_rel(path, root)}; pick another slug"
            )
    dataset = infer_dataset(slug)
    needs, fits = STARTER_DATA[starter]
    if starter_data and dataset is not None and dataset not in fits:
        raise HundredError(
            f"the {starter} starter needs {needs} but {slug!r} names {dataset}; "
            "use --kind tabular or --kind from-scratch"
        )
    placeholder = dataset is None
    return Plan(
        ProjectName(number, slug),
        chosen,
        starter,
        dataset or PLACEHOLDER_DATASET[starter],
        placeholder,
        target,
    )


def new_project(
    name: str,
    root: Path,
    *,
    kind: str | None = None,
    title: str | None = None,
    difficulty: int = 2,
    stage: str = "",
    template: str | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> Project:
    """Scaffold ``projects/NNN-slug`` in the monorepo at ``root`` and return it.

    The template is rendered into a hidden temporary folder beside the target and renamed into
    place only when complete, so a failure or Ctrl-C at any point leaves no partial project.
    Choosing the number, rendering and the rename happen under the monorepo's "new" lock, so
    two new-project started at once never take the same number; ``on_wait`` is called with one
    line naming the other process if this one has to wait for it.

    ``template`` is a copier or cookiecutter template of the user's own (a folder, relative to
    the current one, or a git URL), else ``[tool.hundred] template``, else hundred's; a project
    made from one is a ``sources.TemplatedProject``, which says what hundred added to it.
    """
    if not 1 <= difficulty <= 5:
        raise HundredError(f"difficulty {difficulty} is out of range; give a number from 1 to 5")
    with monorepo_lock(root, "new", on_wait=on_wait):
        return _make_project(name, root, kind=kind, title=title, difficulty=difficulty,
                             stage=stage, source=template)


def _make_project(
    name: str, root: Path, *, kind: str | None, title: str | None, difficulty: int, stage: str,
    source: str | None = None,
) -> Project:
    from hundred import sources
    from hundred.config import load_settings
    from hundred.update import record_template_commit  # update imports this module

    configured = load_settings(root).template if source is None else None
    chosen = sources.chosen_template(root, source, configured, builtin=root / TEMPLATE)
    plan = plan_project(name, root, kind=kind, starter_data=chosen is None)
    if chosen is not None:
        src, base = chosen
        values = plan.answers(title=title, difficulty=difficulty, stage=stage)
        with staged_folder(plan.target, root) as staging:
            rendered = sources.render_template(src, staging, values, base=base, root=root)
        return sources.TemplatedProject(plan.name, plan.target, rendered)
    template = root / TEMPLATE
    if not (template / "copier.yml").is_file():
        raise HundredError(
            f"no project template at {template}; restore templates/project/ from the hundred "
            "repository"
        )
    answers = plan.answers(title=title, difficulty=difficulty, stage=stage)
    with staged_folder(plan.target, root) as staging:
        copy_template(template, staging, answers)
        normalise_notebook(staging / "notebook.ipynb")
        record_template_commit(root, template, staging)
    return Project(plan.name, plan.target)


@contextlib.contextmanager
def staged_folder(target: Path, root: Path, *, prefix: str = ".new-") -> Iterator[Path]:
    """A hidden folder beside ``target`` to write a project into, renamed to ``target`` when the
    block ends; on any error (Ctrl-C included) it is removed, so no partial project is left.

    The catalog ignores the hidden name, and the rename within projects/ is atomic.
    """
    staging = Path(tempfile.mkdtemp(prefix=prefix, dir=target.parent))
    try:
        _chmod_like_mkdir(staging)
        yield staging
        if target.exists() or target.is_symlink():
            raise HundredError(f"{_rel(target, root)} appeared while it was written; try again")
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def copy_template(template: Path, staging: Path, answers: dict[str, Any]) -> None:
    """Render the copier ``template`` into the folder ``staging`` with ``answers``."""
    from copier import run_copy

    # The staging folder sits in projects/ like the final folder, so a template path relative to
    # it is right for the project too: .copier-answers.yml then records a _src_path that still
    # resolves after the repository is cloned elsewhere.
    relative = os.path.relpath(template, staging)
    try:
        with contextlib.chdir(staging):
            run_copy(
                relative, ".", data=answers, defaults=True, quiet=True, overwrite=True,
                cleanup_on_error=False,
            )
    except (KeyboardInterrupt, HundredError):
        raise
    except Exception as error:
        raise WorkFailed(
            f"rendering the template {template} failed ({type(error).__name__}: {error}); "
            "nothing was written: fix the template or run with --verbose"
        ) from error


def normalise_notebook(path: Path) -> None:
    """Store the rendered notebook in nbformat's canonical on-disk layout.

    Jupyter and nbstripout rewrite notebooks this way (sources as lists of lines, sorted keys,
    one-space indent), so the first save after scaffolding changes nothing. Plain json keeps
    new-project as fast as copier itself; the tests validate the result with nbformat.
    """
    notebook = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(canonical_notebook(notebook), encoding="utf-8")


def canonical_notebook(notebook: dict[str, Any]) -> str:
    """``notebook`` (nbformat 4 as plain JSON data) in that canonical layout."""
    for cell in notebook["cells"]:
        if isinstance(cell["source"], str):
            cell["source"] = cell["source"].splitlines(keepends=True)
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def _chmod_like_mkdir(path: Path) -> None:
    """mkdtemp makes 0700 folders; give the project the permissions a plain mkdir would."""
    umask = os.umask(0)
    os.umask(umask)
    path.chmod(0o777 & ~umask)


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
