"""Grade one submission: the visible checks and the hidden checks, side by side, within a time limit.

Three kinds of process, and only one of them runs the learner's code:

- the visible side, pytest with nbval running the notebook in a kernel, in the sandbox: its report
  is the learner's side's claim, which the grader caps and checks;
- the judge, pytest with the hidden checks (book.grader.judge): no learner code in it; it gets the
  notebook's cells and a signing key on its stdin and reports through a pipe;
- the agent, started by the judge in the sandbox, where the notebook's code runs for each check.

This process decides the grade from the two reports, with the points the check module declares.
With a sandbox nothing is written to disk: the notebook goes into the sandbox through a pipe, the
reports come back through pipes.

Both sides start before they get the notebook (their kernel, agent and libraries ready), and each
serves one notebook and ends: `Warm` keeps the next grade's processes started, so that a grade
after a save waits only for the learner's code and the checks, and nothing of one grade survives
into the next.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from book.core import manifest
from book.grader import grade_decision, intake
from book.grader.grade_processes import CELL_TIMEOUT, TIME_LIMIT, Options, Run, sweep_scratch
from book.grader.model import Result, capped
from book.grader.report_file import ForgedReport, read_report_text

__all__ = ["CELL_TIMEOUT", "TIME_LIMIT", "GradingError", "Options", "Warm", "check_module", "grade", "sweep_scratch"]


class GradingError(Exception):
    """Input the grader cannot act on (unknown exercise, no checks); one line."""


def check_module(exercise: manifest.Exercise, checks_dir: Path | None) -> Path:
    module = (checks_dir or exercise.check_module.parent) / manifest.check_module_name(exercise.slug)
    if not module.is_file():
        raise GradingError(f"no hidden checks for exercise {exercise.slug}: expected {module}")
    return module


def grade(
    path: Path,
    exercise: manifest.Exercise | None = None,
    options: Options | None = None,
    *,
    warm: Warm | None = None,
    first: Callable[[Result], None] | None = None,
) -> Result:
    """Grade one notebook; never raises for a bad submission, only reports it.

    With `warm` (made for this exercise and options) the processes it started beforehand grade the
    notebook, and it starts the next ones. `first` is called with the report so far once the visible
    checks and every check but those that compare with the reference have reported (those pending).
    """
    options = warm.options if warm is not None else options or Options()
    started = time.monotonic()
    result = Result(Path(path), isolation=str(options.isolation))
    try:
        exercise = exercise or manifest.of_path(result.path)
    except manifest.ManifestError as exc:
        result.error = capped(str(exc))
        return _timed(result, started)
    result.exercise, result.number, result.title = exercise.slug, exercise.number, exercise.title
    module = check_module(exercise, options.checks_dir)
    declared = manifest.declared_checks(module)
    try:
        data = intake.read_bytes(result.path)
        result.sha256 = hashlib.sha256(data).hexdigest()
        submission = intake.Submission(result.path, data, intake.parse(result.path, data))
    except intake.Refused as exc:
        result.error = capped(str(exc))
        result.checks = grade_decision.all_failed(declared, result.error)
        return _timed(result, started)
    starter = _starter(exercise)
    result.version, problem = intake.verify(submission.notebook, exercise, starter)
    if result.version is not None and result.version < exercise.version:
        result.note = (
            f"this is your work on version {result.version} of exercise {exercise.number}, graded with "
            f"the checks of version {exercise.version}: `make start EX={exercise.number}` gives you "
            "the new version and keeps this copy"
        )
    run = warm.take(exercise) if warm is not None else None
    if run is None:
        run = Run(exercise, module, options)
        run.start()
    result.seed = run.seed

    def decide(stopped: str, partial: bool = False) -> Result:
        hidden, finished = read_report_text(run.hidden_text, run.key)
        names = {declared_check.name for declared_check in declared}
        undeclared = sorted({entry.get("name", "?") for entry in hidden if entry.get("kind") == "check"} - names)
        if undeclared:
            result.error = f"not graded: the report named checks the check module does not declare ({undeclared[0]})"
            result.checks = grade_decision.all_failed(declared, result.error)
            return result
        if not stopped and not finished and not partial:
            stopped = "the hidden checks' run ended early"
        visible = grade_decision.visible(
            run, submission.notebook, hidden, problem, stopped, options.cell_timeout, partial
        )
        result.checks = [visible, *grade_decision.hidden(declared, hidden, stopped, partial)]
        scrub = grade_decision.scrubber(module)
        for check in result.checks:
            check.message = scrub(check.message)
        if stopped:
            result.error = stopped
        return result

    def report_first() -> None:
        if first is not None:
            with contextlib.suppress(ForgedReport):
                first(_timed(decide("", partial=True), started))

    try:
        run.feed(submission.data)
        stopped = run.wait(started + options.time_limit, report_first if first is not None else None)
    finally:
        run.cleanup()
        if warm is not None:
            warm.prepare()
    try:
        return _timed(decide(stopped), started)
    except ForgedReport as exc:
        result.error = f"not graded: {exc}"
        result.checks = grade_decision.all_failed(declared, result.error)
        return _timed(result, started)


class Warm:
    """The processes of the next grade of one exercise, started before the learner saves.

    Each grade takes them and starts the next ones; they serve one notebook each, so a grade
    starts as fresh as a cold one. `close()` ends the ones waiting.
    """

    def __init__(self, exercise: manifest.Exercise, options: Options | None = None) -> None:
        self.exercise, self.options = exercise, options or Options()
        self.module = check_module(exercise, self.options.checks_dir)
        self.next: Run | None = None

    def prepare(self) -> None:
        """Start the next grade's processes (call it from a thread that lives as long as they do)."""
        if self.next is None:
            self.next = Run(self.exercise, self.module, self.options)
            self.next.start()

    def take(self, exercise: manifest.Exercise) -> Run | None:
        run, self.next = self.next, None
        if run is not None and (exercise.slug != self.exercise.slug or not run.alive()):
            run.cleanup()
            run = None
        return run

    def close(self) -> None:
        run, self.next = self.next, None
        if run is not None:
            run.cleanup()

    def __enter__(self) -> Warm:
        self.prepare()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _starter(exercise: manifest.Exercise) -> dict[str, Any] | None:
    try:
        found = json.loads(exercise.starter.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def _timed(result: Result, started: float) -> Result:
    result.seconds = time.monotonic() - started
    return result
