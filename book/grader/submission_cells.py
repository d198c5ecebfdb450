"""The code cells of each notebook under check, read once as plain JSON (never run in the judge)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

Cells = tuple[list[dict[str, Any]], list[dict[str, Any]]]

_CELLS: dict[Path, Cells] = {}


def code_cells(path: Path) -> Cells:
    """(the code cells but check cells, every code cell) of a notebook, read here as plain JSON."""
    if path not in _CELLS:
        from book.core import notebooks

        _CELLS[path] = cells_of(notebooks.load(path))
    return _CELLS[path]


def remember(path: Path, nb: dict[str, Any]) -> None:
    """Keep the cells of a notebook that came on stdin, under the name the checks will ask for."""
    _CELLS[path] = cells_of(nb)


def imported_libraries() -> tuple[str, ...]:
    """The top-level packages the notebooks known so far import (for the agent to import once)."""
    from book.grader import intake

    return tuple(intake.imports_of(cell for _, every in _CELLS.values() for cell in every))


def cells_of(nb: dict[str, Any]) -> Cells:
    """(the code cells but check cells, every code cell) of a notebook given as JSON."""
    from book.core import notebooks

    every = [{"index": cell.index, "source": cell.source} for cell in notebooks.code_cells(nb, skip_tags=frozenset())]
    loaded = [{"index": cell.index, "source": cell.source} for cell in notebooks.code_cells(nb)]
    return loaded, every
