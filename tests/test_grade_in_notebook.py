"""`await book.grade()` in an exercise's last cell: make grade's report, in the notebook, of the saved file."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from nbclient import NotebookClient

from book import EXERCISES, ROOT, SOLUTIONS
from book.authoring import release
from book.core import manifest, nbfiles
from tests.support import output

EXERCISE = manifest.find("01")
# in_jupyter: run a copy of a notebook (and extra cells after it) in a kernel as Jupyter starts one
InJupyter = Callable[..., tuple[Path, nbfiles.NotebookNode]]


def outputs_of(cell: nbfiles.NotebookNode) -> tuple[str, str]:
    plain = "".join(str(out.get("data", {}).get("text/plain", "")) for out in cell.outputs)
    html = "".join(str(out.get("data", {}).get("text/html", "")) for out in cell.outputs)
    return plain, html


@pytest.fixture
def in_jupyter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> InJupyter:
    """A notebook in a workspace and a kernel that knows its path, as Jupyter starts one."""
    monkeypatch.setenv("BOOK_WORKSPACE", str(tmp_path))
    monkeypatch.delenv("BOOK_GRADING", raising=False)

    def run(source: Path, extra_cells: Sequence[str] = ()) -> tuple[Path, nbfiles.NotebookNode]:
        path = tmp_path / EXERCISE.notebook_name
        shutil.copy(source, path)
        nb = nbfiles.read(path, as_version=4)
        if not any(manifest.GRADE_TAG in cell.metadata.get("tags", []) for cell in nb.cells):
            nb.cells.append(release.grade_cell("01"))
            nbfiles.write(nb, path)
        monkeypatch.setenv("JPY_SESSION_NAME", str(path))
        client = NotebookClient(nb, timeout=120, allow_errors=True, resources={"metadata": {"path": str(tmp_path)}})
        with client.setup_kernel():
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)
            for source_text in extra_cells:
                cell = nbfiles.new_code_cell(source_text)
                nb.cells.append(cell)
                client.execute_cell(cell, len(nb.cells) - 1)
        return path, nb

    return run


def test_every_released_exercise_ends_with_the_grade_cell_outside_its_version() -> None:
    for exercise in manifest.ordered():
        nb = nbfiles.read(EXERCISES / exercise.notebook_name, as_version=4)
        last = nb.cells[-1]
        assert last.source == release.grade_source(exercise.number) and manifest.GRADE_TAG in last.metadata.tags
        assert f"make watch EX={exercise.number}" in last.source
        assert all(
            manifest.GRADE_TAG not in cell.get("metadata", {}).get("tags", []) for cell in manifest.given_cells(nb)
        )


def test_the_grade_cell_shows_make_grades_report_with_the_hints_folded(in_jupyter: InJupyter) -> None:
    path, nb = in_jupyter(EXERCISES / EXERCISE.notebook_name)
    plain, html = outputs_of(nb.cells[-1])
    from_make = subprocess.run(
        [sys.executable, "-m", "book", "grade", str(path)], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert from_make.returncode == 1, output(from_make)  # the untouched starter loses points
    score = next(line for line in from_make.stdout.splitlines() if line.startswith("score "))
    assert score.startswith("score 0/") and score in plain, (plain, from_make.stdout)
    assert "<details" in html and "<summary>hint</summary>" in html and score in html


def test_a_solved_exercise_scores_full_marks_from_its_cell(in_jupyter: InJupyter) -> None:
    _, nb = in_jupyter(SOLUTIONS / EXERCISE.notebook_name)
    plain, _ = outputs_of(nb.cells[-1])
    assert f"score {EXERCISE.points}/{EXERCISE.points}" in plain, plain


def test_code_the_kernel_ran_but_the_file_does_not_hold_asks_to_save_first(in_jupyter: InJupyter) -> None:
    _, nb = in_jupyter(SOLUTIONS / EXERCISE.notebook_name, extra_cells=["x = 41 + 1", release.grade_source("01")])
    plain, _ = outputs_of(nb.cells[-1])
    assert plain.startswith("save first"), plain


def test_the_grader_never_grades_again_from_the_cell(monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    import book

    monkeypatch.setenv("BOOK_GRADING", "1")
    report = asyncio.run(book.grade("nowhere.ipynb"))
    assert report.result is None and "skips it" in repr(report)
