"""Grade one submission: the visible checks and the hidden checks, side by side, within a time limit.

Three kinds of process, and only one of them runs the learner's code:

- the visible side, pytest with nbval running the notebook in a kernel, in the sandbox: its report
  is the learner's side's claim, which the grader caps and checks;
- the judge, pytest with the hidden checks (book.grader.judge): no learner code in it; it gets the
  notebook's cells and a signing key on its stdin and reports through a pipe;
- the agent, started by the judge in the sandbox, where the notebook's code runs for each check.

This process decides the grade from the two reports, with the points the check module declares.
With a sandbox nothing is written to disk: the notebook goes into the sandbox as a file descriptor,
the reports come back through pipes.
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from book import ROOT
from book.grader import intake, manifest, sandbox
from book.grader.model import CheckResult, Result, capped
from book.report_file import ForgedReport, read_report_text

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


def grade(path: Path, exercise: manifest.Exercise | None = None, options: Options | None = None) -> Result:
    """Grade one notebook; never raises for a bad submission, only reports it."""
    options = options or Options()
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
    result.seed = options.seed if options.seed is not None else secrets.randbits(48)
    run = _Run(submission, exercise, module, options, result.seed)
    try:
        run.start()
        stopped = run.wait(started + options.time_limit)
    finally:
        run.cleanup()
    try:
        hidden, finished = read_report_text(run.hidden_text, run.key)
    except ForgedReport as exc:
        result.error = f"not graded: {exc}"
        result.checks = _all_failed(declared, result.error)
        return _timed(result, started)
    names = {name for name, _, _ in declared}
    undeclared = sorted({entry.get("name", "?") for entry in hidden if entry.get("kind") == "check"} - names)
    if undeclared:
        result.error = f"not graded: the report named checks the check module does not declare ({undeclared[0]})"
        result.checks = _all_failed(declared, result.error)
        return _timed(result, started)
    if not stopped and not finished:
        stopped = "the hidden checks' run ended early"
    visible = _visible(run, submission.notebook, hidden, problem, stopped, options.cell_timeout)
    result.checks = [visible, *_hidden(declared, hidden, stopped)]
    scrub = _scrubber(module)
    for check in result.checks:
        check.message = scrub(check.message)
    if stopped:
        result.error = stopped
    return _timed(result, started)


def _starter(exercise: manifest.Exercise) -> dict[str, Any] | None:
    try:
        found = json.loads(exercise.starter.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


class _Run:
    """The processes of one grade, and what they report."""

    def __init__(self, submission: intake.Submission, exercise: manifest.Exercise, module: Path, options: Options,
                 seed: int) -> None:
        self.submission, self.exercise, self.module, self.options, self.seed = (submission, exercise, module,
                                                                                 options, seed)
        self.key = secrets.token_bytes(32)
        self.hidden_text = ""
        self.visible_text = ""
        self.judge: subprocess.Popen[bytes] | None = None
        self.visible: sandbox.Sandboxed | None = None
        self.readers: list[threading.Thread] = []
        self.scratch: Path | None = None
        self.sandboxed = options.isolation.kind == sandbox.SANDBOX

    def start(self) -> None:
        self._start_visible()
        self._start_judge()

    def _pipe_reader(self, fd: int, attribute: str) -> None:
        def read() -> None:
            chunks = []
            with os.fdopen(fd, "rb") as stream:
                while chunk := stream.read(1 << 16):
                    chunks.append(chunk)
                    if sum(len(c) for c in chunks) > 8 << 20:  # a report is kilobytes; more is not a report
                        break
            setattr(self, attribute, b"".join(chunks).decode("utf-8", "replace"))

        thread = threading.Thread(target=read, daemon=True)
        thread.start()
        self.readers.append(thread)

    def _start_visible(self) -> None:
        read_fd, write_fd = os.pipe()
        name = self.exercise.notebook_name
        common = ["-c", str(GRADING_INI), "--disable-plugin-autoload", "-p", "book.skip_slow_imports",
                  "-p", "book.grader.visible", "-p", "nbval.plugin", "-p", "no:cacheprovider", "-q",
                  "--nbval-lax", "--nbval-current-env", f"--nbval-cell-timeout={self.options.cell_timeout:g}",
                  "--book-visible-fd", str(write_fd)]
        if self.sandboxed:
            inside = f"/tmp/submission/{name}"
            argv = [sys.executable, "-m", "pytest", inside, "--rootdir", "/tmp/submission", *common]
            with tempfile.TemporaryFile() as copy:  # unlinked: nothing left on disk, whatever happens
                copy.write(self.submission.data)
                copy.flush()
                copy.seek(0)
                self.visible = sandbox.start(argv, self.options.isolation, self.options.limits,
                                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, pass_fds=(write_fd,),
                                             files={inside: copy.fileno()})
        else:
            self.scratch = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-"))
            (self.scratch / name).write_bytes(self.submission.data)
            argv = [sys.executable, "-m", "pytest", str(self.scratch / name), "--rootdir", str(self.scratch),
                    *common]
            self.visible = sandbox.start(argv, self.options.isolation, self.options.limits,
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, pass_fds=(write_fd,),
                                         cwd=self.scratch)
        os.close(write_fd)
        self._pipe_reader(read_fd, "visible_text")

    def _start_judge(self) -> None:
        read_fd, write_fd = os.pipe()
        limits = self.options.limits
        argv = [sys.executable, "-m", "pytest", str(self.module), "-c", str(GRADING_INI), "--rootdir", str(ROOT),
                "--confcutdir", str(self.module.parent), "--disable-plugin-autoload", "-p", "book.skip_slow_imports",
                "-p", "book.grader.judge", "-p", "anyio.pytest_plugin", "-p", "no:cacheprovider", "-q",
                "--capture=sys", "--book-guard", "--book-report", f"fd:{write_fd}", "--book-seed", str(self.seed),
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
        assert self.judge.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            self.judge.stdin.write(self.key.hex().encode() + b"\n" + self.submission.data)
            self.judge.stdin.close()

    def wait(self, deadline: float) -> str:
        """"" when both sides finished in time, or why they were stopped."""
        reason = ""
        assert self.judge is not None and self.visible is not None
        try:
            self.judge.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            reason = f"stopped after the time limit of {self.options.time_limit:g} s (an endless loop?)"
        stopped = sandbox.wait(self.visible, deadline if not reason else time.monotonic())
        if stopped and not reason:
            reason = (f"stopped after the time limit of {self.options.time_limit:g} s (an endless loop?)"
                      if stopped == "timeout" else stopped)
        return reason

    def cleanup(self) -> None:
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
             cell_timeout: float) -> CheckResult:
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
    if len(reported) < len(cells) or not ended:
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


def _hidden(declared: list[tuple[str, int, str]], entries: list[dict[str, Any]], stopped: str) -> list[CheckResult]:
    reported = {entry["name"]: entry for entry in entries if entry.get("kind") == "check"}
    results = []
    for name, points, hint in declared:
        entry = reported.get(name)
        if entry is None:
            results.append(CheckResult(name, 0, points, False, f"not reached: {stopped or 'did not run'}", hint))
        else:
            passed = entry.get("passed") is True
            results.append(CheckResult(name, points if passed else 0, points, passed,
                                       capped(str(entry.get("message", ""))), hint))
    return results


def _all_failed(declared: list[tuple[str, int, str]], reason: str) -> list[CheckResult]:
    return [CheckResult(manifest.VISIBLE_CHECK, 0, manifest.VISIBLE_POINTS, False, reason, VISIBLE_HINT)] + [
        CheckResult(name, 0, points, False, "not graded: " + reason, hint) for name, points, hint in declared]


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
