"""The cell-wise three-way merge `hundred update` applies to notebooks."""

from __future__ import annotations

from typing import Any

import nbformat
import pytest

from hundred.notebook_merge import CannotMerge, CellConflict, MetadataConflict, merge_notebooks


def notebook(*cells: tuple[str, str], **metadata: Any) -> dict[str, Any]:
    made = nbformat.v4.new_notebook(metadata=metadata)
    for cell_id, source in cells:
        cell = (nbformat.v4.new_markdown_cell(source[2:]) if source.startswith("# ")
                else nbformat.v4.new_code_cell(source))
        cell["id"] = cell_id
        made.cells.append(cell)
    return dict(made)


def sources(merged: dict[str, Any]) -> list[tuple[str, str]]:
    return [(cell["id"], cell["source"]) for cell in merged["cells"]]


BASE = notebook(("title", "# Title"), ("load", "x = load()"), ("train", "fit(x)"),
                ("plot", "plot(x)"))


def test_each_side_keeps_its_own_changes_and_takes_the_others() -> None:
    mine = notebook(("title", "# My title"), ("load", "x = load()"), ("train", "fit(x, epochs=9)"),
                    ("plot", "plot(x)"))
    template = notebook(("title", "# Title"), ("load", "x = load(cache=True)"),
                        ("train", "fit(x)"), ("plot", "plot(x, grid=True)"))
    merged = merge_notebooks(BASE, mine, template)
    assert merged.conflicts == ()
    assert sources(merged.notebook) == [
        ("title", "My title"), ("load", "x = load(cache=True)"), ("train", "fit(x, epochs=9)"),
        ("plot", "plot(x, grid=True)")]
    nbformat.validate(nbformat.from_dict(merged.notebook))


def test_a_cell_changed_on_both_sides_keeps_the_projects_and_is_reported() -> None:
    mine = notebook(("title", "# Title"), ("load", "x = load()"), ("train", "fit(x, lr=0.1)"),
                    ("plot", "plot(x)"))
    template = notebook(("title", "# Title"), ("load", "x = load()"),
                        ("train", "fit(x, seed=0)"), ("plot", "plot(x)"))
    merged = merge_notebooks(BASE, mine, template)
    assert sources(merged.notebook)[2] == ("train", "fit(x, lr=0.1)")
    assert merged.conflicts == (CellConflict("train", 3, "changed here and in the template",
                                             "fit(x, seed=0)"),)


def test_deletions_follow_the_side_that_made_them_unless_the_other_changed_the_cell() -> None:
    mine = notebook(("title", "# Title"), ("train", "fit(x)"), ("plot", "plot(x, mine=1)"))
    template = notebook(("title", "# Title"), ("load", "x = load(new=1)"), ("train", "fit(x)"))
    merged = merge_notebooks(BASE, mine, template)
    # load: deleted here, changed in the template -> stays deleted, reported;
    # plot: changed here, deleted in the template -> kept, reported.
    assert sources(merged.notebook) == [("title", "Title"), ("train", "fit(x)"),
                                        ("plot", "plot(x, mine=1)")]
    assert {(c.cell_id, c.position) for c in merged.conflicts
            if isinstance(c, CellConflict)} == {("load", None), ("plot", 3)}
    untouched = notebook(("title", "# Title"), ("load", "x = load()"), ("train", "fit(x)"))
    assert sources(merge_notebooks(BASE, BASE, untouched).notebook) == sources(untouched)


def test_new_cells_of_the_template_go_after_their_predecessor_and_the_projects_own() -> None:
    mine = notebook(("title", "# Title"), ("load", "x = load()"), ("mine", "explore(x)"),
                    ("train", "fit(x)"), ("plot", "plot(x)"))
    template = notebook(("intro", "# Read me"), ("title", "# Title"), ("load", "x = load()"),
                        ("check", "check(x)"), ("train", "fit(x)"), ("plot", "plot(x)"))
    merged = merge_notebooks(BASE, mine, template)
    assert [cell_id for cell_id, _ in sources(merged.notebook)] == [
        "intro", "title", "load", "mine", "check", "train", "plot"]
    assert merged.conflicts == ()


def test_notebook_metadata_merges_key_by_key() -> None:
    python, mine_spec = ({"name": name, "display_name": name} for name in ("python3", "mine"))
    base = notebook(("a", "1"), kernelspec=python, colab={"x": 1})
    mine = notebook(("a", "1"), kernelspec=mine_spec, colab={"x": 2})
    template = notebook(("a", "1"), kernelspec=python, colab={"x": 3},
                        language_info={"name": "python"})
    merged = merge_notebooks(base, mine, template)
    assert merged.notebook["metadata"] == {"kernelspec": mine_spec, "colab": {"x": 2},
                                           "language_info": {"name": "python"}}
    assert merged.conflicts == (MetadataConflict("colab"),)


def test_cells_without_ids_cannot_be_matched() -> None:
    old = notebook(("a", "1"))
    del old["cells"][0]["id"]
    with pytest.raises(CannotMerge):
        merge_notebooks(old, BASE, BASE)
