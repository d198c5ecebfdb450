"""The visible checks' side: nbval runs the notebook in a kernel; this pytest plugin reports each cell.

It runs among the learner's code (the kernel is its child, in the same sandbox), so what it writes
is only a claim: the grader caps and checks it, and gives the visible point only when the judge's
own run of every cell (book.grader.judge, "mirror") agrees.

``--book-visible-fd N`` names the file descriptor to write the JSON lines to. With
``--book-notebook-stdin`` the process starts before the notebook exists: it starts its kernel and
imports the libraries named by ``--book-warm-imports`` into it, then waits for the notebook on
stdin and writes it where its command line names it. A grade then pays for none of that after a
save; the process, its kernel and everything in them serve one notebook and end with it.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

ANSI = re.compile(r"\x1b\[[0-9;]*m")
FD = pytest.StashKey[int]()
STARTUP_TIMEOUT = 60


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--book-visible-fd", type=int, default=None, help="where to write each cell's result")
    parser.addoption(
        "--book-notebook-stdin",
        action="store_true",
        help="start the kernel first, then read the notebook (named on the command line) from stdin",
    )
    parser.addoption("--book-warm-imports", default="", help="libraries to import in the kernel before the notebook")


def pytest_configure(config: pytest.Config) -> None:
    from book.core import kernels

    kernels.use_in_nbval()  # Unix sockets: two kernels started at once cannot collide on a port
    fd = config.getoption("--book-visible-fd")
    if fd is not None:
        config.stash[FD] = fd
    if config.getoption("--book-notebook-stdin"):
        _start_kernel_first(Path(str(config.args[0])), config.getoption("--book-warm-imports"))


def _start_kernel_first(notebook: Path, imports: str) -> None:
    """Start the kernel nbval will use for `notebook`, with `imports` done, before the notebook exists."""
    import nbval.plugin
    from nbval.kernel import CURRENT_ENV_KERNEL_NAME, RunningKernel

    notebook.parent.mkdir(parents=True, exist_ok=True)
    kernel = RunningKernel(CURRENT_ENV_KERNEL_NAME, cwd=str(notebook.parent), startup_timeout=STARTUP_TIMEOUT)
    names = [name for name in imports.split(",") if name.isidentifier()]
    if names:
        # In sys.modules only, none in the notebook's names; one that fails is the notebook's to report.
        code = (
            f"def _warm(names={names!r}):\n    import importlib\n    for name in names:\n"
            "        try:\n            importlib.import_module(name)\n        except Exception:\n"
            "            pass\n_warm()\ndel _warm"
        )
        sent = kernel.execute_cell_input(code, allow_stdin=False)
        kernel.await_reply(sent, timeout=STARTUP_TIMEOUT)
        kernel.await_idle(sent, timeout=STARTUP_TIMEOUT)
    started = [kernel]

    def running_kernel(*args: Any, **kwargs: Any) -> Any:  # nbval's one notebook gets the kernel started above
        return started.pop() if started else RunningKernel(*args, **kwargs)

    nbval.plugin.RunningKernel = running_kernel


def pytest_sessionstart(session: pytest.Session) -> None:
    if session.config.getoption("--book-notebook-stdin"):
        data = b""
        while chunk := os.read(0, 1 << 20):
            data += chunk
        Path(str(session.config.args[0])).write_bytes(data)


def _write(config: pytest.Config, entry: dict[str, Any]) -> None:
    fd = config.stash.get(FD, None)
    if fd is not None:
        os.write(fd, (json.dumps(entry) + "\n").encode())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if type(item).__name__ == "IPyNbCell" and (report.when == "call" or not report.passed):
        entry = {
            "kind": "cell",
            "cell": getattr(item, "cell_num", -1),
            "passed": report.passed,
            "status": "skipped" if report.skipped else "passed" if report.passed else "failed",
            "message": "",
        }
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
