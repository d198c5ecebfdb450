"""The agent (`python -m book.grader.agent`): the learner's side of grading, one fresh notebook process per check.

    python -m book.grader.agent       (started by the judge, inside the sandbox where there is one)

It reads requests from the judge on fd 0 and answers on fd 1 (book.grader.wire); ``--control FD``
is the judge's control line, where one byte kills the notebook process of the check under way.
What the submission prints goes nowhere: fds 1 and 2 of the learner's code are /dev/null.

The agent imports the course's libraries once, then forks one process per check ("fork"). That
process (book.grader.notebook_process) loads the notebook's code fresh, answers the check's
operations (requests as bytes, probes that return JSON, overrides, the notebook's own tests) and
ends with the check: nothing of one check's process survives into the next. Everything it sends
is data; the judge decides.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import select
import signal
import socket
import sys
import traceback
from dataclasses import dataclass
from typing import Any

from book.grader import wire
from book.grader.notebook_process import Channel, NotebookProcess

# What every check needs, imported once before forking; the judge adds what the notebook imports
# (--warm), so that no check's process imports a library again, and no grade pays for one unused.
WARM_IMPORTS = (
    "fastapi",
    "httpx",
    "anyio._backends._asyncio",
    "book.core.notebooks",
    "book.apps",
    "book.learner.dependency_graph",
    "book.learner.request_trace",
    "book.grader.probes",
)
# What --warm may name: the libraries the course's notebooks use (a name from elsewhere is ignored).
WARMABLE = {
    "pydantic": "pydantic",
    "sqlalchemy": "sqlalchemy.ext.asyncio",
    "aiosqlite": "aiosqlite",
    "fakeredis": "fakeredis",
    "redis": "redis.asyncio",
    "pytest": "_pytest.python",
    "starlette": "starlette",
    "anyio": "anyio",
}


@dataclass
class Child:
    """A notebook process of the zygote's, and its end of their socket pair."""

    pid: int
    sock: int
    key: str = ""  # what it loaded (a hash of the cells and settings): a spare is handed out only for the same
    loaded: dict[str, Any] | None = None  # its answer to the load, once it came
    open: bool = True


def _load_key(message: dict[str, Any]) -> str:
    import hashlib

    wanted = {name: message.get(name) for name in ("cells", "name", "cell_timeout")}
    return hashlib.sha256(json.dumps(wanted, sort_keys=True).encode()).hexdigest()


def _spawn(channel: Channel, load: dict[str, Any] | None, others: list[Child]) -> Child:
    """Fork a notebook process; with `load`, it loads the notebook at once and says how that went."""
    parent_end, child_end = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        parent_end.close()
        for fd in (channel.read_fd, channel.write_fd, channel.control_fd, *(other.sock for other in others)):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        _child(child_end.detach(), load)
    child_end.close()
    return Child(pid, parent_end.detach(), _load_key(load) if load is not None else "")


def _child(sock: int, load: dict[str, Any] | None) -> None:
    status = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        process = NotebookProcess(Channel.over(sock))
        process.run(first=load)
    except BaseException:  # never back into the zygote's loop
        status = 70
        with contextlib.suppress(Exception):
            traceback.print_exc()
    finally:
        os._exit(status)


def zygote(channel: Channel, warm: tuple[str, ...] = ()) -> int:
    """Route the judge's requests to the notebook process of the check under way; keep a spare.

    "take" hands out a process with the notebook loaded: the spare, loaded while the previous check
    ran, when it loaded the same cells, or a new one; then another spare starts loading. "fork"
    hands out a process with nothing loaded. Any other request goes to the process handed out,
    whose answers come back; when it ends, the judge hears "exited". One byte on the control line
    kills it (a check that overran).
    """
    for name in (*WARM_IMPORTS, *(WARMABLE[root] for root in warm if root in WARMABLE)):
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    channel.send({"ready": True, "pid": os.getpid()})
    current: Child | None = None
    spare: Child | None = None
    try:
        while True:
            watched = [channel.read_fd, *([channel.control_fd] if channel.control_fd is not None else [])]
            watched += [child.sock for child in (current, spare) if child is not None and child.open]
            ready, _, _ = select.select(watched, [], [])
            if channel.control_fd in ready:
                if not os.read(channel.control_fd, 1):
                    return 0  # the judge has gone
                if current is not None:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(current.pid, signal.SIGKILL)
            if spare is not None and spare.open and spare.sock in ready and spare.loaded is None:
                spare.loaded = _first_answer(spare)
            if current is not None and current.open and current.sock in ready:
                current = _forward(channel, current)
            if channel.read_fd in ready:
                message = wire.receive(channel.read_fd)
                if message is None or message.get("op") == "quit":
                    return 0
                current, spare = _handle(channel, message, current, spare)
    except wire.WireError:
        return 2
    finally:
        for child in (current, spare):
            if child is not None:
                _stop(child)


def _first_answer(child: Child) -> dict[str, Any]:
    try:
        answer = wire.receive(child.sock)
    except wire.WireError:
        answer = None
    if answer is None:
        child.open = False
        return {"loaded": False, "error": "the notebook's process ended while loading (os._exit, or a crash?)"}
    return answer


def _forward(channel: Channel, child: Child) -> Child | None:
    """Pass one answer of the process under way to the judge; at its end, say so and reap it."""
    try:
        answer = wire.receive(child.sock)
    except wire.WireError:
        answer = None
    if answer is not None:
        channel.send(answer)
        return child
    child.open = False
    os.close(child.sock)
    _, status = os.waitpid(child.pid, 0)
    channel.send({"event": "exited", "status": os.waitstatus_to_exitcode(status)})
    return None


def _handle(
    channel: Channel, message: dict[str, Any], current: Child | None, spare: Child | None
) -> tuple[Child | None, Child | None]:
    number, op = message.get("id"), message.get("op")
    if op in ("take", "fork"):
        if current is not None:
            channel.send({"id": number, "ok": False, "error": "a notebook process is still running"})
            return current, spare
        if op == "fork":
            current = _spawn(channel, None, [c for c in (spare,) if c is not None])
            current.loaded = _first_answer(current)  # {"loaded": None}: nothing to load
            channel.send({"id": number, "ok": True, "pid": current.pid})
            return current, spare
        if spare is not None and (spare.key != _load_key(message) or not spare.open):
            _stop(spare)
            spare = None
        if spare is None:
            current = _spawn(channel, message, [])
        else:
            current, spare = spare, None
        if current.loaded is None:
            current.loaded = _first_answer(current)
        # the next check's process loads while this check runs
        spare = _spawn(channel, message, [current])
        channel.send({"id": number, "ok": True, "pid": current.pid, **current.loaded})
        if not current.open:  # it died while loading: the judge hears it ended
            _, status = os.waitpid(current.pid, 0)
            channel.send({"event": "exited", "status": os.waitstatus_to_exitcode(status)})
            current = None
        return current, spare
    if current is None or not current.open:
        channel.send({"id": number, "ok": False, "error": "no notebook process is running"})
        return current, spare
    wire.send(current.sock, message)
    return current, spare


def _stop(child: Child) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(child.pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        os.close(child.sock)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(child.pid, 0)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m book.grader.agent")
    parser.add_argument("--control", type=int, default=None, help="the judge's control line (a file descriptor)")
    parser.add_argument("--warm", default="", help="libraries the notebook imports, comma-separated")
    args = parser.parse_args(argv)
    channel = Channel(args.control)
    try:
        return zygote(channel, tuple(name for name in args.warm.split(",") if name))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
