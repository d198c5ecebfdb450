"""`python -m book progress`: where a learner stands on every exercise."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nbformat

from book import SOLUTIONS, grading, notebooks, release


@dataclass
class Row:
    exercise: str
    status: str  # "not started", "in progress", "done" or "broken"
    score: int = 0
    max_score: int = 0
    note: str = ""


def untouched(path: Path) -> bool:
    """True when the notebook's code is still the released starter's."""
    solution = SOLUTIONS / path.name
    if not solution.exists():
        return False
    try:
        mine = [cell.source for cell in notebooks.read(path).cells if cell.cell_type == "code"]
    except notebooks.NotebookError:
        return False
    starter = release.starter(nbformat.read(solution, as_version=4), name=path.name)
    return mine == [cell.source for cell in starter.cells if cell.cell_type == "code"]


def status_of(path: Path) -> Row:
    if untouched(path):
        return Row(path.stem, "not started")
    submission = grading.grade(path)
    if submission.passed:
        status = "done"
    elif submission.error or not submission.checks[0].passed:
        status = "broken"
    else:
        status = "in progress"
    first_failure = next((check for check in submission.checks if not check.passed), None)
    if submission.error or status != "broken":
        note = submission.error or (f"next: {first_failure.title}" if first_failure else "")
    else:
        note = first_failure.message.splitlines()[0]
    return Row(path.stem, status, submission.score, submission.max_score, note)


def survey(exercises: Path, *, jobs: int = 2) -> list[Row]:
    paths = sorted(exercises.glob("*.ipynb"))
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(status_of, paths))


def table(rows: list[Row]) -> str:
    if not rows:
        return "no exercises found in exercises/"
    lines = []
    for row in rows:
        score = f"{row.score}/{row.max_score}" if row.max_score else ""
        lines.append(f"{row.exercise:<28} {row.status:<12} {score:>7}  {row.note}".rstrip())
    done = sum(row.status == "done" for row in rows)
    lines.append(f"{done} of {len(rows)} exercises done")
    return "\n".join(lines)
