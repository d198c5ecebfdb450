"""Serve a FastAPI app in-process for checks: lifespan run, errors recorded, nothing on the network."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, Protocol

import httpx
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

BASE_URL = "http://test"


class ServedApp(Protocol):
    """The ASGI app `serving` yields: it also carries the state the lifespan yielded."""

    lifespan_state: Mapping[str, Any]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None: ...


class _WithState:
    """Sends each request to the app with its own shallow copy of the lifespan's state."""

    def __init__(self, app: ASGIApp, state: Mapping[str, Any] | None) -> None:
        self.app = app
        self.lifespan_state: Mapping[str, Any] = state or {}  # for checks that look at the resources themselves
        self._state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self._state:
            scope = {**scope, "state": dict(self._state)}
        await self.app(scope, receive, send)


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[ServedApp]:
    """Run the app's lifespan around the block; yield an ASGI app to send requests to.

    httpx.ASGITransport never runs lifespan, and a state dict yielded by the lifespan does not
    reach ``request.state`` unless the scope carries it: each request gets its own shallow copy,
    as uvicorn gives it.
    """
    async with app.router.lifespan_context(app) as state:
        yield _WithState(app, state)


class RecordingTransport(httpx.AsyncBaseTransport):
    """ASGITransport that turns an exception in the app into its 500 response, keeping the error.

    The error is kept in ``response.extensions["app_error"]`` so a failed check can say what the
    learner's code raised, rather than stopping at the exception.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        errors: list[BaseException] = []

        async def recording(scope: Scope, receive: Receive, send: Send) -> None:
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


def client(asgi_app: ASGIApp) -> httpx.AsyncClient:
    """An httpx client that sends its requests to `asgi_app` in-process (see RecordingTransport)."""
    return httpx.AsyncClient(transport=RecordingTransport(asgi_app), base_url=BASE_URL)
