"""Helpers for execution tests: tiny real projects and a view of live kernel processes."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import nbformat

WRITEUP = """---
title: {title}
number: {number}
slug: {slug}
date: 2026-11-01
kind: tabular
difficulty: 1
{extra}---

## Problem
"""


def make_project(root: Path, folder: str, cells: list[str], *, kernel: str = "python3",
                 markdown: str = "# A study", extra: str = "",
                 files: dict[str, str] | None = None) -> Path:
    """A project whose notebook has a parameters cell, a markdown cell and ``cells``."""
    number, slug = folder.split("-", 1)
    path = root / "projects" / folder
    path.mkdir(parents=True)
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": kernel, "display_name": kernel,
                                       "language": "python"}
    parameters = nbformat.v4.new_code_cell('profile = "full"\nseed = 0')
    parameters.metadata["tags"] = ["parameters"]
    notebook.cells = [nbformat.v4.new_markdown_cell(markdown), parameters,
                      *(nbformat.v4.new_code_cell(source) for source in cells)]
    nbformat.write(notebook, path / "notebook.ipynb")
    (path / "writeup.md").write_text(
        WRITEUP.format(title=slug, number=int(number), slug=slug, extra=extra), encoding="utf-8")
    for name, text in (files or {}).items():
        (path / name).write_text(text, encoding="utf-8")
    return path


RECORD = "import hundred\nhundred.record('accuracy', 0.5 if profile == 'smoke' else 0.9)"


TAG = "HUNDRED_TEST_TAG"


def kernel_pids(tag: str | None = None) -> set[int]:
    """PIDs of running kernel processes on this machine: ipykernel, or forked by a zygote.

    With ``tag`` (by default the current test's, which conftest sets): every live process
    started with ``HUNDRED_TEST_TAG=tag`` in its environment (a ``hundred`` process, its
    workers, zygotes and kernels: one test's runs, whatever else runs on the machine).
    """
    tag = tag or os.environ.get(TAG)
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if tag is not None:
                environment = (entry / "environ").read_bytes().split(b"\0")
                if f"{TAG}={tag}".encode() in environment and not _zombie(entry):
                    found.add(int(entry.name))
                continue
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(b"ipykernel" in part or b".zygote" in part for part in cmdline):
            found.add(int(entry.name))
    return found


def _zombie(entry: Path) -> bool:
    return (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")


def record(root: Path, folder: str, profile: str = "smoke") -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (root / ".hundred" / "runs" / folder / f"{profile}.json").read_text())
    return data


def printed_json(outputs: list[Any]) -> list[Any]:
    """Each line printed to stdout in ``outputs`` (an executed cell's, or several), as JSON.

    The stdout text is joined first, as Jupyter shows it: the kernel may send one print() as
    two stream messages (its text, then the newline) when its flush timer fires in between,
    and nbclient keeps them as two outputs.
    """
    text = "".join("".join(output["text"]) for output in outputs
                   if output.get("output_type") == "stream" and output.get("name") == "stdout")
    return [json.loads(line) for line in text.splitlines() if line.strip()]
