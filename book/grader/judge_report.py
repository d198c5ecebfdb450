"""The judge's report: each result as a JSON line the moment it is known, signed with the grader's key.

Under ``--book-guard`` the key is the first line of stdin; a notebook may follow it (kept for the
checks, named by ``--submission-name``). Under ``--book-later`` both are read only when the run
begins, so that a grader can start the judge before the learner saves.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from book.grader import report_file, submission_cells

Writer = Callable[[dict[str, Any]], None]
REPORT_WRITER = pytest.StashKey[Writer]()
RESULTS = pytest.StashKey[dict[str, dict[str, Any]]]()
FIRST_REPORTED = pytest.StashKey[bool]()
MAX_MESSAGE = 600  # characters of a failure message, in the report
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def start(config: pytest.Config) -> None:
    """Choose where the report goes (reading the key now, or when the run begins under --book-later)."""
    config.stash[RESULTS] = {}
    if config.getoption("--book-guard") and config.getoption("--book-later"):
        config.option.submission = [Path(config.getoption("--submission-name")).name]
        later: Writer = LaterWriter(config)
        config.stash[REPORT_WRITER] = later
    else:
        config.stash[REPORT_WRITER] = _writer(config.getoption("--book-report"), _take_stdin(config))


def begin(config: pytest.Config) -> None:
    """Under --book-later: read the key and the notebook now (the grade begins here)."""
    writer = config.stash[REPORT_WRITER]
    assert isinstance(writer, LaterWriter), "begin() is for --book-later"
    writer.ready()


def _take_stdin(config: pytest.Config) -> bytes | None:
    """The key, under --book-guard (and the notebook that may follow it, kept for the checks)."""
    if not config.getoption("--book-guard"):
        return None
    key, notebook = _read_stdin()
    if notebook is not None:
        name = Path(config.getoption("--submission-name")).name
        submission_cells.remember(Path(name), notebook)
        config.option.submission = [name]
    return key


class LaterWriter:
    """A writer that takes the key from stdin the first time it is needed (or when the run begins)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.chosen: Writer | None = None

    def __call__(self, entry: dict[str, Any]) -> None:
        if self.chosen is None:
            self.chosen = _writer(self.config.getoption("--book-report"), _take_stdin(self.config))
        self.chosen(entry)

    def ready(self) -> None:
        self({"kind": "start", "id": "start"})


def _read_stdin() -> tuple[bytes, dict[str, Any] | None]:
    """The grader's key (the first line of stdin) and the notebook that may follow it, as JSON."""
    data = b""
    while chunk := os.read(0, 1 << 20):
        data += chunk
    first, _, rest = data.partition(b"\n")
    try:
        key = bytes.fromhex(first.decode().strip())
    except ValueError:
        key = b""
    if len(key) < 16:  # pytest's fd capture (the default) gives stdin as /dev/null: use --capture=sys
        raise pytest.UsageError("--book-guard: no key on stdin (run with --capture=sys)")
    if not rest.strip():
        return key, None
    try:
        return key, json.loads(rest)
    except ValueError:
        raise pytest.UsageError("--book-guard: what follows the key is not a notebook") from None


def _writer(target: str | None, key: bytes | None) -> Writer:
    fd = int(target[3:]) if target and target.startswith("fd:") else None

    def write(entry: dict[str, Any]) -> None:
        if fd is not None:
            os.write(fd, report_file.line(entry, key).encode())
        elif target:
            with open(target, "a", encoding="utf-8") as out:
                out.write(report_file.line(entry, key))

    return write


def write(config: pytest.Config, entry: dict[str, Any]) -> None:
    config.stash[REPORT_WRITER](entry)


def say_first_reported(config: pytest.Config) -> None:
    """Report, once, that every check but those that compare with the reference has reported."""
    if not config.stash.get(FIRST_REPORTED, False):
        config.stash[FIRST_REPORTED] = True
        write(config, {"kind": "first", "id": "first"})


def record_check(item: pytest.Item, report: pytest.TestReport, marker: pytest.Mark) -> None:
    results = item.config.stash[RESULTS]
    if report.failed:
        report.sections.append(("hint", marker.kwargs["hint"]))
    if report.when == "call" or report.failed:  # a failure in setup or teardown fails the check too
        before = results.get(item.nodeid, {})
        params = getattr(getattr(item, "callspec", None), "params", {})
        results[item.nodeid] = entry = {
            "kind": "check",
            "id": item.nodeid,
            "submission": str(params["submission_path"]) if "submission_path" in params else "",
            "name": getattr(item, "originalname", item.name),
            "passed": report.passed and before.get("passed", True),
            "message": message_of(report) if report.failed else before.get("message", ""),
        }
        write(item.config, entry)


def message_of(report: pytest.TestReport) -> str:
    """The learner-facing part of a failure: a check's own message, or what went wrong in one line,
    never the check's source (no assertion rewriting, no traceback)."""
    longrepr = report.longrepr
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None:
        text = crash.message
    elif isinstance(longrepr, tuple):  # pytest.fail(pytrace=False) in a fixture
        text = str(longrepr[2])
    else:
        text = str(longrepr)
    text = ANSI.sub("", text)
    for prefix in (
        "Failed: ",
        "book.grader.checks.CheckFailed: ",
        "CheckFailed: ",
        "book.grader.agent_link.AgentGone: ",
        "AgentGone: ",
    ):
        text = text.removeprefix(prefix)
    if text.startswith(("AssertionError", "assert ")):  # a bare assert in a check: its expression is source
        text = "a check's assertion failed"
    if not text.startswith(("called ", "the notebook")) and "\n" in text:
        text = text.strip().splitlines()[0]
    text = text.strip()
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 3] + "..."
