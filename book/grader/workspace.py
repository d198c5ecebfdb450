"""The learner's workspace: their own copies of the exercises, apart from the course's files.

``make start EX=01`` (``python -m book start 01``, or ``all``) copies the released exercise into
``workspace/`` (not tracked by git), and ``make grade``, ``make watch`` and ``make progress`` work
there. The tracked ``exercises/`` stay as released, so updating the course never conflicts with a
learner's work, as rustlings keeps its learners' exercises apart from its own.

A learner who worked in ``exercises/`` before the workspace existed gets that work carried over
once, with a message, and ``exercises/`` put back as released.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

from book import EXERCISES, ROOT
from book.core import manifest

# BOOK_WORKSPACE moves it (the tests use a folder of their own).
WORKSPACE = Path(os.environ.get("BOOK_WORKSPACE") or ROOT / "workspace")


class WorkspaceError(Exception):
    """One line for the learner: an exercise not started, a name that is no exercise."""


def path_of(exercise: manifest.Exercise, workspace: Path = WORKSPACE) -> Path:
    return workspace / exercise.notebook_name


def _untouched(path: Path, exercise: manifest.Exercise) -> bool:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() == exercise.starter_sha256
    except OSError:
        return True


def carry_over(exercise: manifest.Exercise, workspace: Path = WORKSPACE, exercises: Path = EXERCISES) -> str:
    """Move earlier work from exercises/ into the workspace, once; the message to show, or ""."""
    tracked = exercises / exercise.notebook_name
    mine = path_of(exercise, workspace)
    if mine.exists() or not tracked.is_file() or tracked.is_symlink() or _untouched(tracked, exercise):
        return ""
    workspace.mkdir(exist_ok=True)
    shutil.copyfile(tracked, mine)
    from book import SOLUTIONS
    from book.authoring import release

    solution = SOLUTIONS / exercise.notebook_name
    if solution.exists():
        tracked.write_text(release.render(solution), encoding="utf-8")
    return (
        f"your work on exercise {exercise.number} in {_shown(tracked)} is now in {_shown(mine)}; "
        f"{_shown(tracked)} is back as released"
    )


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def version_of(path: Path, exercise: manifest.Exercise) -> int | None:
    """The exercise version a notebook's check cells are from (None: unreadable, or no version's)."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        prints = [manifest.fingerprint(manifest.source_of(cell)) for cell in manifest.check_cells(nb)]
    except (OSError, ValueError, AttributeError, TypeError):
        return None
    return exercise.version_of(prints)


def set_aside(mine: Path, version: int) -> Path:
    """Rename a copy of an older version out of the way, never over another: NN-slug.v1.ipynb."""
    for n in range(1, 1000):
        kept = mine.with_name(f"{mine.stem}.v{version}{'' if n == 1 else f'-{n}'}.ipynb")
        if not kept.exists():
            mine.rename(kept)
            return kept
    raise WorkspaceError(f"too many older copies of {mine.name} in {_shown(mine.parent)}")


def start(exercise: manifest.Exercise, workspace: Path = WORKSPACE) -> str:
    """Copy the exercise into the workspace (never over a copy that is there); what happened.

    A copy of an older version of the exercise is kept under another name, and the new version
    started beside it."""
    moved = carry_over(exercise, workspace)
    if moved:
        return moved
    mine = path_of(exercise, workspace)
    if mine.exists():
        old = version_of(mine, exercise)
        if old is None or old >= exercise.version:
            return f"exercise {exercise.number} is already started: {_shown(mine)} (your work is kept)"
        kept = set_aside(mine, old)
        shutil.copyfile(exercise.starter, mine)
        return (
            f"exercise {exercise.number} changed (version {old} to {exercise.version}): your work on version "
            f"{old} is kept in {_shown(kept)}; the new version is in {_shown(mine)}"
        )
    workspace.mkdir(exist_ok=True)
    shutil.copyfile(exercise.starter, mine)
    return f"started exercise {exercise.number}, {exercise.title}: open {_shown(mine)}"


def resolve(target: str, workspace: Path = WORKSPACE) -> tuple[Path, list[str]]:
    """The notebook a learner means: a path as given, or for a bare number the workspace's copy.

    Returns it with any message to show first (work carried over from exercises/)."""
    if not re.fullmatch(r"\d{1,2}(-fix)?", target.strip()) or Path(target).exists():
        return Path(target), []
    try:
        exercise = manifest.find(target)
    except manifest.ManifestError as exc:
        raise WorkspaceError(str(exc)) from None
    notes = [note for note in [carry_over(exercise, workspace)] if note]
    mine = path_of(exercise, workspace)
    if not mine.exists():
        raise WorkspaceError(
            f"exercise {exercise.number} is not started yet: run `make start EX={exercise.number}` "
            f"(it copies the exercise to {_shown(mine)})"
        )
    return mine, notes
