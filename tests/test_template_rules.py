"""The copier template and the scaffold agree: the same kinds, starters, datasets and names.

`new-project` decides in Python (hundred.scaffold, hundred.catalog) what a bare `copier copy
templates/project` asks and validates in copier.yml; these tests hold the two to one set of rules.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from hundred import catalog, scaffold
from hundred.errors import HundredError
from tests.conftest import REPO

TEMPLATE = REPO / "templates" / "project"
QUESTIONS: dict[str, Any] = yaml.safe_load((TEMPLATE / "copier.yml").read_text(encoding="utf-8"))
# What copier renders questions with: a Jinja sandbox with Ansible's filters (regex_search...).
JINJA = SandboxedEnvironment(extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"],
                             undefined=StrictUndefined)
ANSWERS: dict[str, Any] = {
    "number": 42, "slug": "cnn-cifar", "title": "CNN on CIFAR-10", "kind": "vision",
    "starter": "vision", "dataset": "cifar10", "dataset_is_placeholder": False,
    "date": "2026-11-01", "difficulty": 3, "stage": "",
}
DATASETS: list[str] = QUESTIONS["dataset"]["choices"]


def render(text: str, **answers: Any) -> str:
    return JINJA.from_string(text).render({**ANSWERS, **answers})


def derived(question: str, **answers: Any) -> str:
    """A question's default as copier renders it from the other answers."""
    return render(QUESTIONS[question]["default"], **answers)


def copier_accepts(question: str, value: Any, **answers: Any) -> bool:
    """Copier's verdict: the validator renders nothing; any text or error rejects the answer."""
    validator = QUESTIONS[question].get("validator", "")  # none: copier takes any answer
    try:
        return not render(validator, **{question: value, **answers}).strip()
    except Exception:  # copier turns any error while validating into a rejection, as here
        return False


def writeup_accepts(folder: Path, question: str, value: Any) -> bool:
    """The catalog's verdict on the writeup the template renders with this answer."""
    text = render((TEMPLATE / "skeleton" / "writeup.md.jinja").read_text(encoding="utf-8"),
                  **{question: value})
    path = folder / "writeup.md"
    path.write_text(text, encoding="utf-8")
    try:
        catalog.read_writeup(path, expected=catalog.ProjectName(42, "cnn-cifar"))
    except HundredError:
        return False
    return True


def test_the_starter_choices_are_the_catalog_starters() -> None:
    assert QUESTIONS["starter"]["choices"] == list(catalog.STARTERS)
    assert QUESTIONS["kind"]["default"] in catalog.STARTERS
    assert set(scaffold.KIND_WORDS) <= set(catalog.STARTERS)
    # A kind that names a starter is that starter (old answers record only the kind); any other
    # kind begins from tabular, as the scaffold does for a slug that suggests nothing.
    for starter in catalog.STARTERS:
        assert derived("starter", kind=starter) == starter
        assert scaffold.choose_starter("my-study", starter) == (starter, starter)
    assert derived("starter", kind="rl") == "tabular"
    assert scaffold.choose_starter("my-study", "rl") == ("rl", "tabular")


@pytest.mark.parametrize("kind", [
    "tabular", "nlp", "time-series", "rl", "audio2", "x", "a" * 30,  # good
    "a" * 31, "", "NLP", "time_series", "time series", "-rl", "rl-", "time--series", "2d",
    "ünet", "rl\n", "\nrl",  # bad
])
def test_copier_and_the_catalog_take_the_same_kinds(tmp_path: Path, kind: str) -> None:
    assert copier_accepts("kind", kind) is catalog.is_kind(kind)
    if kind.strip() == kind:  # YAML would read a padded value as the bare word
        assert writeup_accepts(tmp_path, "kind", kind) is catalog.is_kind(kind)


def test_the_dataset_choices_are_the_datasets_the_scaffold_can_choose() -> None:
    chosen = set(scaffold.DATASET_WORDS) | set(scaffold.PLACEHOLDER_DATASET.values())
    assert sorted(DATASETS) == sorted(chosen)
    assert len(DATASETS) == len(set(DATASETS))
    assert set(scaffold.PLACEHOLDER_DATASET) == set(catalog.STARTERS)
    assert set(scaffold.STARTER_DATA) == set(catalog.STARTERS)
    for starter in catalog.STARTERS:  # a bare copier copy starts on the scaffold's stand-in
        stand_in = scaffold.PLACEHOLDER_DATASET[starter]
        assert derived("dataset", starter=starter) == stand_in, starter
        assert copier_accepts("dataset", stand_in, starter=starter), starter


