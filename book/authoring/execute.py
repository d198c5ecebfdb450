"""Re-execute notebooks in place so their stored outputs come from running them.

Chapters and solutions are stored with outputs that strict nbval compares; after editing one,
a maintainer runs ``python -m book execute PATH`` (or ``make execute NB=PATH``).
"""

from __future__ import annotations

from pathlib import Path

from nbclient import NotebookClient

from book.core import nbfiles

CELL_TIMEOUT = 120


def execute_in_place(path: Path) -> None:
    """Run the notebook at `path` top to bottom in a fresh kernel and save it with its new outputs."""
    nb = nbfiles.read(path, as_version=4)
    # No timestamps in metadata: re-running an unchanged notebook leaves the file unchanged.
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    nb.metadata.pop("widgets", None)
    nbfiles.write(nb, path)
