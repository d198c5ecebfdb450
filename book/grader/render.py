"""Reports of graded submissions: for a terminal, as JSON, for Gradescope, and as gradebook rows."""

from __future__ import annotations

import html
import json
import os
import textwrap
from collections.abc import Collection
from pathlib import Path
from typing import IO, Any

from book.grader.model import CheckResult, Result

WIDTH = 78
GREEN, RED, BOLD, DIM, RESET = "\033[32m", "\033[31m", "\033[1m", "\033[2m", "\033[0m"
CSV_FIELDS = [
    "submission",
    "student",
    "exercise",
    "version",
    "score",
    "max_score",
    "error",
    "isolation",
    "seed",
    "sha256",
]


def use_colour(stream: IO[str]) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def human(
    result: Result,
    *,
    colour: bool = False,
    pointers: Collection[str] | None = None,
    only: Collection[str] | None = None,
) -> str:
    """The learner's report: every check, its points, and for each failure what happened and a hint.

    `pointers` names the failed checks whose chapter section is shown after the hint (every one when None);
    `only` the checks to show, without the title: the rest of a report whose first part was shown.
    """

    def paint(code: str, text: str) -> str:
        return f"{code}{text}{RESET}" if colour else text

    title = f"{result.path}"
    if result.exercise:
        title += f"  (exercise {result.number}, {result.title}"
        title += f", version {result.version})" if result.version is not None else ")"
    lines = [paint(BOLD, title)] if only is None else []
    if result.note and only is None:
        lines.append(paint(DIM, f"note: {result.note}"))
    if result.error and not result.checks:
        lines.append(paint(RED, f"✗ {result.error}"))
    shown: set[str] = set()
    for check in result.checks:
        if only is not None and check.name not in only:
            continue
        mark = paint(GREEN, "✓") if check.passed else paint(RED, "✗")
        score = f"{check.points}/{check.max_points}"
        room = WIDTH - 4 - len(score)
        lines.append(f"{mark} {check.title[:room]:<{room}} {score}")
        if check.pending:
            lines[-1] = paint(DIM, f"… {check.title[:room]:<{room}} {'':>{len(score)}}".rstrip())
            continue
        if check.passed:
            continue
        if check.message in shown:  # a notebook that stops early fails every check the same way
            lines.append(paint(DIM, "    not reached, for the reason above"))
        else:
            shown.add(check.message)
            see = check.see if pointers is None or check.name in pointers else ""
            lines.extend(_failure(check.message, check.hint, see, paint))
    pending = sum(check.pending for check in result.checks)
    total = f"score {result.score}/{result.max_score}" if result.checks else "not graded"
    if pending:
        total = f"so far {result.score}/{result.max_score}, {pending} check{'s' if pending > 1 else ''} still running"
    if result.error and result.checks:
        total += f"  ({result.error})"
    lines.append(paint(BOLD, total))
    if result.isolation:
        lines.append(paint(DIM, f"graded in: {result.isolation}" + (f"; seed {result.seed}" if result.seed else "")))
    return "\n".join(lines)


def _failure(message: str, hint: str, see: str, paint: Any) -> list[str]:
    out = []
    for line in message.splitlines():
        # "called    GET /x": continuation lines line up under the value, not the label
        labelled = line[:10].rstrip() in ("called", "got", "expected", "seen", "")
        out.extend(_wrapped(line, indent="    ", follow="              " if labelled else "    "))
    if hint:
        out.extend(paint(DIM, line) for line in _wrapped(f"hint      {hint}", indent="    ", follow="              "))
    if see:
        out.extend(paint(DIM, line) for line in _wrapped(f"read      {see}", indent="    ", follow="              "))
    return out


def _wrapped(text: str, *, indent: str, follow: str) -> list[str]:
    return textwrap.wrap(
        text, WIDTH, initial_indent=indent, subsequent_indent=follow, break_long_words=True, break_on_hyphens=False
    ) or [indent]


def as_html(result: Result, *, pointers: Collection[str] | None = None) -> str:
    """The learner's report for a notebook: the same lines as `human`, each failure's hint folded."""
    escape = html.escape
    title = escape(f"exercise {result.number}, {result.title}" if result.exercise else str(result.path))
    parts = [f"<div class='book-grade'><p><b>{title}</b></p>"]
    if result.note:
        parts.append(f"<p><i>note: {escape(result.note)}</i></p>")
    if result.error and not result.checks:
        parts.append(f"<p>✗ {escape(result.error)}</p>")
    parts.append("<ul style='list-style: none; padding-left: 0'>")
    for check in result.checks:
        mark = "✓" if check.passed else "…" if check.pending else "✗"
        parts.append(f"<li>{mark} {escape(check.title)} <b>{check.points}/{check.max_points}</b>")
        if not check.passed and not check.pending:
            parts.append(
                f"<pre style='white-space: pre-wrap; margin: 0.2em 0 0.2em 1.5em'>{escape(check.message)}</pre>"
            )
            fold = f"<p>{escape(check.hint)}</p>" if check.hint else ""
            if check.see and (pointers is None or check.name in pointers):
                fold += f"<p>read: {escape(check.see)}</p>"
            if fold:
                parts.append(f"<details style='margin-left: 1.5em'><summary>hint</summary>{fold}</details>")
        parts.append("</li>")
    total = f"score {result.score}/{result.max_score}" if result.checks else "not graded"
    if result.error and result.checks:
        total += f" ({result.error})"
    parts.append(f"</ul><p><b>{escape(total)}</b></p>")
    if result.isolation:
        parts.append(f"<p><small>graded in: {escape(result.isolation)}</small></p>")
    return "".join(parts) + "</div>"


def as_json(results: list[Result]) -> str:
    return json.dumps({"submissions": [result.to_dict() for result in results]}, indent=1)


def failure_text(check: CheckResult) -> str:
    """A failed check as an engine shows it: the message, then the hint and where to read, a line each."""
    hint = f"hint: {check.hint}" if check.hint else ""
    see = f"read: {check.see}" if check.see else ""
    return "\n".join(line for line in (check.message, hint, see) if line)


def gradescope(result: Result) -> dict[str, Any]:
    """Gradescope's autograder results.json for one submission (its documented fields)."""
    tests = []
    for check in result.checks:
        output = "passed" if check.passed else failure_text(check)
        tests.append(
            {
                "name": check.title,
                "score": check.points,
                "max_score": check.max_points,
                "status": "passed" if check.passed else "failed",
                "output": output,
                "visibility": "visible",
            }
        )
    summary = result.error or f"{result.score}/{result.max_score}"
    return {
        "score": result.score,
        "max_score": result.max_score,
        "tests": tests,
        "output": f"{summary}\ngraded in: {result.isolation}; exercise version {result.version}",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": {
            "isolation": result.isolation,
            "version": result.version,
            "seed": result.seed,
            "sha256": result.sha256,
        },
    }


def write_gradescope(result: Result, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "results.json"
    partial = folder / ".results.json.partial"
    partial.write_text(json.dumps(gradescope(result), indent=1), encoding="utf-8")
    partial.replace(target)  # whole or not at all
    return target


def csv_row(result: Result, columns: list[str]) -> list[Any]:
    points = {check.title: check.points for check in result.checks}
    version = "" if result.version is None else result.version
    return [
        str(result.path),
        result.path.parent.name,
        result.exercise,
        version,
        result.score,
        result.max_score,
        result.error,
        result.isolation,
        result.seed or "",
        result.sha256,
        *[points.get(name, "") for name in columns],
    ]
