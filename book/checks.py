"""Writing hidden checks: points, hints, and failures a learner can act on.

A check is a pytest test marked with its points and a hint::

    @check(points=2, hint="Use the PageDep alias in both endpoints.")
    async def test_notes_are_paginated(client):
        response = await client.get("/notes", params={"limit": 2})
        expect_response(response, status=200, json=[...])

A failure reads: what was called, what came back, what was expected.
"""

from __future__ import annotations

import json as jsonlib
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

_MISSING = object()
MAX_SHOWN = 160


def check(*, points: int = 1, hint: str):
    """Mark an async or sync test as a graded check worth `points`, with a hint for the learner."""
    if points < 1 or not hint.strip():
        raise ValueError("a check needs at least one point and a hint")

    def mark(test):
        return pytest.mark.anyio(pytest.mark.check(points=points, hint=" ".join(hint.split()))(test))

    return mark


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


def resolved(app, route: str) -> str:
    """The dependency graph of `route` as text, to quote in a failure; "" if it cannot be drawn."""
    from book.dependency_graph import graph

    try:
        return str(graph(app, route))
    except Exception:  # the learner's app may not even have the route: the failure says so already
        return ""


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
    if error is not None:
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        text += f"  (your code raised {type(error).__name__}{': ' + message if message else ''})"
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


@asynccontextmanager
async def another_database(base) -> AsyncIterator:
    """A fresh SQLite file database with the tables of `base` (a DeclarativeBase); yields a session
    factory. For checks that override a notebook's session dependency and watch where data goes."""
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    with tempfile.TemporaryDirectory() as folder:
        engine = create_async_engine(f"sqlite+aiosqlite:///{Path(folder) / 'other.db'}")
        try:
            async with engine.begin() as connection:
                await connection.run_sync(base.metadata.create_all)
            yield async_sessionmaker(engine, expire_on_commit=False)
        finally:
            await engine.dispose()


def session_dependency(session_factory):
    """A yield dependency handing out sessions from `session_factory`, to put in dependency_overrides."""

    async def other_session():
        async with session_factory() as session:
            yield session

    return other_session
