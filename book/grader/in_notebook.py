"""``await book.grade()`` in an exercise's last cell: the report of ``make grade``, in the notebook.

It grades the notebook as last saved by running ``python -m book grade PATH --json`` (the same
processes, sandbox and checks as ``make grade``: the grade is decided in a process of its own, never
in the learner's kernel, which only shows the JSON it gets back), with the hints folded. A kernel
that Jupyter started knows its notebook's path (``__session__``, from ``JPY_SESSION_NAME``);
elsewhere, pass the path. When the kernel ran code that the saved file does not hold, the grade
would not be of the code the learner sees: it asks to save first.
"""

from __future__ import annotations

import asyncio
import html
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from book import ROOT
from book.core import manifest
from book.grader import hints, render
from book.grader.model import Result

_RUNS: list[tuple[float, str]] = []  # (when, source) of each cell the kernel ran since book.grade was first used


class Report:
    """What a grade cell shows: the report (text and HTML, hints folded), or why there is none."""

    def __init__(self, result: Result | None = None, message: str = "", pointers: set[str] | None = None) -> None:
        self.result, self.message, self.pointers = result, message, pointers

    @property
    def passed(self) -> bool:
        return self.result is not None and self.result.passed

    def __repr__(self) -> str:
        if self.result is None:
            return self.message
        return render.human(self.result, pointers=self.pointers)

    def _repr_html_(self) -> str:
        if self.result is None:
            return f"<p>{html.escape(self.message)}</p>"
        return render.as_html(self.result, pointers=self.pointers)


def _shell() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def _notebook_path(given: str | Path | None, shell: Any) -> Path | None:
    if given is not None:
        return Path(given).expanduser()
    user_ns = getattr(shell, "user_ns", {}) or {}
    for found in (user_ns.get("__session__"), os.environ.get("JPY_SESSION_NAME"), user_ns.get("__vsc_ipynb_file__")):
        if isinstance(found, str) and found.endswith(".ipynb"):
            return Path(found).expanduser()
    return None


def _record(shell: Any) -> None:
    """From now on, remember when each cell runs (the check against an unsaved notebook uses it)."""
    if shell is None or getattr(shell, "_book_grade_recording", False):
        return
    shell._book_grade_recording = True

    def ran(result: Any) -> None:
        source = getattr(getattr(result, "info", None), "raw_cell", "") or ""
        if "book.grade(" not in source:
            _RUNS.append((time.time(), source))
            del _RUNS[:-200]

    shell.events.register("post_run_cell", ran)


def unsaved(path: Path, shell: Any) -> str:
    """Why the saved notebook is not what the kernel ran ("" when it is)."""
    try:
        saved_at = path.stat().st_mtime
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""  # the grade says what is wrong with the file
    on_disk = {manifest.source_of(cell).strip() for cell in nb.get("cells", []) if cell.get("cell_type") == "code"}
    if any(when > saved_at + 0.5 for when, _ in _RUNS):
        return "the kernel ran cells after the notebook was last saved"
    inputs = [
        text
        for text in (getattr(shell, "user_ns", {}) or {}).get("In", [])[1:]
        if text.strip() and "book.grade(" not in text
    ]
    if inputs and inputs[-1].strip() not in on_disk:
        return "the last cell the kernel ran is not in the saved notebook"
    return ""


async def grade(notebook: str | Path | None = None) -> Report:
    """Grade this notebook as last saved, as ``make grade`` does; the report, shown by Jupyter."""
    if os.environ.get("BOOK_GRADING"):
        return Report(message="(this cell grades the notebook from Jupyter; the grader skips it)")
    shell = _shell()
    _record(shell)
    path = _notebook_path(notebook, shell)
    if path is None:
        return Report(
            message="book.grade() does not know this notebook's file here: "
            'pass it, as in await book.grade("workspace/01-....ipynb"), or run make grade EX=NN'
        )
    why = unsaved(path, shell)
    if why:
        return Report(message=f"save first (Ctrl-S), then run this cell again: {why}")
    result = await _graded_elsewhere(path)
    if result is None:
        return Report(message="the grader gave no report: run make grade EX=NN in a terminal to see why")
    return Report(result, pointers=hints.due_for(result))


async def _graded_elsewhere(path: Path) -> Result | None:
    """The grade of `path`, decided by `python -m book grade` in a process of its own."""
    grader = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "book",
        "grade",
        str(path.resolve()),
        "--json",
        cwd=ROOT,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    out, _ = await grader.communicate()
    try:
        return Result.from_dict(json.loads(out)["submissions"][0])
    except (ValueError, KeyError, IndexError, TypeError):
        return None
