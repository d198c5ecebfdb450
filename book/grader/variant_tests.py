"""The agent's side of an exercise whose answer is tests (exercise 10): run them against one variant.

A variant is the notebook's given code as it is, or with one subtle bug put in (a mutant). Each
runs in a process of its own, forked from the check's process, under the same module name and file
names as every other variant: a learner's test cannot tell the given app from a mutant but by
what it does. The judge sends the variants in an order of its own and keeps the verdicts.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from dataclasses import asdict
from typing import Any

TIME_LIMIT = 30.0  # one variant; a course suite runs in a second or two


def _run_in_this_process(message: dict[str, Any]) -> dict[str, Any]:
    import anyio

    from book.core import notebooks
    from book.learner import suite as learner_suite
    from book.learner.suite_result import SuiteResult

    cells = [notebooks.Cell(cell["index"], cell["source"], frozenset()) for cell in message["cells"]]
    try:
        if message.get("patch"):
            cells = notebooks.patched_cells(cells, *message["patch"])

        async def load() -> Any:
            return await notebooks.run_cells(
                cells, name=message.get("name", "notebook"), cell_timeout=message.get("cell_timeout")
            )

        module = anyio.run(load)
    except notebooks.NotebookError as exc:
        return asdict(SuiteResult(error=f"the notebook did not run to the end: {exc}"))
    found = learner_suite.run_pytest(
        {"notebook": vars(module)}, stop_early=["notebook"] if message.get("stop_early") else []
    )
    return asdict(found["notebook"])


def _fork_and_wait(message: dict[str, Any]) -> dict[str, Any]:
    """In a worker thread: fork, run the variant in the child, read its verdict from a pipe."""
    limit = float(message.get("time_limit") or TIME_LIMIT)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the variant's process: no event loop of the parent's in this thread
        os.close(read_fd)
        status = 0
        try:
            data = json.dumps(_run_in_this_process(message)).encode()
            while data:
                data = data[os.write(write_fd, data) :]
        except BaseException:
            status = 70
        finally:
            os._exit(status)
    os.close(write_fd)
    chunks, deadline = [], time.monotonic() + limit
    os.set_blocking(read_fd, False)
    stopped = False
    while True:
        try:
            chunk = os.read(read_fd, 1 << 16)
        except BlockingIOError:
            chunk = None
        if chunk:
            chunks.append(chunk)
            continue
        if chunk == b"":
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            stopped = True
            break
        time.sleep(0.01)
    os.close(read_fd)
    _, status = os.waitpid(pid, 0)
    if stopped:
        return {"error": f"your tests did not finish within {limit:g} s (a test that never ends?)"}
    try:
        found = json.loads(b"".join(chunks))
        if isinstance(found, dict):
            return found
    except ValueError:
        pass
    code = os.waitstatus_to_exitcode(status)
    return {"error": f"the test run ended early (exit status {code}: os._exit or a crash?)"}


async def run_variant(message: dict[str, Any]) -> dict[str, Any]:
    return await asyncio.get_running_loop().run_in_executor(None, _fork_and_wait, message)
