"""Data for project 011-q-learning-gridworld: a gridworld layout, generated with a fixed seed.

There is no dataset to download: reinforcement learning makes its own data by acting. This
script generates the world the agent acts in, a small grid with walls, one pit and one goal,
and `python data.py` writes it to data/gridworld.txt (gitignored) as text, one row a line:

    S  the start (bottom-left)     .  a free cell
    G  the goal (top-right)        #  a wall
    P  the pit

The walls are random (SEED fixes them). The pit is put on a shortest path from the start to the
goal, at the cell that makes the way round it longest, so the agent has to learn a detour. A
layout is kept only if the goal can still be reached without touching the pit; otherwise the
generator draws again from the same random stream, so the result is the same on every machine.
"""

from __future__ import annotations

import os
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hundred.download import main_guard

DATA = Path(__file__).resolve().parent / "data"
PREPARED = DATA / "gridworld.txt"

ROWS, COLS = 6, 8
SEED = 0
WALL_FRACTION = 0.2
FREE, WALL, PIT, GOAL, START = ".", "#", "P", "G", "S"

Cell = tuple[int, int]


@dataclass
class Layout:
    """The grid as characters, and where the start, goal and pit are."""

    grid: np.ndarray  # shape (rows, cols), dtype "<U1": one of ". # P G S"
    start: Cell
    goal: Cell
    pit: Cell

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.grid.shape[0]), int(self.grid.shape[1])

    def __str__(self) -> str:
        return "\n".join("".join(row) for row in self.grid)


def _neighbours(grid: np.ndarray, cell: Cell) -> list[Cell]:
    rows, cols = grid.shape
    r, c = cell
    steps = ((r - 1, c), (r, c + 1), (r + 1, c), (r, c - 1))
    return [(i, j) for i, j in steps if 0 <= i < rows and 0 <= j < cols and grid[i, j] != WALL]


def shortest_path(grid: np.ndarray, start: Cell, goal: Cell, avoid: str = "") -> list[Cell] | None:
    """A shortest path of free cells from start to goal (breadth-first), or None."""
    parent: dict[Cell, Cell | None] = {start: None}
    queue = deque([start])
    while queue:
        cell = queue.popleft()
        if cell == goal:
            path = [cell]
            while (previous := parent[path[-1]]) is not None:
                path.append(previous)
            return path[::-1]
        for nxt in _neighbours(grid, cell):
            if nxt not in parent and grid[nxt] not in avoid:
                parent[nxt] = cell
                queue.append(nxt)
    return None


def generate(seed: int = SEED, rows: int = ROWS, cols: int = COLS) -> Layout:
    """Draw layouts from one random stream until one has a pit worth avoiding.

    The pit goes on a shortest path from the start to the goal, at the cell that makes the way
    round it longest (ties broken by the same random stream). A layout where no such cell keeps
    the goal reachable, or where the pit would cost no detour at all, is drawn again.
    """
    rng = np.random.default_rng(seed)
    start, goal = (rows - 1, 0), (0, cols - 1)
    while True:
        grid = np.full((rows, cols), FREE, dtype="<U1")
        grid[rng.random((rows, cols)) < WALL_FRACTION] = WALL
        grid[start], grid[goal] = START, GOAL
        path = shortest_path(grid, start, goal)
        if path is None:
            continue
        longest, candidates = 0, []
        for cell in path[2:-2]:  # not next to the start or the goal
            trial = grid.copy()
            trial[cell] = PIT
            around = shortest_path(trial, start, goal, avoid=PIT)
            if around is None:
                continue
            detour = len(around) - len(path)
            if detour > longest:
                longest, candidates = detour, [cell]
            elif detour == longest and detour > 0:
                candidates.append(cell)
        if not candidates:
            continue
        pit = candidates[int(rng.integers(len(candidates)))]
        grid[pit] = PIT
        return Layout(grid, start, goal, pit)


def _parse(text: str) -> Layout:
    grid = np.array([list(line) for line in text.split()], dtype="<U1")

    def find(mark: str) -> Cell:
        (r,), (c,) = np.nonzero(grid == mark)
        return int(r), int(c)

    return Layout(grid, find(START), find(GOAL), find(PIT))


def prepare() -> Path:
    """Generate the layout into data/ unless it is already there; return the file."""
    if PREPARED.exists():
        return PREPARED
    DATA.mkdir(exist_ok=True)
    partial = PREPARED.with_suffix(".partial")
    partial.write_text(str(generate()) + "\n")
    os.replace(partial, PREPARED)  # atomic: never a half-written file under the real name
    return PREPARED


def load() -> Layout:
    """The prepared layout."""
    return _parse(prepare().read_text())


def main() -> None:
    path = prepare()
    layout = load()
    print(f"{path}: {layout.shape[0]}x{layout.shape[1]} grid, "
          f"{int((layout.grid == WALL).sum())} walls, pit at {layout.pit}")
    print(layout)


if __name__ == "__main__":
    main_guard(main)
