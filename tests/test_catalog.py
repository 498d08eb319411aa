"""The catalog: front matter validated into typed models, with errors that name file and field."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from hundred import catalog
from hundred.cli import main
from hundred.errors import HundredError
from tests.conftest import build_file_tree

GOOD = """---
title: "CNN on CIFAR-10"
number: 42
slug: cnn-cifar
date: 2026-11-01
kind: vision
tags: [cnn, images]
difficulty: 3
stage: CNNs
summary: A small CNN.
---

## Problem
"""


def writeup(**changes: str | None) -> str:
    lines = GOOD.splitlines()
    out = []
    for line in lines:
        key = line.split(":", 1)[0]
        if key in changes:
            if changes[key] is not None:
                out.append(f"{key}: {changes[key]}")
        else:
            out.append(line)
    return "\n".join(out) + "\n"


def test_a_good_writeup_is_parsed_into_a_typed_model(tmp_path: Path) -> None:
    build_file_tree(tmp_path, {"projects/042-cnn-cifar/writeup.md": GOOD})
    [project] = catalog.load(tmp_path)
    assert project.name == catalog.ProjectName(42, "cnn-cifar")
    assert project.writeup.date == dt.date(2026, 11, 1)
    assert project.writeup.tags == ["cnn", "images"]
    assert project.writeup.difficulty == 3
    assert project.writeup.stage == "CNNs"
    assert project.writeup.draft is False


def test_discovery_ignores_what_is_not_a_project(tmp_path: Path) -> None:
    build_file_tree(tmp_path, {
        "projects/042-cnn-cifar/writeup.md": GOOD,
        "projects/README.md": "hi",
        "projects/.new-abc/writeup.md": GOOD,
        "projects/42-short/writeup.md": GOOD,
        "projects/000-zero/writeup.md": GOOD,
        "projects/043-Upper/writeup.md": GOOD,
    })
    assert [p.name.folder for p in catalog.discover(tmp_path)] == ["042-cnn-cifar"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (writeup(difficulty="7"), "field 'difficulty' is invalid"),
        (writeup(difficulty=None), "field 'difficulty' is missing; add it"),
        (writeup(kind="audio"), "field 'kind' is 'audio'; use one of tabular, vision"),
        (writeup(date="yesterday"), "field 'date' is invalid"),
        (writeup(slug="Bad_Slug"), "field 'slug' is invalid"),
        (writeup(number="43"), "number/slug say 043-cnn-cifar but the folder is 042-cnn-cifar"),
        (GOOD.replace("summary:", "sumary:"), "field 'sumary' is unknown"),
        (GOOD.replace("tags: [cnn, images]", "tags: [cnn, images"), "line 7"),
        ("# no front matter\n", "has no YAML front matter"),
        ("---\n- a\n- b\n---\n", "must be a mapping"),
    ],
)
def test_malformed_writeups_name_the_file_and_the_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    build_file_tree(tmp_path, {"projects/042-cnn-cifar/writeup.md": text})
    monkeypatch.chdir(tmp_path)
    with pytest.raises(HundredError) as raised:
        catalog.load(tmp_path)
    assert str(raised.value).startswith("projects/042-cnn-cifar/writeup.md")
    assert message in str(raised.value)


def test_missing_writeup_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "projects" / "001-empty").mkdir(parents=True)
    with pytest.raises(HundredError, match=r"writeup\.md is missing"):
        catalog.load(tmp_path)


def test_hundred_list_prints_a_table_and_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    build_file_tree(tmp_path, {
        "projects/042-cnn-cifar/writeup.md": GOOD,
        "projects/007-knn/writeup.md": writeup(number="7", slug="knn", kind="tabular",
                                               title="KNN", difficulty="1"),
    })
    monkeypatch.chdir(tmp_path / "projects")
    assert main(["list"]) == 0
    table = capsys.readouterr().out
    assert table.index("007") < table.index("042")
    assert "CNN on CIFAR-10" in table and "★★★" in table and "2026-11-01" in table
    assert main(["list", "--json"]) == 0
    import json

    rows = json.loads(capsys.readouterr().out)
    assert [(r["number"], r["kind"], r["difficulty"]) for r in rows] == [
        (7, "tabular", 1), (42, "vision", 3),
    ]


def test_hundred_list_with_a_bad_writeup_is_one_line_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    build_file_tree(tmp_path, {"projects/042-cnn-cifar/writeup.md": writeup(kind="audio")})
    monkeypatch.chdir(tmp_path)
    assert main(["list"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "writeup.md" in err and "kind" in err


@pytest.mark.parametrize(
    ("wanted", "folders"),
    [([], ["007-knn", "042-cnn-cifar"]), (["42"], ["042-cnn-cifar"]),
     (["042-cnn-cifar", "7"], ["007-knn", "042-cnn-cifar"])],
)
def test_select_by_number_or_folder(tmp_path: Path, wanted: list[str], folders: list[str]) -> None:
    build_file_tree(tmp_path, {"projects/042-cnn-cifar/writeup.md": GOOD,
                               "projects/007-knn/writeup.md": GOOD})
    chosen = catalog.select(catalog.discover(tmp_path), wanted)
    assert [p.name.folder for p in chosen] == folders


def test_select_unknown_project_is_bad_input(tmp_path: Path) -> None:
    build_file_tree(tmp_path, {"projects/042-cnn-cifar/writeup.md": GOOD})
    with pytest.raises(HundredError, match="no project '99'"):
        catalog.select(catalog.discover(tmp_path), ["99"])
