"""Typed doors to nbformat: read, write and build notebooks (nbformat's own functions carry no annotations).

Each function here calls nbformat's function of the same name, with the same arguments; the
module only says what goes in and comes out, so typed code can use them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode, v4

__all__ = [
    "NotebookNode",
    "from_dict",
    "new_code_cell",
    "new_markdown_cell",
    "new_notebook",
    "new_output",
    "read",
    "reads",
    "write",
    "writes",
]

# nbformat's functions, as what they are (their definitions have no annotations).
_read: Callable[..., NotebookNode] = nbformat.read
_reads: Callable[..., NotebookNode] = nbformat.reads
_write: Callable[..., None] = nbformat.write
_writes: Callable[..., str] = nbformat.writes
_from_dict: Callable[[Mapping[str, Any]], NotebookNode] = nbformat.from_dict
_new_code_cell: Callable[..., NotebookNode] = v4.new_code_cell
_new_markdown_cell: Callable[..., NotebookNode] = v4.new_markdown_cell
_new_notebook: Callable[..., NotebookNode] = v4.new_notebook
_new_output: Callable[..., NotebookNode] = v4.new_output


def read(path: str | Path, as_version: object = 4) -> NotebookNode:
    """The notebook at `path`, converted to `as_version` (nbformat.NO_CONVERT: as it is)."""
    return _read(path, as_version=as_version)


def reads(text: str, as_version: object = 4) -> NotebookNode:
    """The notebook in `text` (its JSON)."""
    return _reads(text, as_version=as_version)


def write(notebook: NotebookNode, path: str | Path) -> None:
    """Write `notebook` to `path` as nbformat writes it."""
    _write(notebook, path)


def writes(notebook: NotebookNode) -> str:
    """`notebook` as the JSON text nbformat writes."""
    return _writes(notebook)


def from_dict(data: Mapping[str, Any]) -> NotebookNode:
    """`data` as a NotebookNode, recursively (attribute access to its keys)."""
    return _from_dict(data)


def new_code_cell(source: str = "", **fields: Any) -> NotebookNode:
    """A new code cell (nbformat 4)."""
    return _new_code_cell(source, **fields)


def new_markdown_cell(source: str = "", **fields: Any) -> NotebookNode:
    """A new Markdown cell (nbformat 4)."""
    return _new_markdown_cell(source, **fields)


def new_notebook(**fields: Any) -> NotebookNode:
    """A new notebook (nbformat 4)."""
    return _new_notebook(**fields)


def new_output(output_type: str, **fields: Any) -> NotebookNode:
    """A new cell output (nbformat 4)."""
    return _new_output(output_type, **fields)
