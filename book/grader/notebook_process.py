"""One check's process in the agent: the notebook loaded fresh, answering that check's operations.

It reads operations from the zygote (book.grader.agent) over a socket and answers each with data:
requests to the app as bytes, probes (book.grader.probes) and the check's own helpers as JSON, the
app's lifespan, the notebook's own tests. It ends with the check.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import sys
import threading
import types
from typing import Any

from book.grader import wire
from book.grader.probe_context import Context, ProbeError, as_data, error_line, short


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
            self.ctx.nb = await notebooks.run_cells(
                cells, name=message.get("name", "notebook"), cell_timeout=message.get("cell_timeout")
            )
        except notebooks.NotebookError as exc:
            return {"loaded": False, "error": short(str(exc))}
        return {"loaded": True}

    async def op_run_all(self, message: dict[str, Any]) -> dict[str, Any]:
        """Every code cell, check cells included, top to bottom: the judge's own run of the notebook."""
        from book.core import notebooks

        module = types.ModuleType("submission")
        module.__dict__["display"] = notebooks.no_display
        sys.modules["submission"] = module
        results = []
        for cell in message["cells"]:
            one = notebooks.Cell(cell["index"], cell["source"], frozenset())
            try:
                await notebooks.run_cell(
                    one, module, name=message.get("name", "notebook"), cell_timeout=message.get("cell_timeout")
                )
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
        request = httpx.Request(
            message["method"],
            message["url"],
            headers=[tuple(h) for h in message["headers"]],
            content=base64.b64decode(message["body"]),
        )
        response = await apps.RecordingTransport(target).handle_async_request(request)
        body = await response.aread()
        error = response.extensions.get("app_error")
        return {
            "status": response.status_code,
            "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in response.headers.raw],
            "body": base64.b64encode(body).decode(),
            "app_error": error_line(error) if error else "",
        }

    async def op_probe(self, message: dict[str, Any]) -> dict[str, Any]:
        """A probe of book.grader.probes, by name, with JSON arguments (handles resolved)."""
        from book.grader import probes

        function = probes.PROBES.get(message.get("name", ""))
        if function is None:
            raise ProbeError(f"no probe {message.get('name')!r}")
        return {"value": as_data(await _maybe_await(function(self.ctx, *self.ctx.resolve(message["args"]))), self.ctx)}

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
        from book.grader import variant_tests

        return {"result": await variant_tests.run_variant(message)}

    async def op_end(self, message: dict[str, Any]) -> dict[str, Any]:
        with contextlib.suppress(Exception):
            await self.op_unserve(message)
        return {}


async def _maybe_await(value: Any) -> Any:
    if asyncio.iscoroutine(value) or isinstance(value, asyncio.Future):
        return await value
    return value
