"""Three-way merge of notebooks, cell by cell: what `hundred update` does to a notebook.

Cells are matched by their ids (nbformat 4.5), never by position or similarity, so a cell the
learner edited is only ever compared with the same cell of the template. For each cell:

- unchanged on one side: the other side's version (an edit, a deletion or an addition);
- changed the same way on both sides: that version;
- changed differently on both sides, or deleted on one and changed on the other: a
  ``CellConflict``; the project's version stays (a deleted cell stays deleted).

The cells keep the project's order; a cell the template added goes after the cell that
precedes it in the template (after the project's own additions there). The notebook's metadata
merges key by key with the same rule. The result is always a valid notebook: no conflict marker
ever enters its JSON.

nbdime does this too, but it depends on jupyter-server, whose jupyter-events installs
rfc3987-syntax into jsonschema's format checkers: `import nbformat` then took 1.5 s longer in
every process of hundred (measured), the run's workers included.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Cell = dict[str, Any]
# What a cell is, for comparing versions: outputs and counts are results, not content.
_RESULTS = ("outputs", "execution_count")


class CannotMerge(ValueError):
    """A notebook without cell ids, or with an id twice: its cells cannot be matched."""


@dataclass(frozen=True)
class CellConflict:
    """A cell both sides changed differently, or one deleted while the other changed it."""

    cell_id: str
    position: int | None  # 1-based place in the merged notebook; None: it stays deleted
    what: str  # "changed here and in the template", ...
    template_source: str | None  # the template's version of the cell, to apply by hand


@dataclass(frozen=True)
class MetadataConflict:
    """A key of the notebook's metadata both sides changed differently."""

    key: str


@dataclass(frozen=True)
class Merged:
    """The merged notebook (a plain dict, nbformat 4) and what could not be merged."""

    notebook: dict[str, Any]
    conflicts: tuple[CellConflict | MetadataConflict, ...]


def merge_notebooks(base: Mapping[str, Any], mine: Mapping[str, Any],
                    template: Mapping[str, Any]) -> Merged:
    """Merge the template's changes (``base`` → ``template``) into ``mine``."""
    base_cells, my_cells, template_cells = (_by_id(n) for n in (base, mine, template))
    outcomes = {cell_id: _merge_cell(base_cells.get(cell_id), my_cells.get(cell_id),
                                     template_cells.get(cell_id))
                for cell_id in [*my_cells, *(i for i in template_cells if i not in my_cells)]}
    merged = {cell_id: o.cell for cell_id, o in outcomes.items() if o.cell is not None}
    order = _order(list(my_cells), list(template_cells), set(base_cells), merged)
    positions = {cell_id: index for index, cell_id in enumerate(order, start=1)}
    conflicts: list[CellConflict | MetadataConflict] = [
        CellConflict(cell_id, positions.get(cell_id), outcome.conflict,
                     _text(template_cells[cell_id]["source"])
                     if cell_id in template_cells else None)
        for cell_id, outcome in outcomes.items() if outcome.conflict]
    metadata, clashes = _merge_mapping(base.get("metadata", {}), mine.get("metadata", {}),
                                       template.get("metadata", {}))
    conflicts += [MetadataConflict(key) for key in clashes]
    notebook = {**dict(mine), "metadata": metadata, "cells": [merged[i] for i in order]}
    return Merged(notebook, tuple(conflicts))


@dataclass(frozen=True)
class _Outcome:
    cell: Cell | None  # None: the cell is not in the merged notebook
    conflict: str | None = None


def _merge_cell(base: Cell | None, mine: Cell | None, template: Cell | None) -> _Outcome:
    if base is None:  # added: on one side, or the same id on both
        if mine is None or template is None or _same(mine, template):
            return _Outcome(mine if mine is not None else template)
        return _Outcome(mine, "added here and in the template, differently")
    if mine is None:
        if template is None or _same(template, base):
            return _Outcome(None)
        return _Outcome(None, "deleted here and changed in the template")
    if template is None:
        if _same(mine, base):
            return _Outcome(None)
        return _Outcome(mine, "changed here and deleted in the template")
    if _same(mine, base) or _same(mine, template):
        return _Outcome(template if not _same(template, base) else mine)
    if _same(template, base):
        return _Outcome(mine)
    return _Outcome(mine, "changed here and in the template")


def _order(mine: list[str], template: list[str], base: set[str],
           merged: Mapping[str, Cell]) -> list[str]:
    """The project's order, with the template's new cells placed after their predecessor."""
    order = [cell_id for cell_id in mine if cell_id in merged]
    for index, cell_id in enumerate(template):
        if cell_id in order or cell_id not in merged:
            continue
        before = next((template[k] for k in range(index - 1, -1, -1) if template[k] in order),
                      None)
        at = 0 if before is None else order.index(before) + 1
        while at < len(order) and order[at] not in base and order[at] not in template:
            at += 1  # the project's own new cells there come first
        order.insert(at, cell_id)
    return order


def _merge_mapping(base: Mapping[str, Any], mine: Mapping[str, Any],
                   template: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Key by key: the side that changed a key wins; both changed it differently: mine, and
    the key is reported."""
    merged: dict[str, Any] = {}
    clashes: list[str] = []
    for key in [*mine, *(k for k in template if k not in mine)]:
        ours, theirs, was = mine.get(key, _ABSENT), template.get(key, _ABSENT), base.get(
            key, _ABSENT)
        value = theirs if ours == was else ours
        if ours != was and theirs != was and ours != theirs:
            clashes.append(key)
        if value is not _ABSENT:
            merged[key] = value
    return merged, clashes


_ABSENT = object()


def _by_id(notebook: Mapping[str, Any]) -> dict[str, Cell]:
    cells: Sequence[Cell] = notebook.get("cells", [])
    found: dict[str, Cell] = {}
    for cell in cells:
        cell_id = cell.get("id")
        if not isinstance(cell_id, str) or cell_id in found:
            raise CannotMerge("its cells have no ids (nbformat 4.5) or an id twice")
        found[cell_id] = cell
    return found


def _same(one: Cell, other: Cell) -> bool:
    def content(cell: Cell) -> dict[str, Any]:
        return {key: _text(value) if key == "source" else value
                for key, value in cell.items() if key not in _RESULTS}

    return content(one) == content(other)


def _text(source: Any) -> str:
    return "".join(source) if isinstance(source, list) else str(source)
