"""Running a notebook's code in-process: what works, and the one-line reason when it does not."""

import json
from pathlib import Path

import pytest

from book.core import nbfiles, notebooks

pytestmark = pytest.mark.anyio


def write(tmp_path: Path, *sources: str, tags: dict[str, list[str]] | None = None) -> Path:
    cells = [nbfiles.new_markdown_cell("# A notebook")]
    for source in sources:
        cell = nbfiles.new_code_cell(source)
        if tags and source in tags:
            cell.metadata["tags"] = tags[source]
        cells.append(cell)
    path = tmp_path / "nb.ipynb"
    nbfiles.write(nbfiles.new_notebook(cells=cells), path)
    return path


async def test_runs_cells_in_order_with_top_level_await(tmp_path: Path) -> None:
    path = write(tmp_path, "import asyncio\nvalues = [1]", "await asyncio.sleep(0)\nvalues.append(2)")
    module = await notebooks.run(path)
    assert module.values == [1, 2]


async def test_check_cells_are_skipped(tmp_path: Path) -> None:
    path = write(
        tmp_path, "x = 1", "assert False, 'a visible check'", tags={"assert False, 'a visible check'": ["check"]}
    )
    assert (await notebooks.run(path)).x == 1


async def test_a_dataclass_and_a_pydantic_model_resolve_their_types(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "from __future__ import annotations\nfrom dataclasses import dataclass\n"
        "from pydantic import BaseModel\n@dataclass\nclass A:\n    x: int\n"
        "class B(BaseModel):\n    a: list[int]\nb = B(a=[1])",
    )
    assert (await notebooks.run(path)).b.a == [1]


@pytest.mark.parametrize(
    "source, reason",
    [
        ("def f(:\n    pass", "cell 2 (`def f(:`): SyntaxError on line 1"),
        ("x = 1\n%timeit x", "cell 2 (`x = 1`), line 2: `%timeit` is IPython syntax"),
        ("!pip install fastapi", "`!pip` is IPython syntax"),
        ("raise ValueError('boom')", "cell 2 (`raise ValueError('boom')`) raised ValueError: boom"),
        ("import sys\nsys.exit(0)", "called SystemExit; remove it"),
    ],
)
async def test_a_failing_cell_is_named_in_one_line(tmp_path: Path, source: str, reason: str) -> None:
    with pytest.raises(notebooks.NotebookError) as caught:
        await notebooks.run(write(tmp_path, source))
    assert reason in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "content, reason",
    [
        (None, "no such file"),
        ("{not json", "not a valid notebook"),
        (
            json.dumps({"nbformat": 3, "nbformat_minor": 0, "worksheets": [], "metadata": {}}),
            "notebook format 3 is not supported",
        ),
        (json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}}), "not a valid notebook"),
    ],
)
def test_unreadable_files_are_refused_in_one_line(tmp_path: Path, content: str | None, reason: str) -> None:
    path = tmp_path / "bad.ipynb"
    if content is not None:
        path.write_text(content)
    with pytest.raises(notebooks.NotebookError, match=reason) as caught:
        notebooks.read(path)
    assert "\n" not in str(caught.value)


def test_a_file_that_is_not_a_notebook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "answer.py"
    path.write_text("x = 1")
    with pytest.raises(notebooks.NotebookError, match="not a notebook"):
        notebooks.read(path)


@pytest.mark.parametrize(
    "source",
    [
        "while True:\n    pass",
        "import asyncio\nawait asyncio.sleep(3600)",
        "try:\n    while True:\n        pass\nexcept Exception:\n    pass",
    ],
    ids=["busy loop", "endless wait", "loop that catches Exception"],
)
async def test_a_cell_past_its_time_limit_is_stopped(tmp_path: Path, source: str) -> None:
    with pytest.raises(notebooks.NotebookError, match=r"cell 2 .* ran past the 0.5 s limit"):
        await notebooks.run(write(tmp_path, source), cell_timeout=0.5)


async def test_what_cells_print_is_discarded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    await notebooks.run(write(tmp_path, "print('x' * 10_000_000)"))
    assert capsys.readouterr().out == ""


def test_an_enormous_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notebooks, "MAX_NOTEBOOK_BYTES", 100)
    with pytest.raises(notebooks.NotebookError, match="too large"):
        notebooks.read(write(tmp_path, "x = '" + "y" * 200 + "'"))


async def test_a_patch_runs_a_variant_of_the_code(tmp_path: Path) -> None:
    path = write(tmp_path, "limit = 10", "doubled = limit * 2")
    assert (await notebooks.run(path, patch=("limit = 10", "limit = 3"))).doubled == 6


@pytest.mark.parametrize("old", ["limit = 99", "limit"])
async def test_a_patch_that_does_not_match_exactly_once_says_the_code_changed(tmp_path: Path, old: str) -> None:
    with pytest.raises(notebooks.NotebookError, match="the given code was changed"):
        await notebooks.run(write(tmp_path, "limit = 10", "doubled = limit * 2"), patch=(old, "x"))


async def test_a_traceback_can_quote_the_cells_line(tmp_path: Path) -> None:
    import traceback

    module = await notebooks.run(write(tmp_path, "def boom():\n    raise ValueError('from a cell')"))
    try:
        module.boom()
    except ValueError as exc:
        assert "raise ValueError('from a cell')" in "".join(traceback.format_exception(exc))


def test_load_reads_a_plain_notebook_without_nbformat_and_sends_anything_else_to_read(tmp_path: Path) -> None:
    path = write(tmp_path, "x = 1", "y = 2")
    raw = json.loads(path.read_text())
    raw["cells"][1]["source"] = ["x = ", "1"]  # as saved by Jupyter: a list of lines
    path.write_text(json.dumps(raw))
    assert [cell.source for cell in notebooks.code_cells(notebooks.load(path))] == ["x = 1", "y = 2"]
    assert notebooks.code_cells(notebooks.load(path)) == notebooks.code_cells(notebooks.read(path))
    for content, reason in [
        ("{not json", "not a valid notebook"),
        (json.dumps({"nbformat": 3, "worksheets": []}), "notebook format 3 is not supported"),
        (json.dumps({"nbformat": 4, "cells": [{"cell_type": "code"}]}), "not a valid notebook"),
        (json.dumps({"nbformat": 4, "cells": [{"cell_type": "code", "source": [1]}]}), "not a valid notebook"),
    ]:
        path.write_text(content)
        with pytest.raises(notebooks.NotebookError, match=reason):
            notebooks.load(path)
