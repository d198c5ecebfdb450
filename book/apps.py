"""Serve a FastAPI app in-process for checks: lifespan run, errors recorded, nothing on the network."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

BASE_URL = "http://test"


@asynccontextmanager
async def serving(app) -> AsyncIterator:
    """Run the app's lifespan around the block; yield an ASGI app to send requests to.

    httpx.ASGITransport never runs lifespan, and a state dict yielded by the lifespan does not
    reach ``request.state`` unless the scope carries it: each request gets its own shallow copy,
    as uvicorn gives it.
    """
    async with app.router.lifespan_context(app) as state:

        async def with_state(scope, receive, send):
            if scope["type"] in ("http", "websocket") and state:
                scope = {**scope, "state": dict(state)}
            await app(scope, receive, send)

        with_state.lifespan_state = state or {}  # for checks that look at the resources themselves
        yield with_state


class RecordingTransport(httpx.AsyncBaseTransport):
    """ASGITransport that turns an exception in the app into its 500 response, keeping the error.

    The error is kept in ``response.extensions["app_error"]`` so a failed check can say what the
    learner's code raised, rather than stopping at the exception.
    """

    def __init__(self, app) -> None:
        self.app = app

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        errors: list[BaseException] = []

        async def recording(scope, receive, send):
            try:
                await self.app(scope, receive, send)
            except Exception as exc:
                errors.append(exc)
                raise

        inner = httpx.ASGITransport(app=recording, raise_app_exceptions=False)
        response = await inner.handle_async_request(request)
        if errors:
            response.extensions["app_error"] = errors[0]
        return response


def client(asgi_app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=RecordingTransport(asgi_app), base_url=BASE_URL)
