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
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from book import ROOT
from book.core import manifest
from book.core.report_file import ForgedReport, read_report_text
from book.core.report_file import marks as report_marks
from book.grader import hints, intake, sandbox
from book.grader.model import CheckResult, Result, capped

CELL_TIMEOUT = 10.0  # no cell in a course notebook needs more than a second
TIME_LIMIT = 120.0  # the whole grading of one submission
GRADING_INI = Path(__file__).resolve().parent.parent / "grading.ini"
VISIBLE_HINT = ("Restart the kernel and run all cells: the cell named above fails. Put back any check "
                "cell you changed or deleted, from a fresh copy of the exercise.")
SCRATCH_PREFIX = "book-grade-"


class GradingError(Exception):
    """Input the grader cannot act on (unknown exercise, no checks); one line."""


@dataclass
class Options:
    checks_dir: Path | None = None  # None: the course's tests/checks
    cell_timeout: float = CELL_TIMEOUT
    time_limit: float = TIME_LIMIT
    isolation: sandbox.Isolation = field(default_factory=lambda: sandbox.choose(True))
    limits: sandbox.Limits = field(default_factory=sandbox.Limits)
    seed: int | None = None  # None: a new one for each grade


def check_module(exercise: manifest.Exercise, checks_dir: Path | None) -> Path:
    module = (checks_dir or exercise.check_module.parent) / manifest.check_module_name(exercise.slug)
    if not module.is_file():
        raise GradingError(f"no hidden checks for exercise {exercise.slug}: expected {module}")
    return module


def grade(path: Path, exercise: manifest.Exercise | None = None, options: Options | None = None, *,
          warm: Warm | None = None, first: Callable[[Result], None] | None = None) -> Result:
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
        result.checks = _all_failed(declared, result.error)
        return _timed(result, started)
    starter = _starter(exercise)
    result.version, problem = intake.verify(submission.notebook, exercise, starter)
    if result.version is not None and result.version < exercise.version:
        result.note = (f"this is your work on version {result.version} of exercise {exercise.number}, graded with "
                       f"the checks of version {exercise.version}: `make start EX={exercise.number}` gives you "
                       "the new version and keeps this copy")
    run = warm.take(exercise) if warm is not None else None
    if run is None:
        run = _Run(exercise, module, options)
        run.start()
    result.seed = run.seed

    def decide(stopped: str, partial: bool = False) -> Result:
        hidden, finished = read_report_text(run.hidden_text, run.key)
        names = {declared_check.name for declared_check in declared}
        undeclared = sorted({entry.get("name", "?") for entry in hidden if entry.get("kind") == "check"} - names)
        if undeclared:
            result.error = f"not graded: the report named checks the check module does not declare ({undeclared[0]})"
            result.checks = _all_failed(declared, result.error)
            return result
        if not stopped and not finished and not partial:
            stopped = "the hidden checks' run ended early"
        visible = _visible(run, submission.notebook, hidden, problem, stopped, options.cell_timeout, partial)
        result.checks = [visible, *_hidden(declared, hidden, stopped, partial)]
        scrub = _scrubber(module)
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
        result.checks = _all_failed(declared, result.error)
        return _timed(result, started)


class Warm:
    """The processes of the next grade of one exercise, started before the learner saves.

    Each grade takes them and starts the next ones; they serve one notebook each, so a grade
    starts as fresh as a cold one. `close()` ends the ones waiting.
    """

    def __init__(self, exercise: manifest.Exercise, options: Options | None = None) -> None:
        self.exercise, self.options = exercise, options or Options()
        self.module = check_module(exercise, self.options.checks_dir)
        self.next: _Run | None = None

    def prepare(self) -> None:
        """Start the next grade's processes (call it from a thread that lives as long as they do)."""
        if self.next is None:
            self.next = _Run(self.exercise, self.module, self.options)
            self.next.start()

    def take(self, exercise: manifest.Exercise) -> _Run | None:
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


