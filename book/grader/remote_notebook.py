"""The learner's notebook as a check sees it: data asked of the agent, and HTTP to the app through it.

No learner object ever comes to the judge: a probe's answer is JSON, or a Handle to an object that
stays in the agent; a response is bytes, decoded here.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from book.grader.agent_link import Agent, AgentGone, Handle, from_wire
from book.grader.checks import AgentSide, CheckFailed


@dataclass
class Traced:
    """A traced request, as data: its text (for a failure's "seen"), status and events."""

    text: str
    status: int | None
    events: list[dict[str, str]]

    def calls(self, name: str) -> int:
        return sum(1 for event in self.events if event["kind"] == "call" and event["who"] == name)

    def exits(self, name: str) -> int:
        return sum(1 for event in self.events if event["kind"] == "exit" and event["who"] == name)


MISSING = object()


class Notebook:
    """The learner's notebook, loaded in the agent for one check: ask it for data."""

    def __init__(self, agent: Agent, path: Path) -> None:
        self.agent, self.path = agent, path

    async def _value(self, reply: dict[str, Any]) -> Any:
        if not reply.get("ok"):
            raise CheckFailed(
                called="the notebook, in the grader's process", got=reply.get("error", "an error"), expected="an answer"
            )
        return from_wire(reply.get("value"))

    async def probe(self, name: str, *args: Any) -> Any:
        return await self._value(await self.agent.request("probe", name=name, args=list(args)))

    async def call(self, helper: AgentSide, *args: Any, timeout: float | None = None) -> Any:
        """Run a check's ``@agent_side`` helper in the agent; what it returned, as data or a Handle."""
        reply = await self.agent.request(
            "call", timeout=timeout, source=helper.source, name=helper.name, args=list(args)
        )
        return await self._value(reply)

    async def value(self, name: str, default: Any = MISSING) -> Any:
        found = await self.probe("value", name)
        if isinstance(found, dict) and found.get("$missing"):
            if default is MISSING:
                raise CheckFailed(
                    called=f"the name {name}", got="not defined in the notebook", expected=f"the exercise's {name}"
                )
            return default
        return found

    async def override(self, name: str, replacement: Handle) -> None:
        await self.probe("override", name, replacement)

    async def override_value(self, name: str, result: Any) -> None:
        await self.probe("override_value", name, result)

    async def override_instance(self, name: str, class_name: str, **kwargs: Any) -> None:
        await self.probe("override_instance", name, class_name, kwargs)

    async def override_recorder(self, name: str, result: Any) -> None:
        """Override `name` with a dependency returning `result`; `recorded(name)` counts its calls."""
        await self.probe("override_recorder", name, result)

    async def recorded(self, name: str) -> int:
        return int(await self.probe("recorded", name))

    async def checked_out(self, engine_name: str = "engine") -> int:
        """Connections the notebook's engine has checked out of its pool right now."""
        return int(await self.probe("checked_out", engine_name))

    async def clear_overrides(self) -> None:
        await self.probe("clear_overrides")

    async def graph(self, route: str) -> str:
        try:
            return str(await self.probe("graph", route))
        except (CheckFailed, AgentGone):
            return ""

    async def trace(self, method: str, path: str, **request: Any) -> Traced:
        found = await self.probe("trace", method, path, request)
        return Traced(found["text"], found["status"], found["events"])

    async def serve(self) -> None:
        reply = await self.agent.request("serve")
        if not reply.get("ok"):
            pytest.fail(reply.get("error", "the app could not be served"), pytrace=False)

    async def unserve(self) -> None:
        reply = await self.agent.request("unserve")
        if not reply.get("ok"):
            raise CheckFailed(
                called="the app's lifespan, shutting down",
                got=reply.get("error", "an error"),
                expected="a clean shutdown",
            )


class AgentTransport(httpx.AsyncBaseTransport):
    """httpx's transport to the learner's app, through the agent: bytes there, bytes back."""

    def __init__(self, agent: Agent) -> None:
        self.agent = agent

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        try:
            reply = await self.agent.request(
                "http",
                method=request.method,
                url=str(request.url),
                headers=[[k.decode("latin-1"), v.decode("latin-1")] for k, v in request.headers.raw],
                body=base64.b64encode(body).decode(),
            )
        except AgentGone as exc:
            raise CheckFailed(
                called=f"{request.method} {request.url.raw_path.decode('ascii', 'replace')}",
                got=str(exc),
                expected="an answer",
            ) from None
        if not reply.get("ok"):
            raise CheckFailed(
                called=f"{request.method} {request.url.raw_path.decode('ascii', 'replace')}",
                got=reply.get("error", "no answer"),
                expected="an answer",
            )
        try:
            content = base64.b64decode(reply["body"], validate=True)
            headers = [(str(k), str(v)) for k, v in reply["headers"]]
            status = int(reply["status"])
        except (KeyError, TypeError, ValueError):
            raise CheckFailed(called=request.method, got="a malformed answer", expected="an HTTP response") from None
        return httpx.Response(
            status,
            headers=headers,
            content=content,
            request=request,
            extensions={"app_error": str(reply.get("app_error") or "")},
        )