@pytest.mark.parametrize("dataset", DATASETS)
def test_copier_and_the_scaffold_fit_the_same_data_to_each_starter(
    tmp_path: Path, dataset: str
) -> None:
    image = dataset in scaffold.IMAGE_DATASETS
    assert derived("images", dataset=dataset) == str(image)
    (tmp_path / "projects").mkdir()
    for starter in catalog.STARTERS:
        fits = dataset in scaffold.STARTER_DATA[starter][1]
        assert copier_accepts("dataset", dataset, starter=starter) is fits, starter
        if dataset in scaffold.DATASET_WORDS:  # the scaffold takes it from a word of the slug
            assert _scaffold_accepts(tmp_path, dataset, starter) is fits, starter


def _scaffold_accepts(root: Path, dataset: str, starter: str) -> bool:
    slug = scaffold.DATASET_WORDS[dataset][0]
    try:
        plan = scaffold.plan_project(slug, root, kind=starter)
    except HundredError:
        return False
    assert plan.dataset == dataset
    return True


@pytest.mark.parametrize("dataset", DATASETS)
def test_every_dataset_choice_has_a_branch_in_data_py(dataset: str) -> None:
    source = (TEMPLATE / "skeleton" / "data.py.jinja").read_text(encoding="utf-8")
    answers: dict[str, Any] = {"dataset": dataset, "kind": "tabular"}
    answers |= {"task": derived("task", **answers), "images": derived("images", **answers)}
    answers["images"] = answers["images"] == "True"
    code = render(source, **answers)
    compile(code, "data.py", "exec")
    if f"dataset == '{dataset}'" in source:
        return  # a branch of its own (a download)
    # The others share the scikit-learn branch: the set must be one scikit-learn bundles.
    loader = re.search(r"from sklearn\.datasets import (load_\w+)", code)
    assert loader is not None, f"data.py has no branch for {dataset}"
    import sklearn.datasets

    assert loader[1] == f"load_{dataset.replace('-', '_')}"
    assert hasattr(sklearn.datasets, loader[1]), f"scikit-learn has no {loader[1]}"


def _catalog_accepts_number(number: int) -> bool:
    try:
        catalog.parse_name(f"{number:03d}-cnn-cifar")
    except HundredError:
        return False
    return True


@pytest.mark.parametrize("number", [-1, 0, 1, 42, 999, 1000])
def test_copier_and_the_catalog_take_the_same_numbers(number: int) -> None:
    assert copier_accepts("number", number) is _catalog_accepts_number(number)
    assert _catalog_accepts_number(number) is (1 <= number <= 999)


def _catalog_accepts_slug(slug: str) -> bool:
    try:
        catalog.check_slug(slug)
    except HundredError:
        return False
    return True


@pytest.mark.parametrize("slug", [
    "cnn-cifar", "x", "knn-2", "0-1", "a" * 40,  # good
    "a" * 41, "", "CNN", "cnn_cifar", "cnn cifar", "-cnn", "cnn-", "cnn--cifar", "ünet",
    "cnn/cifar", "..", "cnn-cifar\n", "\ncnn-cifar",  # bad
])
def test_copier_and_the_catalog_take_the_same_slugs(slug: str) -> None:
    assert copier_accepts("slug", slug) is _catalog_accepts_slug(slug)


@pytest.mark.parametrize(("question", "value"), [
    ("date", "2026-11-01"), ("date", "2028-02-29"), ("date", "2026-02-29"),
    ("date", "2026-13-01"), ("date", "2026-1-5"), ("date", "01/11/2026"), ("date", ""),
    ("title", "CNN on CIFAR-10"), ("title", 'A "quoted": title'), ("title", ""),
    ("difficulty", 0), ("difficulty", 1), ("difficulty", 5), ("difficulty", 6),
])
def test_copier_accepts_what_makes_a_valid_writeup(
    tmp_path: Path, question: str, value: Any
) -> None:
    assert copier_accepts(question, value) is writeup_accepts(tmp_path, question, value)
