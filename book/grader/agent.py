"""The agent: the learner's side of grading, where the submission's code runs.

    python -m book.grader.agent       (started by the judge, inside the sandbox where there is one)

It reads requests from the judge on fd 0 and answers on fd 1 (book.grader.wire); ``--control FD``
is the judge's control line, where one byte kills the notebook process of the check under way.
What the submission prints goes nowhere: fds 1 and 2 of the learner's code are /dev/null.

The agent imports the course's libraries once, then forks one process per check ("fork"). That
process loads the notebook's code fresh, answers the check's operations (requests as bytes, probes
that return JSON, overrides, the notebook's own tests) and ends with the check: nothing of one
check's process survives into the next. Everything it sends is data; the judge decides.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import importlib
import json
import os
import select
import signal
import socket
import sys
import threading
import traceback
import types
from dataclasses import dataclass
from typing import Any

from book.grader import wire

# What every check needs, imported once before forking; the judge adds what the notebook imports
# (--warm), so that no check's process imports a library again, and no grade pays for one unused.
WARM_IMPORTS = ("fastapi", "httpx", "anyio._backends._asyncio", "book.core.notebooks", "book.apps",
                "book.dependency_graph", "book.request_trace", "book.grader.probes")
# What --warm may name: the libraries the course's notebooks use (a name from elsewhere is ignored).
WARMABLE = {"pydantic": "pydantic", "sqlalchemy": "sqlalchemy.ext.asyncio", "aiosqlite": "aiosqlite",
            "fakeredis": "fakeredis", "redis": "redis.asyncio", "pytest": "_pytest.python",
            "starlette": "starlette", "anyio": "anyio"}
MAX_TEXT = 400  # any text the agent sends about the learner's code: a line, not a page


def short(text: str, limit: int = MAX_TEXT) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def error_line(exc: BaseException) -> str:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return short(f"{type(exc).__name__}: {message}" if message else type(exc).__name__)


class Channel:
    """The protocol's file descriptors, moved out of the learner's reach (0, 1, 2 become /dev/null)."""

    def __init__(self, control_fd: int | None) -> None:
        self.read_fd = os.dup(0)
        self.write_fd = os.dup(1)
        self.control_fd = control_fd
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.close(null)
        self.lock = threading.Lock()

    @classmethod
    def over(cls, sock: int) -> Channel:
        """A channel over one socket (a notebook process's, to the zygote)."""
        channel = cls.__new__(cls)
        channel.read_fd = channel.write_fd = sock
        channel.control_fd = None
        channel.lock = threading.Lock()
        return channel

    def send(self, message: dict[str, Any]) -> None:
        with self.lock:
            wire.send(self.write_fd, message)


class Context:
    """What a probe sees: the notebook's module and app, the lifespan's state, the handles kept."""

    def __init__(self, module: types.ModuleType | None) -> None:
        self.nb = module
        self.served: Any = None  # the app with its lifespan running (book.apps.serving)
        self.handles: dict[int, Any] = {}

    @property
    def app(self) -> Any:
        from fastapi import FastAPI

        app = getattr(self.nb, "app", None)
        if not isinstance(app, FastAPI):
            got = "nothing" if app is None else type(app).__name__
            raise ProbeError(f"the notebook must define `app = FastAPI(...)`; `app` is {got}")
        return app

    @property
    def state(self) -> dict[str, Any]:
        return getattr(self.served, "lifespan_state", {}) if self.served is not None else {}

    def keep(self, value: Any) -> dict[str, Any]:
        number = len(self.handles) + 1
        self.handles[number] = value
        return {"$handle": number, "type": type(value).__name__}

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) <= {"$handle", "type"} and "$handle" in value:
                if value["$handle"] not in self.handles:
                    raise ProbeError(f"no handle {value['$handle']}")
                return self.handles[value["$handle"]]
            return {key: self.resolve(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        return value


class ProbeError(Exception):
    """A probe could not do what it was asked; the message is for the learner."""


def as_data(value: Any, ctx: Context) -> Any:
    """`value` as JSON, or a handle to it when it is not plain data."""
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return ctx.keep(value)
    return json.loads(text)  # plain types only: a str subclass's methods never reach the judge's side


class NotebookProcess:
    """One check's process: the notebook loaded fresh, and the operations of that check."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.ctx = Context(None)
        self.loop = asyncio.new_event_loop()
        self.helpers: dict[str, Any] = {}
        self.done = asyncio.Event()
        self._serving: Any = None  # the lifespan's context manager, while the app is served

    def run(self, first: dict[str, Any] | None = None) -> None:
        """Serve requests until "end"; with `first`, load the notebook before anything else and
        send how that went as the first message."""
        asyncio.set_event_loop(self.loop)
        if first is not None:
            self.loop.run_until_complete(self._load_first(first))
        else:
            self.channel.send({"loaded": None})
        reader = threading.Thread(target=self._read, daemon=True)
        reader.start()
        self.loop.run_until_complete(self.done.wait())

    async def _load_first(self, message: dict[str, Any]) -> None:
        try:
            answer = await self.op_load(message)
        except Exception as exc:
            answer = {"loaded": False, "error": error_line(exc)}
        self.channel.send(answer)

    def _read(self) -> None:
        while True:
            try:
                message = wire.receive(self.channel.read_fd)
            except wire.WireError:
                message = None
            if message is None:
                self.loop.call_soon_threadsafe(self.done.set)
                return
            self.loop.call_soon_threadsafe(self._start, message)

    def _start(self, message: dict[str, Any]) -> None:
        self.loop.create_task(self._answer(message))

    async def _answer(self, message: dict[str, Any]) -> None:
        number = message.get("id")
        op = message.get("op", "")
        handler = getattr(self, f"op_{op}", None)
        try:
            if handler is None:
                raise ProbeError(f"unknown operation {op!r}")
            reply = await handler(message)
            reply = {"id": number, "ok": True, **reply}
        except ProbeError as exc:
            reply = {"id": number, "ok": False, "error": short(str(exc))}
        except Exception as exc:
            reply = {"id": number, "ok": False, "error": error_line(exc)}
        try:
            self.channel.send(reply)
        except wire.WireError as exc:
            self.channel.send({"id": number, "ok": False, "error": short(str(exc))})
        if op == "end":
            self.done.set()

    # --- operations -------------------------------------------------------------------------------

    async def op_load(self, message: dict[str, Any]) -> dict[str, Any]:
        """Run the notebook's code cells (not its check cells) as the module `submission`."""
        from book.core import notebooks

        cells = [notebooks.Cell(cell["index"], cell["source"], frozenset()) for cell in message["cells"]]
        try:
            self.ctx.nb = await notebooks.run_cells(cells, name=message.get("name", "notebook"),
                                                    cell_timeout=message.get("cell_timeout"))
        except notebooks.NotebookError as exc:
            return {"loaded": False, "error": short(str(exc))}
        return {"loaded": True}

    async def op_run_all(self, message: dict[str, Any]) -> dict[str, Any]:
        """Every code cell, check cells included, top to bottom: the judge's own run of the notebook."""
        from book.core import notebooks

        module = types.ModuleType("submission")
        module.__dict__["display"] = notebooks._no_display
        sys.modules["submission"] = module
        results = []
        for cell in message["cells"]:
            one = notebooks.Cell(cell["index"], cell["source"], frozenset())
            try:
                await notebooks.run_cell(one, module, name=message.get("name", "notebook"),
                                         cell_timeout=message.get("cell_timeout"))
            except notebooks.NotebookError as exc:
                results.append({"index": cell["index"], "ok": False, "error": short(str(exc))})
                break
            results.append({"index": cell["index"], "ok": True})
        return {"cells": results}

    async def op_serve(self, message: dict[str, Any]) -> dict[str, Any]:
        """Start the app's lifespan; requests then go to the app with the lifespan's state."""
        from book import apps

        if self.ctx.served is None:
            self._serving = apps.serving(self.ctx.app)
            try:
                self.ctx.served = await self._serving.__aenter__()
            except Exception as exc:
                self._serving = None
                raise ProbeError(f"the app's lifespan failed to start: {error_line(exc)}") from None
        return {}

    async def op_unserve(self, message: dict[str, Any]) -> dict[str, Any]:
        """End the app's lifespan (its shutdown code runs now)."""
        if self._serving is not None:
            serving, self._serving = self._serving, None
            self.ctx.served = None
            try:
                await serving.__aexit__(None, None, None)
            except Exception as exc:
                raise ProbeError(f"the app's lifespan failed to shut down: {error_line(exc)}") from None
        return {}

    async def op_http(self, message: dict[str, Any]) -> dict[str, Any]:
        """One HTTP request, as bytes, to the app (with its lifespan when served)."""
        import httpx

        from book import apps

        target = self.ctx.served if self.ctx.served is not None else self.ctx.app
        request = httpx.Request(message["method"], message["url"], headers=[tuple(h) for h in message["headers"]],
                                content=base64.b64decode(message["body"]))
        response = await apps.RecordingTransport(target).handle_async_request(request)
        body = await response.aread()
        error = response.extensions.get("app_error")
        return {"status": response.status_code, "headers": [[k.decode("latin-1"), v.decode("latin-1")]
                                                            for k, v in response.headers.raw],
                "body": base64.b64encode(body).decode(), "app_error": error_line(error) if error else ""}

    async def op_probe(self, message: dict[str, Any]) -> dict[str, Any]:
        """A probe of book.grader.probes, by name, with JSON arguments (handles resolved)."""
        from book.grader import probes

        function = probes.PROBES.get(message.get("name", ""))
        if function is None:
            raise ProbeError(f"no probe {message.get('name')!r}")
        return {"value": as_data(await _maybe_await(function(self.ctx, *self.ctx.resolve(message["args"]))),
                                 self.ctx)}

    async def op_call(self, message: dict[str, Any]) -> dict[str, Any]:
        """A check's own helper, sent as source, called with the context and JSON arguments."""
        source, name = message["source"], message["name"]
        if source not in self.helpers:
            namespace: dict[str, Any] = {"__name__": "check_helpers"}
            # dont_inherit: compiled as written, not with this module's postponed annotations
            exec(compile(source, f"<check helper {name}>", "exec", dont_inherit=True), namespace)
            self.helpers[source] = namespace[name]
        value = await _maybe_await(self.helpers[source](self.ctx, *self.ctx.resolve(message["args"])))
        return {"value": as_data(value, self.ctx)}

    async def op_suite(self, message: dict[str, Any]) -> dict[str, Any]:
        """The notebook's own tests against one variant of its given code (exercise 10)."""
        from book.grader import suite

        return {"result": await suite.run_variant(message)}

    async def op_end(self, message: dict[str, Any]) -> dict[str, Any]:
        with contextlib.suppress(Exception):
            await self.op_unserve(message)
        return {}


async def _maybe_await(value: Any) -> Any:
    if asyncio.iscoroutine(value) or isinstance(value, asyncio.Future):
        return await value
    return value


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


def _handle(channel: Channel, message: dict[str, Any], current: Child | None,
            spare: Child | None) -> tuple[Child | None, Child | None]:
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
