"""The catalog: front matter validated into typed models, with errors that name file and field."""

from __future__ import annotations

import datetime as dt
import json
import re
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
        (writeup(kind="Audio"), "field 'kind' is 'Audio'; a kind is a lowercase word that "
         "starts with a letter (a-z, 0-9, single dashes, at most 30 characters)"),
        (writeup(kind="3"), "field 'kind' is 3; a kind is a lowercase word"),
        (writeup(kind="time_series"), "field 'kind' is 'time_series'; a kind is"),
        (writeup(date="yesterday"), "field 'date' is invalid"),
        (writeup(slug="Bad_Slug"), "field 'slug' is invalid"),
        (writeup(number="43"), "number/slug say 043-cnn-cifar but the folder is 042-cnn-cifar"),
        (GOOD.replace("summary:", "sumary:"), "field 'sumary' is unknown"),
        # The flow sequence opened on line 7 is found unclosed on line 8, in the file's count.
        (GOOD.replace("tags: [cnn, images]", "tags: [cnn, images"),
         "writeup.md:8: front matter is not valid YAML ("),
        (writeup(date="2026-13-01"), "holds a value YAML cannot read (month must be in 1..12)"),
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
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize("kind", ["nlp", "time-series", "rl", "generative", "audio", "gnn2"])
def test_any_lowercase_word_is_a_kind(tmp_path: Path, kind: str) -> None:
    build_file_tree(tmp_path, {"projects/042-cnn-cifar/writeup.md": writeup(kind=kind)})
    [project] = catalog.load(tmp_path)
    assert project.writeup.kind == kind


def test_check_kind_says_what_a_kind_may_be() -> None:
    assert catalog.check_kind("time-series") == "time-series"
    with pytest.raises(HundredError, match=r"kind 'Time Series' is not valid; a kind is a "
                       r"lowercase word .* e\.g\. nlp, time-series or rl") as raised:
        catalog.check_kind("Time Series")
    assert raised.value.exit_code == 2


def test_missing_writeup_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "projects" / "001-empty").mkdir(parents=True)
    with pytest.raises(HundredError, match=r"writeup\.md is missing"):
        catalog.load(tmp_path)


@pytest.mark.parametrize("name", ["042-cnn\nrm", "0042-cnn\nx", "cnn\nx", "042\n"])
def test_a_name_with_a_line_break_is_refused_in_one_line(name: str) -> None:
    with pytest.raises(HundredError) as raised:
        catalog.parse_name(name)
    assert "\n" not in str(raised.value)


def _mixed_monorepo(root: Path) -> Path:
    """001 and 004 good, 002 with front matter that is not YAML, 003 with no writeup."""
    build_file_tree(root, {
        "projects/001-knn/writeup.md": writeup(number="1", slug="knn", title="KNN"),
        "projects/002-broken/writeup.md": writeup(number="2", slug="broken",
                                                  kind="[vision"),
        "projects/003-empty/notebook.ipynb": "{}",
        "projects/004-cnn/writeup.md": writeup(number="4", slug="cnn", title="CNN"),
    })
    return root


def test_scan_sets_each_broken_writeup_aside_and_keeps_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _mixed_monorepo(tmp_path)
    monkeypatch.chdir(root)
    found = catalog.scan(root)
    assert [p.name.folder for p in found.projects] == ["001-knn", "004-cnn"]
    assert [p.writeup.title for p in found.projects] == ["KNN", "CNN"]
    assert [(i.name.folder, i.path) for i in found.invalid] == [
        ("002-broken", root / "projects" / "002-broken"),
        ("003-empty", root / "projects" / "003-empty"),
    ]
    broken, empty = (i.message for i in found.invalid)
    assert broken.startswith("projects/002-broken/writeup.md:")
    assert "front matter is not valid YAML" in broken
    assert empty == "projects/003-empty/writeup.md is missing; every project needs a writeup " \
        "with front matter"
    assert all("\n" not in i.message for i in found.invalid)
    with pytest.raises(HundredError, match="002-broken"):
        catalog.load(root)  # load stays strict: the first broken writeup raises


@pytest.mark.parametrize(
    ("change", "line", "problem"),
    [
        (("slug: cnn-cifar", "slug: cnn: cifar"), 4, "mapping values are not allowed"),
        # An unclosed quote is found out where the front matter ends: the closing '---'.
        (('title: "CNN on CIFAR-10"', 'title: "CNN on CIFAR-10'), 11,
         "found unexpected end of stream while scanning a quoted scalar"),
        (("stage: CNNs", "stage: CNNs\x07"), 9, "character #x0007 is not allowed"),
        (("stage: CNNs", "stage: {CNNs"), 10, "expected ',' or '}'"),
    ],
)
def test_a_yaml_error_is_one_line_with_the_line_of_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: tuple[str, str], line: int,
    problem: str,
) -> None:
    text = GOOD.replace(*change)
    assert text != GOOD
    build_file_tree(tmp_path, {"projects/042-cnn-cifar/writeup.md": text})
    monkeypatch.chdir(tmp_path)
    with pytest.raises(HundredError) as raised:
        catalog.read_writeup(tmp_path / "projects/042-cnn-cifar/writeup.md")
    message = str(raised.value)
    assert "\n" not in message
    assert re.findall(r":(\d+):", message) == [str(line)]
    assert message.startswith(
        f"projects/042-cnn-cifar/writeup.md:{line}: front matter is not valid YAML (")
    assert problem in message  # PyYAML's words, which differ a little with libyaml
    assert message.endswith("; fix it")


def test_a_writeup_that_is_not_utf8_names_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = GOOD.replace("A small CNN.", "Caf\udce9").encode("utf-8", "surrogateescape")
    build_file_tree(tmp_path, {"projects/042-cnn-cifar/writeup.md": text})
    monkeypatch.chdir(tmp_path)
    [invalid] = catalog.scan(tmp_path).invalid
    assert invalid.message.startswith("projects/042-cnn-cifar/writeup.md:10: not UTF-8 text")


def test_hundred_list_shows_the_good_projects_and_one_error_line_per_broken_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _mixed_monorepo(tmp_path / "mono")
    assert main(["-C", str(root), "list"]) == 2
    out, err = capsys.readouterr()
    assert "2 projects" in out and "KNN" in out and "CNN" in out
    assert "broken" not in out and "empty" not in out
    lines = err.splitlines()
    assert len(lines) == 2 and all(line.startswith("error: ") for line in lines)
    assert "002-broken/writeup.md:" in lines[0] and "not valid YAML" in lines[0]
    assert "003-empty/writeup.md is missing" in lines[1]
    assert main(["-C", str(root), "list", "--json"]) == 2
    out, err = capsys.readouterr()
    assert [row["folder"] for row in json.loads(out)] == ["001-knn", "004-cnn"]
    assert len(err.splitlines()) == 2


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
    build_file_tree(tmp_path, {"projects/042-cnn-cifar/writeup.md": writeup(kind="Audio")})
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
