"""The processes of one grade, the visible side and the judge, started before the notebook is known, and their reports.

The visible side is pytest with nbval, running the notebook in a kernel, in the sandbox; the judge
is pytest with the hidden checks (book.grader.judge), which starts the agent. Both get the notebook
on stdin (the judge after a signing key) and report through pipes.
"""

from __future__ import annotations

import contextlib
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
from typing import IO, Any

from book import ROOT
from book.core import manifest
from book.grader import intake, sandbox
from book.grader.report_file import ForgedReport
from book.grader.report_file import marks as report_marks

CELL_TIMEOUT = 10.0  # no cell in a course notebook needs more than a second
TIME_LIMIT = 120.0  # the whole grading of one submission
GRADING_INI = Path(__file__).resolve().parent.parent / "grading.ini"
SCRATCH_PREFIX = "book-grade-"


@dataclass
class Options:
    checks_dir: Path | None = None  # None: the course's tests/checks
    cell_timeout: float = CELL_TIMEOUT
    time_limit: float = TIME_LIMIT
    isolation: sandbox.Isolation = field(default_factory=lambda: sandbox.choose(True))
    limits: sandbox.Limits = field(default_factory=sandbox.Limits)
    seed: int | None = None  # None: a new one for each grade


class Run:
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
        return (
            self.judge is not None
            and self.judge.poll() is None
            and self.visible is not None
            and self.visible.process.poll() is None
        )

    def feed(self, data: bytes) -> None:
        """Give both sides the notebook (the judge after its key), without waiting for them to read it."""
        assert self.judge is not None and self.visible is not None
        for stream, payload in (
            (self.visible.process.stdin, data),
            (self.judge.stdin, self.key.hex().encode() + b"\n" + data),
        ):
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
        common = [
            "-c",
            str(GRADING_INI),
            "--disable-plugin-autoload",
            "-p",
            "book.core.skip_slow_imports",
            "-p",
            "book.grader.visible",
            "-p",
            "nbval.plugin",
            "-p",
            "no:cacheprovider",
            "-q",
            "--capture=sys",
            "--nbval-lax",
            "--nbval-current-env",
            f"--nbval-cell-timeout={self.options.cell_timeout:g}",
            "--book-visible-fd",
            str(write_fd),
            "--book-notebook-stdin",
            "--book-warm-imports",
            self.warm_imports,
        ]
        if self.sandboxed:  # the notebook is written inside, on the sandbox's own /tmp
            argv = [sys.executable, "-m", "pytest", f"/tmp/submission/{name}", "--rootdir", "/tmp", *common]
            self.visible = sandbox.start(
                argv,
                self.options.isolation,
                self.options.limits,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                pass_fds=(write_fd,),
            )
        else:
            self.scratch = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-"))
            argv = [sys.executable, "-m", "pytest", str(self.scratch / name), "--rootdir", str(self.scratch), *common]
            self.visible = sandbox.start(
                argv,
                self.options.isolation,
                self.options.limits,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                pass_fds=(write_fd,),
                cwd=self.scratch,
            )
        os.close(write_fd)
        self._pipe_reader(read_fd, "visible_text")

    def _start_judge(self) -> None:
        read_fd, write_fd = os.pipe()
        limits = self.options.limits
        argv = [
            sys.executable,
            "-m",
            "pytest",
            str(self.module),
            "-c",
            str(GRADING_INI),
            "--rootdir",
            str(ROOT),
            "--confcutdir",
            str(self.module.parent),
            "--disable-plugin-autoload",
            "-p",
            "book.core.skip_slow_imports",
            "-p",
            "book.grader.judge",
            "-p",
            "anyio.pytest_plugin",
            "-p",
            "no:cacheprovider",
            "-q",
            "--capture=sys",
            "--book-guard",
            "--book-later",
            "--book-warm-imports",
            self.warm_imports,
            "--book-report",
            f"fd:{write_fd}",
            "--book-seed",
            str(self.seed),
            "--book-mirror",
            f"--book-cell-timeout={self.options.cell_timeout:g}",
            "--book-isolation",
            self.options.isolation.kind,
            "--book-limits",
            f"{limits.memory_mb},{limits.processes},{limits.disk_mb}",
            "--submission-name",
            self.exercise.notebook_name,
        ]
        self.judge = subprocess.Popen(
            argv,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(write_fd,),
            start_new_session=True,
            preexec_fn=sandbox.die_with_parent,
        )
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
        return ended or any(json_line(line).get("kind") == "end" for line in self.visible_text.splitlines())

    def wait(self, deadline: float, first: Callable[[], None] | None = None) -> str:
        """ "" when both sides finished in time, or why they were stopped; `first` once the quick checks are in."""
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
            reason = (
                f"stopped after the time limit of {self.options.time_limit:g} s (an endless loop?)"
                if stopped == "timeout"
                else stopped
            )
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


def _write_and_close(stream: IO[bytes], data: bytes) -> None:
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


def json_line(line: str) -> dict[str, Any]:
    try:
        entry = json.loads(line)
    except ValueError:
        return {}
    return entry if isinstance(entry, dict) else {}
