"""Reports of graded submissions: for a terminal, as JSON, for Gradescope, as a CSV gradebook."""

from __future__ import annotations

import csv
import json
import os
import sys
import textwrap
from pathlib import Path

from book.grading import Submission

WIDTH = 78
GREEN, RED, BOLD, DIM, RESET = "\033[32m", "\033[31m", "\033[1m", "\033[2m", "\033[0m"


def use_colour(stream) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def human(submission: Submission, *, colour: bool = False) -> str:
    """The learner's report: every check, its points, and for each failure what happened and a hint."""
    paint = (lambda code, text: f"{code}{text}{RESET}") if colour else (lambda code, text: text)
    title = f"{submission.path}"
    if submission.exercise:
        title += f"  (exercise {submission.exercise.number}, {submission.exercise.title})"
    lines = [paint(BOLD, title)]
    if submission.error and not submission.checks:
        lines.append(paint(RED, f"✗ {submission.error}"))
    shown: set[str] = set()
    for check in submission.checks:
        mark = paint(GREEN, "✓") if check.passed else paint(RED, "✗")
        score = f"{check.points}/{check.max_points}"
        name = check.title
        room = WIDTH - 4 - len(score)
        lines.append(f"{mark} {name[:room]:<{room}} {score}")
        if check.passed:
            continue
        if check.message in shown:  # a notebook that stops early fails every check the same way
            lines.append(paint(DIM, "    not reached, for the reason above"))
        else:
            shown.add(check.message)
            lines.extend(_failure(check.message, check.hint, paint))
    total = f"score {submission.score}/{submission.max_score}" if submission.checks else "not graded"
    if submission.error and submission.checks:
        total += f"  ({submission.error})"
    lines.append(paint(BOLD, total))
    return "\n".join(lines)


def _failure(message: str, hint: str, paint) -> list[str]:
    out = []
    for line in message.splitlines():
        # "called    GET /x": continuation lines line up under the value, not the label
        labelled = line[:10].rstrip() in ("called", "got", "expected", "seen", "")
        out.extend(_wrapped(line, indent="    ", follow="              " if labelled else "    "))
    if hint:
        out.extend(paint(DIM, line) for line in _wrapped(f"hint      {hint}", indent="    ", follow="              "))
    return out


def _wrapped(text: str, *, indent: str, follow: str) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=follow,
                         break_long_words=True, break_on_hyphens=False) or [indent]


def as_json(submissions: list[Submission]) -> str:
    return json.dumps({"submissions": [submission.to_dict() for submission in submissions]}, indent=1)


def gradescope(submission: Submission, folder: Path) -> Path:
    """Write Gradescope's autograder results.json for one submission."""
    tests = []
    for check in submission.checks:
        output = "passed" if check.passed else "\n".join(filter(None, [check.message, f"hint: {check.hint}" if check.hint else ""]))
        tests.append({"name": check.title, "score": check.points, "max_score": check.max_points,
                      "status": "passed" if check.passed else "failed", "output": output})
    results = {"score": submission.score, "max_score": submission.max_score, "tests": tests,
               "output": submission.error or f"{submission.score}/{submission.max_score}",
               "visibility": "visible", "stdout_visibility": "hidden"}
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "results.json"
    target.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return target


def gradebook(submissions: list[Submission], target: Path) -> None:
    """One row per submission, in the order given; one column per check (its points)."""
    names: list[str] = []
    for submission in submissions:
        for check in submission.checks:
            if check.title not in names:
                names.append(check.title)
    with target.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["submission", "student", "exercise", "score", "max_score", "error", *names])
        for submission in submissions:
            points = {check.title: check.points for check in submission.checks}
            writer.writerow([
                str(submission.path), submission.path.parent.name,
                submission.exercise.slug if submission.exercise else "",
                submission.score, submission.max_score, submission.error,
                *[points.get(name, "") for name in names],
            ])


def progress_line(done: int, total: int, stream=sys.stderr) -> None:
    if stream.isatty():
        stream.write(f"\rgraded {done}/{total}")
        stream.write("\n" if done == total else "")
        stream.flush()
