"""The judge's connection to the agent: start it (again if a submission killed it), send operations, await replies.

Every operation is a length-prefixed JSON message (book.grader.wire) with a time limit; a reply
that does not come in time, or an agent that ended, raises AgentGone.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from book.grader import sandbox, wire
from book.grader.submission_cells import code_cells, imported_libraries

OP_TIMEOUT = 20.0  # one operation; the slowest (a request that runs the learner's tests) takes ~2 s
READY_TIMEOUT = 60.0


class AgentGone(Exception):
    """The agent, or the notebook process of this check, ended or stopped answering."""


@dataclass
class Handle:
    """An object that stays in the agent, named by number; pass it back as an argument."""

    number: int
    type: str

    def wire(self) -> dict[str, Any]:
        return {"$handle": self.number, "type": self.type}


def _to_wire(value: Any) -> Any:
    if isinstance(value, Handle):
        return value.wire()
    if isinstance(value, dict):
        return {key: _to_wire(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_wire(item) for item in value]
    return value


def from_wire(value: Any) -> Any:
    if isinstance(value, dict):
        if "$handle" in value and set(value) <= {"$handle", "type"}:
            return Handle(int(value["$handle"]), str(value.get("type", "")))
        return {key: from_wire(item) for key, item in value.items()}
    if isinstance(value, list):
        return [from_wire(item) for item in value]
    return value


class Agent:
    """The warm agent process and the pipes to it: one notebook process at a time, forked on demand."""

    def __init__(
        self,
        isolation: sandbox.Isolation,
        limits: sandbox.Limits,
        op_timeout: float = OP_TIMEOUT,
        warm: tuple[str, ...] = (),
    ) -> None:
        self.isolation, self.limits, self.op_timeout = isolation, limits, op_timeout
        self.lock = threading.Lock()
        self.pending: dict[int, tuple[asyncio.AbstractEventLoop, asyncio.Future[dict[str, Any]]]] = {}
        self.numbers = iter(range(1, 1 << 62))
        self.ready = threading.Event()
        self.exited = threading.Event()
        self.exit_status: int | None = None
        self.gone = ""
        self.child_alive = False
        to_agent_read, self.to_agent = os.pipe()
        self.from_agent, from_agent_write = os.pipe()
        control_read, self.control = os.pipe()
        argv = [sys.executable, "-m", "book.grader.agent", "--control", str(control_read), "--warm", ",".join(warm)]
        self.process = sandbox.start(
            argv, isolation, limits, stdin=to_agent_read, stdout=from_agent_write, pass_fds=(control_read,)
        )
        for fd in (to_agent_read, from_agent_write, control_read):
            os.close(fd)
        threading.Thread(target=self._read, daemon=True).start()
        if not self.ready.wait(READY_TIMEOUT) or self.gone:
            self.gone = self.gone or f"the agent did not start within {READY_TIMEOUT:g} s"

    def _read(self) -> None:
        while True:
            try:
                message = wire.receive(self.from_agent)
            except wire.WireError as exc:
                self._fail_all(f"the agent sent something that is not a message ({exc})")
                message = None
            if message is None:
                reason = self.process.exceeded or "the notebook's processes ended"
                self.gone = self.gone or reason
                self._fail_all(reason)
                self.exited.set()
                self.ready.set()
                return
            if message.get("ready"):
                self.ready.set()
            elif message.get("event") == "exited":
                self.exit_status = message.get("status")
                self.child_alive = False
                self._fail_all(
                    self.process.exceeded
                    or f"the notebook's process ended (exit status {self.exit_status}"
                    ": os._exit, a crash, or stopped at its time limit)"
                )
                self.exited.set()
            else:
                number = message.get("id")
                with self.lock:
                    waiting = self.pending.pop(number, None) if isinstance(number, int) else None
                if waiting is not None:
                    loop, future = waiting
                    loop.call_soon_threadsafe(_settle, future, message)

    def _fail_all(self, reason: str) -> None:
        with self.lock:
            waiting, self.pending = self.pending, {}
        for loop, future in waiting.values():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, future, AgentGone(reason))

    async def request(self, op: str, timeout: float | None = None, **fields: Any) -> dict[str, Any]:
        """Send one operation; its reply, or AgentGone (with the kill of a process that overran)."""
        timeout = self.op_timeout if timeout is None else timeout
        if self.gone:
            raise AgentGone(self.gone)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[dict[str, Any]] = loop.create_future()
        number = next(self.numbers)
        with self.lock:
            self.pending[number] = (loop, future)
        try:
            with self.lock:
                wire.send(self.to_agent, {"id": number, "op": op, **_to_wire(fields)})
        except OSError:
            raise AgentGone(self.process.exceeded or "the agent has ended") from None
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            with self.lock:
                self.pending.pop(number, None)
            self.kill_child()
            raise AgentGone(f"no answer within {timeout:g} s (an endless loop, or a wait that never ends?)") from None

    def kill_child(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self.control, b"k")

    async def fork(self) -> None:
        """A notebook process with nothing loaded (to run every cell, or the notebook's own tests)."""
        self.exited.clear()
        await self.request("fork")
        self.child_alive = True

    async def take(self, cells: list[dict[str, Any]], name: str, cell_timeout: float) -> dict[str, Any]:
        """A notebook process with the notebook loaded (the agent loads the next one meanwhile)."""
        self.exited.clear()
        reply = await self.request(
            "take", timeout=cell_timeout * (len(cells) + 1) + 5, cells=cells, name=name, cell_timeout=cell_timeout
        )
        self.child_alive = bool(reply.get("ok"))
        return reply

    async def end(self) -> None:
        """End the notebook process of this check, and wait until it is gone."""
        if self.child_alive and not self.gone:
            with contextlib.suppress(AgentGone):
                await self.request("end", timeout=10)
        if not await asyncio.to_thread(self.exited.wait, 10):
            self.kill_child()
            await asyncio.to_thread(self.exited.wait, 10)
        self.child_alive = False

    def close(self) -> None:
        for fd in (self.to_agent, self.control):
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.process.wait(timeout=5)
        self.process.kill()


def _settle(future: asyncio.Future[dict[str, Any]], outcome: dict[str, Any] | BaseException) -> None:
    if future.done():
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


class Agents:
    """The judge's agent, started again when a submission's code killed it."""

    def __init__(self, config: pytest.Config) -> None:
        wanted = config.getoption("--book-isolation")
        self.isolation = (
            sandbox.choose(True)
            if wanted is None
            else sandbox.choose(False)
            if wanted == sandbox.NONE
            else sandbox.choose(True)
        )
        numbers = [int(part) for part in str(config.getoption("--book-limits") or "").split(",") if part.strip()]
        self.limits = sandbox.Limits(*numbers) if numbers else sandbox.Limits()
        self.op_timeout = float(config.getoption("--book-op-timeout"))
        self.submissions = [Path(path) for path in config.getoption("--submission")]
        self.current: Agent | None = None

    def get(self, warm: tuple[str, ...] | None = None) -> Agent:
        """The agent; a new one (importing `warm`, or what the notebooks import) if there is none or it died."""
        if warm is None:
            for path in self.submissions:  # what they import is imported once in the agent
                code_cells(path)
        if self.current is None or self.current.gone:
            if self.current is not None:
                self.current.close()
            self.current = Agent(
                self.isolation, self.limits, self.op_timeout, imported_libraries() if warm is None else warm
            )
        return self.current

    def close(self) -> None:
        if self.current is not None:
            self.current.close()
