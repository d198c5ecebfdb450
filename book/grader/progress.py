"""``python -m book progress``: where a learner stands on every exercise of the manifest."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from book.core import manifest
from book.grader import runner, workspace


@dataclass
class Row:
    exercise: str
    status: str  # "not started", "in progress", "done" or "broken"
    score: int = 0
    max_score: int = 0
    note: str = ""


def status_of(
    exercise: manifest.Exercise, folder: Path = workspace.WORKSPACE, options: runner.Options | None = None
) -> Row:
    path = workspace.path_of(exercise, folder)
    if not path.exists():
        return Row(exercise.slug, "not started", note=f"make start EX={exercise.number}")
    try:
        untouched = hashlib.sha256(path.read_bytes()).hexdigest() == exercise.starter_sha256
    except OSError:
        untouched = False
    if untouched:
        return Row(exercise.slug, "not started", note=f"open {path.name} in {folder.name}/")
    result = runner.grade(path, exercise, options)
    if result.passed:
        status = "done"
    elif result.error or not result.checks or not result.checks[0].passed:
        status = "broken"
    else:
        status = "in progress"
    first_failure = next((check for check in result.checks if not check.passed), None)
    if result.error:
        note = result.error
    elif status == "broken" and first_failure is not None:
        note = first_failure.message.splitlines()[0] if first_failure.message else ""
    else:
        note = f"next: {first_failure.title}" if first_failure else ""
    return Row(exercise.slug, status, result.score, result.max_score, note)


def survey(folder: Path = workspace.WORKSPACE, *, jobs: int = 2) -> list[Row]:
    exercises = sorted(manifest.load().values(), key=lambda exercise: exercise.number)
    for exercise in exercises:
        workspace.carry_over(exercise, folder)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(lambda exercise: status_of(exercise, folder), exercises))


def table(rows: list[Row]) -> str:
    if not rows:
        return "no exercises in the manifest"
    lines = []
    for row in rows:
        score = f"{row.score}/{row.max_score}" if row.max_score else ""
        lines.append(f"{row.exercise:<28} {row.status:<12} {score:>7}  {row.note[:100]}".rstrip())
    done = sum(row.status == "done" for row in rows)
    lines.append(f"{done} of {len(rows)} exercises done")
    return "\n".join(lines)
