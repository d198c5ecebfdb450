"""The grade from the two sides' reports: the visible check, the hidden checks, messages rid of the checks' text."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from book.core import manifest
from book.grader import hints, intake
from book.grader.grade_processes import Run, json_line
from book.grader.model import CheckResult, capped

VISIBLE_HINT = (
    "Restart the kernel and run all cells: the cell named above fails. Put back any check "
    "cell you changed or deleted, from a fresh copy of the exercise."
)


def visible(
    run: Run,
    nb: dict[str, Any],
    hidden: list[dict[str, Any]],
    problem: str,
    stopped: str,
    cell_timeout: float,
    partial: bool = False,
) -> CheckResult:
    def fail(message: str) -> CheckResult:
        return CheckResult(manifest.VISIBLE_CHECK, 0, manifest.VISIBLE_POINTS, False, capped(message), VISIBLE_HINT)

    if problem:
        return fail(problem)
    cells = intake.code_cells(nb)
    reported: dict[int, dict[str, Any]] = {}
    ended = False
    for line in run.visible_text.splitlines()[:10_000]:
        entry = json_line(line)
        if entry.get("kind") == "end":
            ended = True
        elif entry.get("kind") == "cell" and isinstance(entry.get("cell"), int):
            reported[entry["cell"]] = entry
    for number, (index, cell) in enumerate(cells):
        if number not in reported:
            break
        entry = reported[number]
        if entry.get("status") == "skipped":
            return fail(f"{intake.where(index, manifest.source_of(cell))} was skipped")
        if not entry.get("passed"):
            message = str(entry.get("message", ""))
            if "Timeout" in message or "KeyboardInterrupt" in message or "timed out" in message:
                return fail(f"{intake.where(index, manifest.source_of(cell))} ran past the {cell_timeout:g} s limit")
            return fail(f"{intake.where(index, manifest.source_of(cell))} failed: {capped(message, 240)}")
    if len(reported) < len(cells) or not (ended or partial):
        return fail(stopped or "the notebook did not run to the end in its kernel")
    mirror = next((entry for entry in hidden if entry.get("kind") == "mirror"), None)
    if mirror is None:
        return fail(stopped or "the grader's own run of the notebook did not finish")
    if not mirror.get("passed"):
        return fail(f"in the grader's own run of every cell: {mirror.get('message', '')}")
    return CheckResult(manifest.VISIBLE_CHECK, manifest.VISIBLE_POINTS, manifest.VISIBLE_POINTS, True)


def hidden(
    declared: list[manifest.DeclaredCheck], entries: list[dict[str, Any]], stopped: str, partial: bool = False
) -> list[CheckResult]:
    reported = {entry["name"]: entry for entry in entries if entry.get("kind") == "check"}
    results = []
    for name, points, hint, see in declared:
        entry = reported.get(name)
        if entry is None and partial:
            results.append(CheckResult(name, 0, points, False, "", hint, hints.pointer(see), pending=True))
        elif entry is None:
            results.append(
                CheckResult(
                    name, 0, points, False, f"not reached: {stopped or 'did not run'}", hint, hints.pointer(see)
                )
            )
        else:
            passed = entry.get("passed") is True
            results.append(
                CheckResult(
                    name,
                    points if passed else 0,
                    points,
                    passed,
                    capped(str(entry.get("message", ""))),
                    hint,
                    hints.pointer(see),
                )
            )
    return results


def all_failed(declared: list[manifest.DeclaredCheck], reason: str) -> list[CheckResult]:
    return [CheckResult(manifest.VISIBLE_CHECK, 0, manifest.VISIBLE_POINTS, False, reason, VISIBLE_HINT)] + [
        CheckResult(name, 0, points, False, "not graded: " + reason, hint, hints.pointer(see))
        for name, points, hint, see in declared
    ]


def scrubber(module: Path) -> Callable[[str], str]:
    """A function that takes out of a message any line of the check module's own text."""
    lines = sorted(
        {line.strip() for line in module.read_text(encoding="utf-8").splitlines() if len(line.strip()) >= 24},
        key=len,
        reverse=True,
    )

    def scrub(message: str) -> str:
        for line in lines:
            if line in message:
                message = message.replace(line, "[...]")
        return message

    return scrub