class _Run:
    """The processes of one grade, started before the notebook is known, and what they report."""

    def __init__(self, exercise: manifest.Exercise, module: Path, options: Options) -> None:
        self.exercise, self.module, self.options = exercise, module, options
        self.seed = options.seed if options.seed is not None else secrets.randbits(48)
        self.key = secrets.token_bytes(32)
        self.chunks: dict[str, list[bytes]] = {"hidden_text": [], "visible_text": []}
        self.judge: subprocess.Popen[bytes] | None = None
        self.visible: sandbox.Sandboxed | None = None
        self.readers: list[threading.Thread] = []
        self.scratch: Path | None = None
        self.sandboxed = options.isolation.kind == sandbox.SANDBOX
        self.warm_imports = ",".join(_imports_of_reference(exercise))

    @property
    def hidden_text(self) -> str:
        return b"".join(self.chunks["hidden_text"]).decode("utf-8", "replace")

    @property
    def visible_text(self) -> str:
        return b"".join(self.chunks["visible_text"]).decode("utf-8", "replace")

    def start(self) -> None:
        self._start_visible()
        self._start_judge()

    def alive(self) -> bool:
        return (self.judge is not None and self.judge.poll() is None and self.visible is not None
                and self.visible.process.poll() is None)

    def feed(self, data: bytes) -> None:
        """Give both sides the notebook (the judge after its key), without waiting for them to read it."""
        assert self.judge is not None and self.visible is not None
        for stream, payload in ((self.visible.process.stdin, data),
                                (self.judge.stdin, self.key.hex().encode() + b"\n" + data)):
            threading.Thread(target=_write_and_close, args=(stream, payload), daemon=True).start()

    def _pipe_reader(self, fd: int, attribute: str) -> None:
        chunks = self.chunks[attribute]

        def read() -> None:
            size = 0
            with os.fdopen(fd, "rb") as stream:
                while chunk := stream.read1(1 << 16):
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > 8 << 20:  # a report is kilobytes; more is not a report
                        break

        thread = threading.Thread(target=read, daemon=True)
        thread.start()
        self.readers.append(thread)

    def _start_visible(self) -> None:
        read_fd, write_fd = os.pipe()
        name = self.exercise.notebook_name
        common = ["-c", str(GRADING_INI), "--disable-plugin-autoload", "-p", "book.core.skip_slow_imports",
                  "-p", "book.grader.visible", "-p", "nbval.plugin", "-p", "no:cacheprovider", "-q", "--capture=sys",
                  "--nbval-lax", "--nbval-current-env", f"--nbval-cell-timeout={self.options.cell_timeout:g}",
                  "--book-visible-fd", str(write_fd), "--book-notebook-stdin",
                  "--book-warm-imports", self.warm_imports]
        if self.sandboxed:  # the notebook is written inside, on the sandbox's own /tmp
            argv = [sys.executable, "-m", "pytest", f"/tmp/submission/{name}", "--rootdir", "/tmp",
                    *common]
            self.visible = sandbox.start(argv, self.options.isolation, self.options.limits, stdin=subprocess.PIPE,
                                         stdout=subprocess.DEVNULL, pass_fds=(write_fd,))
        else:
            self.scratch = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-"))
            argv = [sys.executable, "-m", "pytest", str(self.scratch / name), "--rootdir", str(self.scratch),
                    *common]
            self.visible = sandbox.start(argv, self.options.isolation, self.options.limits, stdin=subprocess.PIPE,
                                         stdout=subprocess.DEVNULL, pass_fds=(write_fd,), cwd=self.scratch)
        os.close(write_fd)
        self._pipe_reader(read_fd, "visible_text")

    def _start_judge(self) -> None:
        read_fd, write_fd = os.pipe()
        limits = self.options.limits
        argv = [sys.executable, "-m", "pytest", str(self.module), "-c", str(GRADING_INI), "--rootdir", str(ROOT),
                "--confcutdir", str(self.module.parent), "--disable-plugin-autoload", "-p", "book.core.skip_slow_imports",
                "-p", "book.grader.judge", "-p", "anyio.pytest_plugin", "-p", "no:cacheprovider", "-q",
                "--capture=sys", "--book-guard", "--book-later", "--book-warm-imports", self.warm_imports,
                "--book-report", f"fd:{write_fd}", "--book-seed", str(self.seed),
                "--book-mirror",
                f"--book-cell-timeout={self.options.cell_timeout:g}",
                "--book-isolation", self.options.isolation.kind,
                "--book-limits", f"{limits.memory_mb},{limits.processes},{limits.disk_mb}",
                "--submission-name", self.exercise.notebook_name]
        self.judge = subprocess.Popen(argv, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, pass_fds=(write_fd,), start_new_session=True,
                                      preexec_fn=sandbox.die_with_parent)
        os.close(write_fd)
        self._pipe_reader(read_fd, "hidden_text")

    def _first_reported(self) -> bool:
        """Whether the visible side has ended and the judge said every quick check has reported."""
        try:
            if "first" not in report_marks(self.hidden_text, self.key):
                return False
        except ForgedReport:
            return False
        ended = self.visible is not None and self.visible.process.poll() is not None
        return ended or any(_json_line(line).get("kind") == "end" for line in self.visible_text.splitlines())

    def wait(self, deadline: float, first: Callable[[], None] | None = None) -> str:
        """"" when both sides finished in time, or why they were stopped; `first` once the quick checks are in."""
        reason = ""
        assert self.judge is not None and self.visible is not None
        while first is not None and self.judge.poll() is None and time.monotonic() < deadline:
            if self._first_reported():
                first()
                break
            time.sleep(0.01)
        try:
            self.judge.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            reason = f"stopped after the time limit of {self.options.time_limit:g} s (an endless loop?)"
        stopped = sandbox.wait(self.visible, deadline if not reason else time.monotonic())
        if stopped and not reason:
            reason = (f"stopped after the time limit of {self.options.time_limit:g} s (an endless loop?)"
                      if stopped == "timeout" else stopped)
        for reader in self.readers:
            reader.join(timeout=10)
        return reason

    def cleanup(self) -> None:
        visible = self.visible.process if self.visible is not None else None
        for stream in (getattr(self.judge, "stdin", None), getattr(visible, "stdin", None)):
            if stream is not None:  # a run that was never fed (a watch that stops)
                with contextlib.suppress(OSError):
                    stream.close()
        if self.judge is not None:
            _kill_tree(self.judge.pid)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.judge.wait(timeout=10)
        if self.visible is not None:
            self.visible.kill()
        for reader in self.readers:
            reader.join(timeout=10)
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)


