"""Outputs that never depend on the time, addresses, the order of sets or the machine.

The stored outputs are scanned for what varies from run to run or machine to machine; and
``python -m book.maintainer.repeat`` (make repeat, and one round in make test) is shown to catch a notebook
whose output depends on the order of a set.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from book import ROOT
from book.core import nbfiles

NOTEBOOKS = sorted([*ROOT.glob("chapters/*.ipynb"), *ROOT.glob("solutions/*.ipynb")])
VARYING = {
    "a memory address": re.compile(r"0x[0-9a-fA-F]{6,}"),
    "a path of this machine": re.compile(r"(/tmp/|/work/|/root/|/home/|/Users/|[A-Z]:\\)"),
    "a date": re.compile(r"\b20\d\d-\d\d-\d\d\b"),
    "a time of day": re.compile(r"\b\d\d:\d\d:\d\d\b"),
    "a duration": re.compile(r"\b\d+\.\d+ ?(s|ms|seconds)\b"),
    "a port": re.compile(r"(127\.0\.0\.1|localhost):\d+"),
}


def outputs(path: Path) -> Iterator[tuple[int, str]]:
    for number, cell in enumerate(nbfiles.read(path, as_version=4).cells):
        for output in cell.get("outputs", []):
            yield (
                number,
                output.get("text", "")
                + "".join(value for value in output.get("data", {}).values() if isinstance(value, str)),
            )


def written_dates() -> set[str]:
    """Dates the course's code writes out (an exercise's timetable): data, not the day it ran."""
    sources = [
        cell.source for path in NOTEBOOKS for cell in nbfiles.read(path, as_version=4).cells if cell.cell_type == "code"
    ]
    sources += [path.read_text(encoding="utf-8") for path in (ROOT / "tests" / "checks").glob("*.py")]
    return {match[0] for text in sources for match in VARYING["a date"].finditer(text)}


WRITTEN_DATES = written_dates()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[f"{p.parent.name}/{p.name}" for p in NOTEBOOKS])
def test_no_stored_output_varies_between_runs(path: Path) -> None:
    found = [
        f"cell {number}: {what}: {match[0]!r}"
        for number, text in outputs(path)
        for what, pattern in VARYING.items()
        for match in pattern.finditer(text)
        if not (what == "a date" and match[0] in WRITTEN_DATES)
    ]
    assert not found, found


def test_a_round_catches_an_output_that_depends_on_the_order_of_a_set(tmp_path: Path) -> None:
    # Inside the checkout: the course's pytest settings collect notebooks under its root.
    folder = ROOT / "_build" / "test-repeat" / tmp_path.name
    folder.mkdir(parents=True)
    path = folder / "set-order.ipynb"
    words = ["anvil", "rocket", "magnet", "spring", "tunnel", "canvas", "pepper", "button"]
    nbfiles.write(nbfiles.new_notebook(cells=[nbfiles.new_code_cell(f"print(list({set(words)!r}))")]), path)
    # Executed as the first round executes it (seed 1), so the second round differs.
    done = subprocess.run(
        [sys.executable, "-m", "book", "execute", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "1"},
    )
    assert done.returncode == 0, done.stderr
    check = subprocess.run(
        [sys.executable, "-m", "book.maintainer.repeat", str(path), "--rounds", "2", "--jobs", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 1, check.stdout
    assert "round 1: PYTHONHASHSEED=1" in check.stdout and "1/1 cells passed" in check.stdout
    assert "round 2: PYTHONHASHSEED=2" in check.stdout and "0/1 cells passed" in check.stdout
    assert "stdout differs: stored ['" in check.stdout, check.stdout  # what changed, in one line
    assert check.stdout.strip().endswith("1 of 2 rounds passed")
    shutil.rmtree(folder)


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--rounds", "0"], "0: at least 1"),
        (["no-such-folder"], "no-such-folder: no such file or folder"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(arguments: list[str], message: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "book.maintainer.repeat", *arguments], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 2 and message in done.stderr.strip().splitlines()[-1], done.stderr
