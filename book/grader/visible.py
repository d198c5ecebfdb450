"""The visible checks' side: nbval runs the notebook in a kernel; this pytest plugin reports each cell.

It runs among the learner's code (the kernel is its child, in the same sandbox), so what it writes
is only a claim: the grader caps and checks it, and gives the visible point only when the judge's
own run of every cell (book.grader.judge, "mirror") agrees.

``--book-visible-fd N`` names the file descriptor to write the JSON lines to.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import pytest

ANSI = re.compile(r"\x1b\[[0-9;]*m")
FD = pytest.StashKey[int]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--book-visible-fd", type=int, default=None, help="where to write each cell's result")


def pytest_configure(config: pytest.Config) -> None:
    from book import kernels

    kernels.use_in_nbval()  # Unix sockets: two kernels started at once cannot collide on a port
    fd = config.getoption("--book-visible-fd")
    if fd is not None:
        config.stash[FD] = fd


def _write(config: pytest.Config, entry: dict[str, Any]) -> None:
    fd = config.stash.get(FD, None)
    if fd is not None:
        os.write(fd, (json.dumps(entry) + "\n").encode())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if type(item).__name__ == "IPyNbCell" and (report.when == "call" or not report.passed):
        entry = {"kind": "cell", "cell": getattr(item, "cell_num", -1), "passed": report.passed,
                 "status": "skipped" if report.skipped else "passed" if report.passed else "failed", "message": ""}
        if report.failed:
            error = call.excinfo.value if call.excinfo else None
            trace = ANSI.sub("", getattr(error, "inner_traceback", None) or "")
            lines = [line for line in trace.strip().splitlines() if line.strip()]
            text = lines[-1].strip() if lines else ANSI.sub("", str(error)).strip()
            entry["message"] = (text.splitlines() or [""])[0][:400]
        _write(item.config, entry)
    return report


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _write(session.config, {"kind": "end"})
