"""Hints that lead: a nudge at the first failure, then where to read when the same check fails again.

Each check declares a hint (the nudge: what to think about) and ``see`` (a chapter section, as
``04-role-checks.ipynb#anchor``). A learner's report shows the nudge; the pointer follows once the
check has failed in two grades in a row of the same exercise, which the workspace remembers in a
small file. Reports without that memory (a batch, Gradescope) show both.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from pathlib import Path

from book import CHAPTERS
from book.grader import workspace
from book.grader.model import Result

MEMORY = ".hints.json"
_HEADING = re.compile(r"^(#{2,3}) (.+)$", re.M)
_SLUG_CLEAN = re.compile(r"[^\w\u4e00-\u9fff\- ]")  # MyST's default_slugify, as the site makes anchors


def slug(title: str) -> str:
    return _SLUG_CLEAN.sub("", title.lower().replace(" ", "-"))


@functools.cache
def headings(chapter: Path) -> dict[str, str]:
    """Anchor -> heading text of a chapter's ## and ### headings, as the site links them."""
    try:
        nb = json.loads(chapter.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    found: dict[str, str] = {}
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else source
            for match in _HEADING.finditer(source):
                title = match[2].strip()
                found.setdefault(slug(title), title.replace("`", ""))
    return found


def pointer(see: str, chapters: Path = CHAPTERS) -> str:
    """``04-role-checks.ipynb#anchor`` as a learner reads it: the chapter, the section and the file."""
    if not see:
        return ""
    name, _, anchor = see.partition("#")
    number = name[:2] if name[:2].isdigit() else ""
    title = headings(chapters / name).get(anchor, "")
    where = f"Chapter {number}" if number else name.removesuffix(".ipynb")
    section = f", “{title}”" if title else ""
    return f"{where}{section} (chapters/{see})"


def missing(see: str, chapters: Path = CHAPTERS) -> str:
    """Why `see` points nowhere ("" when it names a heading that exists)."""
    name, hash_, anchor = see.partition("#")
    if not name.endswith(".ipynb") or not hash_ or not anchor:
        return f"{see!r} is not chapter.ipynb#anchor"
    if not (chapters / name).is_file():
        return f"{see!r}: no chapter {name}"
    if anchor not in headings(chapters / name):
        return f"{see!r}: no heading #{anchor} in {name}"
    return ""


class Memory:
    """Which checks of each exercise failed at the last grade, kept beside the learner's notebooks."""

    def __init__(self, folder: Path) -> None:
        self.file = folder / MEMORY

    def _load(self) -> dict[str, list[str]]:
        try:
            data = json.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def due(self, exercise: str, failed: Iterable[str], remember: bool = True) -> set[str]:
        """The checks failing now that failed last time too (their pointers are due); remembers this grade."""
        failed = set(failed)
        data = self._load()
        before = data.get(exercise, [])
        due = failed & set(before if isinstance(before, list) else [])
        if not remember:
            return due
        data[exercise] = sorted(failed)
        try:
            partial = self.file.with_name(self.file.name + ".partial")
            partial.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
            partial.replace(self.file)
        except OSError:
            pass  # a read-only folder loses the memory, not the grade
        return due


def due_for(result: Result, folder: Path | None = None, remember: bool = True) -> set[str] | None:
    """The pointers to show in a learner's report of `result`: remembered in the workspace, all elsewhere.

    `remember=False` for a first report whose final one comes later (a grade is remembered once)."""
    folder = workspace.WORKSPACE if folder is None else folder
    try:
        inside = result.path.resolve().parent == folder.resolve()
    except OSError:
        inside = False
    if not inside or not result.exercise:
        return None
    failed = (check.name for check in result.checks if not check.passed and not check.pending)
    return Memory(folder).due(result.exercise, failed, remember)