def _write_and_close(stream: Any, data: bytes) -> None:
    with contextlib.suppress(OSError, ValueError):  # a process that ended early reads nothing
        stream.write(data)
        stream.close()


def _imports_of_reference(exercise: manifest.Exercise) -> list[str]:
    """The libraries the exercise's given code imports: the ones worth importing before a notebook arrives."""
    try:
        nb = json.loads(exercise.starter.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return intake.imports_of(cell for _, cell in intake.code_cells(nb))


def _kill_tree(pid: int) -> None:
    import psutil

    try:
        processes = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    except psutil.Error:
        return
    for process in processes:
        with contextlib.suppress(psutil.Error):
            process.kill()


def sweep_scratch() -> None:
    """Remove the scratch folders of graders that were killed (their process is gone)."""
    import psutil

    for folder in Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*"):
        match = re.match(rf"{SCRATCH_PREFIX}(\d+)-", folder.name)
        if match and not psutil.pid_exists(int(match[1])):
            shutil.rmtree(folder, ignore_errors=True)


def _visible(run: _Run, nb: dict[str, Any], hidden: list[dict[str, Any]], problem: str, stopped: str,
             cell_timeout: float, partial: bool = False) -> CheckResult:
    def fail(message: str) -> CheckResult:
        return CheckResult(manifest.VISIBLE_CHECK, 0, manifest.VISIBLE_POINTS, False, capped(message), VISIBLE_HINT)

    if problem:
        return fail(problem)
    cells = intake.code_cells(nb)
    reported: dict[int, dict[str, Any]] = {}
    ended = False
    for line in run.visible_text.splitlines()[:10_000]:
        entry = _json_line(line)
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


def _json_line(line: str) -> dict[str, Any]:
    try:
        entry = json.loads(line)
    except ValueError:
        return {}
    return entry if isinstance(entry, dict) else {}


def _hidden(declared: list[manifest.DeclaredCheck], entries: list[dict[str, Any]], stopped: str,
            partial: bool = False) -> list[CheckResult]:
    reported = {entry["name"]: entry for entry in entries if entry.get("kind") == "check"}
    results = []
    for name, points, hint, see in declared:
        entry = reported.get(name)
        if entry is None and partial:
            results.append(CheckResult(name, 0, points, False, "", hint, hints.pointer(see), pending=True))
        elif entry is None:
            results.append(CheckResult(name, 0, points, False, f"not reached: {stopped or 'did not run'}", hint,
                                       hints.pointer(see)))
        else:
            passed = entry.get("passed") is True
            results.append(CheckResult(name, points if passed else 0, points, passed,
                                       capped(str(entry.get("message", ""))), hint, hints.pointer(see)))
    return results


def _all_failed(declared: list[manifest.DeclaredCheck], reason: str) -> list[CheckResult]:
    return [CheckResult(manifest.VISIBLE_CHECK, 0, manifest.VISIBLE_POINTS, False, reason, VISIBLE_HINT)] + [
        CheckResult(name, 0, points, False, "not graded: " + reason, hint, hints.pointer(see))
        for name, points, hint, see in declared]


def _scrubber(module: Path) -> Any:
    """A function that takes out of a message any line of the check module's own text."""
    lines = sorted({line.strip() for line in module.read_text(encoding="utf-8").splitlines()
                    if len(line.strip()) >= 24}, key=len, reverse=True)

    def scrub(message: str) -> str:
        for line in lines:
            if line in message:
                message = message.replace(line, "[...]")
        return message

    return scrub


def _timed(result: Result, started: float) -> Result:
    result.seconds = time.monotonic() - started
    return result
