"""book.apps: the app under check runs its lifespan, and its errors become what a client sees."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from fastapi import FastAPI, Request

from book import apps

pytestmark = pytest.mark.anyio


def lifespan_app(events: list[str]) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, str]]:
        events.append("startup")
        yield {"client": "the shared client"}
        events.append("shutdown")

    app = FastAPI(lifespan=lifespan)

    @app.get("/state")
    async def state(request: Request) -> dict[str, Any]:
        leaked = getattr(request.state, "mine", None)
        request.state.mine = "written by an earlier request"
        return {"client": request.state.client, "leaked": leaked}

    @app.get("/boom")
    async def boom() -> None:
        raise ValueError("the learner's bug")

    return app


async def test_lifespan_runs_around_the_requests_and_each_request_gets_its_own_state() -> None:
    events: list[str] = []
    app = lifespan_app(events)
    async with apps.serving(app) as asgi_app, apps.client(asgi_app) as client:
        assert events == ["startup"]
        first = (await client.get("/state")).json()
        second = (await client.get("/state")).json()
    assert first == second == {"client": "the shared client", "leaked": None}
    assert events == ["startup", "shutdown"]


async def test_an_exception_in_the_app_is_a_500_that_remembers_the_error() -> None:
    async with apps.serving(lifespan_app([])) as asgi_app, apps.client(asgi_app) as client:
        response = await client.get("/boom")
    assert response.status_code == 500
    assert repr(response.extensions["app_error"]) == 'ValueError("the learner\'s bug")'
