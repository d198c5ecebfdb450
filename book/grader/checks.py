"""Writing hidden checks: points, hints, failures a learner can act on, and code for the agent side.

A check is a pytest test marked with its points and a hint; it talks to the learner's app over
HTTP (the `client` fixture) and asks the learner's side for data (the `nb` fixture)::

    @check(points=2, hint="Use the PageDep alias in both endpoints.")
    async def test_notes_are_paginated(client):
        response = await client.get("/notes", params={"limit": 2})
        expect_response(response, status=200, json=[...])

Code that must run next to the learner's objects (make a database, watch a pool) is a function
marked ``@agent_side``: its source goes to the agent, where it runs with the agent's context as
its first argument, and what it returns comes back as JSON (or as a handle to an object that stays
there)::

    @agent_side
    def pool_checked_out(ctx):
        return ctx.nb.engine.pool.checkedout()

    checked_out = await nb.call(pool_checked_out)

A failure reads: what was called, what came back, what was expected.
"""

from __future__ import annotations

import inspect
import json as jsonlib
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

_MISSING = object()
MAX_SHOWN = 160


def check(*, points: int = 1, hint: str, see: str = "") -> Callable[[Any], Any]:
    """Mark an async or sync test as a graded check worth `points`, with a hint for the learner.

    The hint is the nudge (what to think about); `see` is where to read next, a chapter section as
    ``04-role-checks.ipynb#anchor``, shown when the check fails again.
    """
    if points < 1 or not hint.strip():
        raise ValueError("a check needs at least one point and a hint")

    def mark(test: Any) -> Any:
        return pytest.mark.anyio(pytest.mark.check(points=points, hint=" ".join(hint.split()), see=see)(test))

    return mark


@dataclass(frozen=True)
class AgentSide:
    """A function to run in the agent: its source, and its name there."""

    name: str
    source: str


def agent_side(function: Callable[..., Any]) -> AgentSide:
    """Mark a function to run in the agent, beside the learner's code (see the module's docstring).

    It must be self-contained: its imports inside its body, no names from the check module. Its
    annotations are evaluated in the agent too, so they name builtins only or are strings
    (``ctx: "Any"``): a type imported by the check module is not there.
    """
    source = textwrap.dedent(inspect.getsource(function))
    lines = source.splitlines()
    while lines and lines[0].lstrip().startswith("@"):
        lines.pop(0)
    return AgentSide(function.__name__, "\n".join(lines) + "\n")


class CheckFailed(AssertionError):
    """A check's failure, in the learner's terms."""

    def __init__(self, *, called: str, got: str, expected: str, seen: str = "") -> None:
        self.called, self.got, self.expected, self.seen = called, got, expected, seen
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"called    {self.called}\ngot       {self.got}\nexpected  {self.expected}"
        if self.seen:  # what FastAPI resolved, when that explains the failure (book.graph, book.trace)
            text += "\nseen      " + "\n          ".join(self.seen.splitlines())
        return text


def expect(ok: bool, *, called: str, got: Any, expected: str, seen: str = "") -> None:
    if not ok:
        raise CheckFailed(called=called, got=shorten(got), expected=expected, seen=seen)


def describe_request(request: httpx.Request) -> str:
    target = request.url.raw_path.decode("ascii", "replace")
    return f"{request.method} {target}"


def describe_response(response: httpx.Response) -> str:
    try:
        body = shorten(jsonlib.dumps(response.json()))
    except ValueError:
        body = shorten(response.text) if response.text else "(empty body)"
    text = f"{response.status_code} {body}"
    error = response.extensions.get("app_error")
    if error:
        text += f"  (your code raised {shorten(str(error), 120)})"
    return text


def expect_response(
    response: httpx.Response,
    *,
    status: int,
    json: Any = _MISSING,
    headers: dict[str, str] | None = None,
    called: str | None = None,
    seen: str = "",
) -> None:
    """Compare a response with what the exercise asks for; fail with all three lines if it differs."""
    called = called or describe_request(response.request)
    wanted = str(status)
    if json is not _MISSING:
        wanted += " " + shorten(jsonlib.dumps(json))
    for name, value in (headers or {}).items():
        wanted += f" with header {name}: {value}"
    ok = response.status_code == status
    if ok and json is not _MISSING:
        try:
            ok = response.json() == json
        except ValueError:
            ok = False
    if ok and headers:
        ok = all(response.headers.get(name) == value for name, value in headers.items())
    if not ok:
        got = describe_response(response)
        for name in headers or {}:
            got += f"  [{name}: {response.headers.get(name, '(missing)')}]"
        raise CheckFailed(called=called, got=got, expected=wanted, seen=seen)


def shorten(value: Any, limit: int = MAX_SHOWN) -> str:
    text = value if isinstance(value, str) else repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
